/**
 * What the two SQL stores (SQLite, MariaDB) share of their physical schema, defined once: the
 * bookkeeping tables and columns, the layout of a table (bookkeeping columns first), the indexes
 * every store adds, which table names a load may create, and the shape of a forward migration.
 * Each store's DDL module (`sqlite/sqlite-ddl.ts`, `mariadb/mariadb-ddl.ts`) renders these in
 * its own dialect.
 */
import type { ColumnDef, TableDef } from '../domain/schema-types.js';
import { SNAPSHOT_COLUMNS } from '../domain/schema-types.js';
import { SUMMARY_VIEWS, isSnapshotTable } from '../domain/tables.js';
import { LoadError } from '../errors/index.js';

/** Internal column of snapshot tables: the load attempt a row came from (`LoadOrigin.loadId`). */
export const LOAD_ID_COLUMN: ColumnDef = { name: 'load_id', type: 'varchar', length: 64, doc: 'Load attempt the row came from.' };

/** Bookkeeping table: the snapshot each course and table currently holds. */
export const SNAPSHOTS_TABLE = 'pds_snapshots';
/** Applied schema migrations. */
export const SCHEMA_VERSION_TABLE = 'pds_schema_version';

/** The physical columns of a table: snapshot bookkeeping columns first on snapshot tables. */
export function physicalColumns(def: TableDef): ColumnDef[] {
  return isSnapshotTable(def) ? [...SNAPSHOT_COLUMNS, LOAD_ID_COLUMN, ...def.columns] : def.columns;
}

/** Names of the bookkeeping columns of snapshot tables. */
const BOOKKEEPING = new Set([...SNAPSHOT_COLUMNS.map((c) => c.name), LOAD_ID_COLUMN.name]);

/** True for a bookkeeping column of a snapshot table (never NULL; compared exactly). */
export function isBookkeepingColumn(def: TableDef, column: string): boolean {
  return isSnapshotTable(def) && BOOKKEEPING.has(column);
}

/** Index column lists of a table: `course_key` on snapshot tables (the swap deletes by it), then the definition's. */
export function indexLists(def: TableDef): string[][] {
  return [...(isSnapshotTable(def) ? [['course_key']] : []), ...(def.indexes ?? [])];
}

/** A forward migration of a store's bookkeeping schema. Append only; never edit an applied one. */
export interface StoreMigration<Connection, Done = void> {
  version: number;
  name: string;
  up(conn: Connection): Done;
}

/** Table names a load may create: plain identifiers (at most 64 characters, MariaDB's limit). */
const TABLE_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Where a table name is checked, for the message. */
export interface TableNameCheck {
  /** The database, as messages name it (a file path, `host:port/database`). */
  target: string;
  /** The load's file. */
  file?: string;
  /** Prefixes the store keeps for itself (any letter case). Default `pds_`. */
  reservedPrefixes?: readonly string[];
}

/** Refuses a table name a load may not create: not an identifier, the store's own, a view's. */
export function checkTableName(name: string, check: TableNameCheck): void {
  const prefixes = check.reservedPrefixes ?? ['pds_'];
  const lower = name.toLowerCase();
  const reserved = prefixes.some((p) => lower.startsWith(p)) || SUMMARY_VIEWS.some((v) => v.name === name);
  if (!TABLE_NAME_RE.test(name) || reserved) {
    throw new LoadError(`The table name "${name}" cannot be used in ${check.target}.`, {
      code: 'TABLE_NAME_INVALID',
      file: check.file,
      hint: `Table names are letters, digits and underscores (at most 64), and may not start with ${prefixes.join(' or ')}.`,
    });
  }
}
