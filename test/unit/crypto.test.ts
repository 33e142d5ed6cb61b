/**
 * Streaming OpenPGP decryption of files made by the real GnuPG (docs/edx-formats.md §2: binary output,
 * several recipients, compressed packets by GnuPG default, passphrase-protected RSA keys).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';

import * as openpgp from 'openpgp';
import { readMessage } from 'openpgp';

import { encryptToKeys } from '../../core/crypto/encrypt.js';
import { inspectKeys } from '../../core/crypto/inspect-keys.js';
import { createOpenPgpDecryptor } from '../../core/crypto/openpgp-decryptor.js';
import type { Decryptor } from '../../core/crypto/ports.js';
import { isEncryptedMessage, isOpenPgpMessage } from '../../core/crypto/sniff.js';
import { DecryptError } from '../../core/errors/index.js';
import { createGpgHome, type GeneratedKey, type GpgCompression, type GpgHome } from '../support/gpg.js';

const PASSPHRASE = 'correct horse battery staple';

let gpg: GpgHome;
let work: string;
let ours: GeneratedKey;
let edxMaster: GeneratedKey;
let stranger: GeneratedKey;
let oursSecret: string;
let oursPublic: string;
let strangerSecret: string;
let plaintext: Buffer;
let plainPath: string;
let decryptor: Decryptor;

/** Reads a decrypted stream to the end. */
async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Decrypts a file as the pipeline does: a file stream in, small chunks, plaintext out. */
async function decryptFile(with_: Decryptor, path: string): Promise<Buffer> {
  return readAll(await with_.decrypt(createReadStream(path, { highWaterMark: 16 * 1024 }), path));
}

function hasCode(...codes: string[]) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof DecryptError, `expected a DecryptError, got ${String(error)}`);
    assert.ok(codes.includes(error.code), `expected ${codes.join(' or ')}, got ${error.code}: ${error.message}`);
    assert.equal(error.stage, 'decrypt');
    assert.ok(!error.message.includes(PASSPHRASE), 'the passphrase must never appear in a message');
    return true;
  };
}

async function gpgEncrypt(name: string, recipients: GeneratedKey[], compressAlgo?: GpgCompression, armor = false): Promise<string> {
  const out = join(work, name);
  await gpg.encryptFile(plainPath, out, recipients.map((key) => key.fingerprint), { compressAlgo, armor });
  return out;
}

/** The compression algorithm gpg finds inside an encrypted file (1 ZIP, 2 ZLIB, 3 BZip2), or null. */
async function compressionInside(path: string): Promise<number | null> {
  const { execFile } = await import('node:child_process');
  const listing = await new Promise<string>((resolve, reject) => {
    // The edX master key is unprotected and a recipient of the files checked here.
    execFile('gpg', ['--homedir', gpg.dir, '--batch', '--list-packets', path], (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
  });
  const match = /compressed packet: algo=(\d)/.exec(listing);
  return match ? Number(match[1]) : null;
}

before(async () => {
  gpg = await createGpgHome();
  work = await mkdtemp(join(tmpdir(), 'pds-crypto-test-'));
  [ours, edxMaster, stranger] = await Promise.all([
    gpg.generateKey({ name: 'Data Czar', email: 'czar@university.example', passphrase: PASSPHRASE }),
    gpg.generateKey({ name: 'edX Master', email: 'master@edx.example' }),
    gpg.generateKey({ name: 'Someone Else', email: 'else@elsewhere.example' }),
  ]);
  oursSecret = await gpg.exportSecretKey(ours.fingerprint, PASSPHRASE);
  oursPublic = await gpg.exportPublicKey(ours.fingerprint);
  strangerSecret = await gpg.exportSecretKey(stranger.fingerprint);
  // Half compressible text (so compression layers do real work), half random bytes (so a byte
  // mix-up anywhere shows), large enough that decryption streams over many chunks.
  const lines = Array.from({ length: 6000 }, (_, i) => `{"username":"learner${i % 97}","event_type":"play_video","seq":${i}}\n`);
  plaintext = Buffer.concat([Buffer.from(lines.join('')), randomBytes(300 * 1024)]);
  plainPath = join(work, 'plain.bin');
  await writeFile(plainPath, plaintext);
  decryptor = await createOpenPgpDecryptor({ armoredKeys: [oursSecret], passphrase: PASSPHRASE });
});

after(async () => {
  await gpg?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('OpenPGP decryptor on GnuPG-made files', () => {
  test('decrypts a file encrypted to our key alone, byte for byte', async () => {
    const file = await gpgEncrypt('single.gpg', [ours]);
    assert.deepEqual(await decryptFile(decryptor, file), plaintext);
  });

  for (const compression of ['zip', 'zlib', 'bzip2', 'none'] as const) {
    test(`decrypts a file for several recipients (ours second), compression ${compression}`, async () => {
      const file = await gpgEncrypt(`multi-${compression}.gpg`, [edxMaster, ours], compression);
      const message = await readMessage({ binaryMessage: await readFile(file) });
      const recipients = message.getEncryptionKeyIDs().map((id) => id.toHex().toUpperCase());
      assert.deepEqual(recipients, [edxMaster.encryptionKeyId, ours.encryptionKeyId]);
      const expected = { zip: 1, zlib: 2, bzip2: 3, none: null }[compression];
      assert.equal(await compressionInside(file), expected, 'gpg wrote the compression layer under test');

      const output = await decryptFile(decryptor, file);
      assert.equal(output.length, plaintext.length);
      assert.ok(output.equals(plaintext));
    });
  }

  test('decrypts an armored message', async () => {
    const file = await gpgEncrypt('armored.asc', [ours], undefined, true);
    assert.ok((await readFile(file, 'utf8')).startsWith('-----BEGIN PGP MESSAGE-----'));
    assert.deepEqual(await decryptFile(decryptor, file), plaintext);
  });

  test('decrypts a file whose recipients are hidden (gpg --throw-keyids) by trying our keys', async () => {
    const file = join(work, 'hidden.gpg');
    await gpg.encryptFile(plainPath, file, [edxMaster.fingerprint, ours.fingerprint], { hiddenRecipients: true });
    const message = await readMessage({ binaryMessage: await readFile(file) });
    assert.ok(message.getEncryptionKeyIDs().every((id) => id.toHex() === '0000000000000000'));
    assert.deepEqual(await decryptFile(decryptor, file), plaintext);
  });

  test('a file for other keys fails with DECRYPT_NO_MATCHING_KEY naming both sides', async () => {
    const file = await gpgEncrypt('not-for-us.gpg', [edxMaster, ours]);
    const strangers = await createOpenPgpDecryptor({ armoredKeys: [strangerSecret] });
    await assert.rejects(decryptFile(strangers, file), (error: unknown) => {
      hasCode('DECRYPT_NO_MATCHING_KEY')(error);
      const { message } = error as DecryptError;
      assert.match(message, /not-for-us\.gpg/);
      assert.ok(message.includes(edxMaster.encryptionKeyId) && message.includes(ours.encryptionKeyId), message);
      assert.ok(message.includes(stranger.fingerprint), message);
      // The remedy is the hint, said once: not repeated at the end of the message.
      assert.doesNotMatch(message, /pds key import/);
      assert.match((error as DecryptError).hint ?? '', /pds key import/);
      return true;
    });
  });

  test('a wrong passphrase fails with DECRYPT_BAD_PASSPHRASE', async () => {
    const file = await gpgEncrypt('bad-pass.gpg', [ours]);
    const wrong = await createOpenPgpDecryptor({ armoredKeys: [oursSecret], passphrase: 'not it' });
    await assert.rejects(decryptFile(wrong, file), (error: unknown) => {
      hasCode('DECRYPT_BAD_PASSPHRASE')(error);
      assert.ok(!(error as Error).message.includes('not it'));
      return true;
    });
  });

  test('a protected key without passphrase fails with DECRYPT_KEY_LOCKED', async () => {
    const file = await gpgEncrypt('locked.gpg', [ours]);
    const locked = await createOpenPgpDecryptor({ armoredKeys: [oursSecret] });
    assert.equal(locked.keys()[0].locked, true);
    await assert.rejects(decryptFile(locked, file), hasCode('DECRYPT_KEY_LOCKED'));
  });

  test('a file that is not OpenPGP fails with DECRYPT_NOT_OPENPGP and closes the input', async () => {
    const gz = join(work, 'events.log.gz');
    await writeFile(gz, gzipSync(plaintext.subarray(0, 4096)));
    for (const path of [plainPath, gz]) {
      const input = createReadStream(path);
      await assert.rejects(decryptor.decrypt(input, path), hasCode('DECRYPT_NOT_OPENPGP'));
      assert.equal(input.destroyed, true);
    }
    await assert.rejects(decryptor.decrypt(Readable.from([]), 'empty.gpg'), hasCode('DECRYPT_NOT_OPENPGP'));
  });

  test('a truncated file fails while reading with DECRYPT_TRUNCATED', async () => {
    const whole = await readFile(await gpgEncrypt('whole.gpg', [edxMaster, ours], 'none'));
    for (const cut of [Math.floor(whole.length / 2), whole.length - 10]) {
      const file = join(work, `truncated-${cut}.gpg`);
      await writeFile(file, whole.subarray(0, cut));
      await assert.rejects(decryptFile(decryptor, file), hasCode('DECRYPT_TRUNCATED'));
    }
  });

  for (const compression of ['none', 'zlib'] as const) {
    test(`one flipped byte in the middle (${compression}) is reported while reading, not at the start`, async () => {
      const bytes = await readFile(await gpgEncrypt(`intact-${compression}.gpg`, [edxMaster, ours], compression));
      bytes[Math.floor(bytes.length / 2)] ^= 0x01;
      const file = join(work, `flipped-${compression}.gpg`);
      await writeFile(file, bytes);
      const stream = await decryptor.decrypt(createReadStream(file, { highWaterMark: 16 * 1024 }), file);
      await assert.rejects(readAll(stream), hasCode('DECRYPT_INTEGRITY', 'DECRYPT_CORRUPT'));
    });
  }

  test('a failing input stream surfaces its own error, not a decryption error', async () => {
    const bytes = await readFile(await gpgEncrypt('input-error.gpg', [ours], 'none'));
    const diskError = Object.assign(new Error('simulated read failure'), { code: 'EIO' });
    const input = new Readable({
      read() {
        this.push(bytes.subarray(0, 64 * 1024));
        this.destroy(diskError);
      },
    });
    const run = async (): Promise<Buffer> => readAll(await decryptor.decrypt(input, 'input-error.gpg'));
    await assert.rejects(run(), (error: unknown) => error === diskError);
  });

  test('destroying the plaintext stream early releases the input', { timeout: 60_000 }, async () => {
    const file = await gpgEncrypt('early-stop.gpg', [ours], 'none');
    const input = createReadStream(file, { highWaterMark: 16 * 1024 });
    const stream = await decryptor.decrypt(input, file);
    for await (const chunk of stream) {
      assert.ok((chunk as Buffer).length > 0);
      break; // leaving the loop destroys the stream
    }
    // Waited for, not timed: the input closes once the release reaches it (destroyed with an
    // AbortError, which is what releasing it means here).
    if (!input.closed) await new Promise<void>((resolve) => input.once('close', () => resolve()));
    assert.equal(input.destroyed, true);
  });

  test('keys() describes the held keys without secrets', async () => {
    const [info] = decryptor.keys();
    assert.equal(info.fingerprint, ours.fingerprint);
    assert.equal(info.keyId, ours.keyId);
    assert.deepEqual(info.encryptionKeyIds, [ours.encryptionKeyId]);
    assert.deepEqual(info.userIds, ['Data Czar <czar@university.example>']);
    assert.equal(info.algorithm, 'RSA');
    assert.equal(info.bits, 2048);
    assert.equal(info.hasSecret, true);
    assert.equal(info.locked, false);
    assert.equal(info.expires, null);
    assert.ok(!JSON.stringify(info).includes(PASSPHRASE));
  });
});

describe('inspectKeys', () => {
  test('describes a public key and a protected secret key', async () => {
    const [pub] = await inspectKeys(oursPublic);
    assert.equal(pub.fingerprint, ours.fingerprint);
    assert.equal(pub.hasSecret, false);
    assert.equal(pub.locked, false);
    assert.deepEqual(pub.encryptionKeyIds, [ours.encryptionKeyId]);
    const [sec] = await inspectKeys(new TextEncoder().encode(oursSecret));
    assert.equal(sec.hasSecret, true);
    assert.equal(sec.locked, true);
  });

  test('rejects data that is not a key', async () => {
    await assert.rejects(inspectKeys('hello'), (error: unknown) => error instanceof DecryptError && error.code === 'DECRYPT_KEY_INVALID');
  });
});

describe('isEncryptedMessage', () => {
  test('without .gpg in the name, only an armor header or a session key packet opens a message', async () => {
    const { publicKey } = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ email: 'czar@example.edu' }], format: 'armored' });
    const message = await openpgp.createMessage({ binary: new Uint8Array([1, 2, 3]) });
    const binary = (await openpgp.encrypt({ message, encryptionKeys: await openpgp.readKey({ armoredKey: publicKey }), format: 'binary' })) as Uint8Array;
    assert.equal(isEncryptedMessage(binary.subarray(0, 64)), true);
    assert.equal(isEncryptedMessage(new TextEncoder().encode('-----BEGIN PGP MESSAGE-----\n\nhQEM')), true);
    // Bytes that merely look like a data, literal or compressed packet header.
    for (const first of [0xc9, 0xcb, 0xa3, 0xd2, 0xc8]) {
      const bytes = Uint8Array.from({ length: 64 }, (_, i) => (i === 0 ? first : (i * 37) & 0xff));
      assert.equal(isOpenPgpMessage(bytes), true, `0x${first.toString(16)} looks like a packet header`);
      assert.equal(isEncryptedMessage(bytes), false, `0x${first.toString(16)} is not a session key packet`);
    }
  });
});

describe('isOpenPgpMessage', () => {
  test('recognises binary and armored messages and rejects other formats', async () => {
    const binary = await readFile(await gpgEncrypt('sniff.gpg', [ours]));
    assert.equal(isOpenPgpMessage(binary.subarray(0, 64)), true);
    assert.equal(isOpenPgpMessage(new TextEncoder().encode('\n-----BEGIN PGP MESSAGE-----\n\nhQEM')), true);
    assert.equal(isOpenPgpMessage(gzipSync(Buffer.from('x')).subarray(0, 64)), false);
    assert.equal(isOpenPgpMessage(Buffer.from('PK\u0003\u0004rest of a zip')), false);
    assert.equal(isOpenPgpMessage(Buffer.from('{"event_type":"x"}')), false);
    assert.equal(isOpenPgpMessage(new Uint8Array()), false);
    // A PKESK tag followed by an impossible version byte is random data, not OpenPGP.
    assert.equal(isOpenPgpMessage(Uint8Array.from([0x85, 0x01, 0x0c, 0x09, 0x00])), false);
  });
});

describe('encryptToKeys', () => {
  test('bytes in, bytes out: GnuPG and our decryptor both read the result', async () => {
    const encrypted = await encryptToKeys(plaintext, [oursPublic], { compression: 'zlib', fileName: 'demo.bin' });
    const file = join(work, 'openpgp-made.gpg');
    await writeFile(file, encrypted);
    assert.ok(isOpenPgpMessage(encrypted.subarray(0, 64)));
    assert.deepEqual(await decryptFile(decryptor, file), plaintext);
    const byGpg = join(work, 'openpgp-made.out');
    await gpg.decryptFile(file, byGpg, PASSPHRASE);
    assert.deepEqual(await readFile(byGpg), plaintext);
  });

  test('a stream in gives a stream out', async () => {
    const encrypted = await encryptToKeys(createReadStream(plainPath), [oursPublic]);
    assert.ok(encrypted instanceof Readable);
    const decrypted = await readAll(await decryptor.decrypt(encrypted, 'streamed.gpg'));
    assert.equal(createHash('sha256').update(decrypted).digest('hex'), createHash('sha256').update(plaintext).digest('hex'));
  });
});
