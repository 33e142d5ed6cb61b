/**
 * OpenPGP encryption to public keys with openpgp, binary output: what edX produces with GnuPG
 * (docs/edx-formats.md §2: `armor=False`, several recipients, no signature). `pds demo` uses it to make
 * realistic encrypted files through the same library that decrypts them; tests that need
 * byte-for-byte GnuPG output use the real `gpg` instead (test/support/gpg.ts).
 */
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';

import { createMessage, encrypt, enums, type Key, type PublicKey } from 'openpgp';

import { DecryptError } from '../errors/index.js';
import { formatKeyId, readOpenPgpKeys } from './inspect-keys.js';

/** Compression layer inside the message. GnuPG compresses by default, but not gzip input. */
export const ENCRYPT_COMPRESSIONS = ['none', 'zip', 'zlib'] as const;
export type EncryptCompression = (typeof ENCRYPT_COMPRESSIONS)[number];

export interface EncryptOptions {
  /** Compression packet inside the encrypted packet; default `none` (as gpg does for `.gz`). */
  compression?: EncryptCompression;
  /** File name recorded in the literal data packet. */
  fileName?: string;
}

const COMPRESSION_ALGORITHMS: Record<EncryptCompression, enums.compression> = {
  none: enums.compression.uncompressed,
  zip: enums.compression.zip,
  zlib: enums.compression.zlib,
};

/**
 * Encrypts `plaintext` to every key in `publicKeys` (armored or binary; secret keys are reduced to
 * their public part). A stream gives a stream (encrypted as it is read), bytes give bytes.
 * Throws `DecryptError` `DECRYPT_KEY_INVALID` when a key cannot be read or cannot encrypt.
 */
export async function encryptToKeys(
  plaintext: Uint8Array,
  publicKeys: string[] | Uint8Array[],
  options?: EncryptOptions,
): Promise<Uint8Array>;
export async function encryptToKeys(
  plaintext: Readable,
  publicKeys: string[] | Uint8Array[],
  options?: EncryptOptions,
): Promise<Readable>;
export async function encryptToKeys(
  plaintext: Uint8Array | Readable,
  publicKeys: string[] | Uint8Array[],
  options: EncryptOptions = {},
): Promise<Uint8Array | Readable> {
  const encryptionKeys: PublicKey[] = [];
  let index = 0;
  for (const source of publicKeys) {
    index += 1;
    const keys: Key[] = await readOpenPgpKeys(source, `recipient key ${index}`);
    for (const key of keys) {
      try {
        await key.getEncryptionKey();
      } catch (cause) {
        // The same condition makes edX skip a file (docs/edx-formats.md §2): an expired or revoked key.
        throw new DecryptError(
          `Recipient key ${formatKeyId(key.getFingerprint())} cannot encrypt (no valid encryption subkey: expired or revoked?).`,
          { code: 'DECRYPT_KEY_INVALID', stage: 'config', cause },
        );
      }
      encryptionKeys.push(key.isPrivate() ? key.toPublic() : key);
    }
  }
  if (encryptionKeys.length === 0) {
    throw new DecryptError('No recipient key was given to encrypt to.', { code: 'DECRYPT_KEY_INVALID', stage: 'config' });
  }
  const config = { preferredCompressionAlgorithm: COMPRESSION_ALGORITHMS[options.compression ?? 'none'] };
  const filename = options.fileName;

  if (plaintext instanceof Uint8Array) {
    const message = await createMessage({ binary: plaintext, filename });
    return encrypt({ message, encryptionKeys, format: 'binary', config });
  }
  const input = Readable.toWeb(plaintext) as NodeReadableStream<Uint8Array>;
  const message = await createMessage({ binary: input, filename });
  const output = await encrypt({ message, encryptionKeys, format: 'binary', config });
  return Readable.fromWeb(output);
}
