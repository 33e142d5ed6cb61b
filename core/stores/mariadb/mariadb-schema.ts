/**
 * The MariaDB store's schema work: creating the database, the forward migrations of the
 * bookkeeping tables, reconciling the TableDef tables, indexes and views on `init()`, and
 * preparing a table a load is about to write (drifted columns, unknown tables).
 *
 * DDL commits implicitly in MariaDB, so everything here runs on a connection that holds no unit's
 * transaction. A refused privilege becomes a LoadError naming the exact GRANT.
 */
import type { Connection } from 'mariadb';
import type { ColumnDef, TableDef } from '../../domain/schema-types.js';
import { DERIVED_TABLES, EVENT_TABLES, SUMMARY_VIEWS, WEEKLY_TABLES } from '../../domain/tables.js';
import { textColumn } from '../../domain/schema-types.js';
import { LoadError } from '../../errors/index.js';
import { SCHEMA_VERSION_TABLE, indexLists, physicalColumns, type StoreMigration } from '../sql-schema.js';
import {
  BOOKKEEPING_TABLES_SQL,
  CHARSET,
  COLLATION,
  SCHEMA_VERSION_TABLE_SQL,
  addColumnsSql,
  createIndexSql,
  createTableSql,
  createViewSql,
  indexName,
  quoteIdent,
} from './mariadb-ddl.js';
import { REQUIRED_PRIVILEGES, classifyMariaDbError, grantStatement, toMariaDbLoadError, type MariaDbErrorContext } from './mariadb-errors.js';

/**
 * Tables made from the TableDefs are reconciled on every `init()` (created when absent, new
 * columns and indexes added), so migrations are needed only for what adding cannot express.
 */
const MIGRATIONS: readonly StoreMigration<Connection, Promise<void>>[] = [
  {
    version: 1,
    name: 'snapshot and load bookkeeping',
    async up(conn) {
      for (const sql of BOOKKEEPING_TABLES_SQL) await conn.query(sql);
    },
  },
];

/** The newest schema version this code knows. */
export const MARIADB_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** What schema work needs to know of the store: where it writes, for messages. */
export interface MariaDbSchemaTarget {
  /** `host:port/database`, for messages. */
  describeTarget(): string;
  /** Context for error messages (server, database, account). */
  errorContext(file?: string): MariaDbErrorContext;
}

/** Lower-cased names of a table's columns (empty when the table does not exist). */
export async function readColumns(conn: Connection, table: string): Promise<Set<string>> {
  const rows = (await conn.query('SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [table])) as { c: string }[];
  return new Set(rows.map((r) => r.c.toLowerCase()));
}

/** Runs one schema step, turning a permission refusal into a LoadError naming the grant. */
async function ddlStep(target: MariaDbSchemaTarget, what: string, privileges: readonly string[], fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (classifyMariaDbError(error) === 'permission') throw toMariaDbLoadError(error, { what, privileges }, target.errorContext());
    throw error;
  }
}

async function ddl(target: MariaDbSchemaTarget, conn: Connection, sql: string, what: string, privileges: readonly string[]): Promise<void> {
  await ddlStep(target, what, privileges, () => conn.query(sql));
}

/** The `CREATE DATABASE` the DBA runs, and the grant that goes with it, as one hint. */
function createDatabaseHint(database: string, ctx: MariaDbErrorContext): string {
  return `The DBA must run: CREATE DATABASE ${quoteIdent(database)} CHARACTER SET ${CHARSET} COLLATE ${COLLATION}; ${grantStatement(ctx, REQUIRED_PRIVILEGES)}`;
}

/**
 * Creates the database when it is absent and `create` allows it (on a connection made without a
 * database); otherwise says what the DBA must run.
 */
export async function ensureDatabase(conn: Connection, database: string, create: boolean, account: string, target: MariaDbSchemaTarget): Promise<void> {
  const exists = (await conn.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database])) as unknown[];
  if (exists.length > 0) return;
  const ctx = target.errorContext();
  if (!create) {
    throw new LoadError(`The database ${database} does not exist on ${ctx.server}.`, { code: 'DB_MISSING', hint: createDatabaseHint(database, ctx) });
  }
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS ${quoteIdent(database)} CHARACTER SET ${CHARSET} COLLATE ${COLLATION}`);
  } catch (error) {
    if (classifyMariaDbError(error) === 'permission') {
      throw new LoadError(`The database ${database} does not exist on ${ctx.server} and ${account} may not create it.`, {
        code: 'DB_PERMISSION_DENIED',
        dbCode: (error as { code?: string }).code,
        hint: createDatabaseHint(database, ctx),
      });
    }
    throw error;
  }
}

/**
 * Migrations, then the TableDef tables, indexes and views: only the DDL that is missing runs.
 * Returns the lower-cased columns of every TableDef table, by table name.
 */
export async function reconcileSchema(conn: Connection, target: MariaDbSchemaTarget): Promise<Map<string, Set<string>>> {
  const columnRows = (await conn.query('SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()')) as {
    t: string;
    c: string;
  }[];
  const tables = new Map<string, Set<string>>();
  for (const r of columnRows) {
    let set = tables.get(r.t);
    if (!set) tables.set(r.t, (set = new Set()));
    set.add(r.c.toLowerCase());
  }
  const indexRows = (await conn.query('SELECT DISTINCT TABLE_NAME AS t, INDEX_NAME AS i FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()')) as {
    t: string;
    i: string;
  }[];
  const indexes = new Set(indexRows.map((r) => `${r.t}\u0000${r.i.toLowerCase()}`));
  const viewRows = (await conn.query('SELECT TABLE_NAME AS t FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()')) as { t: string }[];
  const views = new Set(viewRows.map((r) => r.t));

  let version = 0;
  if (tables.has(SCHEMA_VERSION_TABLE)) {
    const rows = (await conn.query(`SELECT MAX(version) AS v FROM ${SCHEMA_VERSION_TABLE}`)) as { v: number | null }[];
    version = Number(rows[0]?.v ?? 0);
  }
  if (version > MARIADB_SCHEMA_VERSION) {
    throw new LoadError(`${target.describeTarget()} was written by a newer version of pds (schema ${version}; this version knows ${MARIADB_SCHEMA_VERSION}).`, {
      code: 'SCHEMA_TOO_NEW',
      hint: 'Upgrade pds, or point this environment at another database.',
    });
  }
  if (!tables.has(SCHEMA_VERSION_TABLE)) await ddl(target, conn, SCHEMA_VERSION_TABLE_SQL, 'create the schema version table', ['CREATE']);
  for (const m of MIGRATIONS) {
    if (m.version <= version) continue;
    await ddlStep(target, `apply schema migration ${m.version} (${m.name})`, ['CREATE', 'ALTER', 'INDEX'], () => m.up(conn));
    // INSERT IGNORE: another process may have applied the same migration meanwhile (all DDL is IF NOT EXISTS).
    await conn.query(`INSERT IGNORE INTO ${SCHEMA_VERSION_TABLE} (version, name, applied_at) VALUES (?, ?, UTC_TIMESTAMP(6))`, [m.version, m.name]);
  }

  const known = new Map<string, Set<string>>();
  for (const def of [...WEEKLY_TABLES, ...EVENT_TABLES, ...DERIVED_TABLES]) {
    const have = tables.get(def.name);
    if (have === undefined) {
      await ddl(target, conn, createTableSql(def), `create table ${def.name}`, ['CREATE', 'INDEX']);
      known.set(def.name, new Set(physicalColumns(def).map((c) => c.name.toLowerCase())));
      continue;
    }
    const missing = physicalColumns(def).filter((c) => !have.has(c.name.toLowerCase()));
    if (missing.length > 0) {
      await ddl(target, conn, addColumnsSql(def, missing), `add columns to ${def.name}`, ['ALTER']);
      for (const c of missing) have.add(c.name.toLowerCase());
    }
    for (const cols of indexLists(def)) {
      if (!indexes.has(`${def.name}\u0000${indexName(def.name, cols).toLowerCase()}`)) {
        await ddl(target, conn, createIndexSql(def, cols), `index ${def.name}`, ['INDEX']);
      }
    }
    known.set(def.name, have);
  }
  for (const view of SUMMARY_VIEWS) {
    if (!views.has(view.name)) await ddl(target, conn, createViewSql(view.name), `create view ${view.name}`, ['CREATE VIEW']);
  }
  return known;
}

/** What `prepareTable` is asked to make sure of. */
export interface PrepareTableRequest {
  def: TableDef;
  /** Undocumented (drifted) columns the load brings along. */
  extra: readonly string[];
  /** False inside an open unit that already wrote the table: a needed ALTER is refused. */
  allowAlter: boolean;
  file: string | undefined;
}

/**
 * Creates the table, or adds the columns it lacks (documented ones with their type, drifted
 * ones as LONGTEXT). Returns the table's lower-cased columns afterwards.
 */
export async function prepareTable(conn: Connection, request: PrepareTableRequest, target: MariaDbSchemaTarget): Promise<Set<string>> {
  const { def, extra, allowAlter, file } = request;
  const have = await readColumns(conn, def.name);
  if (have.size === 0) {
    await ddl(target, conn, createTableSql(def, extra), `create table ${def.name}`, ['CREATE', 'INDEX']);
  } else {
    const byName = new Map(physicalColumns(def).map((c) => [c.name.toLowerCase(), c]));
    const missing: ColumnDef[] = [];
    for (const name of [...physicalColumns(def).map((c) => c.name), ...extra]) {
      const lower = name.toLowerCase();
      if (have.has(lower) || missing.some((m) => m.name.toLowerCase() === lower)) continue;
      missing.push(byName.get(lower) ?? textColumn(name));
    }
    if (missing.length > 0) {
      if (!allowAlter) {
        throw new LoadError(`Table ${def.name} lacks columns (${missing.map((c) => c.name).join(', ')}) and cannot be altered inside an open load.`, {
          code: 'SCHEMA_CHANGE_IN_UNIT',
          file,
          retryable: true,
          hint: 'Run the load again: the columns are added before it starts.',
        });
      }
      // ALTER commits implicitly in MariaDB: it runs here, on a connection with no unit.
      await ddl(target, conn, addColumnsSql(def, missing), `add columns to ${def.name}`, ['ALTER']);
    }
  }
  return readColumns(conn, def.name);
}
