/**
 * Reader for the email opt-in CSV `{org}-email_opt_in-{env}.csv` (docs/edx-formats.md §3 "Email opt-in
 * CSV", §7.15), written by Django's `csv.DictWriter`: comma-separated, minimal quoting, CRLF.
 *
 * Records are assembled from lines here (a quoted field may span lines; a record is complete when
 * its double quotes balance), so every row and reject carries the exact line it starts on;
 * records that contain quotes are parsed by `csv-parse`, the others are a plain split (a field
 * without quotes cannot hold a comma or a line break). The header is re-written for every chunk
 * of courses, so rows equal to the header are skipped. Both header versions are read: with
 * `user_id,username` (since Jan 2017) and without.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { ParseError } from '../errors/index.js';
import type { RejectedLine } from '../domain/records.js';
import { normalizeSqlDatetime } from '../domain/datetime.js';
import { readLines, type ReadLinesOptions } from './lines.js';

/** The columns of an opt-in row, in the order of the current header. */
export const EMAIL_OPT_IN_COLUMNS = [
  'user_id',
  'username',
  'email',
  'full_name',
  'course_id',
  'is_opted_in_for_email',
  'preference_set_datetime',
] as const;
export type EmailOptInColumn = (typeof EMAIL_OPT_IN_COLUMNS)[number];

/** The values of one opt-in row (one row per enrollment). */
export interface EmailOptInValues {
  /** Null in files written before Jan 2017 (no such column) or when blank (non-numbers are rejected). */
  user_id: number | null;
  /** Null in files written before Jan 2017. */
  username: string | null;
  email: string;
  full_name: string;
  course_id: string;
  /** `True` → 1, `False` → 0; null when blank (other values are rejected). */
  is_opted_in_for_email: number | null;
  /** `YYYY-MM-DD HH:MM:SS[.ffffff]` UTC (the `+00:00` offset is applied); null when blank. */
  preference_set_datetime: string | null;
}

/** One opt-in row. */
export interface EmailOptInRow {
  /** 1-based line the record starts on. */
  line: number;
  values: EmailOptInValues;
  /** The record's bytes as read (lines joined by LF, CRs removed): for quarantine. */
  raw: Buffer;
}

export interface EmailOptInBatch {
  rows: EmailOptInRow[];
  rejected: RejectedLine[];
  /** Repeated header rows skipped in this batch. */
  skippedHeaders: number;
}

export interface ReadEmailOptInOptions {
  /** File name for error messages. */
  fileName: string;
  /** A quoted field may span at most this many lines before the record is rejected. Default 1000. */
  maxRecordLines?: number;
  /** Passed to `readLines` (line length cap, batch sizes). */
  lines?: Omit<ReadLinesOptions, 'fileName'>;
}

const REQUIRED = ['email', 'full_name', 'course_id', 'is_opted_in_for_email', 'preference_set_datetime'] as const;

interface PendingLine {
  line: number;
  bytes: Buffer;
  text: string;
  quotes: number;
}

function countQuotes(s: string): number {
  let n = 0;
  for (let i = s.indexOf('"'); i !== -1; i = s.indexOf('"', i + 1)) n++;
  return n;
}

function splitRecord(text: string): string[] | null {
  if (text.indexOf('"') === -1) return text.split(',');
  try {
    const records = parseCsv(text, { relax_column_count: true, record_delimiter: ['\r\n', '\n'] }) as string[][];
    return records.length === 1 ? records[0] : null;
  } catch {
    return null;
  }
}

function joinRaw(lines: PendingLine[]): Buffer {
  if (lines.length === 1) return Buffer.from(lines[0].bytes);
  const parts: Buffer[] = [];
  lines.forEach((l, k) => {
    if (k > 0) parts.push(Buffer.from('\n'));
    parts.push(l.bytes);
  });
  return Buffer.concat(parts);
}

/**
 * Reads email opt-in rows from the decrypted CSV bytes, in batches. A 0-byte or header-only file
 * yields nothing. Rejects: `CSV_FIELD_COUNT` (field count differs from the header),
 * `CSV_MALFORMED` (unbalanced or misplaced quotes), `CSV_VALUE_INVALID` (a user id, opt-in flag
 * or datetime that cannot be read, named by column); reading goes on after a reject.
 *
 * @throws ParseError `EMAIL_OPT_IN_HEADER` when the first record is not an opt-in header;
 *   `LINE_TOO_LONG` from `readLines`.
 */
export async function* readEmailOptIn(
  source: AsyncIterable<Uint8Array>,
  options: ReadEmailOptInOptions,
): AsyncGenerator<EmailOptInBatch> {
  const lines = readLines(source, { ...options.lines, fileName: options.fileName });
  const maxRecordLines = options.maxRecordLines ?? 1000;
  let header: string[] | null = null;
  let headerText = '';
  let index: Record<string, number> = {};
  let pending: PendingLine[] = [];
  let pendingQuotes = 0;
  let first = true;

  let rows: EmailOptInRow[] = [];
  let rejected: RejectedLine[] = [];
  let skippedHeaders = 0;

  const reject = (recordLines: PendingLine[], code: string, reason: string): void => {
    rejected.push({ line: recordLines[0].line, code, reason, raw: joinRaw(recordLines) });
  };

  const record = (recordLines: PendingLine[]): void => {
    const text = recordLines.map((l) => l.text).join('\n');
    if (header === null) {
      const names = splitRecord(text)?.map((n) => n.trim());
      const missing = names === undefined ? [...REQUIRED] : REQUIRED.filter((c) => !names.includes(c));
      if (names === undefined || missing.length > 0) {
        throw new ParseError(
          `${options.fileName}, line ${recordLines[0].line}: not an email opt-in header (missing ${missing.join(', ')}).`,
          {
            code: 'EMAIL_OPT_IN_HEADER',
            file: options.fileName,
            line: recordLines[0].line,
            hint: 'Check that this is the email opt-in CSV of the opt-in package.',
          },
        );
      }
      header = names;
      headerText = text;
      index = Object.fromEntries(names.map((n, k) => [n, k]));
      return;
    }
    if (text === headerText) {
      skippedHeaders++;
      return;
    }
    const fields = splitRecord(text);
    if (fields === null) {
      reject(recordLines, 'CSV_MALFORMED', 'misplaced or unbalanced double quotes');
      return;
    }
    if (fields.length !== header.length) {
      reject(recordLines, 'CSV_FIELD_COUNT', `expected ${header.length} fields (header), found ${fields.length}`);
      return;
    }
    if (fields.every((f, k) => f.trim() === header?.[k])) {
      skippedHeaders++;
      return;
    }
    const get = (name: string): string | null => (index[name] === undefined ? null : fields[index[name]]);
    // Typed columns: blank is null; anything else that does not fit is a reject, not a silent null.
    const userIdText = get('user_id')?.trim() ?? '';
    const optInText = get('is_opted_in_for_email')?.trim() ?? '';
    const whenText = get('preference_set_datetime')?.trim() ?? '';
    const userId = userIdText === '' ? null : /^\d{1,15}$/.test(userIdText) ? Number(userIdText) : undefined;
    const optIn = optInText === '' ? null : optInText === 'True' ? 1 : optInText === 'False' ? 0 : undefined;
    const when = whenText === '' ? null : (normalizeSqlDatetime(whenText) ?? undefined);
    if (userId === undefined) return reject(recordLines, 'CSV_VALUE_INVALID', 'column user_id: expected an integer');
    if (optIn === undefined) return reject(recordLines, 'CSV_VALUE_INVALID', 'column is_opted_in_for_email: expected True or False');
    if (when === undefined) return reject(recordLines, 'CSV_VALUE_INVALID', 'column preference_set_datetime: expected a datetime');
    rows.push({
      line: recordLines[0].line,
      values: {
        user_id: userId,
        username: get('username'),
        email: get('email') ?? '',
        full_name: get('full_name') ?? '',
        course_id: (get('course_id') ?? '').trim(),
        is_opted_in_for_email: optIn,
        preference_set_datetime: when,
      },
      raw: joinRaw(recordLines),
    });
  };

  /** Feeds one line; completes, rejects or extends the pending record. */
  const feed = (queue: PendingLine[]): void => {
    while (queue.length > 0) {
      const l = queue.shift() as PendingLine;
      if (pending.length === 0 && l.text.trim() === '') continue;
      pending.push(l);
      pendingQuotes += l.quotes;
      if (pendingQuotes % 2 === 0) {
        const done = pending;
        pending = [];
        pendingQuotes = 0;
        record(done);
      } else if (pending.length >= maxRecordLines) {
        // An unterminated quote: reject its line and read on from the next one.
        const [bad, ...rest] = pending;
        pending = [];
        pendingQuotes = 0;
        reject([bad], 'CSV_MALFORMED', 'a quoted field is not closed');
        queue.unshift(...rest);
      }
    }
  };

  for await (const batch of lines) {
    const queue: PendingLine[] = [];
    for (const { line, bytes } of batch) {
      let text = bytes.toString('utf8');
      if (first) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      // CRLF is the record terminator (§3): the CR belongs to no field and to no raw line.
      let body = bytes;
      if (text.endsWith('\r')) {
        text = text.slice(0, -1);
        body = bytes.subarray(0, bytes.length - 1);
      }
      queue.push({ line, bytes: body, text, quotes: countQuotes(text) });
    }
    feed(queue);
    if (rows.length > 0 || rejected.length > 0 || skippedHeaders > 0) {
      yield { rows, rejected, skippedHeaders };
      rows = [];
      rejected = [];
      skippedHeaders = 0;
    }
  }
  // The file ends inside a quoted field: reject that line and read what follows it.
  while (pending.length > 0) {
    const [bad, ...rest] = pending;
    pending = [];
    pendingQuotes = 0;
    reject([bad], 'CSV_MALFORMED', 'a quoted field is not closed');
    feed(rest);
  }
  if (rows.length > 0 || rejected.length > 0 || skippedHeaders > 0) yield { rows, rejected, skippedHeaders };
}
