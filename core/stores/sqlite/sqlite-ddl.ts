/**
 * SQLite DDL generated from the logical schema (`core/domain/tables.ts`). Tables are STRICT, so
 * a value of the wrong type is refused by SQLite itself instead of being stored silently.
 *
 * Type mapping: int/bigint/bool → INTEGER (64-bit; a bigint beyond 2^53 arrives as a decimal
 * string and SQLite stores it as an exact integer), double → REAL, everything else → TEXT
 * (datetimes as `YYYY-MM-DD HH:MM:SS[.ffffff]`, which sorts as text).
 */
import type { ColumnDef, TableDef } from '../../domain/schema-types.js';
import { indexLists, isBookkeepingColumn, physicalColumns } from '../sql-schema.js';
import { summaryViewSql, type ViewDialect } from '../summary-view-sql.js';

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
  const lines = physicalColumns(def).map((c) => {
    // NOT NULL on key columns: SQLite otherwise allows NULL in a non-integer primary key.
    const notNull = key.has(c.name) || isBookkeepingColumn(def, c.name) ? ' NOT NULL' : '';
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
  const lists = indexLists(def);
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

/** How SQLite spells what the summary view definitions (`../summary-view-sql.ts`) need. */
const VIEW_DIALECT: ViewDialect = {
  ident: quoteIdent,
  literal: (value) => `'${value.replace(/'/g, "''")}'`,
  sumAsInteger: (expression) => `SUM(${expression})`,
  // json_extract raises on invalid JSON: the few lines read after a repair give NULLs.
  jsonMember: (column, member) => `CASE WHEN json_valid(${quoteIdent(column)}) THEN json_extract(${quoteIdent(column)}, '$.${member}') END`,
  // Back six days, then forward to the next Monday (dates are `YYYY-MM-DD` text).
  weekStart: (column) => `date(${quoteIdent(column)}, '-6 days', 'weekday 1')`,
};

/** The names of the tables and views of a database file (`RelationalStore.tableNames`). */
export const TABLE_NAMES_SQL = `SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name`;

/** `CREATE VIEW` for a summary view. */
export function createViewSql(name: string): string {
  return `CREATE VIEW ${quoteIdent(name)} AS\n${summaryViewSql(name, VIEW_DIALECT)}`;
}
