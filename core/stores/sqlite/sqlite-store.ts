/**
 * The embedded store: weekly snapshots, designated event tables, raw events and summary views in
 * one SQLite file (better-sqlite3), implementing both `RelationalStore` and `EventStore`.
 *
 * Units of work are savepoints of one shared transaction (`sqlite-units.ts`): the first unit
 * opened starts it, the last one to finish commits it (or rolls it back when every unit
 * aborted). So a unit's commit becomes durable when the last unit open beside it finishes (the
 * pipeline finishes all units of a file before recording it in the ledger), and aborting a unit
 * undoes exactly its own writes.
 *
 * Readers on other connections see the last committed state (WAL): a snapshot swap is never seen
 * half done.
 *
 * Besides the tables of `core/domain/tables.ts` and the summary views, the file holds
 * `pds_snapshots` (per table and course: the snapshot date, row count, file and load it came
 * from; updated in the transaction of the swap) and `pds_schema_version` (applied migrations,
 * `sqlite-schema.ts`). Driver errors become LoadErrors in `sqlite-errors.ts`.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { eventRow } from '../../domain/designate.js';
import type { EventRecord, SqlValue } from '../../domain/records.js';
import type { TableDef } from '../../domain/schema-types.js';
import { textColumn } from '../../domain/schema-types.js';
import { SNAPSHOT_COLUMNS } from '../../domain/schema-types.js';
import { getTableDef, isSnapshotTable } from '../../domain/tables.js';
import { LoadError, type PdsError } from '../../errors/index.js';
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
import { LOAD_ID_COLUMN, SNAPSHOTS_TABLE, checkTableName, physicalColumns } from '../sql-schema.js';
import { TABLE_NAMES_SQL, addColumnSql, createIndexesSql, createTableSql, quoteIdent } from './sqlite-ddl.js';
import { toSqliteLoadError } from './sqlite-errors.js';
import { applySchema, readColumns } from './sqlite-schema.js';
import { SavepointUnits, type SavepointUnit } from './sqlite-units.js';
import { preparePrivateFile } from '../../privacy/private-files.js';

export { SQLITE_SCHEMA_VERSION } from './sqlite-schema.js';

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

/** What `query()` returns for integers: exact numbers, or decimal strings beyond 2^53. */
function fromSqlite(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  return value;
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

  /** The savepoints of the open transaction, one per unit of work. */
  private readonly units: SavepointUnits;

  /** Lower-cased column names of tables known to exist. Cleared on any rollback. */
  private readonly columnsCache = new Map<string, Set<string>>();
  private readonly statements = new Map<string, Statement>();
  private readonly queries = new Map<string, Statement>();

  constructor(options: SqliteStoreOptions) {
    this.path = options.path;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
    this.autoCheckpoint = options.autoCheckpoint ?? true;
    this.units = new SavepointUnits({ path: this.path, conn: () => this.conn(), forgetSchema: () => this.forgetSchema() });
  }

  /** True while units of work are open (their transaction is not committed yet). */
  get inTransaction(): boolean {
    return this.units.inTransaction;
  }

  /**
   * Copies committed pages from the write-ahead log into the database file as far as readers
   * allow (PASSIVE: never waits for them). A no-op inside a transaction.
   */
  checkpoint(): void {
    if (this.units.inTransaction || !this.db?.open) return;
    this.guard('copy the write-ahead log into the database file', () => this.db!.pragma('wal_checkpoint(PASSIVE)'));
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle

  /** Opens the file, sets WAL mode, applies migrations and reconciles tables and views. Idempotent. */
  async init(): Promise<void> {
    const db = this.open();
    this.guard('prepare the database schema', () => applySchema(db, this.path));
    this.columnsCache.clear();
  }

  /** Closes the connection; units still open are rolled back. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const db = this.db;
    this.db = undefined;
    this.units.loseAll();
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
      // Learner data: the file (and so its WAL) readable by the owner only.
      preparePrivateFile(this.path);
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

  // ------------------------------------------------------------------------------------------
  // Units of work

  private beginUnit(): SavepointUnit {
    return this.guard('start a transaction', () => this.units.begin());
  }

  private forgetSchema(): void {
    this.columnsCache.clear();
    this.statements.clear();
  }

  // ------------------------------------------------------------------------------------------
  // Tables

  private checkTableName(name: string): void {
    checkTableName(name, { target: this.path, file: this.path, reservedPrefixes: ['pds_', 'sqlite_'] });
  }

  /** Creates the table (or adds the columns a newer definition has) when needed. */
  private ensureTable(unit: SavepointUnit, def: TableDef): Set<string> {
    const cached = this.columnsCache.get(def.name);
    if (cached && physicalColumns(def).every((c) => cached.has(c.name.toLowerCase()))) return cached;
    this.checkTableName(def.name);
    const db = this.conn();
    let have = readColumns(db, def.name);
    if (have.size === 0) {
      db.exec(createTableSql(def));
      for (const sql of createIndexesSql(def)) db.exec(sql);
      this.units.markWrite(unit);
      have = readColumns(db, def.name);
    } else {
      for (const c of physicalColumns(def)) {
        if (have.has(c.name.toLowerCase())) continue;
        db.exec(addColumnSql(def.name, c));
        have.add(c.name.toLowerCase());
        this.units.markWrite(unit);
      }
    }
    this.columnsCache.set(def.name, have);
    return have;
  }

  /** Adds drifted columns (named in a load but not in the definition) as TEXT. */
  private ensureColumns(unit: SavepointUnit, def: TableDef, columns: string[]): void {
    let have = this.ensureTable(unit, def);
    const missing = columns.filter((c) => !have.has(c.toLowerCase()));
    if (missing.length === 0) return;
    // Another connection may have added them since the cache was filled.
    have = readColumns(this.conn(), def.name);
    for (const name of missing) {
      if (have.has(name.toLowerCase())) continue;
      this.conn().exec(addColumnSql(def.name, textColumn(name)));
      have.add(name.toLowerCase());
      this.units.markWrite(unit);
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
        this.units.assertOpen(unit, 'write');
        this.guard(`write rows to ${table}`, () => {
          const stmt = this.insertStatement(table, columns, false);
          for (const row of rows) {
            this.checkWidth(def, row, spec.columns.length);
            const info = stmt.run(...prefix, ...row);
            const rowid = Number(info.lastInsertRowid);
            if (firstRowid === undefined) firstRowid = rowid;
            this.units.track(unit, table, rowid);
            written++;
          }
          if (rows.length > 0) this.units.markWrite(unit);
        }, fileKey);
      },

      commit: async (): Promise<SnapshotCommitResult> => {
        this.units.assertOpen(unit, 'commit');
        return this.guard(`replace the ${table} snapshot`, () => {
          const db = this.conn();
          const stored = db
            .prepare(`SELECT snapshot_date, row_count FROM ${SNAPSHOTS_TABLE} WHERE table_name = ? AND course_key = ?`)
            .get(table, spec.courseKey) as { snapshot_date: string; row_count: number } | undefined;
          if (stored !== undefined && stored.snapshot_date > spec.snapshotDate) {
            this.units.finish(unit, 'abort');
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
          this.units.markWrite(unit);
          this.units.finish(unit, 'commit');
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
        this.units.assertOpen(unit, 'write');
        if (isSnapshotTable(def)) {
          throw new LoadError(`${def.name} is a weekly snapshot table, not a keyed table.`, { code: 'WRONG_TABLE_KIND', file: origin.fileKey });
        }
        return this.guard(`write rows to ${def.name}`, () => this.insertKeyed(unit, def, rows), origin.fileKey);
      },
      commit: async () => {
        this.units.assertOpen(unit, 'commit');
        this.guard('commit keyed rows', () => this.units.finish(unit, 'commit'), origin.fileKey);
      },
      abort: async () => {
        this.safeFinish(unit, 'abort');
      },
    };
  }

  private insertKeyed(unit: SavepointUnit, def: TableDef, rows: (SqlValue | Uint8Array)[][], textFromBytes?: string): KeyedWriteResult {
    this.ensureTable(unit, def);
    const columns = def.columns.map((c) => c.name);
    const stmt = this.insertStatement(def.name, columns, true, textFromBytes);
    let inserted = 0;
    for (const row of rows) {
      this.checkWidth(def, row, columns.length);
      const info = stmt.run(...row);
      if (info.changes > 0) {
        inserted++;
        this.units.track(unit, def.name, info.lastInsertRowid);
      }
    }
    if (inserted > 0) this.units.markWrite(unit);
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

  /** Names of the tables and views in the file. */
  async tableNames(): Promise<string[]> {
    return (await this.query<{ name: string }>(TABLE_NAMES_SQL)).map((r) => r.name);
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
        this.units.assertOpen(unit, 'write');
        return this.guard('write events', () => this.insertKeyed(unit, def, rows, 'raw'), origin.fileKey);
      },
      commit: async () => {
        this.units.assertOpen(unit, 'commit');
        this.guard('commit events', () => this.units.finish(unit, 'commit'), origin.fileKey);
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
  private safeFinish(unit: SavepointUnit, outcome: 'abort'): void {
    if (unit.state !== 'open' || this.closed || !this.db) return;
    try {
      this.guard('roll back a load', () => this.units.finish(unit, outcome));
    } catch {
      // The transaction is unusable; dropping it entirely is the only safe state.
      if (this.db?.inTransaction) {
        try {
          this.db.exec('ROLLBACK');
        } catch {
          /* already gone */
        }
      }
      this.units.loseAll();
    }
  }

  /** Runs `fn`, turning driver errors into LoadErrors and noticing a transaction SQLite dropped. */
  private guard<T>(what: string, fn: () => T, file?: string): T {
    try {
      return fn();
    } catch (error) {
      if (this.units.inTransaction && this.db !== undefined && !this.db.inTransaction) this.units.loseAll();
      throw this.toLoadError(what, error, file);
    }
  }

  private toLoadError(what: string, error: unknown, file?: string): PdsError {
    return toSqliteLoadError(what, error, this.path, file);
  }
}

