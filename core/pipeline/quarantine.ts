/**
 * Quarantine: rejected lines kept verbatim in a file beside the landing copy, so nothing is lost
 * and they can be fixed and re-loaded (docs/architecture.md §3). Files are created only when a line is
 * rejected, and are readable by the owner only (mode 0600). They hold learner data, so when the
 * environment has a key the file is an OpenPGP message encrypted to the environment's own public
 * key(s) (`<name>.gpg`, streamed as the lines come) and is decrypted on demand for the report and
 * the console (`quarantine-reader.ts`); without a key (plain deliveries) it is written in clear.
 * Beside each, an index (`<file>.lines`, JSON lines) gives every quarantined line's number, code
 * and reason — never its text — in the same order, so the console can list them all.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import { PassThrough, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { encryptToKeys } from '../crypto/encrypt.js';
import type { RejectedLine } from '../domain/records.js';

const NEWLINE = Buffer.from('\n');

/** Suffix of an encrypted quarantine file. */
export const ENCRYPTED_QUARANTINE_SUFFIX = '.gpg';

/** The index beside a quarantine file. */
export function quarantineIndexPath(path: string): string {
  return `${path}.lines`;
}

/** True when a quarantine file is an OpenPGP message (read it through the environment's decryptor). */
export function isEncryptedQuarantine(path: string): boolean {
  return path.endsWith(ENCRYPTED_QUARANTINE_SUFFIX);
}

/** The first line of an index: how many lines of the quarantine file come before the rejected ones. */
export interface QuarantineIndexHeader {
  preambleLines: number;
}

/** Turns a ledger key into a safe file name (zip members and S3 keys contain `/` and `!`). */
export function quarantineFileName(key: string): string {
  const base = key.replace(/\.gpg$/, '').replace(/\.gz$/, '');
  return base.replace(/[^A-Za-z0-9._+-]+/g, '_').slice(-200);
}

/** The public keys (armored or binary; secret keys are reduced to their public part) quarantine files are encrypted to. */
export type QuarantineRecipients = () => Promise<ReadonlyArray<string | Uint8Array>>;

export class Quarantine {
  private stream: Writable | undefined;
  private index: WriteStream | undefined;
  private opening: Promise<void> | undefined;
  /** Resolves when the encrypted file is written out (encrypted files only). */
  private written: Promise<void> | undefined;
  private readonly base: string;
  private encrypted = false;
  count = 0;

  /**
   * @param dir the environment's quarantine folder
   * @param key the ledger key of the file whose lines are kept
   * @param preamble written first when the file is created (the TSV header, so the file is loadable)
   * @param recipients the environment's keys: the file is encrypted to them when there is one
   */
  constructor(
    dir: string,
    key: string,
    private readonly preamble?: Uint8Array | string,
    private readonly recipients?: QuarantineRecipients,
  ) {
    this.base = join(dir, quarantineFileName(key));
  }

  /** Path of the quarantine file (it exists once `count > 0`; `.gpg` when encrypted). */
  get path(): string {
    return this.encrypted ? `${this.base}${ENCRYPTED_QUARANTINE_SUFFIX}` : this.base;
  }

  /** Removes a quarantine file left by an earlier attempt at the same file, clear or encrypted. */
  async clear(): Promise<void> {
    for (const p of [this.base, `${this.base}${ENCRYPTED_QUARANTINE_SUFFIX}`]) {
      await rm(p, { force: true });
      await rm(quarantineIndexPath(p), { force: true });
    }
  }

  /** Opens the file: an encrypting stream when the environment has keys, else a plain one. */
  private async openFile(): Promise<Writable> {
    const keys = this.recipients ? [...(await this.recipients())] : [];
    this.encrypted = keys.length > 0;
    const file = createWriteStream(this.path, { mode: 0o600 });
    if (!this.encrypted) return file;
    const plain = new PassThrough();
    const cipher = await encryptToKeys(plain, keys as string[] | Uint8Array[], { compression: 'zlib', fileName: 'quarantine' });
    this.written = pipeline(cipher, file);
    // Reported by close(); without this handler a failure before close() would be unhandled.
    this.written.catch(() => undefined);
    return plain;
  }

  async add(lines: RejectedLine[]): Promise<void> {
    if (lines.length === 0) return;
    if (!this.stream) {
      this.opening ??= (async () => {
        await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
        this.stream = await this.openFile();
        this.index = createWriteStream(quarantineIndexPath(this.path), { mode: 0o600 });
        if (this.preamble !== undefined) this.stream.write(this.preamble), this.stream.write('\n');
        const header: QuarantineIndexHeader = { preambleLines: this.preamble === undefined ? 0 : preambleLineCount(this.preamble) };
        this.index.write(`${JSON.stringify(header)}\n`);
      })();
      await this.opening;
    }
    const out = this.stream!;
    const index = this.index!;
    for (const line of lines) {
      this.count++;
      // The index entry is written in the same step as the line: both files keep the same order.
      index.write(`${JSON.stringify({ line: line.line, code: line.code, reason: line.reason })}\n`);
      // One write per line, newline included: adds that overlap (a loader writing behind its
      // reading) interleave whole lines only.
      const data = typeof line.raw === 'string' ? `${line.raw}\n` : Buffer.concat([line.raw, NEWLINE]);
      if (!out.write(data)) await once(out, 'drain');
    }
  }

  async close(): Promise<void> {
    if (!this.stream) return;
    const out = this.stream;
    const index = this.index;
    this.stream = undefined;
    this.index = undefined;
    out.end();
    index?.end();
    await Promise.all([once(out, 'finish'), index ? once(index, 'finish') : undefined, this.written]);
  }
}

function preambleLineCount(preamble: Uint8Array | string): number {
  const text = typeof preamble === 'string' ? preamble : Buffer.from(preamble).toString('utf8');
  return text.split('\n').length;
}
