/**
 * The `Decryptor` port implemented with openpgp (v6), streaming.
 *
 * Why streaming with `allowUnauthenticatedStream` (docs/architecture.md §6): openpgp's default `decrypt()`
 * buffers the whole message to check its integrity before returning anything (289 MB RSS for a
 * 100 MB file, 1.7 GB for 790 MB of plaintext). With the option set, plaintext flows at once with
 * flat memory, and a modified or truncated file is reported only when the stream ends. The caller
 * must therefore treat everything read before the end as provisional (each file's load commits
 * only after the decrypt stream ended cleanly).
 *
 * edX messages (docs/edx-formats.md §2): binary, several PKESK packets (the data czar's key(s) plus an
 * edX master key), RSA keys protected by a passphrase, and possibly a ZIP/ZLIB/BZip2 compressed
 * packet inside (GnuPG defaults), which openpgp unpacks itself.
 *
 * Error messages name the file and the key ids involved; they never include the passphrase or key
 * material.
 */
import { Readable } from 'node:stream';
import { ReadableStream as NodeReadableStream, TextDecoderStream } from 'node:stream/web';

import {
  decrypt as openpgpDecrypt,
  decryptKey,
  readMessage,
  type Key,
  type KeyID,
  type Message,
  type PrivateKey,
} from 'openpgp';

import { DecryptError } from '../errors/index.js';
import { formatKeyId, keyInfoOf, readOpenPgpKeys } from './inspect-keys.js';
import type { Decryptor, KeyInfo } from './ports.js';
import { SNIFF_BYTES, detectOpenPgpEncoding } from './sniff.js';

export interface OpenPgpDecryptorOptions {
  /**
   * Secret keys, each an armored key block (string, or its bytes) or binary key packets. A block
   * may hold several keys. Public keys are accepted but cannot decrypt.
   */
  armoredKeys: string[] | Uint8Array[];
  /** Passphrase for protected secret keys (one for all keys of the environment). */
  passphrase?: string;
}

/** Where a secret key stands after trying the passphrase. */
type KeyState = 'unlocked' | 'locked' | 'bad-passphrase' | 'public-only';

interface HeldKey {
  key: Key;
  info: KeyInfo;
  state: KeyState;
}

/** PKESK packets addressed to "anyone" (`gpg --throw-keyids`) carry this all-zero key id. */
const WILDCARD_KEY_ID = '0000000000000000';

const IMPORT_HINT = 'Import the matching secret key with `pds key import`.';

/**
 * Creates a streaming OpenPGP decryptor holding `armoredKeys`. Protected keys are unlocked now
 * with `passphrase`; a key whose passphrase is missing or wrong stays locked and makes `decrypt`
 * fail with `DECRYPT_KEY_LOCKED` or `DECRYPT_BAD_PASSPHRASE` for the files addressed to it.
 * Throws `DecryptError` `DECRYPT_KEY_INVALID` when an entry is not an OpenPGP key.
 */
export async function createOpenPgpDecryptor(options: OpenPgpDecryptorOptions): Promise<Decryptor> {
  const held: HeldKey[] = [];
  let index = 0;
  for (const source of options.armoredKeys) {
    index += 1;
    for (const key of await readOpenPgpKeys(source, `key ${index} of the environment`)) {
      const { key: usable, state } = await unlock(key, options.passphrase);
      held.push({ key: usable, state, info: await keyInfoOf(usable) });
    }
  }
  return new OpenPgpDecryptor(held);
}

async function unlock(key: Key, passphrase: string | undefined): Promise<{ key: Key; state: KeyState }> {
  if (!key.isPrivate()) return { key, state: 'public-only' };
  if (key.isDecrypted()) return { key, state: 'unlocked' };
  if (passphrase === undefined) return { key, state: 'locked' };
  try {
    return { key: await decryptKey({ privateKey: key, passphrase }), state: 'unlocked' };
  } catch {
    // openpgp raises a plain Error ("Incorrect key passphrase") without a code; a key whose S2K
    // parameters are readable but whose check fails can only mean a wrong passphrase here.
    return { key, state: 'bad-passphrase' };
  }
}

class OpenPgpDecryptor implements Decryptor {
  constructor(private readonly held: HeldKey[]) {}

  keys(): KeyInfo[] {
    return this.held.map((entry) => ({ ...entry.info }));
  }

  async decrypt(input: Readable, fileName: string): Promise<Readable> {
    const reader = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
    try {
      const head = await readHead(reader, SNIFF_BYTES);
      const encoding = detectOpenPgpEncoding(head.bytes);
      if (encoding === null) {
        throw new DecryptError(`${fileName} is not an OpenPGP message (it does not start with an OpenPGP packet or an armor header).`, {
          code: 'DECRYPT_NOT_OPENPGP',
          file: fileName,
          hint: 'Check that the file is the encrypted .gpg file delivered by edX and that the download completed.',
        });
      }
      const context: StreamContext = { fileName };
      const bytes = webStreamOf(head.bytes, head.done ? null : reader, context);
      const message = await this.readHeader(bytes, encoding, context);
      const keys = this.pickKeys(message.getEncryptionKeyIDs(), fileName);
      return await this.decryptBody(message, keys, context);
    } catch (error) {
      input.destroy();
      throw error;
    }
  }

  private async readHeader(
    bytes: NodeReadableStream<Uint8Array>,
    encoding: 'binary' | 'armored',
    context: StreamContext,
  ): Promise<Message<NodeReadableStream<Uint8Array>> | Message<NodeReadableStream<string>>> {
    try {
      if (encoding === 'armored') {
        const text = bytes.pipeThrough(new TextDecoderStream());
        return await readMessage({ armoredMessage: text });
      }
      return await readMessage({ binaryMessage: bytes });
    } catch (cause) {
      throw streamError(cause, context);
    }
  }

  /**
   * Chooses the secret keys that can open this message from its PKESK key ids (edX files carry
   * several: docs/edx-formats.md §2), before any expensive work, so the error names both sides.
   */
  private pickKeys(recipientIds: KeyID[], fileName: string): PrivateKey[] {
    const recipients = recipientIds.map((id) => formatKeyId(id.toHex()));
    if (recipients.length === 0) {
      throw new DecryptError(
        `${fileName} is not encrypted to a public key (it carries no public-key session key packet; it may be encrypted with a password).`,
        { code: 'DECRYPT_NO_MATCHING_KEY', file: fileName, hint: 'Ask the sender to encrypt the file to your public key.' },
      );
    }
    const wildcard = recipients.includes(WILDCARD_KEY_ID);
    const matching = this.held.filter(
      (entry) => wildcard || recipientIds.some((id) => entry.key.getKeys(id).length > 0),
    );
    const usable = matching.filter((entry) => entry.state === 'unlocked');
    if (usable.length > 0) return usable.map((entry) => entry.key as PrivateKey);

    const first = matching.find((entry) => entry.state !== 'public-only');
    if (first?.state === 'bad-passphrase') {
      throw new DecryptError(
        `${fileName} is encrypted to key ${first.info.keyId}, but the passphrase of this environment does not unlock that key.`,
        { code: 'DECRYPT_BAD_PASSPHRASE', file: fileName, hint: 'Correct the key passphrase in the environment settings.' },
      );
    }
    if (first?.state === 'locked') {
      throw new DecryptError(
        `${fileName} is encrypted to key ${first.info.keyId}, which is protected by a passphrase, and this environment has no passphrase set.`,
        { code: 'DECRYPT_KEY_LOCKED', file: fileName, hint: 'Set the key passphrase in the environment settings.' },
      );
    }
    const ours = this.held.map((entry) => {
      const kind = entry.state === 'public-only' ? ', public key only' : '';
      return `${entry.info.encryptionKeyIds.join('/') || entry.info.keyId} (fingerprint ${entry.info.fingerprint}${kind})`;
    });
    const have = ours.length > 0 ? `this environment has ${ours.join(', ')}` : 'this environment has no keys';
    throw new DecryptError(`${fileName} is encrypted to key ids ${recipients.join(', ')}; ${have}.`, {
      code: 'DECRYPT_NO_MATCHING_KEY',
      file: fileName,
      hint: IMPORT_HINT,
    });
  }

  private async decryptBody(
    message: Message<NodeReadableStream<Uint8Array>> | Message<NodeReadableStream<string>>,
    keys: PrivateKey[],
    context: StreamContext,
  ): Promise<Readable> {
    let data: NodeReadableStream<Uint8Array>;
    try {
      const result = await openpgpDecrypt({
        message: message as Message<NodeReadableStream<Uint8Array>>,
        decryptionKeys: keys,
        format: 'binary',
        // docs/architecture.md §6: stream plaintext instead of buffering the whole message; integrity is
        // reported at the end of the stream (see plaintextOf).
        config: { allowUnauthenticatedStream: true },
      });
      data = result.data;
    } catch (cause) {
      // A PKESK matched one of our keys but did not yield a valid session key, or the encrypted
      // packet could not be started: the file is damaged.
      throw streamError(cause, context);
    }
    return Readable.from(plaintextOf(data, context), { objectMode: false, highWaterMark: 64 * 1024 });
  }
}

/**
 * Yields the plaintext chunks, turning openpgp's end-of-stream failures (MDC mismatch, truncated
 * packet) into `DecryptError`s. Returning early (the consumer destroyed the stream) cancels the
 * openpgp stream, which in turn releases the input.
 */
async function* plaintextOf(data: NodeReadableStream<Uint8Array>, context: StreamContext): AsyncGenerator<Uint8Array> {
  const reader = data.getReader();
  let finished = false;
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (cause) {
        throw streamError(cause, context);
      }
      if (next.done) {
        finished = true;
        return;
      }
      if (next.value.byteLength > 0) yield next.value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** One `decrypt` call: the file name for messages, and a failure of the input stream itself. */
interface StreamContext {
  fileName: string;
  /** Set when reading the input failed (disk, network): that error is reported as it is. */
  inputError?: unknown;
}

/**
 * Classifies an openpgp failure while reading the message. openpgp 6 throws plain `Error`s without
 * codes, so its (stable, tested) messages are the only signal; anything unrecognised is reported as
 * corrupt data, which is what every remaining case amounts to for the user. A failure of the input
 * stream (which openpgp re-throws, sometimes wrapped) is passed through unchanged.
 */
function streamError(cause: unknown, context: StreamContext): unknown {
  if (cause instanceof DecryptError) return cause;
  if (context.inputError !== undefined) return context.inputError;
  const { fileName } = context;
  const text = cause instanceof Error ? cause.message : String(cause);
  if (/Modification detected|Authentication tag mismatch|MDC/i.test(text)) {
    return new DecryptError(
      `${fileName} failed the OpenPGP integrity check: its content was modified or damaged after it was encrypted. Nothing read from it may be used.`,
      { code: 'DECRYPT_INTEGRITY', file: fileName, cause, hint: 'Download the file again; if it fails again, ask edX to re-send it.' },
    );
  }
  if (/Unexpected end|end of (the )?(stream|packet|input)|truncated|premature/i.test(text)) {
    return new DecryptError(`${fileName} ends before the end of its OpenPGP message: the file is truncated.`, {
      code: 'DECRYPT_TRUNCATED',
      file: fileName,
      cause,
      hint: 'Download the file again (an interrupted download leaves a truncated file).',
    });
  }
  return new DecryptError(`${fileName} is a damaged OpenPGP message and cannot be decrypted.`, {
    code: 'DECRYPT_CORRUPT',
    file: fileName,
    cause,
    hint: 'Download the file again; if it fails again, ask edX to re-send it.',
  });
}

/** Reads at least `wanted` bytes (or everything, if shorter) from the front of the input. */
async function readHead(
  reader: AsyncIterator<Buffer | string>,
  wanted: number,
): Promise<{ bytes: Uint8Array; done: boolean }> {
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < wanted) {
    const next = await reader.next();
    if (next.done) return { bytes: Buffer.concat(chunks), done: true };
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    chunks.push(chunk);
    length += chunk.length;
  }
  return { bytes: Buffer.concat(chunks), done: false };
}

/**
 * A web byte stream of `head` followed by the rest of `reader`, pulled on demand so back-pressure
 * reaches the file or socket. Cancelling it ends the Node stream behind `reader`.
 */
function webStreamOf(
  head: Uint8Array,
  reader: AsyncIterator<Buffer | string> | null,
  context: StreamContext,
): NodeReadableStream<Uint8Array> {
  let sentHead = head.length === 0;
  return new NodeReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sentHead) {
        sentHead = true;
        controller.enqueue(head);
        return;
      }
      if (reader === null) {
        controller.close();
        return;
      }
      let next: IteratorResult<Buffer | string>;
      try {
        next = await reader.next();
      } catch (error) {
        context.inputError = error;
        throw error;
      }
      if (next.done) controller.close();
      else controller.enqueue(typeof next.value === 'string' ? Buffer.from(next.value) : next.value);
    },
    async cancel() {
      await reader?.return?.();
    },
  });
}
