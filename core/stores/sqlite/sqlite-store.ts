/**
 * The embedded store: weekly snapshots, designated event tables, raw events and summary views in
 * one SQLite file (better-sqlite3), implementing both `RelationalStore` and `EventStore`.
 *
 * Units of work. One connection has one write transaction, yet the pipeline keeps several units
 * open at once (an events writer and a keyed writer for one file, interleaving their batches).
 * So the first unit opened starts the transaction (`BEGIN IMMEDIATE`) and each unit gets a
 * SAVEPOINT. The transaction commits when the last open unit finishes and at least one of them
 * committed; when every unit aborted it rolls back. Consequences:
 * - a unit's commit becomes durable when the last unit open beside it finishes (the pipeline
 *   finishes all units of a file before recording it in the ledger);
 * - aborting a unit undoes exactly its own writes: with `ROLLBACK TO` its savepoint when no other
 *   unit wrote since that savepoint was taken, otherwise by deleting the rows it inserted
 *   (tracked by rowid), so an interleaved sibling never loses rows.
 *
 * Readers on other connections see the last committed state (WAL): a snapshot swap is never seen
 * half done.
 *
 * Besides the tables of `core/domain/tables.ts` and the summary views, the file holds
 * `pds_snapshots` (per table and course: the snapshot date, row count, file and load it came
 * from; updated in the transaction of the swap) and `pds_schema_version` (applied migrations).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { eventRow } from '../../domain/designate.js';
import type { EventRecord, SqlValue } from '../../domain/records.js';
import type { ColumnDef, TableDef } from '../../domain/schema-types.js';
import { SNAPSHOT_COLUMNS } from '../../domain/schema-types.js';
import { DERIVED_TABLES, EVENT_TABLES, SUMMARY_VIEWS, WEEKLY_TABLES, getTableDef, isSnapshotTable } from '../../domain/tables.js';
import { LoadError, PdsError } from '../../errors/index.js';
import type {
  EventStore,
  EventWriter,
  KeyedRowsWriter,
  KeyedWriteResult,
  LoadOrigin,
  RelationalStore,
  SnapshotCommitResult,
  SnapshotSpec,
  SnapshotWriter,
} from '../ports.js';
import {
  LOAD_ID_COLUMN,
  SCHEMA_VERSION_TABLE,
  SNAPSHOTS_TABLE,
  addColumnSql,
  createIndexesSql,
  createTableSql,
  createViewSql,
  isDayKeyed,
  physicalColumns,
  quoteIdent,
} from './sqlite-ddl.js';

type Db = Database.Database;
type Statement = Database.Statement<unknown[]>;

export interface SqliteStoreOptions {
  /** The database file; created (with its folder) when absent. */
  path: string;
  /** How long a write waits for another connection's transaction, in ms. Default 10,000. */
  busyTimeoutMs?: number;
  /**
   * Copy the write-ahead log into the database file when a transaction commits (SQLite's
   * default). Off: the owner calls `checkpoint()` when it suits it (the store thread does so
   * after replying to a commit, so the copy overlaps the reading of the next file).
   */
  autoCheckpoint?: boolean;
}

/** Writes prepared rows of the `events` table (`eventRow`), for a caller that built them elsewhere. */
export interface EventRowsWriter {
  /** `raw` may be the line's UTF-8 bytes (see `packed-lines.ts`): they are stored as its text. */
  write(rows: (SqlValue | Uint8Array)[][]): Promise<KeyedWriteResult>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** A forward migration of the bookkeeping schema. Append only; never edit an applied one. */
interface Migration {
  version: number;
  name: string;
  up(db: Db): void;
}

/**
 * Tables made from the TableDefs are reconciled on every `init()` (created when absent, new
 * columns added), so migrations are needed only for changes that adding cannot express.
 */
const MIGRATIONS: readonly Migration[] = [
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

/** Table names a load may create: plain identifiers, not the store's own `pds_` tables. */
const TABLE_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** SQLite result codes after which trying again later may succeed. */
const RETRYABLE_CODES = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_NOMEM', 'SQLITE_CANTOPEN', 'SQLITE_PROTOCOL'];

interface RowidRange {
  start: number;
  end: number;
}

type UnitState = 'open' | 'committed' | 'aborted' | 'lost';

/** One unit of work (snapshot, keyed rows, events) inside the shared transaction. */
interface Unit {
  readonly savepoint: string;
  state: UnitState;
  /** Another unit wrote after this unit's savepoint was taken: `ROLLBACK TO` would undo it too. */
  foreignWrites: boolean;
  /** Rowids this unit inserted, per table, as ranges (inserts are mostly consecutive). */
  readonly inserted: Map<string, RowidRange[]>;
}

/** Lower-cased names of a table's columns (empty when the table does not exist). */
function readColumns(db: Db, table: string): Set<string> {
  const rows = db.pragma(`table_info(${quoteIdent(table)})`) as { name: string }[];
  return new Set(rows.map((r) => r.name.toLowerCase()));
}

/** What `query()` returns for integers: exact numbers, or decimal strings beyond 2^53. */
function fromSqlite(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  return value;
}

function isSqliteError(error: unknown): error is Error & { code: string } {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_');
}

/** The SQLite store. Create one per database file and `init()` it before use. */
export class SqliteStore implements RelationalStore, EventStore {
  readonly engine = 'sqlite';
  /** Every call runs to its end before it returns (better-sqlite3 is synchronous). */
  readonly queuesWrites = true;
  readonly path: string;
  private readonly busyTimeoutMs: number;
  private readonly autoCheckpoint: boolean;
  private db: Db | undefined;
  private closed = false;

  /** Savepoint stack of the open transaction, oldest first; finished units stay until released. */
  private stack: Unit[] = [];
  private txOpen = false;
  private committedInTx = false;
  private unitSeq = 0;

  /** Lower-cased column names of tables known to exist. Cleared on any rollback. */
  private readonly columnsCache = new Map<string, Set<string>>();
  private readonly statements = new Map<string, Statement>();
  private readonly queries = new Map<string, Statement>();

  constructor(options: SqliteStoreOptions) {
    this.path = options.path;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
    this.autoCheckpoint = options.autoCheckpoint ?? true;
  }

  /** True while units of work are open (their transaction is not committed yet). */
  get inTransaction(): boolean {
    return this.txOpen;
  }

  /**
   * Copies committed pages from the write-ahead log into the database file as far as readers
   * allow (PASSIVE: never waits for them). A no-op inside a transaction.
   */
  checkpoint(): void {
    if (this.txOpen || !this.db?.open) return;
    this.guard('copy the write-ahead log into the database file', () => this.db!.pragma('wal_checkpoint(PASSIVE)'));
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle

  /** Opens the file, sets WAL mode, applies migrations and reconciles tables and views. Idempotent. */
  async init(): Promise<void> {
    const db = this.open();
    this.guard('prepare the database schema', () => {
      const version = this.schemaVersion(db);
      if (version > SQLITE_SCHEMA_VERSION) {
        throw new LoadError(`${this.path} was written by a newer version of pds (schema ${version}; this version knows ${SQLITE_SCHEMA_VERSION}).`, {
          code: 'SCHEMA_TOO_NEW',
          file: this.path,
          hint: 'Upgrade pds, or point this environment at another database file.',
        });
      }
      // Read-only check first: a second connection can init while another one is loading.
      if (version === SQLITE_SCHEMA_VERSION && this.schemaWork(db).length === 0) return;
      db.exec('BEGIN IMMEDIATE');
      try {
        const current = this.schemaVersion(db);
        if (current === 0) {
          db.exec(`CREATE TABLE IF NOT EXISTS ${SCHEMA_VERSION_TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT`);
        }
        const record = db.prepare(`INSERT INTO ${SCHEMA_VERSION_TABLE} (version, name, applied_at) VALUES (?, ?, ?)`);
        for (const m of MIGRATIONS) {
          if (m.version <= current) continue;
          m.up(db);
          record.run(m.version, m.name, new Date().toISOString());
        }
        for (const sql of this.schemaWork(db)) db.exec(sql);
        db.exec('COMMIT');
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
    });
    this.columnsCache.clear();
  }

  /** Closes the connection; units still open are rolled back. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const db = this.db;
    this.db = undefined;
    this.loseUnits();
    this.statements.clear();
    this.queries.clear();
    if (db?.open) {
      if (db.inTransaction) db.exec('ROLLBACK');
      db.close();
    }
  }

  private open(): Db {
    if (this.closed) throw this.closedError();
    if (this.db) return this.db;
    try {
      if (this.path !== ':memory:' && !this.path.startsWith('file:')) mkdirSync(dirname(this.path), { recursive: true });
      const db = new Database(this.path, { timeout: this.busyTimeoutMs });
      // Event rows hold the raw line (~1.5 KB): 16 KB pages load them ~40% faster than the
      // default 4 KB (measured). Takes effect only when the file is new, before WAL is set.
      db.pragma('page_size = 16384');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
      // Big snapshot swaps and random event-id index inserts touch many pages. Loading a daily log
      // keeps about 100 MB of index pages busy (events and six designated tables): a 128 MB page
      // cache loads it ~15% faster than 64 MB (measured; peak RSS stays under 500 MB). SQLite
      // fills the cache only as pages are used.
      db.pragma('cache_size = -128000');
      if (!this.autoCheckpoint) db.pragma('wal_autocheckpoint = 0');
      this.db = db;
      return db;
    } catch (error) {
      throw this.toLoadError('open the database file', error);
    }
  }

  private conn(): Db {
    if (this.closed) throw this.closedError();
    if (!this.db) {
      throw new LoadError(`The SQLite store for ${this.path} was used before init().`, { code: 'STORE_NOT_READY', file: this.path });
    }
    return this.db;
  }

  private closedError(): LoadError {
    return new LoadError(`The SQLite store for ${this.path} is closed.`, { code: 'STORE_CLOSED', file: this.path });
  }

  private schemaVersion(db: Db): number {
    const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(SCHEMA_VERSION_TABLE);
    if (!exists) return 0;
    const row = db.prepare(`SELECT MAX(version) AS v FROM ${SCHEMA_VERSION_TABLE}`).get() as { v: number | null };
    return row.v ?? 0;
  }

  /** DDL that brings the defined tables, indexes and views up to date (empty when they are). */
  private schemaWork(db: Db): string[] {
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


  // ------------------------------------------------------------------------------------------
  // Units of work

  private beginUnit(): Unit {
    const db = this.conn();
    const unit: Unit = { savepoint: `pds_u${++this.unitSeq}`, state: 'open', foreignWrites: false, inserted: new Map() };
    this.guard('start a transaction', () => {
      if (!this.txOpen) {
        db.exec('BEGIN IMMEDIATE');
        this.txOpen = true;
        this.committedInTx = false;
      }
      db.exec(`SAVEPOINT ${unit.savepoint}`);
    });
    this.stack.push(unit);
    return unit;
  }

  private assertOpen(unit: Unit, what: string): void {
    if (unit.state === 'open') return;
    if (unit.state === 'lost') {
      throw new LoadError(`SQLite lost the transaction of this load in ${this.path} (an earlier error rolled it back); nothing of it was kept.`, {
        code: 'TRANSACTION_LOST',
        file: this.path,
        retryable: true,
        hint: 'Load the file again.',
      });
    }
    throw new LoadError(`Cannot ${what}: this load was already ${unit.state}.`, { code: 'UNIT_FINISHED', file: this.path });
  }

  /** Every other unit now holds writes of `unit` inside its savepoint scope. */
  private markWrite(unit: Unit): void {
    for (const u of this.stack) if (u !== unit) u.foreignWrites = true;
  }

  private track(unit: Unit, table: string, rowid: number | bigint): void {
    const id = Number(rowid);
    let ranges = unit.inserted.get(table);
    if (!ranges) unit.inserted.set(table, (ranges = []));
    const last = ranges[ranges.length - 1];
    if (last !== undefined && id === last.end + 1) last.end = id;
    else ranges.push({ start: id, end: id });
  }

  /** Deletes exactly the rows `unit` inserted. */
  private undo(unit: Unit): void {
    const db = this.conn();
    for (const [table, ranges] of unit.inserted) {
      const del = db.prepare(`DELETE FROM ${quoteIdent(table)} WHERE rowid BETWEEN ? AND ?`);
      for (const r of ranges) del.run(r.start, r.end);
    }
    unit.inserted.clear();
    this.markWrite(unit);
  }

  /** Ends a unit; releases finished savepoints from the top; ends the transaction with the last unit. */
  private finish(unit: Unit, outcome: 'commit' | 'abort'): void {
    const db = this.conn();
    if (outcome === 'abort') {
      const top = this.stack[this.stack.length - 1];
      if (top === unit && !unit.foreignWrites) {
        db.exec(`ROLLBACK TO ${unit.savepoint}`);
        db.exec(`RELEASE ${unit.savepoint}`);
        this.stack.pop();
        this.forgetSchema();
      } else if (this.stack.some((u) => u !== unit && u.state === 'open') || this.committedInTx) {
        this.undo(unit);
      }
      // Otherwise every other unit has aborted too: the ROLLBACK below discards everything.
      unit.state = 'aborted';
    } else {
      unit.state = 'committed';
      this.committedInTx = true;
    }
    while (this.stack.length > 0 && this.stack[this.stack.length - 1].state !== 'open') {
      db.exec(`RELEASE ${this.stack.pop()!.savepoint}`);
    }
    if (this.stack.length === 0 && this.txOpen) {
      this.txOpen = false;
      if (this.committedInTx) {
        db.exec('COMMIT');
      } else {
        db.exec('ROLLBACK');
        this.forgetSchema();
      }
    }
  }

  /** After SQLite rolled the transaction back by itself (e.g. SQLITE_FULL), every open unit is lost. */
  private loseUnits(): void {
    for (const u of this.stack) if (u.state === 'open') u.state = 'lost';
    this.stack = [];
    this.txOpen = false;
    this.forgetSchema();
  }

  private forgetSchema(): void {
    this.columnsCache.clear();
    this.statements.clear();
  }

  // ------------------------------------------------------------------------------------------
  // Tables

  private checkTableName(name: string): void {
    const reserved = name.toLowerCase().startsWith('pds_') || SUMMARY_VIEWS.some((v) => v.name === name) || name.startsWith('sqlite_');
    if (!TABLE_NAME_RE.test(name) || reserved) {
      throw new LoadError(`The table name "${name}" cannot be used in ${this.path}.`, {
        code: 'TABLE_NAME_INVALID',
        file: this.path,
        hint: 'Table names are letters, digits and underscores (at most 64), and may not start with pds_ or sqlite_.',
      });
    }
  }

  /** Creates the table (or adds the columns a newer definition has) when needed. */
  private ensureTable(unit: Unit, def: TableDef): Set<string> {
    const cached = this.columnsCache.get(def.name);
    if (cached && physicalColumns(def).every((c) => cached.has(c.name.toLowerCase()))) return cached;
    this.checkTableName(def.name);
    const db = this.conn();
    let have = readColumns(db, def.name);
    if (have.size === 0) {
      db.exec(createTableSql(def));
      for (const sql of createIndexesSql(def)) db.exec(sql);
      this.markWrite(unit);
      have = readColumns(db, def.name);
    } else {
      for (const c of physicalColumns(def)) {
        if (have.has(c.name.toLowerCase())) continue;
        db.exec(addColumnSql(def.name, c));
        have.add(c.name.toLowerCase());
        this.markWrite(unit);
      }
    }
    this.columnsCache.set(def.name, have);
    return have;
  }

  /** Adds drifted columns (named in a load but not in the definition) as TEXT. */
  private ensureColumns(unit: Unit, def: TableDef, columns: string[]): void {
    let have = this.ensureTable(unit, def);
    const missing = columns.filter((c) => !have.has(c.toLowerCase()));
    if (missing.length === 0) return;
    // Another connection may have added them since the cache was filled.
    have = readColumns(this.conn(), def.name);
    for (const name of missing) {
      if (have.has(name.toLowerCase())) continue;
      const column: ColumnDef = { name, type: 'longtext' };
      this.conn().exec(addColumnSql(def.name, column));
      have.add(name.toLowerCase());
      this.markWrite(unit);
    }
    this.columnsCache.set(def.name, have);
  }

  /**
   * A cached INSERT. `textFromBytes` names a TEXT column that may be given UTF-8 bytes: a blob in
   * a STRICT TEXT column is refused, so its value is cast (text passes unchanged).
   */
  private insertStatement(table: string, columns: string[], orIgnore: boolean, textFromBytes?: string): Statement {
    const key = `${orIgnore ? 'I' : 'N'}\u0000${table}\u0000${textFromBytes ?? ''}\u0000${columns.join('\u0000')}`;
    let stmt = this.statements.get(key);
    if (!stmt) {
      const values = columns.map((c) => (c === textFromBytes ? 'CAST(? AS TEXT)' : '?'));
      const sql = `INSERT${orIgnore ? ' OR IGNORE' : ''} INTO ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) VALUES (${values.join(', ')})`;
      stmt = this.conn().prepare(sql);
      this.statements.set(key, stmt);
    }
    return stmt;
  }

  private checkWidth(def: TableDef, row: readonly unknown[], width: number): void {
    if (row.length !== width) {
      throw new LoadError(`A row for ${def.name} has ${row.length} values for ${width} columns (a loader bug).`, { code: 'ROW_WIDTH', file: this.path });
    }
  }

  // ------------------------------------------------------------------------------------------
  // RelationalStore

  /** Starts replacing one course's snapshot of one table (invisible to readers until commit). */
  async beginSnapshot(spec: SnapshotSpec): Promise<SnapshotWriter> {
    const def = spec.table;
    if (!isSnapshotTable(def)) {
      throw new LoadError(`${def.name} is not a weekly snapshot table.`, { code: 'WRONG_TABLE_KIND', file: spec.origin.fileKey });
    }
    this.checkTableName(def.name);
    const unit = this.beginUnit();
    const columns = [...SNAPSHOT_COLUMNS.map((c) => c.name), LOAD_ID_COLUMN.name, ...spec.columns];
    const prefix: SqlValue[] = [spec.courseKey, spec.snapshotDate, spec.origin.loadId];
    let written = 0;
    let firstRowid: number | undefined;
    try {
      this.guard(`prepare table ${def.name}`, () => this.ensureColumns(unit, def, spec.columns));
    } catch (error) {
      this.safeFinish(unit, 'abort');
      throw error;
    }
    const table = def.name;
    const fileKey = spec.origin.fileKey;

    return {
      write: async (rows) => {
        this.assertOpen(unit, 'write');
        this.guard(`write rows to ${table}`, () => {
          const stmt = this.insertStatement(table, columns, false);
          for (const row of rows) {
            this.checkWidth(def, row, spec.columns.length);
            const info = stmt.run(...prefix, ...row);
            const rowid = Number(info.lastInsertRowid);
            if (firstRowid === undefined) firstRowid = rowid;
            this.track(unit, table, rowid);
            written++;
          }
          if (rows.length > 0) this.markWrite(unit);
        }, fileKey);
      },

      commit: async (): Promise<SnapshotCommitResult> => {
        this.assertOpen(unit, 'commit');
        return this.guard(`replace the ${table} snapshot`, () => {
          const db = this.conn();
          const stored = db
            .prepare(`SELECT snapshot_date, row_count FROM ${SNAPSHOTS_TABLE} WHERE table_name = ? AND course_key = ?`)
            .get(table, spec.courseKey) as { snapshot_date: string; row_count: number } | undefined;
          if (stored !== undefined && stored.snapshot_date > spec.snapshotDate) {
            this.finish(unit, 'abort');
            return { rows: stored.row_count, replacedRows: 0, stale: true };
          }
          // Rows of earlier loads all have smaller rowids than this load's first row; load_id
          // guards the case where SQLite had to pick rowids at random (rowid space exhausted).
          const replaced =
            firstRowid === undefined
              ? db.prepare(`DELETE FROM ${quoteIdent(table)} WHERE course_key = ?`).run(spec.courseKey)
              : db
                  .prepare(`DELETE FROM ${quoteIdent(table)} WHERE course_key = ? AND (rowid < ? OR ${quoteIdent(LOAD_ID_COLUMN.name)} IS NOT ?)`)
                  .run(spec.courseKey, firstRowid, spec.origin.loadId);
          db.prepare(
            `INSERT INTO ${SNAPSHOTS_TABLE} (table_name, course_key, snapshot_date, row_count, file_key, load_id, loaded_at) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (table_name, course_key) DO UPDATE SET snapshot_date = excluded.snapshot_date, row_count = excluded.row_count,
               file_key = excluded.file_key, load_id = excluded.load_id, loaded_at = excluded.loaded_at`,
          ).run(table, spec.courseKey, spec.snapshotDate, written, fileKey, spec.origin.loadId, new Date().toISOString());
          this.markWrite(unit);
          this.finish(unit, 'commit');
          return { rows: written, replacedRows: replaced.changes, stale: false };
        }, fileKey);
      },

      abort: async () => {
        this.safeFinish(unit, 'abort');
      },
    };
  }

  /** Starts a unit of keyed inserts (designated event rows of one file). */
  async beginKeyed(origin: LoadOrigin): Promise<KeyedRowsWriter> {
    const unit = this.beginUnit();
    return {
      write: async (def, rows) => {
        this.assertOpen(unit, 'write');
        if (isSnapshotTable(def)) {
          throw new LoadError(`${def.name} is a weekly snapshot table, not a keyed table.`, { code: 'WRONG_TABLE_KIND', file: origin.fileKey });
        }
        return this.guard(`write rows to ${def.name}`, () => this.insertKeyed(unit, def, rows), origin.fileKey);
      },
      commit: async () => {
        this.assertOpen(unit, 'commit');
        this.guard('commit keyed rows', () => this.finish(unit, 'commit'), origin.fileKey);
      },
      abort: async () => {
        this.safeFinish(unit, 'abort');
      },
    };
  }

  private insertKeyed(unit: Unit, def: TableDef, rows: (SqlValue | Uint8Array)[][], textFromBytes?: string): KeyedWriteResult {
    this.ensureTable(unit, def);
    const columns = def.columns.map((c) => c.name);
    const stmt = this.insertStatement(def.name, columns, true, textFromBytes);
    let inserted = 0;
    for (const row of rows) {
      this.checkWidth(def, row, columns.length);
      const info = stmt.run(...row);
      if (info.changes > 0) {
        inserted++;
        this.track(unit, def.name, info.lastInsertRowid);
      }
    }
    if (inserted > 0) this.markWrite(unit);
    return { inserted, duplicates: rows.length - inserted };
  }

  /** Runs a read-only query (`?` placeholders). Integers beyond 2^53 come back as strings. */
  async query<T = Record<string, unknown>>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    const db = this.conn();
    return this.guard('run a report query', () => {
      let stmt = this.queries.get(sql);
      if (!stmt) {
        stmt = db.prepare(sql);
        if (!stmt.readonly || !stmt.reader) {
          throw new LoadError('Only read-only SELECT queries can be run as reports.', { code: 'QUERY_NOT_READ_ONLY', stage: 'load', file: this.path });
        }
        stmt.safeIntegers(true);
        if (this.queries.size >= 200) this.queries.clear();
        this.queries.set(sql, stmt);
      }
      const rows = stmt.all(...params) as Record<string, unknown>[];
      for (const row of rows) for (const k of Object.keys(row)) row[k] = fromSqlite(row[k]);
      return rows as T[];
    });
  }

  // ------------------------------------------------------------------------------------------
  // EventStore

  /** Starts inserting one file's events into `events` (ids already present are skipped). */
  async beginEvents(origin: LoadOrigin): Promise<EventWriter> {
    const writer = await this.beginEventRows(origin);
    return { ...writer, write: (events: EventRecord[]) => writer.write(events.map((e) => eventRow(e, origin.fileKey))) };
  }

  /** Like `beginEvents`, for rows already made by `eventRow` (the store thread's callers make them). */
  async beginEventRows(origin: LoadOrigin): Promise<EventRowsWriter> {
    const unit = this.beginUnit();
    const def = getTableDef('events')!;
    return {
      write: async (rows: (SqlValue | Uint8Array)[][]) => {
        this.assertOpen(unit, 'write');
        return this.guard('write events', () => this.insertKeyed(unit, def, rows, 'raw'), origin.fileKey);
      },
      commit: async () => {
        this.assertOpen(unit, 'commit');
        this.guard('commit events', () => this.finish(unit, 'commit'), origin.fileKey);
      },
      abort: async () => {
        this.safeFinish(unit, 'abort');
      },
    };
  }

  /** Event counts grouped by course and canonical type. */
  async countByCourseAndType(): Promise<{ courseId: string | null; type: string | null; count: number }[]> {
    return this.query<{ courseId: string | null; type: string | null; count: number }>(
      'SELECT course_id AS courseId, canonical_type AS type, COUNT(*) AS count FROM events GROUP BY course_id, canonical_type ORDER BY course_id, canonical_type',
    );
  }

  // ------------------------------------------------------------------------------------------
  // Errors

  /** `abort()` never throws: it is called on error paths (ports: "safe after a failed write"). */
  private safeFinish(unit: Unit, outcome: 'abort'): void {
    if (unit.state !== 'open' || this.closed || !this.db) return;
    try {
      this.guard('roll back a load', () => this.finish(unit, outcome));
    } catch {
      // The transaction is unusable; dropping it entirely is the only safe state.
      if (this.db?.inTransaction) {
        try {
          this.db.exec('ROLLBACK');
        } catch {
          /* already gone */
        }
      }
      this.loseUnits();
    }
  }

  /** Runs `fn`, turning driver errors into LoadErrors and noticing a transaction SQLite dropped. */
  private guard<T>(what: string, fn: () => T, file?: string): T {
    try {
      return fn();
    } catch (error) {
      if (this.txOpen && this.db !== undefined && !this.db.inTransaction) this.loseUnits();
      throw this.toLoadError(what, error, file);
    }
  }

  private toLoadError(what: string, error: unknown, file?: string): PdsError {
    if (error instanceof PdsError) return error;
    const code = isSqliteError(error) ? error.code : undefined;
    const retryable = code !== undefined && RETRYABLE_CODES.some((c) => code === c || code.startsWith(`${c}_`));
    // The driver message is not copied: constraint messages can quote values.
    return new LoadError(`SQLite could not ${what}${code ? ` (${code})` : ''} in ${this.path}.`, {
      code: 'LOAD_FAILED',
      file: file ?? this.path,
      dbCode: code,
      retryable,
      cause: error,
      hint: hintFor(code),
    });
  }
}

function hintFor(code: string | undefined): string {
  if (code === undefined) return 'This looks like a bug in pds; please report it with the log.';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return 'Another process is writing the same database file; the next run retries this file.';
  }
  if (code.startsWith('SQLITE_FULL')) return 'The disk is full: free space, then run again.';
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM')) {
    return 'Check that the database file and its folder exist and are writable.';
  }
  if (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB')) {
    return 'The database file is damaged: restore it from a backup or point the environment at a new file.';
  }
  if (code.startsWith('SQLITE_CONSTRAINT')) return 'A value does not fit its column; please report this with the file name.';
  return 'Check the database file and the disk, then run again.';
}
