/**
 * Reader for the weekly `.sql` files, which are TSV (docs/edx-formats.md §3, §7.12).
 *
 * - first line: the header, TAB-joined column names (map by name, never by position);
 * - TAB delimiter, LF terminator, no quoting: `"` and `'` are literal;
 * - the 4-character literal `NULL` is SQL NULL; an empty field is the empty string;
 * - escapes, decoded left to right: `\\` → `\`, `\t` → TAB, `\n` → LF, `\r` → CR; any other
 *   backslash sequence is kept as it is;
 * - courseware_studentmodule (Python csv with `escapechar='\\'`) writes a backslash followed by
 *   the literal TAB, LF or CR instead. Because every real backslash is doubled in both writers,
 *   an unpaired backslash before a literal TAB/LF/CR cannot occur otherwise, so this reader
 *   accepts that form in every file: the TAB is data, and a line ending in an unpaired backslash
 *   continues on the next line (the record keeps the first line's number);
 * - the Nov–Dec 2022 window where every value (and possibly the header) was written as a Python
 *   bytes repr `b'…'` is detected per row and undone.
 */
import { isUtf8 } from 'node:buffer';
import type { RejectedLine, TsvRow } from '../domain/records.js';
import type { Line } from './lines.js';

/** The first event of every file. */
export interface TsvHeader {
  kind: 'header';
  /** Column names as written (trimmed; BOM and `b'…'` removed). Empty for a 0-byte file. */
  columns: string[];
  /** True for a 0-byte file (pre-Nov-2015 empty tables, §3): no header, no rows. */
  empty: boolean;
  /** True when the header itself was written as Python bytes reprs (§3 known bad window). */
  bytesRepr: boolean;
}

/** Decoded rows of one input batch, and the lines of that batch that were rejected. */
export interface TsvRowsBatch {
  kind: 'rows';
  rows: TsvRow[];
  rejected: RejectedLine[];
}

export type TsvEvent = TsvHeader | TsvRowsBatch;

export interface ReadTsvOptions {
  /**
   * The file being read. Rejects carry only line numbers and codes; the caller attributes them
   * to this file in the ledger and quarantine.
   */
  fileName: string;
}

const BACKSLASH = 92;
const TAB = 9;

/** Escape pair → character (§3), plus the Python csv form: backslash + literal TAB/LF/CR. */
function escapeValue(next: number): string | null {
  switch (next) {
    case BACKSLASH:
      return '\\';
    case 116: // t
    case TAB:
      return '\t';
    case 110: // n
    case 10:
      return '\n';
    case 114: // r
    case 13:
      return '\r';
    default:
      return null;
  }
}

/** Returned by `splitEscaped` when the text ends in an unpaired backslash (escaped LF). */
const CONTINUES = Symbol('continues');

/**
 * Splits a record on unescaped TABs and decodes each field. When `final` is false, an unpaired
 * backslash at the very end means the record continues on the next line.
 */
function splitEscaped(text: string, final: boolean): (string | null)[] | typeof CONTINUES {
  const fields: (string | null)[] = [];
  const len = text.length;
  let cur = '';
  let segStart = 0;
  let fieldStart = 0;
  let nextBs = text.indexOf('\\');
  let nextTab = text.indexOf('\t');
  for (;;) {
    if (nextBs !== -1 && (nextTab === -1 || nextBs < nextTab)) {
      const i = nextBs;
      if (i + 1 >= len) {
        if (!final) return CONTINUES;
        cur += text.slice(segStart, len);
        segStart = len;
        nextBs = -1;
        continue;
      }
      const value = escapeValue(text.charCodeAt(i + 1));
      cur += text.slice(segStart, i) + (value ?? text.slice(i, i + 2));
      segStart = i + 2;
      nextBs = text.indexOf('\\', segStart);
      if (nextTab !== -1 && nextTab < segStart) nextTab = text.indexOf('\t', segStart);
    } else if (nextTab !== -1) {
      const i = nextTab;
      fields.push(i - fieldStart === 4 && cur === '' && text.startsWith('NULL', fieldStart) ? null : cur + text.slice(segStart, i));
      cur = '';
      segStart = fieldStart = i + 1;
      nextTab = text.indexOf('\t', segStart);
    } else {
      fields.push(len - fieldStart === 4 && cur === '' && text.startsWith('NULL', fieldStart) ? null : cur + text.slice(segStart, len));
      return fields;
    }
  }
}

/**
 * Decodes one raw TSV field: the literal `NULL` is null; `\\`, `\t`, `\n`, `\r` (and a backslash
 * before a literal TAB/LF/CR) become the character; any other backslash sequence is kept.
 */
export function decodeTsvField(s: string): string | null {
  if (s === 'NULL') return null;
  if (s.indexOf('\\') === -1) return s;
  let out = '';
  let segStart = 0;
  for (let i = s.indexOf('\\'); i !== -1; i = s.indexOf('\\', segStart)) {
    if (i + 1 >= s.length) break;
    const value = escapeValue(s.charCodeAt(i + 1));
    out += s.slice(segStart, i) + (value ?? s.slice(i, i + 2));
    segStart = i + 2;
  }
  return out + s.slice(segStart);
}

/** True when `s` looks like a Python bytes repr: `b'…'` or `b"…"`. */
function isBytesRepr(s: string): boolean {
  if (s.length < 3 || s.charCodeAt(0) !== 98 /* b */) return false;
  const q = s[1];
  return (q === "'" || q === '"') && s[s.length - 1] === q;
}

/**
 * Undoes a Python bytes repr: strips `b'…'`, decodes `\xNN`, `\n`, `\t`, `\r`, `\\`, `\'`, `\"`
 * to bytes and reads the bytes as UTF-8. Null when the bytes are not valid UTF-8.
 */
function decodeBytesRepr(s: string): string | null {
  const inner = s.slice(2, -1);
  const bytes: number[] = [];
  for (let i = 0; i < inner.length; i++) {
    const c = inner.charCodeAt(i);
    if (c === BACKSLASH && i + 1 < inner.length) {
      const n = inner[i + 1];
      if (n === 'x' && i + 3 < inner.length && /^[0-9a-fA-F]{2}$/.test(inner.slice(i + 2, i + 4))) {
        bytes.push(parseInt(inner.slice(i + 2, i + 4), 16));
        i += 3;
        continue;
      }
      const simple = n === 'n' ? 10 : n === 't' ? 9 : n === 'r' ? 13 : n === '\\' ? 92 : n === "'" ? 39 : n === '"' ? 34 : -1;
      if (simple !== -1) {
        bytes.push(simple);
        i += 1;
        continue;
      }
      bytes.push(c);
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      // repr never writes non-ASCII, but keep such a character rather than lose it.
      for (const b of Buffer.from(inner[i] + (c >= 0xd800 && c < 0xdc00 ? inner[++i] ?? '' : ''), 'utf8')) bytes.push(b);
    }
  }
  const buf = Buffer.from(bytes);
  return isUtf8(buf) ? buf.toString('utf8') : null;
}

/**
 * Decodes a row written in the bytes-repr window. The exporter escaped each value, then
 * `.encode()`d it, so the repr wraps the already-escaped text: undo the repr first, then the TSV
 * escapes. Null when a field is not valid UTF-8.
 */
function decodeBytesReprRow(rawFields: string[]): (string | null)[] | null {
  const out: (string | null)[] = new Array(rawFields.length);
  for (let k = 0; k < rawFields.length; k++) {
    const f = rawFields[k];
    if (f === 'NULL') {
      out[k] = null;
      continue;
    }
    const text = decodeBytesRepr(f);
    if (text === null) return null;
    out[k] = decodeTsvField(text);
  }
  return out;
}

/** Every field is `NULL` or a bytes repr, and at least one is a repr. */
function isBytesReprRow(rawFields: string[]): boolean {
  let seen = false;
  for (const f of rawFields) {
    if (f === 'NULL') continue;
    if (!isBytesRepr(f)) return false;
    seen = true;
  }
  return seen;
}

function parseHeader(line: Line): TsvHeader {
  let text = line.bytes.toString('utf8');
  // Defensive: the exporter writes no BOM (§3), but a file re-saved by an editor may carry one.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.endsWith('\r')) text = text.slice(0, -1);
  if (text.trim() === '') return { kind: 'header', columns: [], empty: false, bytesRepr: false };
  let names = text.split('\t');
  const bytesRepr = names.every(isBytesRepr);
  if (bytesRepr) names = names.map((n) => decodeBytesRepr(n) ?? n);
  return { kind: 'header', columns: names.map((n) => n.trim()), empty: false, bytesRepr };
}

interface Carry {
  line: number;
  text: string;
  raws: Buffer[];
}

/**
 * Reads an edX TSV file from batches of lines (see `readLines`). Yields the header first
 * (`{ kind: 'header', columns: [], empty: true }` for a 0-byte file), then one `rows` event per
 * input batch that produced rows or rejects. Rows with a field count other than the header's are
 * rejected (`TSV_FIELD_COUNT`), as are lines that are not UTF-8 (`TSV_ENCODING`); reading goes on.
 */
export async function* readTsv(lines: AsyncIterable<Line[]>, _options: ReadTsvOptions): AsyncGenerator<TsvEvent> {
  let header: TsvHeader | null = null;
  let expected = 0;
  let crlf = false;
  let carry: Carry | null = null;

  /**
   * Decodes one record and files it as a row or a reject. Returns false when the record
   * continues on the next line (escaped LF) and nothing was filed.
   */
  const decode = (lineNo: number, text: string, raws: Buffer[], final: boolean, rows: TsvRow[], rejected: RejectedLine[]): boolean => {
    let values: (string | null)[] | null;
    const maybeRepr = text.charCodeAt(0) === 98 /* b */ || (header?.bytesRepr ?? false);
    const rawFields = maybeRepr ? text.split('\t') : null;
    if (rawFields !== null && isBytesReprRow(rawFields)) {
      values = decodeBytesReprRow(rawFields);
    } else if (text.indexOf('\\') === -1) {
      // Fast path: no escapes, so fields are a plain split.
      const parts: (string | null)[] = rawFields ?? text.split('\t');
      for (let k = 0; k < parts.length; k++) if (parts[k] === 'NULL') parts[k] = null;
      values = parts;
    } else {
      const split = splitEscaped(text, final);
      if (split === CONTINUES) return false;
      values = split;
    }
    if (values === null) {
      rejected.push({ line: lineNo, code: 'TSV_ENCODING', reason: "a b'…' value does not hold valid UTF-8", raw: joinRaw(raws) });
    } else if (values.length !== expected) {
      rejected.push({
        line: lineNo,
        code: 'TSV_FIELD_COUNT',
        reason: `expected ${expected} fields (header), found ${values.length}`,
        raw: joinRaw(raws),
      });
    } else {
      rows.push({ line: lineNo, values });
    }
    return true;
  };

  for await (const batch of lines) {
    let i = 0;
    if (header === null) {
      if (batch.length === 0) continue;
      const first = batch[0].bytes;
      header = parseHeader(batch[0]);
      expected = header.columns.length;
      crlf = first.length > 0 && first[first.length - 1] === 13;
      yield header;
      i = 1;
    }
    const rows: TsvRow[] = [];
    const rejected: RejectedLine[] = [];
    for (; i < batch.length; i++) {
      const { line, bytes } = batch[i];
      let text = bytes.toString('utf8');
      const raws: Buffer[] = carry === null ? [bytes] : [...carry.raws, bytes];
      const lineNo: number = carry?.line ?? line;
      // U+FFFD marks a replaced invalid sequence (or a genuine U+FFFD): only then check strictly.
      if (text.indexOf('\uFFFD') !== -1 && !isUtf8(bytes)) {
        carry = null;
        rejected.push({ line: lineNo, code: 'TSV_ENCODING', reason: 'the line is not valid UTF-8', raw: joinRaw(raws) });
        continue;
      }
      if (crlf && text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
      if (carry !== null) text = `${carry.text}\n${text}`;
      carry = decode(lineNo, text, raws, false, rows, rejected) ? null : { line: lineNo, text, raws };
    }
    if (rows.length > 0 || rejected.length > 0) yield { kind: 'rows', rows, rejected };
  }
  if (header === null) {
    yield { kind: 'header', columns: [], empty: true, bytesRepr: false };
    return;
  }
  if (carry !== null) {
    // The file ends inside an escaped line break: the trailing backslash is literal data.
    const rows: TsvRow[] = [];
    const rejected: RejectedLine[] = [];
    decode(carry.line, carry.text, carry.raws, true, rows, rejected);
    yield { kind: 'rows', rows, rejected };
  }
}

/** The physical lines of a record joined by the LFs that separated them (a copy). */
function joinRaw(raws: Buffer[]): Buffer {
  if (raws.length === 1) return Buffer.from(raws[0]);
  const parts: Buffer[] = [];
  raws.forEach((r, k) => {
    if (k > 0) parts.push(Buffer.from([10]));
    parts.push(r);
  });
  return Buffer.concat(parts);
}
