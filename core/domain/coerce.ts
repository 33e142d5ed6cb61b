/**
 * Text → typed value, per column type of the logical schema (`schema-types.ts`). The rules are
 * those of MariaDB in strict mode, so a row that loads into SQLite also loads into MariaDB and a
 * row MariaDB would refuse is quarantined with a reason instead of failing a whole batch.
 * Pure: no Node API.
 *
 * Reasons name the column and the expected type, never the value (docs/architecture.md §4).
 */
import { isValidDate, normalizeSqlDatetime } from './datetime.js';
import type { SqlValue } from './records.js';
import type { ColumnDef, TableDef } from './schema-types.js';

/** Outcome of coercing one row. */
export type CoerceResult =
  | { ok: true; row: SqlValue[] }
  | { ok: false; code: 'VALUE_INVALID'; reason: string };

/** Converts one non-null text value; returns `undefined` when it does not fit. */
type Converter = (text: string) => SqlValue | undefined;

const INT_RE = /^-?\d+$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Decimal or exponent notation as Python `repr(float)` writes it; no `nan`/`inf` (MariaDB has none). */
const DOUBLE_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** MariaDB TEXT holds 65,535 bytes. */
const TEXT_MAX_BYTES = 65535;

function toInt32(text: string): SqlValue | undefined {
  if (!INT_RE.test(text)) return undefined;
  const n = Number(text);
  return n >= INT32_MIN && n <= INT32_MAX ? n : undefined;
}

/** 64-bit integers: a number when exact in a double, else the decimal string (kept exact). */
function toInt64(text: string): SqlValue | undefined {
  if (!INT_RE.test(text)) return undefined;
  const n = Number(text);
  if (Number.isSafeInteger(n)) return n;
  const big = BigInt(text);
  if (big < INT64_MIN || big > INT64_MAX) return undefined;
  return big.toString();
}

function toDouble(text: string): SqlValue | undefined {
  if (!DOUBLE_RE.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** tinyint(1) as the exporter renders it (`0`/`1`), and Python `True`/`False` (email opt-in CSV, §3). */
function toBool(text: string): SqlValue | undefined {
  switch (text) {
    case '0':
    case 'False':
    case 'false':
      return 0;
    case '1':
    case 'True':
    case 'true':
      return 1;
    default:
      return undefined;
  }
}

/** Number of Unicode code points: MariaDB counts characters, not UTF-16 units, against varchar(n). */
function codePointLength(s: string, stopAfter: number): number {
  let count = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is one character.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    if (++count > stopAfter) return count;
  }
  return count;
}

function utf8Length(s: string, stopAfter: number): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4; // a surrogate pair is one 4-byte character
      i++;
    } else bytes += 3;
    if (bytes > stopAfter) return bytes;
  }
  return bytes;
}

function varchar(length: number): Converter {
  // UTF-16 length is an upper bound of the character count: only long strings need counting.
  return (text) => (text.length <= length || codePointLength(text, length) <= length ? text : undefined);
}

function mediumText(text: string): SqlValue | undefined {
  // At most 3 UTF-8 bytes per UTF-16 unit: short strings need no counting.
  return text.length * 3 <= TEXT_MAX_BYTES || utf8Length(text, TEXT_MAX_BYTES) <= TEXT_MAX_BYTES ? text : undefined;
}

const identity: Converter = (text) => text;

function toDatetime(text: string): SqlValue | undefined {
  return normalizeSqlDatetime(text) ?? undefined;
}

function toDate(text: string): SqlValue | undefined {
  return isValidDate(text) ? text : undefined;
}

/** The converter for a column and the reason given when a value does not fit it. */
function converterFor(column: ColumnDef | undefined): { convert: Converter; expected: string } {
  if (column === undefined) return { convert: identity, expected: 'text' };
  switch (column.type) {
    case 'int':
      return { convert: toInt32, expected: 'an integer (int)' };
    case 'bigint':
      return { convert: toInt64, expected: 'an integer (bigint)' };
    case 'double':
      return { convert: toDouble, expected: 'a number (double)' };
    case 'bool':
      return { convert: toBool, expected: '0/1 or True/False (bool)' };
    case 'varchar': {
      const length = column.length ?? 255;
      return { convert: varchar(length), expected: `at most ${length} characters (varchar(${length}))` };
    }
    case 'text':
      return { convert: mediumText, expected: `at most ${TEXT_MAX_BYTES} bytes (text)` };
    case 'longtext':
      return { convert: identity, expected: 'text (longtext)' };
    case 'datetime':
      return { convert: toDatetime, expected: 'a datetime YYYY-MM-DD HH:MM:SS[.ffffff] (datetime)' };
    case 'date':
      return { convert: toDate, expected: 'a date YYYY-MM-DD (date)' };
  }
}

/**
 * Builds a row converter for `columns` (canonical names, as `mapHeader` returns them) of
 * `table`. Columns the table does not define (drift) are kept as text. `NULL` values (already
 * `null`) stay null in every type; an empty string is a value (§3) and must fit the type.
 */
export function createRowCoercer(table: TableDef, columns: string[]): (values: (string | null)[]) => CoerceResult {
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  const converters = columns.map((name) => ({ name, ...converterFor(byName.get(name)) }));
  const width = converters.length;
  return (values) => {
    if (values.length !== width) {
      return { ok: false, code: 'VALUE_INVALID', reason: `row has ${values.length} values for ${width} columns` };
    }
    const row: SqlValue[] = new Array<SqlValue>(width);
    for (let i = 0; i < width; i++) {
      const value = values[i];
      if (value === null) {
        row[i] = null;
        continue;
      }
      const c = converters[i];
      const converted = c.convert(value);
      if (converted === undefined) {
        return { ok: false, code: 'VALUE_INVALID', reason: value === '' ? `column ${c.name}: empty, expected ${c.expected}` : `column ${c.name}: expected ${c.expected}` };
      }
      row[i] = converted;
    }
    return { ok: true, row };
  };
}
