/**
 * The two bulk paths of the MariaDB store, as SQL text and payloads:
 *
 * - `LOAD DATA LOCAL INFILE` fed from memory: rows arrive typed (numbers, strings, null), so we
 *   write them in MariaDB's own LOAD DATA text format — TAB between fields, LF after each row,
 *   backslash escapes, `\N` for NULL — and no `NULLIF(@v, 'NULL')` mapping is needed (that trick
 *   is for edX's literal `NULL`, docs/edx-formats.md §3, which the TSV reader already turned into null).
 * - `INSERT … VALUES (?, …)` through the connector's `batch()` (binary bulk protocol), used when
 *   the server or the configuration does not allow LOAD DATA LOCAL.
 *
 * The bookkeeping values of a snapshot (course key, date, load id) are the same on every row, so
 * they are sent once, as literals in the statement, instead of once per row.
 */
import type { SqlValue } from '../../domain/records.js';
import { quoteIdent } from './mariadb-ddl.js';

/** How rows reach the server. */
export const MARIADB_BULK_METHODS = ['load-data', 'batch'] as const;
export type MariaDbBulkMethod = (typeof MARIADB_BULK_METHODS)[number];

/**
 * The default bulk method, chosen by measurement (README.md "Bulk load: measurements"): with
 * typed values the binary bulk protocol of `batch()` spares the server the text parsing LOAD
 * DATA does, and the server is the bottleneck on the load path.
 */
export const DEFAULT_BULK_METHOD: MariaDbBulkMethod = 'batch';

/** The name the LOAD DATA statement asks the client for; the connector hands it to our stream factory. */
export const INFILE_NAME = 'pds-rows.tsv';

const NEEDS_ESCAPE = /[\\\t\n\r\0]/;
const ESCAPES = /[\\\t\n\r\0]/g;

function escapeChar(c: string): string {
  switch (c) {
    case '\\':
      return '\\\\';
    case '\t':
      return '\\t';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    default:
      return '\\0';
  }
}

/** Thrown for a value that is neither a string, a finite number nor null (a loader bug). */
export class UnencodableValueError extends Error {
  constructor(readonly column: number) {
    super(`value in column position ${column + 1} is not a string, a finite number or null`);
  }
}

/**
 * Encodes rows in the LOAD DATA format of `loadDataSql()` (`FIELDS TERMINATED BY '\t' ESCAPED BY
 * '\\' LINES TERMINATED BY '\n'`). A string that reads `\N` is escaped to `\\N`, so it stays a
 * string and never turns into NULL.
 */
export function encodeLoadDataRows(rows: readonly SqlValue[][]): string {
  let out = '';
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) {
      if (i > 0) out += '\t';
      const v = row[i];
      if (v === null) out += '\\N';
      else if (typeof v === 'string') out += NEEDS_ESCAPE.test(v) ? v.replace(ESCAPES, escapeChar) : v;
      else if (typeof v === 'number' && Number.isFinite(v)) out += String(v);
      else throw new UnencodableValueError(i);
    }
    out += '\n';
  }
  return out;
}

/** A column set to the same literal on every row (`SET col = 'value'`), already escaped by the connector. */
export interface ConstantColumn {
  column: string;
  /** SQL literal, e.g. `'MITx-6.00x-2013_Spring'` (from `connection.escape()`). */
  literal: string;
}

/** The LOAD DATA LOCAL statement for `columns` (in row order) plus constant columns. */
export function loadDataSql(table: string, columns: readonly string[], constants: readonly ConstantColumn[]): string {
  const set = constants.length > 0 ? ` SET ${constants.map((c) => `${quoteIdent(c.column)} = ${c.literal}`).join(', ')}` : '';
  return (
    `LOAD DATA LOCAL INFILE '${INFILE_NAME}' INTO TABLE ${quoteIdent(table)} CHARACTER SET utf8mb4 ` +
    `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ` +
    `(${columns.map(quoteIdent).join(', ')})${set}`
  );
}

/** The INSERT used with `batch()`: one `?` per row value, constants inline. */
export function insertSql(table: string, columns: readonly string[], constants: readonly ConstantColumn[], ignore = false): string {
  const names = [...constants.map((c) => c.column), ...columns].map(quoteIdent).join(', ');
  const values = [...constants.map((c) => c.literal), ...columns.map(() => '?')].join(', ');
  return `INSERT${ignore ? ' IGNORE' : ''} INTO ${quoteIdent(table)} (${names}) VALUES (${values})`;
}

/** Approximate bytes a row takes on the wire (strings counted as UTF-16 units: an estimate, for chunking only). */
export function approximateRowBytes(row: readonly SqlValue[]): number {
  let bytes = row.length;
  for (const v of row) bytes += typeof v === 'string' ? v.length : 8;
  return bytes;
}
