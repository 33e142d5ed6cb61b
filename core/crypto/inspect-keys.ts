/**
 * Reads OpenPGP keys (armored or binary, public or secret) and describes them as `KeyInfo`, the
 * shape the console and `pds key list` show. Never exposes secret material: only ids, user ids,
 * algorithm and dates.
 */
import { enums, readKeys, type Key } from 'openpgp';

import { DecryptError } from '../errors/index.js';
import type { KeyInfo } from './ports.js';

const ENCRYPTION_FLAGS = enums.keyFlags.encryptCommunication | enums.keyFlags.encryptStorage;

/** Public-key algorithms that can encrypt, for keys whose signatures carry no key flags. */
const ENCRYPTION_ALGORITHMS = new Set<string>(['rsaEncryptSign', 'rsaEncrypt', 'elgamal', 'ecdh', 'x25519', 'x448']);

/** Human names for openpgp's algorithm identifiers (what GnuPG and Kleopatra show). */
const ALGORITHM_NAMES: Record<string, string> = {
  rsaEncryptSign: 'RSA',
  rsaEncrypt: 'RSA',
  rsaSign: 'RSA',
  elgamal: 'ElGamal',
  dsa: 'DSA',
  ecdh: 'ECDH',
  ecdsa: 'ECDSA',
  eddsaLegacy: 'EdDSA',
  ed25519: 'Ed25519',
  ed448: 'Ed448',
  x25519: 'X25519',
  x448: 'X448',
};

/** Formats an openpgp key id or fingerprint the way GnuPG prints it (upper-case hex). */
export function formatKeyId(hex: string): string {
  return hex.toUpperCase();
}

/**
 * Parses every key in `source`: armored text (one or several blocks, as a string or as bytes) or
 * binary key packets. Throws `DecryptError` `DECRYPT_KEY_INVALID` when the data is not an OpenPGP
 * key.
 */
export async function readOpenPgpKeys(source: string | Uint8Array, description = 'the key data'): Promise<Key[]> {
  try {
    if (typeof source === 'string') return await readKeys({ armoredKeys: source });
    if (looksArmored(source)) return await readKeys({ armoredKeys: new TextDecoder().decode(source) });
    return await readKeys({ binaryKeys: source });
  } catch (cause) {
    throw new DecryptError(`${description} is not an OpenPGP key (neither an armored key block nor binary key packets).`, {
      code: 'DECRYPT_KEY_INVALID',
      stage: 'config',
      file: description,
      cause,
      hint: 'Export the key with `gpg --armor --export-secret-keys KEYID` (or "Backup secret keys" in Kleopatra) and import that file.',
    });
  }
}

/** Key ids (upper-case hex) of the primary key and subkeys that are allowed to encrypt. */
export function encryptionKeyIdsOf(key: Key): string[] {
  const ids: string[] = [];
  const primaryFlags = latest(key.users.flatMap((user) => user.selfCertifications))?.keyFlags;
  if (canEncrypt(primaryFlags, key.getAlgorithmInfo().algorithm)) ids.push(formatKeyId(key.getKeyID().toHex()));
  for (const subkey of key.subkeys) {
    const flags = latest(subkey.bindingSignatures)?.keyFlags;
    if (canEncrypt(flags, subkey.getAlgorithmInfo().algorithm)) ids.push(formatKeyId(subkey.getKeyID().toHex()));
  }
  return ids;
}

/**
 * Describes one key. `locked` reports whether the secret material is still passphrase-protected
 * (always false for a public key).
 */
export async function keyInfoOf(key: Key): Promise<KeyInfo> {
  const info = key.getAlgorithmInfo();
  let expires: string | null = null;
  try {
    const expiration = await key.getExpirationTime();
    if (expiration instanceof Date) expires = expiration.toISOString();
  } catch {
    // A key without a valid self-signature has no computable expiry; show none rather than fail.
  }
  const name = ALGORITHM_NAMES[info.algorithm] ?? info.algorithm;
  return {
    keyId: formatKeyId(key.getKeyID().toHex()),
    fingerprint: formatKeyId(key.getFingerprint()),
    encryptionKeyIds: encryptionKeyIdsOf(key),
    userIds: key.getUserIDs(),
    algorithm: info.curve ? `${name} (${info.curve})` : name,
    bits: info.bits,
    created: key.getCreationTime().toISOString(),
    expires,
    hasSecret: key.isPrivate(),
    locked: key.isPrivate() ? !key.isDecrypted() : false,
  };
}

/**
 * Describes every key in `armoredOrBinary` (see `readOpenPgpKeys`) without decrypting anything.
 * Throws `DecryptError` `DECRYPT_KEY_INVALID` when the data holds no key.
 */
export async function inspectKeys(armoredOrBinary: string | Uint8Array): Promise<KeyInfo[]> {
  const keys = await readOpenPgpKeys(armoredOrBinary);
  return Promise.all(keys.map((key) => keyInfoOf(key)));
}

function canEncrypt(flags: Uint8Array | null | undefined, algorithm: string): boolean {
  if (flags && flags.length > 0) return (flags[0] & ENCRYPTION_FLAGS) !== 0;
  return ENCRYPTION_ALGORITHMS.has(algorithm);
}

function latest<T extends { created: Date | null }>(signatures: T[]): T | undefined {
  let best: T | undefined;
  for (const signature of signatures) {
    if (!best || (signature.created?.getTime() ?? 0) > (best.created?.getTime() ?? 0)) best = signature;
  }
  return best;
}

function looksArmored(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart();
  return head.startsWith('-----BEGIN PGP');
}
