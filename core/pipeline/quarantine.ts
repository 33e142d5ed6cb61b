/**
 * Quarantine: rejected lines kept verbatim in a file beside the landing copy, so nothing is lost
 * and they can be fixed and re-loaded (docs/architecture.md §3). Files are created only when a line is
 * rejected, and are readable by the owner only (they hold learner data in clear). Beside each, an
 * index (`<file>.lines`, JSON lines) gives every quarantined line's number, code and reason, in the
 * same order, so the console can list them all with their text.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import type { RejectedLine } from '../domain/records.js';

const NEWLINE = Buffer.from('\n');

/** The index beside a quarantine file. */
export function quarantineIndexPath(path: string): string {
  return `${path}.lines`;
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

export class Quarantine {
  private stream: WriteStream | undefined;
  private index: WriteStream | undefined;
  private opening: Promise<void> | undefined;
  /** Path of the quarantine file (it exists once `count > 0`). */
  readonly path: string;
  count = 0;

  /**
   * @param dir the environment's quarantine folder
   * @param key the ledger key of the file whose lines are kept
   * @param preamble written first when the file is created (the TSV header, so the file is loadable)
   */
  constructor(dir: string, key: string, private readonly preamble?: Uint8Array | string) {
    this.path = join(dir, quarantineFileName(key));
  }

  /** Removes a quarantine file left by an earlier attempt at the same file. */
  async clear(): Promise<void> {
    await rm(this.path, { force: true });
    await rm(quarantineIndexPath(this.path), { force: true });
  }

  async add(lines: RejectedLine[]): Promise<void> {
    if (lines.length === 0) return;
    if (!this.stream) {
      this.opening ??= (async () => {
        await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
        this.stream = createWriteStream(this.path, { mode: 0o600 });
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
    await Promise.all([once(out, 'finish'), index ? once(index, 'finish') : undefined]);
  }
}

function preambleLineCount(preamble: Uint8Array | string): number {
  const text = typeof preamble === 'string' ? preamble : Buffer.from(preamble).toString('utf8');
  return text.split('\n').length;
}
