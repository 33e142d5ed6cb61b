/**
 * Real GnuPG for tests (docs/architecture.md §5: "files encrypted by the real GnuPG command"). Each
 * `createGpgHome()` gets its own temporary GNUPGHOME, so tests never touch the user's keyring and
 * can run side by side. edX encrypts with `gpg` (python-gnupg, binary output, `always_trust`,
 * several recipients: docs/edx-formats.md §2); `encryptFile` reproduces that.
 *
 * Keys are RSA 2048 with a separate encryption subkey, like the keys data czars make with
 * Kleopatra/GnuPG (docs/edx-formats.md §2), but shorter than production keys so tests stay fast.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** OpenPGP compression layer gpg should write (`--compress-algo`); `none` means `-z 0`. */
export type GpgCompression = 'zip' | 'zlib' | 'bzip2' | 'none';

export interface GenerateKeyOptions {
  name: string;
  email: string;
  /** Protects the secret key; omitted means an unprotected key. */
  passphrase?: string;
  /** gpg's `Expire-Date` (`10d`, `2y`…); omitted means the key never expires. */
  expireDate?: string;
  /** Generate as if the clock read this (`20200101T000000`): with `expireDate`, a key already expired. */
  fakedSystemTime?: string;
}

export interface GeneratedKey {
  /** 40-hex fingerprint of the primary key (upper case, as gpg prints it). */
  fingerprint: string;
  /** 16-hex key id of the primary key (upper case). */
  keyId: string;
  /** 16-hex key id of the encryption subkey (upper case): what a PKESK packet names. */
  encryptionKeyId: string;
}

export interface EncryptFileOptions {
  compressAlgo?: GpgCompression;
  /** ASCII-armored output (`--armor`); edX itself writes binary. */
  armor?: boolean;
  /** Hide recipient key ids (`--throw-keyids`): session key packets then name key id 0. */
  hiddenRecipients?: boolean;
}

export interface GpgHome {
  /** The GNUPGHOME directory. */
  readonly dir: string;
  generateKey(options: GenerateKeyOptions): Promise<GeneratedKey>;
  /** The armored secret key (primary + subkeys), still protected by its passphrase if it has one. */
  exportSecretKey(fingerprint: string, passphrase?: string): Promise<string>;
  /** The armored public key. */
  exportPublicKey(fingerprint: string): Promise<string>;
  /** Encrypts `inputPath` to every recipient (fingerprints) into `outputPath`. */
  encryptFile(inputPath: string, outputPath: string, recipients: string[], options?: EncryptFileOptions): Promise<void>;
  /** Decrypts with gpg itself (reference implementation for round-trip checks). */
  decryptFile(inputPath: string, outputPath: string, passphrase?: string): Promise<void>;
  /** Stops the gpg-agent of this home and deletes the directory. */
  dispose(): Promise<void>;
}

interface RunResult {
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs `gpg` with this home; rejects with gpg's stderr when it exits non-zero. `input` goes to
 * stdin (batch parameter files, passphrases via `--passphrase-fd 0` so they never show in `ps`).
 */
function runGpg(home: string, args: string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('gpg', ['--homedir', home, '--batch', '--no-tty', ...args], {
      env: { ...process.env, GNUPGHOME: home },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new Error('gpg was not found on PATH: install GnuPG (Debian package `gnupg`) to run these tests')
          : error,
      );
    });
    child.once('close', (code) => {
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve({ stdout: Buffer.concat(out), stderr });
      else reject(new Error(`gpg ${args.join(' ')} exited with ${code}: ${stderr.trim()}`));
    });
    // gpg may exit without reading stdin (no passphrase needed): ignore the resulting EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/** Creates a temporary GNUPGHOME (short path: the agent socket path is length-limited). */
export async function createGpgHome(): Promise<GpgHome> {
  const dir = await mkdtemp(join(tmpdir(), 'pds-gpg-'));
  // Key generations in one home run one after another: concurrent ones can race to create the
  // keyring, and one then reads it half-written ("invalid packet (ctb=00)"; seen on a fresh home).
  let keyring: Promise<unknown> = Promise.resolve();

  const listKeyIds = async (fingerprint: string): Promise<GeneratedKey> => {
    const { stdout } = await runGpg(dir, ['--with-colons', '--fixed-list-mode', '--list-keys', fingerprint]);
    let keyId = '';
    let encryptionKeyId = '';
    for (const line of stdout.toString('utf8').split('\n')) {
      const fields = line.split(':');
      // --with-colons: field 5 is the key id, field 12 the capabilities (docs/edx-formats.md §2 keys carry
      // an encryption subkey distinct from the primary key).
      if (fields[0] === 'pub') keyId = fields[4];
      if (fields[0] === 'sub' && fields[11].includes('e')) encryptionKeyId = fields[4];
    }
    if (!keyId || !encryptionKeyId) throw new Error(`gpg listed no encryption subkey for ${fingerprint}`);
    return { fingerprint, keyId, encryptionKeyId };
  };

  return {
    dir,

    async generateKey({ name, email, passphrase, expireDate, fakedSystemTime }) {
      const params = [
        'Key-Type: RSA',
        'Key-Length: 2048',
        'Key-Usage: sign,cert',
        'Subkey-Type: RSA',
        'Subkey-Length: 2048',
        'Subkey-Usage: encrypt',
        `Name-Real: ${name}`,
        `Name-Email: ${email}`,
        `Expire-Date: ${expireDate ?? '0'}`,
        passphrase === undefined ? '%no-protection' : `Passphrase: ${passphrase}`,
        '%commit',
        '',
      ].join('\n');
      const clock = fakedSystemTime === undefined ? [] : ['--faked-system-time', fakedSystemTime];
      const generated = keyring.then(() => runGpg(dir, [...clock, '--status-fd', '1', '--pinentry-mode', 'loopback', '--generate-key'], params));
      keyring = generated.catch(() => undefined);
      const { stdout } = await generated;
      const created = /KEY_CREATED [BP] ([0-9A-F]{40})/.exec(stdout.toString('utf8'));
      if (!created) throw new Error('gpg did not report the fingerprint of the generated key');
      return listKeyIds(created[1]);
    },

    async exportSecretKey(fingerprint, passphrase) {
      const { stdout } = await runGpg(
        dir,
        ['--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--armor', '--export-secret-keys', fingerprint],
        `${passphrase ?? ''}\n`,
      );
      return stdout.toString('utf8');
    },

    async exportPublicKey(fingerprint) {
      const { stdout } = await runGpg(dir, ['--armor', '--export', fingerprint]);
      return stdout.toString('utf8');
    },

    async encryptFile(inputPath, outputPath, recipients, options = {}) {
      const args = ['--yes', '--trust-model', 'always', '--output', outputPath];
      if (options.armor) args.push('--armor');
      if (options.hiddenRecipients) args.push('--throw-keyids');
      if (options.compressAlgo === 'none') args.push('-z', '0');
      else if (options.compressAlgo) args.push('--compress-algo', options.compressAlgo);
      for (const recipient of recipients) args.push('--recipient', recipient);
      args.push('--encrypt', inputPath);
      await runGpg(dir, args);
    },

    async decryptFile(inputPath, outputPath, passphrase) {
      await runGpg(
        dir,
        ['--yes', '--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--output', outputPath, '--decrypt', inputPath],
        `${passphrase ?? ''}\n`,
      );
    },

    async dispose() {
      // The agent lives on after gpg exits; stop it so no process outlives the test.
      await new Promise<void>((resolve) => {
        execFile('gpgconf', ['--homedir', dir, '--kill', 'all'], { env: { ...process.env, GNUPGHOME: dir } }, () =>
          resolve(),
        );
      });
      // The agent removes its sockets as it exits, after gpgconf returns: retry a busy folder.
      await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}
