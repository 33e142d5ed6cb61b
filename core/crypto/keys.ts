/**
 * The key folder of an environment: one armored secret key per file, named by fingerprint
 * (`<FINGERPRINT>.asc`), mode 0600 in a 0700 folder. Keys are stored exactly as exported, still
 * protected by their passphrase (docs/edx-formats.md §2: data czar keys are passphrase-protected RSA
 * keys); the passphrase lives elsewhere, as a secret reference of the environment.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { Key, PrivateKey } from 'openpgp';

import { ConfigError, DecryptError } from '../errors/index.js';
import { encryptionKeyIdsOf, formatKeyId, keyInfoOf, readOpenPgpKeys } from './inspect-keys.js';
import type { KeyInfo } from './ports.js';

const KEY_FILE_SUFFIX = '.asc';
const FINGERPRINT_FILE = /^[0-9A-F]{40,64}\.asc$/;

/**
 * Imports every secret key found in `srcPath` (armored or binary export) into `destDir`, replacing
 * a file of the same fingerprint (a re-exported key with a new expiry date, say). Returns what was
 * stored.
 *
 * Refuses, with `DecryptError` and nothing written:
 * - `DECRYPT_KEY_INVALID`: the file is not an OpenPGP key;
 * - `DECRYPT_KEY_PUBLIC_ONLY`: the file holds only public keys (the usual mistake: exporting the
 *   public key that was sent to edX instead of the secret key);
 * - `DECRYPT_KEY_NO_ENCRYPTION`: a secret key has no usable encryption secret (signing-only key,
 *   or the secret lives on a smartcard).
 */
export async function importKeyFile(srcPath: string, destDir: string): Promise<KeyInfo[]> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(srcPath);
  } catch (cause) {
    throw new ConfigError(`Cannot read the key file ${srcPath}.`, {
      code: 'KEY_FILE_UNREADABLE',
      file: srcPath,
      cause,
      hint: 'Check the path and that this user may read the file.',
    });
  }
  return importKeyData(bytes, destDir, srcPath);
}

/**
 * Imports every secret key in `data` (armored text, or the bytes of an armored or binary export:
 * a key pasted or uploaded in the console) into `destDir`, as `importKeyFile` does. `srcPath`
 * names the data in messages (`the pasted key`).
 */
export async function importKeyData(data: string | Uint8Array, destDir: string, srcPath: string): Promise<KeyInfo[]> {
  const keys = await readOpenPgpKeys(data, srcPath);
  const secret = keys.filter((key): key is PrivateKey => key.isPrivate());
  if (secret.length === 0) {
    const ids = keys.map((key) => formatKeyId(key.getFingerprint())).join(', ');
    throw new DecryptError(
      `${srcPath} holds only a public key (${ids}); decrypting needs the secret key.`,
      {
        code: 'DECRYPT_KEY_PUBLIC_ONLY',
        stage: 'config',
        file: srcPath,
        hint: 'Export the secret key with `gpg --armor --export-secret-keys KEYID > key.asc` (Kleopatra: "Backup Secret Keys") and import that file.',
      },
    );
  }
  for (const key of secret) {
    if (!hasEncryptionSecret(key)) {
      throw new DecryptError(
        `${srcPath}: secret key ${formatKeyId(key.getFingerprint())} has no encryption key with secret material, so it cannot decrypt edX files.`,
        {
          code: 'DECRYPT_KEY_NO_ENCRYPTION',
          stage: 'config',
          file: srcPath,
          hint: 'Export the key pair whose public key was sent to edX, including its encryption subkey (not a smartcard stub).',
        },
      );
    }
  }

  await mkdir(destDir, { recursive: true, mode: 0o700 });
  const stored: KeyInfo[] = [];
  for (const key of secret) {
    const fingerprint = formatKeyId(key.getFingerprint());
    await writePrivateFile(join(destDir, fingerprint + KEY_FILE_SUFFIX), key.armor());
    stored.push(await keyInfoOf(key));
  }
  return stored;
}

/** The armored contents of every key file in `dir`, by file name; none when `dir` does not exist. */
export async function loadKeyFiles(dir: string): Promise<string[]> {
  const names = await keyFileNames(dir);
  return Promise.all(names.map((name) => readFile(join(dir, name), 'utf8')));
}

/** Describes the keys stored in `dir` (ids, user ids, dates; never secret material). */
export async function listKeys(dir: string): Promise<KeyInfo[]> {
  const infos: KeyInfo[] = [];
  for (const name of await keyFileNames(dir)) {
    const keys = await readOpenPgpKeys(await readFile(join(dir, name)), join(dir, name));
    for (const key of keys) infos.push(await keyInfoOf(key));
  }
  return infos;
}

/**
 * Deletes the key with `fingerprint` (40 or 64 hex, any case) from `dir`. Returns false when no
 * such key is stored.
 */
export async function removeKeyFile(dir: string, fingerprint: string): Promise<boolean> {
  const name = formatKeyId(fingerprint) + KEY_FILE_SUFFIX;
  if (!FINGERPRINT_FILE.test(name)) {
    throw new ConfigError(`"${fingerprint}" is not a key fingerprint (40 or 64 hexadecimal digits).`, {
      code: 'KEY_FINGERPRINT_INVALID',
      hint: 'Copy the fingerprint from `pds key list`.',
    });
  }
  if (!(await keyFileNames(dir)).includes(name)) return false;
  await rm(join(dir, name));
  return true;
}

async function keyFileNames(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  // Only files this module wrote: a stray temp file or README in the folder is not a key.
  return names.filter((name) => FINGERPRINT_FILE.test(name)).sort();
}

/**
 * Writes `text` readable by the owner only, atomically: a crash never leaves a half-written key,
 * and the content never exists with looser permissions (mode set at creation, not after).
 */
async function writePrivateFile(path: string, text: string): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, text, { mode: 0o600, flag: 'wx' });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

function hasEncryptionSecret(key: Key): boolean {
  // A secret (sub)key may be a GnuPG "dummy" stub (`--export-secret-subkeys`, or a smartcard key):
  // it looks like a secret key but cannot decrypt anything.
  const encryptionIds = new Set(encryptionKeyIdsOf(key));
  return [key, ...key.subkeys].some((candidate) => {
    const packet = candidate.keyPacket;
    return encryptionIds.has(formatKeyId(candidate.getKeyID().toHex())) && 'isDummy' in packet && !packet.isDummy();
  });
}
