/**
 * Decryptor port: OpenPGP decryption as a stream (docs/architecture.md §6: openpgp's non-streaming call holds
 * the whole file in memory).
 */
import type { Readable } from 'node:stream';

export interface KeyInfo {
  /** 16-hex key id of the primary key. */
  keyId: string;
  fingerprint: string;
  /** Key ids (16 hex) of the subkeys that can decrypt. */
  encryptionKeyIds: string[];
  userIds: string[];
  algorithm: string;
  bits?: number;
  created: string;
  expires: string | null;
  hasSecret: boolean;
  /** True while the secret key material is still passphrase-protected. */
  locked: boolean;
}

export interface Decryptor {
  /** The keys this decryptor holds. */
  keys(): KeyInfo[];
  /**
   * Decrypts an OpenPGP message (binary or armored). Resolves once the message header is read and a
   * key matched; the returned stream yields plaintext and fails with a `DecryptError` when the
   * data is corrupt, truncated or was modified (detected at the end of the stream).
   */
  decrypt(input: Readable, fileName: string): Promise<Readable>;
}
