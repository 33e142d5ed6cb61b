/**
 * Secrets the desktop app keeps with the OS keychain: each value encrypted with Electron's
 * `safeStorage` (Keychain on macOS, DPAPI on Windows, libsecret/kwallet on Linux) and written to
 * `PDS_HOME/keychain/ENV/FIELD.enc` (mode 0600, folders 0700), referenced from the config as
 * `keychain:ENV/FIELD`. Only this app can decrypt them; the CLI reports such a reference as
 * SECRET_IN_KEYCHAIN. Where encryption is not available (Linux without a secret service) the app
 * keeps using `file:` secrets, as `pds serve` does.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ContractError } from '../../core/contract/methods.js';
import { keychainFilePath } from '../../core/service/desktop-secrets.js';

/** What the keychain needs of Electron's `safeStorage`. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

export interface Keychain {
  available(): boolean;
  /** Encrypts and stores `value` under `name` (`ENV/FIELD`); returns its `keychain:` reference. */
  write(name: string, value: string): Promise<string>;
  /** The decrypted value of `name`; a ContractError when it is missing or cannot be decrypted. */
  read(name: string): Promise<string>;
}

/** `ENV/FIELD`: the environment name and a dotted field path, nothing that could leave the folder. */
const NAME = /^[a-z][a-z0-9_-]{0,31}\/[A-Za-z][A-Za-z0-9.]{0,63}$/;

export function createKeychain(home: string, safeStorage: SafeStorageLike): Keychain {
  const fileOf = (name: string): string => {
    if (!NAME.test(name) || name.includes('..')) throw new ContractError({ code: 'SECRET_MISSING', message: `"${name}" is not a keychain secret of this app.` });
    return join(home, keychainFilePath(name));
  };
  return {
    available: () => safeStorage.isEncryptionAvailable(),
    async write(name, value) {
      if (!safeStorage.isEncryptionAvailable()) throw new ContractError({ code: 'KEYCHAIN_UNAVAILABLE', message: 'The operating system’s keychain cannot encrypt secrets here.' });
      const file = fileOf(name);
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await chmod(join(home, 'keychain'), 0o700);
      await chmod(dirname(file), 0o700);
      const tmp = `${file}.tmp-${process.pid}`;
      await writeFile(tmp, safeStorage.encryptString(value), { mode: 0o600 });
      await rename(tmp, file);
      return `keychain:${name}`;
    },
    async read(name) {
      const file = fileOf(name);
      const data = await readFile(file).catch(() => undefined);
      if (data === undefined) {
        throw new ContractError({ code: 'SECRET_MISSING', message: `The keychain secret ${name} is not stored (${file} is missing).`, hint: 'Set the secret again in the environment’s settings.', action: 'set-secret' });
      }
      try {
        return safeStorage.decryptString(data);
      } catch {
        throw new ContractError({
          code: 'SECRET_MISSING',
          message: `The keychain secret ${name} cannot be decrypted (it was stored by another user or machine).`,
          hint: 'Set the secret again in the environment’s settings.',
          action: 'set-secret',
        });
      }
    },
  };
}
