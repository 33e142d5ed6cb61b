/**
 * The SQLite store's schema: the forward migrations of the bookkeeping tables, and the
 * reconciliation on every `init()` that creates the TableDef tables, columns, indexes and views a
 * file lacks. Both run in one `BEGIN IMMEDIATE` transaction, so a file is never left half
 * migrated; a file that is already up to date is only read (another connection may be loading).
 */
import type Database from 'better-sqlite3';
import { DERIVED_TABLES, EVENT_TABLES, SUMMARY_VIEWS, WEEKLY_TABLES } from '../../domain/tables.js';
import { LoadError } from '../../errors/index.js';
import { SCHEMA_VERSION_TABLE, SNAPSHOTS_TABLE, physicalColumns, type StoreMigration } from '../sql-schema.js';
import { addColumnSql, createIndexesSql, createTableSql, createViewSql, isDayKeyed, quoteIdent } from './sqlite-ddl.js';

type Db = Database.Database;

/**
 * Tables made from the TableDefs are reconciled on every `init()` (created when absent, new
 * columns added), so migrations are needed only for changes that adding cannot express.
 */
const MIGRATIONS: readonly StoreMigration<Db>[] = [
  {
    version: 1,
    name: 'snapshot bookkeeping',
    up(db) {
      db.exec(`CREATE TABLE ${SNAPSHOTS_TABLE} (
  table_name TEXT NOT NULL,
  course_key TEXT NOT NULL,
  snapshot_date TEXT NOT NULL,
  row_count INTEGER NOT NULL,
  file_key TEXT NOT NULL,
  load_id TEXT NOT NULL,
  loaded_at TEXT NOT NULL,
  PRIMARY KEY (table_name, course_key)
) STRICT`);
    },
  },
  {
    version: 2,
    name: 'event tables unique by (event day, event_id)',
    up(db) {
      // Tables made with a primary key on event_id are rebuilt without it; the reconciliation that
      // follows in the same transaction creates their indexes (the unique one too) and the views.
      const tables = db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'table'`).all() as { name: string; sql: string }[];
      const rebuild = EVENT_TABLES.filter((def) => isDayKeyed(def) && tables.some((t) => t.name === def.name && /PRIMARY KEY/i.test(t.sql)));
      if (rebuild.length === 0) return;
      // A view over a table being renamed would stop the rename; they are created again below.
      for (const view of SUMMARY_VIEWS) db.exec(`DROP VIEW IF EXISTS ${quoteIdent(view.name)}`);
      for (const def of rebuild) {
        const staging = `${def.name}__rebuild`;
        const have = readColumns(db, def.name);
        const columns = physicalColumns(def)
          .map((c) => c.name)
          .filter((c) => have.has(c.toLowerCase()))
          .map(quoteIdent)
          .join(', ');
        db.exec(createTableSql({ ...def, name: staging }));
        db.exec(`INSERT INTO ${quoteIdent(staging)} (${columns}) SELECT ${columns} FROM ${quoteIdent(def.name)} ORDER BY rowid`);
        db.exec(`DROP TABLE ${quoteIdent(def.name)}`);
        db.exec(`ALTER TABLE ${quoteIdent(staging)} RENAME TO ${quoteIdent(def.name)}`);
      }
    },
  },
];

/** The newest schema version this code knows. */
export const SQLITE_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Lower-cased names of a table's columns (empty when the table does not exist). */
export function readColumns(db: Db, table: string): Set<string> {
  const rows = db.pragma(`table_info(${quoteIdent(table)})`) as { name: string }[];
  return new Set(rows.map((r) => r.name.toLowerCase()));
}

/** The schema version recorded in the file (0: not initialised). Reads only. */
export function schemaVersion(db: Db): number {
  const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(SCHEMA_VERSION_TABLE);
  if (!exists) return 0;
  const row = db.prepare(`SELECT MAX(version) AS v FROM ${SCHEMA_VERSION_TABLE}`).get() as { v: number | null };
  return row.v ?? 0;
}

/** DDL that brings the defined tables, indexes and views up to date (empty when they are). Reads only. */
export function schemaWork(db: Db): string[] {
  const master = db.prepare(`SELECT type, name, sql FROM sqlite_master`).all() as { type: string; name: string; sql: string | null }[];
  const byName = new Map(master.map((m) => [m.name, m]));
  const work: string[] = [];
  for (const def of [...WEEKLY_TABLES, ...EVENT_TABLES, ...DERIVED_TABLES]) {
    if (!byName.has(def.name)) {
      work.push(createTableSql(def), ...createIndexesSql(def));
      continue;
    }
    const have = readColumns(db, def.name);
    for (const c of physicalColumns(def)) if (!have.has(c.name.toLowerCase())) work.push(addColumnSql(def.name, c));
    for (const sql of createIndexesSql(def)) {
      const name = /INDEX IF NOT EXISTS "([^"]+)"/.exec(sql)?.[1];
      if (name !== undefined && !byName.has(name)) work.push(sql);
    }
  }
  for (const view of SUMMARY_VIEWS) {
    const wanted = createViewSql(view.name);
    const current = byName.get(view.name);
    if (current?.sql === wanted) continue;
    if (current !== undefined) work.push(`DROP VIEW IF EXISTS ${quoteIdent(view.name)}`);
    work.push(wanted);
  }
  return work;
}

/**
 * Applies the migrations the file lacks and reconciles tables, indexes and views with the
 * TableDefs, in one transaction. Refuses a file written by a newer pds (`SCHEMA_TOO_NEW`).
 */
export function applySchema(db: Db, path: string): void {
  const version = schemaVersion(db);
  if (version > SQLITE_SCHEMA_VERSION) {
    throw new LoadError(`${path} was written by a newer version of pds (schema ${version}; this version knows ${SQLITE_SCHEMA_VERSION}).`, {
      code: 'SCHEMA_TOO_NEW',
      file: path,
      hint: 'Upgrade pds, or point this environment at another database file.',
    });
  }
  // Read-only check first: a second connection can init while another one is loading.
  if (version === SQLITE_SCHEMA_VERSION && schemaWork(db).length === 0) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    const current = schemaVersion(db);
    if (current === 0) {
      db.exec(`CREATE TABLE IF NOT EXISTS ${SCHEMA_VERSION_TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT`);
    }
    const record = db.prepare(`INSERT INTO ${SCHEMA_VERSION_TABLE} (version, name, applied_at) VALUES (?, ?, ?)`);
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      m.up(db);
      record.run(m.version, m.name, new Date().toISOString());
    }
    for (const sql of schemaWork(db)) db.exec(sql);
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
