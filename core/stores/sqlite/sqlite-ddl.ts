/**
 * SQLite DDL generated from the logical schema (`core/domain/tables.ts`). Tables are STRICT, so
 * a value of the wrong type is refused by SQLite itself instead of being stored silently.
 *
 * Type mapping: int/bigint/bool → INTEGER (64-bit; a bigint beyond 2^53 arrives as a decimal
 * string and SQLite stores it as an exact integer), double → REAL, everything else → TEXT
 * (datetimes as `YYYY-MM-DD HH:MM:SS[.ffffff]`, which sorts as text).
 */
import { DAILY_ACTIVITY_COUNTS, ENROLLMENT_MODE_COLUMNS, isSnapshotTable } from '../../domain/tables.js';
import type { ColumnDef, TableDef } from '../../domain/schema-types.js';
import { SNAPSHOT_COLUMNS } from '../../domain/schema-types.js';

/** Internal column of snapshot tables: the load attempt a row came from (`LoadOrigin.loadId`). */
export const LOAD_ID_COLUMN: ColumnDef = { name: 'load_id', type: 'varchar', length: 64, doc: 'Load attempt the row came from.' };

/** Bookkeeping table: the snapshot each course and table currently holds. */
export const SNAPSHOTS_TABLE = 'pds_snapshots';
/** Applied schema migrations. */
export const SCHEMA_VERSION_TABLE = 'pds_schema_version';

/** Quotes an identifier for SQLite (any name, including reserved words such as `key`). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The STRICT column type for a logical column type. */
export function sqliteType(column: ColumnDef): 'INTEGER' | 'REAL' | 'TEXT' {
  switch (column.type) {
    case 'int':
    case 'bigint':
    case 'bool':
      return 'INTEGER';
    case 'double':
      return 'REAL';
    default:
      return 'TEXT';
  }
}

/** The physical columns of a table: snapshot bookkeeping columns first on snapshot tables. */
export function physicalColumns(def: TableDef): ColumnDef[] {
  return isSnapshotTable(def) ? [...SNAPSHOT_COLUMNS, LOAD_ID_COLUMN, ...def.columns] : def.columns;
}

/**
 * Event tables (keyed by `event_id`, with a `time`) keep their key unique with a unique index on
 * (event day, `event_id`) instead of a primary key on `event_id` alone. Same uniqueness: the id
 * is the sha256 of the raw line and the day is read from that line, so one line always has one
 * day. But a load touches only its day's part of the index: with the key alone, every insert
 * lands at a random place of an index as large as all the history, and loading slows down as the
 * table grows (measured: twice as slow once 3M events are stored; flat with the day first).
 */
export function isDayKeyed(def: TableDef): boolean {
  return def.primaryKey?.length === 1 && def.primaryKey[0] === 'event_id' && def.columns.some((c) => c.name === 'time');
}

/** The event day of a row of a day-keyed table: the UTC date of `time`, '' when it has none. */
export const EVENT_DAY_SQL = `ifnull(substr("time", 1, 10), '')`;

/** `CREATE TABLE IF NOT EXISTS` for a table definition. */
export function createTableSql(def: TableDef): string {
  const key = new Set(def.primaryKey ?? []);
  const bookkeeping = new Set([...SNAPSHOT_COLUMNS.map((c) => c.name), LOAD_ID_COLUMN.name]);
  const lines = physicalColumns(def).map((c) => {
    // NOT NULL on key columns: SQLite otherwise allows NULL in a non-integer primary key.
    const notNull = key.has(c.name) || (isSnapshotTable(def) && bookkeeping.has(c.name)) ? ' NOT NULL' : '';
    return `  ${quoteIdent(c.name)} ${sqliteType(c)}${notNull}`;
  });
  if (key.size > 0 && !isDayKeyed(def)) lines.push(`  PRIMARY KEY (${[...key].map(quoteIdent).join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS ${quoteIdent(def.name)} (\n${lines.join(',\n')}\n) STRICT`;
}

/** Index name for a column list: `ix_{table}__{col}_{col}`. */
export function indexName(table: string, columns: string[]): string {
  return `ix_${table}__${columns.join('_')}`;
}

/**
 * `CREATE INDEX IF NOT EXISTS` statements: the definition's indexes, plus `course_key` on
 * snapshot tables (the snapshot swap deletes by it) and the unique (event day, `event_id`) index
 * of day-keyed event tables.
 */
export function createIndexesSql(def: TableDef): string[] {
  const lists = [...(isSnapshotTable(def) ? [['course_key']] : []), ...(def.indexes ?? [])];
  const unique = isDayKeyed(def)
    ? [`CREATE UNIQUE INDEX IF NOT EXISTS ${quoteIdent(indexName(def.name, ['event_day', 'event_id']))} ON ${quoteIdent(def.name)} (${EVENT_DAY_SQL}, "event_id")`]
    : [];
  return [
    ...unique,
    ...lists.map((cols) => `CREATE INDEX IF NOT EXISTS ${quoteIdent(indexName(def.name, cols))} ON ${quoteIdent(def.name)} (${cols.map(quoteIdent).join(', ')})`),
  ];
}

/** `ALTER TABLE … ADD COLUMN` for a column the table lacks. */
export function addColumnSql(table: string, column: ColumnDef): string {
  return `ALTER TABLE ${quoteIdent(table)} ADD COLUMN ${quoteIdent(column.name)} ${sqliteType(column)}`;
}

const MODE_COLUMNS = ENROLLMENT_MODE_COLUMNS;

function sqlList(values: readonly string[]): string {
  return values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ');
}

/** The SQL body of each summary view (`SUMMARY_VIEWS` in tables.ts), by name. */
export const SUMMARY_VIEW_SQL: Readonly<Record<string, string>> = {
  course_enrollment_summary: [
    'SELECT course_id,',
    '  COUNT(*) AS enrolled,',
    '  COALESCE(SUM(is_active = 1), 0) AS active,',
    ...MODE_COLUMNS.map(([column, modes]) => `  COALESCE(SUM(is_active = 1 AND mode IN (${sqlList(modes)})), 0) AS ${quoteIdent(column)},`),
    `  COALESCE(SUM(is_active = 1 AND (mode IS NULL OR mode NOT IN (${sqlList(MODE_COLUMNS.flatMap(([, m]) => m))}))), 0) AS other_modes`,
    'FROM student_courseenrollment',
    'GROUP BY course_id',
  ].join('\n'),
  daily_course_activity: [
    'SELECT course_id, date,',
    ...DAILY_ACTIVITY_COUNTS.map((c, i, all) => `  SUM(${c}) AS ${c}${i < all.length - 1 ? ',' : ''}`),
    'FROM course_daily_activity',
    'GROUP BY course_id, date',
  ].join('\n'),
  // json_extract raises on invalid JSON: the few lines read after a repair (§7.2–7.3) give NULLs.
  events_detail: [
    'SELECT event_id, time, canonical_type, user_id, course_id,',
    ...['ip', 'page', 'agent', 'referer', 'event', 'context'].map(
      (f, i, all) => `  CASE WHEN json_valid(raw) THEN json_extract(raw, '$.${f}') END AS ${f}${i < all.length - 1 ? ',' : ''}`,
    ),
    'FROM events',
  ].join('\n'),
};

/** `CREATE VIEW` for a summary view. */
export function createViewSql(name: string): string {
  const body = SUMMARY_VIEW_SQL[name];
  if (body === undefined) throw new Error(`No SQLite definition for summary view ${name}`);
  return `CREATE VIEW ${quoteIdent(name)} AS\n${body}`;
}
