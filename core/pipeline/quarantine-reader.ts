/**
 * Reads a quarantine file back, a page at a time: each rejected line's number, code and reason
 * (from the index beside it) with its text. The files can be large; only the page asked for is kept.
 * An encrypted file (`.gpg`) is decrypted as it is read, through the environment's decryptor.
 */
import { createReadStream, existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import type { Decryptor } from '../crypto/ports.js';
import { DecryptError } from '../errors/index.js';
import { isEncryptedQuarantine, quarantineIndexPath, type QuarantineIndexHeader } from './quarantine.js';

export interface QuarantinedLine {
  line: number;
  code: string;
  reason: string;
  text: string;
}

/** Longest text returned for one line (a page stays small); the file keeps the line whole. */
export const MAX_TEXT_CHARS = 10_000;

/** Calls `onLine` for each `\n`-terminated line of a file (bytes, without the terminator); stops when it returns false. */
async function eachLine(path: string, onLine: (line: Buffer, index: number) => boolean | void, open?: (path: string) => Promise<Readable>): Promise<number> {
  let index = 0;
  let rest: Buffer = Buffer.alloc(0);
  const stream = open ? await open(path) : createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
      let at = data.indexOf(0x0a);
      while (at >= 0) {
        if (onLine(data.subarray(0, at), index++) === false) return index;
        data = data.subarray(at + 1);
        at = data.indexOf(0x0a);
      }
      rest = Buffer.from(data);
    }
    if (rest.length > 0) onLine(rest, index++);
    return index;
  } finally {
    stream.destroy();
  }
}

function textOf(line: Buffer): string {
  const text = line.toString('utf8');
  return text.length > MAX_TEXT_CHARS ? `${text.slice(0, MAX_TEXT_CHARS)}…` : text;
}

/**
 * One page of a quarantine file's lines. Without an index (a file quarantined by an older
 * version), the numbers known from the file's result (`known`, in quarantine order) are used.
 */
export async function readQuarantinePage(
  path: string,
  page: { offset: number; limit: number },
  known: { line: number; code: string; reason: string }[] = [],
  decryptor?: () => Promise<Decryptor>,
): Promise<{ total: number; lines: QuarantinedLine[] }> {
  const open = isEncryptedQuarantine(path) ? openDecrypted(decryptor) : undefined;
  const end = page.offset + page.limit;
  const indexPath = quarantineIndexPath(path);
  const entries: { line: number; code: string; reason: string }[] = [];
  let preamble = 0;
  let total: number;
  if (existsSync(indexPath)) {
    const count = await eachLine(indexPath, (raw, i) => {
      if (i === 0) {
        preamble = (JSON.parse(raw.toString('utf8')) as QuarantineIndexHeader).preambleLines;
        return;
      }
      const n = i - 1;
      if (n >= page.offset && n < end) entries.push(JSON.parse(raw.toString('utf8')) as { line: number; code: string; reason: string });
    });
    total = Math.max(0, count - 1);
  } else {
    // An older quarantine file, without index: its lines are shown as they are (a table's
    // header line included), numbered from the file's result as far as it lists them.
    total = 0;
    entries.push(...known.slice(page.offset, end));
  }
  const indexed = existsSync(indexPath);
  const texts: string[] = [];
  const lineCount = await eachLine(path, (raw, i) => {
    const n = i - preamble;
    if (n < page.offset) return;
    if (n >= end) return indexed ? false : undefined;
    texts.push(textOf(raw));
  }, open);
  if (!indexed) {
    total = Math.max(0, lineCount - preamble);
    for (let i = entries.length; i < texts.length; i++) entries.push({ line: 0, code: 'REJECTED', reason: 'line number not recorded' });
  }
  return { total, lines: texts.map((text, i) => ({ ...entries[i]!, text })) };
}

/** Opens an encrypted quarantine file as its plaintext. */
function openDecrypted(decryptor: (() => Promise<Decryptor>) | undefined): (path: string) => Promise<Readable> {
  return async (path) => {
    if (!decryptor) throw new DecryptError(`${path} is encrypted and no key was given to read it.`, { code: 'DECRYPT_NO_KEY', hint: 'Read it through pds (pds report, the console), which decrypts with the environment\'s key.' });
    return (await decryptor()).decrypt(createReadStream(path, { highWaterMark: 1 << 20 }), basename(path));
  };
}

/** Every line of a quarantine file (clear or encrypted), preamble included, as bytes without `\n`. */
export async function readQuarantineLines(path: string, decryptor?: () => Promise<Decryptor>): Promise<Buffer[]> {
  const lines: Buffer[] = [];
  await eachLine(path, (raw) => void lines.push(Buffer.from(raw)), isEncryptedQuarantine(path) ? openDecrypted(decryptor) : undefined);
  return lines;
}
