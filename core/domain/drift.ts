/**
 * Header drift: maps a file's header onto a table definition. edX dumps many tables with
 * `SELECT *`, so columns appear and vanish as the platform changes, and a few headers were renamed
 * (docs/edx-formats.md §3 "map columns by header name, never by position", §7.12). Pure: no Node API.
 */
import type { TableDef } from './schema-types.js';
import { SNAPSHOT_COLUMNS } from './schema-types.js';

/** How a header maps onto a table. */
export interface HeaderMapping {
  /**
   * One canonical column name per header position (aliases applied, case matched to the
   * definition). Unknown names are kept, made safe as column names; a repeated name gets a
   * `__dupN` suffix so that every position still has a distinct column.
   */
  columns: string[];
  /** Names (as in `columns`) that the definition does not document: loaded as text. */
  unknown: string[];
  /** Documented columns absent from the header (other than columns of other export eras): NULL. */
  missing: string[];
  /** Header names read under another name (alias, letter case, reserved or over-long name). */
  renamed: { from: string; to: string }[];
  /** Names that occur more than once in the header (after aliasing). */
  duplicates: string[];
}

/**
 * Column names the stores add to snapshot tables (`course_key`, `snapshot_date`, `load_id`):
 * a data column of the same name would collide, so it is read as `src_{name}`.
 */
export const RESERVED_COLUMNS: readonly string[] = [...SNAPSHOT_COLUMNS.map((c) => c.name), 'load_id', 'pds_row_id'];

/** MariaDB limits identifiers to 64 characters. */
const MAX_NAME = 64;

/** Maps `header` onto `table`. The returned `columns` align with `header` by position. */
export function mapHeader(table: TableDef, header: string[]): HeaderMapping {
  const documented = new Map(table.columns.map((c) => [c.name.toLowerCase(), c.name]));
  const aliases = new Map(Object.entries(table.aliases ?? {}).map(([from, to]) => [from.toLowerCase(), to]));
  const reserved = new Set(RESERVED_COLUMNS);

  const columns: string[] = [];
  const unknown: string[] = [];
  const renamed: { from: string; to: string }[] = [];
  const duplicates: string[] = [];
  // Column names compare case-insensitively in both SQLite and MariaDB.
  const seen = new Map<string, number>();

  header.forEach((raw, position) => {
    const lower = raw.toLowerCase();
    let name: string;
    let known = true;
    const direct = documented.get(lower);
    const alias = aliases.get(lower);
    if (direct !== undefined) {
      name = direct;
    } else if (alias !== undefined && documented.has(alias.toLowerCase())) {
      name = documented.get(alias.toLowerCase())!;
    } else {
      known = false;
      name = safeUnknownName(raw, position, reserved);
    }
    if (name !== raw) renamed.push({ from: raw, to: name });

    const key = name.toLowerCase();
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    if (count > 1) {
      if (count === 2) duplicates.push(name);
      name = uniqueName(`${name.slice(0, MAX_NAME - 8)}__dup${count}`, seen);
      known = false;
    }
    columns.push(name);
    if (!known) unknown.push(name);
  });

  const present = new Set(columns.map((c) => c.toLowerCase()));
  // Columns of other export eras (`optional`) are expected to be absent from some files.
  const missing = table.columns.filter((c) => !c.optional && !present.has(c.name.toLowerCase())).map((c) => c.name);
  return { columns, unknown, missing, renamed, duplicates };
}

/** An undocumented header name as a usable column name: not reserved, not empty, not too long. */
function safeUnknownName(raw: string, position: number, reserved: Set<string>): string {
  let name = raw.trim();
  if (name === '') name = `column_${position + 1}`;
  if (reserved.has(name.toLowerCase())) name = `src_${name}`;
  if (name.length > MAX_NAME) name = name.slice(0, MAX_NAME);
  return name;
}

function uniqueName(base: string, seen: Map<string, number>): string {
  let name = base;
  for (let n = 2; seen.has(name.toLowerCase()); n++) name = `${base}_${n}`;
  seen.set(name.toLowerCase(), 1);
  return name;
}
