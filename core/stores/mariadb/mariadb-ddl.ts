/**
 * MariaDB DDL generated from the logical schema (`core/domain/tables.ts`), the same definitions
 * that drive the SQLite store (`../sqlite/sqlite-ddl.ts`).
 *
 * Choices, and why:
 * - `utf8mb4` everywhere: edX files carry 4-byte characters (docs/edx-formats.md §3 "Encoding").
 * - Table collation `utf8mb4_unicode_520_ci` (the newest Unicode collation MariaDB 10.11 has for
 *   utf8mb4) so that reports sort and compare names the way people expect. The bookkeeping keys
 *   (`course_key`, `load_id`, `event_id`, the `pds_` tables) are `utf8mb4_bin`: a snapshot
 *   replace deletes by `course_key`, and two course keys that differ only in letter case must
 *   stay two courses, exactly as in SQLite.
 * - `DATETIME(6)`: edX datetimes carry microseconds (§3 "Value rendering").
 * - InnoDB only (transactions are how a snapshot swap stays atomic), `ROW_FORMAT=DYNAMIC`
 *   (long values off-page; index prefixes up to 3072 bytes).
 */
import type { ColumnDef, TableDef } from '../../domain/schema-types.js';
import { textColumn } from '../../domain/schema-types.js';
import { SCHEMA_VERSION_TABLE, SNAPSHOTS_TABLE, indexLists, isBookkeepingColumn, physicalColumns } from '../sql-schema.js';
import { summaryViewSql, type ViewDialect } from '../summary-view-sql.js';

/**
 * Surrogate primary key of tables that have none (the weekly snapshot tables). Row-based
 * replication — async replicas and Galera alike — finds each changed row on the other side by its
 * primary key; without one, applying the DELETE of a large snapshot becomes an index or table scan
 * per row. SQLite has its rowid for the same purpose. Not listed in `physicalColumns()`: no load
 * writes it.
 */
export const ROW_ID_COLUMN = 'pds_row_id';

/** One row per committed unit of work, written in the unit's own transaction (see `mariadb-store.ts`). */
export const LOADS_TABLE = 'pds_loads';

/** Default character set and collation of every table pds creates. */
export const CHARSET = 'utf8mb4';
export const COLLATION = 'utf8mb4_unicode_520_ci';
/** Exact (binary) comparison for keys. */
export const KEY_COLLATION = 'utf8mb4_bin';

const TABLE_OPTIONS = `ENGINE=InnoDB DEFAULT CHARSET=${CHARSET} COLLATE=${COLLATION} ROW_FORMAT=DYNAMIC`;

/** InnoDB limit on the bytes of one index key with DYNAMIC rows (innodb_page_size 16K). */
const MAX_KEY_BYTES = 3072;
/** utf8mb4 stores at most 4 bytes per character. */
const BYTES_PER_CHAR = 4;
/** Prefix (characters) used to index TEXT/LONGTEXT columns, which cannot be indexed whole. */
const TEXT_PREFIX_CHARS = 255;
/** Shortest prefix the key-length fitting will cut a string column to. */
const MIN_PREFIX_CHARS = 64;
/** MariaDB identifiers are at most 64 characters. */
const MAX_IDENT = 64;

/** Quotes an identifier for MariaDB (any name, including reserved words such as `key`). */
export function quoteIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/** The MariaDB column type for a logical column type. */
export function mariaDbType(column: ColumnDef): string {
  switch (column.type) {
    case 'int':
      return 'INT';
    case 'bigint':
      return 'BIGINT';
    case 'double':
      return 'DOUBLE';
    case 'bool':
      return 'TINYINT(1)';
    case 'varchar':
      return `VARCHAR(${column.length ?? 255})`;
    case 'text':
      return 'TEXT';
    case 'longtext':
      return 'LONGTEXT';
    case 'datetime':
      return 'DATETIME(6)';
    case 'date':
      return 'DATE';
  }
}

/** Column definition clause, e.g. `` `course_key` VARCHAR(255) COLLATE utf8mb4_bin NOT NULL ``. */
export function columnSql(def: TableDef, column: ColumnDef): string {
  const key = (def.primaryKey ?? []).includes(column.name);
  const bookkeeping = isBookkeepingColumn(def, column.name);
  const exact = (key || bookkeeping) && (column.type === 'varchar' || column.type === 'text');
  const collate = exact ? ` CHARACTER SET ${CHARSET} COLLATE ${KEY_COLLATION}` : '';
  const nullability = key || bookkeeping ? ' NOT NULL' : ' NULL';
  return `${quoteIdent(column.name)} ${mariaDbType(column)}${collate}${nullability}`;
}

/** Index name for a column list: `ix_{table}__{col}_{col}`, shortened with a hash beyond 64 characters. */
export function indexName(table: string, columns: string[]): string {
  const name = `ix_${table}__${columns.join('_')}`;
  if (name.length <= MAX_IDENT) return name;
  return `${name.slice(0, MAX_IDENT - 9)}_${fnv1a(name)}`;
}

/** 32-bit FNV-1a as 8 hex digits: a stable short suffix for long index names. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** Bytes a full key part of this column takes (`Infinity` for TEXT types, which need a prefix). */
function keyBytes(column: ColumnDef | undefined): number {
  if (column === undefined) return Infinity; // an undocumented column: LONGTEXT
  switch (column.type) {
    case 'int':
      return 4;
    case 'bigint':
    case 'double':
    case 'datetime':
      return 8;
    case 'bool':
      return 1;
    case 'date':
      return 3;
    case 'varchar':
      return (column.length ?? 255) * BYTES_PER_CHAR;
    case 'text':
    case 'longtext':
      return Infinity;
  }
}

/**
 * Key parts of an index with prefix lengths where InnoDB needs them: TEXT columns always, and
 * the longest string columns when the whole key would exceed 3072 bytes (a composite index of
 * two `varchar(255)` utf8mb4 columns is 2040 bytes and fits; three would not).
 */
export function indexKeyParts(def: TableDef, columns: string[]): string[] {
  const byName = new Map(physicalColumns(def).map((c) => [c.name.toLowerCase(), c]));
  const parts = columns.map((name) => {
    const column = byName.get(name.toLowerCase());
    const full = keyBytes(column);
    const isString = column === undefined || column.type === 'varchar' || column.type === 'text' || column.type === 'longtext';
    const chars = isString ? (column?.type === 'varchar' ? (column.length ?? 255) : undefined) : undefined;
    // prefix: characters to index, or undefined for the whole column.
    let prefix: number | undefined = Number.isFinite(full) ? undefined : TEXT_PREFIX_CHARS;
    if (chars !== undefined && chars * BYTES_PER_CHAR > MAX_KEY_BYTES) prefix = MAX_KEY_BYTES / BYTES_PER_CHAR;
    return { name, isString, full, prefix };
  });
  const bytes = (p: (typeof parts)[number]): number => (p.prefix !== undefined ? p.prefix * BYTES_PER_CHAR : p.full);
  let total = parts.reduce((sum, p) => sum + bytes(p), 0);
  while (total > MAX_KEY_BYTES) {
    const longest = parts.filter((p) => p.isString && bytes(p) > MIN_PREFIX_CHARS * BYTES_PER_CHAR).sort((a, b) => bytes(b) - bytes(a))[0];
    if (longest === undefined) break; // nothing left to shorten; MariaDB will say why
    const excess = total - MAX_KEY_BYTES;
    const chars = Math.max(MIN_PREFIX_CHARS, Math.floor((bytes(longest) - excess) / BYTES_PER_CHAR));
    total -= bytes(longest) - chars * BYTES_PER_CHAR;
    longest.prefix = chars;
  }
  return parts.map((p) => (p.prefix !== undefined ? `${quoteIdent(p.name)}(${p.prefix})` : quoteIdent(p.name)));
}

/**
 * `CREATE TABLE IF NOT EXISTS` for a table definition, with its indexes inline. `extraColumns`
 * are undocumented (drifted) columns a load brings along; they are LONGTEXT.
 */
export function createTableSql(def: TableDef, extraColumns: readonly string[] = []): string {
  const known = new Set(physicalColumns(def).map((c) => c.name.toLowerCase()));
  const columns = [...physicalColumns(def), ...extraColumns.filter((c) => !known.has(c.toLowerCase())).map(textColumn)];
  const lines = columns.map((c) => `  ${columnSql(def, c)}`);
  if (def.primaryKey && def.primaryKey.length > 0) {
    lines.push(`  PRIMARY KEY (${def.primaryKey.map(quoteIdent).join(', ')})`);
  } else if (!known.has(ROW_ID_COLUMN)) {
    lines.push(`  ${quoteIdent(ROW_ID_COLUMN)} BIGINT UNSIGNED NOT NULL AUTO_INCREMENT`, `  PRIMARY KEY (${quoteIdent(ROW_ID_COLUMN)})`);
  }
  for (const cols of indexLists(def)) lines.push(`  KEY ${quoteIdent(indexName(def.name, cols))} (${indexKeyParts(def, cols).join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS ${quoteIdent(def.name)} (\n${lines.join(',\n')}\n) ${TABLE_OPTIONS}`;
}

/** `ALTER TABLE … ADD COLUMN IF NOT EXISTS …` for columns a table lacks (one statement, one metadata change). */
export function addColumnsSql(def: TableDef, columns: ColumnDef[]): string {
  return `ALTER TABLE ${quoteIdent(def.name)} ${columns.map((c) => `ADD COLUMN IF NOT EXISTS ${columnSql(def, c)}`).join(', ')}`;
}

/** `CREATE INDEX IF NOT EXISTS` for one index of a table. */
export function createIndexSql(def: TableDef, columns: string[]): string {
  return `CREATE INDEX IF NOT EXISTS ${quoteIdent(indexName(def.name, columns))} ON ${quoteIdent(def.name)} (${indexKeyParts(def, columns).join(', ')})`;
}

// ---------------------------------------------------------------------------------------------
// Bookkeeping tables (migration 1).

/** The bookkeeping tables of schema version 1. */
export const BOOKKEEPING_TABLES_SQL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS ${SNAPSHOTS_TABLE} (
  table_name VARCHAR(64) CHARACTER SET ${CHARSET} COLLATE ${KEY_COLLATION} NOT NULL,
  course_key VARCHAR(255) CHARACTER SET ${CHARSET} COLLATE ${KEY_COLLATION} NOT NULL,
  snapshot_date DATE NOT NULL,
  row_count BIGINT NOT NULL,
  file_key VARCHAR(1024) NOT NULL,
  load_id VARCHAR(64) CHARACTER SET ${CHARSET} COLLATE ${KEY_COLLATION} NOT NULL,
  loaded_at DATETIME(6) NOT NULL,
  PRIMARY KEY (table_name, course_key)
) ${TABLE_OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS ${LOADS_TABLE} (
  unit_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  kind VARCHAR(16) NOT NULL,
  load_id VARCHAR(64) CHARACTER SET ${CHARSET} COLLATE ${KEY_COLLATION} NOT NULL,
  file_key VARCHAR(1024) NOT NULL,
  table_name VARCHAR(64) NULL,
  course_key VARCHAR(255) CHARACTER SET ${CHARSET} COLLATE ${KEY_COLLATION} NULL,
  row_count BIGINT NOT NULL,
  committed_at DATETIME(6) NOT NULL,
  PRIMARY KEY (unit_id),
  KEY ix_pds_loads__load_id (load_id)
) ${TABLE_OPTIONS}`,
];

/** The schema-version table itself (created before any migration runs). */
export const SCHEMA_VERSION_TABLE_SQL = `CREATE TABLE IF NOT EXISTS ${SCHEMA_VERSION_TABLE} (
  version INT NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  applied_at DATETIME(6) NOT NULL
) ${TABLE_OPTIONS}`;

// ---------------------------------------------------------------------------------------------
// Summary views (`SUMMARY_VIEWS` in tables.ts), from the one definition in `../summary-view-sql.ts`.

/** How MariaDB spells what the view definitions need. */
const VIEW_DIALECT: ViewDialect = {
  ident: quoteIdent,
  literal: (value) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`,
  // SUM of an INT column is a DECIMAL in MariaDB; the contract wants integers.
  sumAsInteger: (expression) => `CAST(SUM(${expression}) AS SIGNED)`,
  // Like SQLite's json_extract: JSON text for objects and arrays, the value for scalars.
  jsonMember: (column, member) =>
    `CASE WHEN JSON_VALID(${quoteIdent(column)}) THEN COALESCE(JSON_QUERY(${quoteIdent(column)}, '$.${member}'), JSON_VALUE(${quoteIdent(column)}, '$.${member}')) END`,
  weekStart: (column) => `DATE_SUB(${quoteIdent(column)}, INTERVAL WEEKDAY(${quoteIdent(column)}) DAY)`,
};

/**
 * `CREATE VIEW IF NOT EXISTS` for a summary view. SQL SECURITY INVOKER: a reader needs SELECT on
 * the underlying tables, not on the account that created the view (which may lose its grants).
 */
export function createViewSql(name: string): string {
  return `CREATE SQL SECURITY INVOKER VIEW IF NOT EXISTS ${quoteIdent(name)} AS\n${summaryViewSql(name, VIEW_DIALECT)}`;
}
