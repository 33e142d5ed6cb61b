/**
 * Writing edX ".sql" TSV exactly as the exporter did (docs/edx-formats.md §3): TAB between fields,
 * LF after each record, no quoting, the literal `NULL` for SQL NULL, and inside a field
 * `\` → `\\`, CR → `\r`, TAB → `\t`, LF → `\n` (in that order), NUL bytes deleted.
 */

/** A cell before rendering: `null` is SQL NULL, numbers render like Python `str()`. */
export type TsvCell = string | number | null;

/** Renders one field (§3 "Escaping" and "Value rendering"). */
export function tsvField(value: TsvCell): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return pythonNumber(value);
  // The exporter replaced the backslash first so the escapes it adds are not doubled again.
  return value
    .replace(/\\/g, '\\\\')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/\n/g, '\\n')
    .replace(/\0/g, '');
}

/** One record with its LF terminator. */
export function tsvLine(values: readonly TsvCell[]): string {
  return values.map(tsvField).join('\t') + '\n';
}

/** A whole file: header line, then one line per row (an empty table is the header alone, §3). */
export function tsvFile(header: readonly string[], rows: readonly (readonly TsvCell[])[]): string {
  let out = header.join('\t') + '\n';
  for (const row of rows) {
    if (row.length !== header.length) {
      throw new RangeError(`demo TSV row has ${row.length} cells for ${header.length} columns (${header[0]}…)`);
    }
    out += tsvLine(row);
  }
  return out;
}

/** Python `repr` of a number, close enough for the values the demo writes (`0.84`, `1.0`, `12`). */
export function pythonNumber(value: number): string {
  return String(value);
}

/** Python repr of a float that must keep its `.0` (`1.0`, not `1`), as MySQL doubles print. */
export function pythonFloat(value: number): string {
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC. The fraction is `micros` when given (0–999999), else the
 * milliseconds of `epochMs`; it is written only when non-zero, like Python's `str(datetime)` (§3).
 */
export function sqlDateTime(epochMs: number, micros?: number): string {
  const d = new Date(Math.floor(epochMs));
  const base =
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  const fraction = micros ?? d.getUTCMilliseconds() * 1000;
  return fraction === 0 ? base : `${base}.${pad(fraction, 6)}`;
}

/** `YYYY-MM-DD` (UTC) from epoch milliseconds. */
export function sqlDate(epochMs: number): string {
  return sqlDateTime(epochMs).slice(0, 10);
}
