/**
 * The MariaDB relational target (`RelationalStore`): weekly snapshots, designated event tables,
 * course blocks and summary views in a MariaDB 10.6+ (InnoDB) database, written through a
 * connection pool of the `mariadb` connector. Schema from the logical TableDefs
 * (`mariadb-ddl.ts`), the same ones the SQLite store uses; see README.md beside this file.
 *
 * Units of work. Every unit (one snapshot replace, one file's keyed rows) is ONE InnoDB
 * transaction on a connection of its own:
 * - a snapshot unit locks its `pds_snapshots` row (`SELECT … FOR UPDATE`; a concurrent load of
 *   the same course and table waits), refuses a stale date, deletes the course's rows, streams
 *   the new rows in and commits. Readers keep seeing the old rows until COMMIT (MVCC), and a
 *   failure at any point rolls back to the old snapshot. One transaction beat a stage table +
 *   copy in the measurements of README.md ("Why one transaction").
 * - a keyed unit inserts with `INSERT IGNORE` on the primary key (re-loads add nothing).
 * Each unit writes a `pds_loads` row inside its transaction, so when the connection drops while
 * COMMIT is in flight the store can look up whether the commit happened instead of guessing.
 *
 * Retries. A transient error (lost connection, deadlock, lock wait timeout, Galera conflict)
 * kills the whole transaction, never half of it. The unit then starts a new transaction and
 * re-sends what it had sent — possible only while that fits in the replay buffer
 * (`replayLimitBytes`); past it the error goes to the caller as a retryable LoadError and the
 * pipeline loads the file again. Nothing is retried after a commit is known to have happened,
 * and both kinds of unit are idempotent anyway (a snapshot replaces, keyed rows skip their ids),
 * so no path can load rows twice.
 *
 * Bulk path. `LOAD DATA LOCAL INFILE` fed from memory in chunks below `max_allowed_packet`, one
 * statement in flight while the next chunk is encoded; or the connector's `batch()` when the
 * server has `local_infile` off (see `bulkMethod`).
 *
 * Schema changes (drift columns, unknown tables) run before a unit's transaction and on another
 * connection: DDL commits implicitly in MariaDB and must never end a unit's transaction.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import * as mariadb from 'mariadb';
import type { Connection, ConnectionConfig, FieldInfo, Pool, PoolConfig, PoolConnection, TypeCastNextFunction, TypeCastResult, UpsertResult } from 'mariadb';
import type { SqlValue } from '../../domain/records.js';
import type { ColumnDef, TableDef } from '../../domain/schema-types.js';
import { DERIVED_TABLES, EVENT_TABLES, SUMMARY_VIEWS, WEEKLY_TABLES, isSnapshotTable } from '../../domain/tables.js';
import { LoadError, PdsError } from '../../errors/index.js';
import type {
  KeyedRowsWriter,
  KeyedWriteResult,
  LoadOrigin,
  RelationalStore,
  SnapshotCommitResult,
  SnapshotSpec,
  SnapshotWriter,
} from '../ports.js';
import {
  BOOKKEEPING_TABLES_SQL,
  COLLATION,
  CHARSET,
  LOADS_TABLE,
  LOAD_ID_COLUMN,
  ROW_ID_COLUMN,
  SCHEMA_VERSION_TABLE,
  SCHEMA_VERSION_TABLE_SQL,
  SNAPSHOTS_TABLE,
  addColumnsSql,
  createIndexSql,
  createTableSql,
  createViewSql,
  indexLists,
  indexName,
  physicalColumns,
  quoteIdent,
} from './mariadb-ddl.js';
import {
  REQUIRED_PRIVILEGES,
  classifyMariaDbError,
  grantStatement,
  isConnectionLost,
  isTransientMariaDbError,
  toMariaDbLoadError,
  type MariaDbErrorContext,
  type MariaDbOperation,
} from './mariadb-errors.js';
import { UnencodableValueError, approximateRowBytes, encodeLoadDataRows, insertSql, loadDataSql, type ConstantColumn } from './mariadb-load-data.js';

/** How rows reach the server. */
export const MARIADB_BULK_METHODS = ['load-data', 'batch'] as const;
export type MariaDbBulkMethod = (typeof MARIADB_BULK_METHODS)[number];

/**
 * The default bulk method, chosen by measurement (README.md "Bulk load: measurements"): with
 * typed values the binary bulk protocol of `batch()` spares the server the text parsing LOAD
 * DATA does, and the server is the bottleneck on the load path.
 */
export const DEFAULT_BULK_METHOD: MariaDbBulkMethod = 'batch';

/** TLS settings for the connection (passed to Node's `tls.connect`). PEM text, not paths. */
export interface MariaDbTlsOptions {
  /** CA certificate(s) that signed the server certificate. */
  ca?: string | string[];
  /** Client certificate and key, for servers that require X509 accounts. */
  cert?: string;
  key?: string;
  /** Verify the server certificate (default true). */
  rejectUnauthorized?: boolean;
  /** Host name to verify the certificate against, when it differs from `host`. */
  servername?: string;
}

/** How to reach the database. Secrets are already resolved (the caller resolves references). */
export interface MariaDbStoreOptions {
  /** Server host name or address (ignored when `socketPath` is set). Default `localhost`. */
  host?: string;
  /** Default 3306. */
  port?: number;
  user: string;
  password?: string;
  /** Database (schema) name; created by `init()` when absent and `createDatabase` allows it. */
  database: string;
  /** Unix socket instead of TCP. */
  socketPath?: string;
  /** `true` for TLS with the system CAs, or explicit TLS settings. */
  ssl?: boolean | MariaDbTlsOptions;
  /** Pool size: one connection per open unit plus report queries. Default 8. */
  connectionLimit?: number;
  /**
   * `batch` (default, measured faster) or `load-data`: LOAD DATA LOCAL INFILE, falling back to
   * `batch` (with a notice) when the server has `local_infile` off.
   */
  bulkMethod?: MariaDbBulkMethod;
  /** Create the database in `init()` when it does not exist. Default true. */
  createDatabase?: boolean;
  /** Connect and pool-acquire timeout, ms. Default 10,000. */
  connectTimeoutMs?: number;
  /** Extra session variables for every connection, e.g. `{ wsrep_sync_wait: 1 }` on Galera (README.md). */
  sessionVariables?: Record<string, string | number>;
  /** Attempts after a transient error (lost connection, deadlock, lock wait). Default 3. */
  retryAttempts?: number;
  /** First back-off delay before a retry, ms; doubles each time. Default 500. */
  retryDelayMs?: number;
  /** A unit whose sent data stays below this can be replayed after a transient error. Default 16 MiB. */
  replayLimitBytes?: number;
  /** Target bytes of one bulk statement (capped below `max_allowed_packet`). Default 1 MiB. */
  chunkBytes?: number;
}

/** Outcome of `check()` (`pds db check`, the console's "test connection"). */
export interface MariaDbCheckResult {
  ok: boolean;
  /** One plain-language paragraph: what was checked and what is wrong, with the remedy. */
  detail: string;
  /** Server version, e.g. `10.11.6-MariaDB`. */
  version?: string;
  /** Schema version found in the database (0: not initialised yet). */
  schemaVersion?: number;
  /** Privileges the account holds on the database (MariaDB names, e.g. `CREATE VIEW`). */
  privileges?: string[];
  /** Things that work but deserve attention (fallbacks, cluster settings). */
  warnings?: string[];
  /** The bulk method loads would use. */
  bulkMethod?: MariaDbBulkMethod;
}

/** A forward migration of the bookkeeping schema. Append only; never edit an applied one. */
interface Migration {
  version: number;
  name: string;
  up(conn: Connection): Promise<void>;
}

/**
 * Tables made from the TableDefs are reconciled on every `init()` (created when absent, new
 * columns and indexes added), so migrations are needed only for what adding cannot express.
 */
const MIGRATIONS: readonly Migration[] = [
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

/** Table names a load may create: plain identifiers, not the store's own `pds_` tables. */
const TABLE_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Statements `query()` runs: reads only (also enforced by a READ ONLY transaction). */
const READ_ONLY_RE = /^(?:\s|\/\*[\s\S]*?\*\/|--[^\n]*\n|#[^\n]*\n)*\(*\s*(?:SELECT|WITH|SHOW|EXPLAIN|DESCRIBE|DESC|VALUES)\b/i;

/**
 * Session settings of every connection: strict mode (a value that does not fit is an error, not
 * a silent truncation), UTC, and a bounded wait for metadata locks (a drift `ALTER TABLE` waiting
 * behind a long load fails and is retried instead of queueing every reader behind it).
 */
const SESSION_VARIABLES: Record<string, string | number> = {
  sql_mode: 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION',
  time_zone: '+00:00',
  lock_wait_timeout: 120,
};

/** Rows per `batch()` call of a keyed write (bounds the 16-bit warning count we check). */
const KEYED_BATCH_ROWS = 5000;
/** Space left in a packet for the protocol around a LOAD DATA payload. */
const PACKET_MARGIN = 64 * 1024;
/** Bytes JS rows take per encoded byte, roughly: the replay buffer keeps rows for the batch path too. */
const ROW_MEMORY_FACTOR = 2;

/** Facts read from the server on connect. */
interface ServerFacts {
  version: string;
  localInfile: boolean;
  maxAllowedPacket: number;
  binlogFormat: string;
  galera: boolean;
  readOnly: boolean;
  /** `'user'@'host'` of the authenticated account. */
  account: string;
}

/**
 * Result values in the engine-neutral forms of the store contract: datetimes as
 * `YYYY-MM-DD HH:MM:SS[.ffffff]` (a zero fraction dropped, as `normalizeSqlDatetime` writes
 * them), BIGINT as a number when exact, else its decimal string.
 */
function typeCast(field: FieldInfo, next: TypeCastNextFunction): TypeCastResult {
  switch (String(field.type)) {
    case 'DATETIME':
    case 'DATETIME2':
    case 'TIMESTAMP':
    case 'TIMESTAMP2': {
      const s = field.string();
      return s !== null && s.endsWith('.000000') ? s.slice(0, -7) : s;
    }
    case 'BIGINT': {
      const s = field.string();
      if (s === null) return null;
      const n = Number(s);
      return Number.isSafeInteger(n) ? n : s;
    }
    default:
      return next();
  }
}

function affected(result: UpsertResult | UpsertResult[]): { rows: number; warnings: number } {
  const list = Array.isArray(result) ? result : [result];
  let rows = 0;
  let warnings = 0;
  for (const r of list) {
    rows += Number(r.affectedRows);
    warnings += Number(r.warningStatus ?? 0);
  }
  return { rows, warnings };
}

/** `'user'@'host'` from `CURRENT_USER()`'s `user@host`. */
function accountOf(currentUser: string): string {
  const at = currentUser.lastIndexOf('@');
  const user = at < 0 ? currentUser : currentUser.slice(0, at);
  const host = at < 0 ? '%' : currentUser.slice(at + 1);
  return `'${user.replace(/'/g, "''")}'@'${host.replace(/'/g, "''")}'`;
}

/** The MariaDB store. Create one per database and `init()` it before use. */
export class MariaDbStore implements RelationalStore {
  readonly engine = 'mariadb';
  private readonly options: MariaDbStoreOptions;
  private pool: Pool | undefined;
  private facts: ServerFacts | undefined;
  private closed = false;
  private bulk: MariaDbBulkMethod;
  private readonly noticesList: string[] = [];
  /** Lower-cased column names of tables known to exist, by table name. */
  private readonly columnsCache = new Map<string, Set<string>>();
  /** Serialises schema changes per table within this process. */
  private readonly tableLocks = new Map<string, Promise<unknown>>();
  private readonly units = new Set<MariaDbUnit>();

  constructor(options: MariaDbStoreOptions) {
    this.options = { ...options };
    this.bulk = options.bulkMethod ?? DEFAULT_BULK_METHOD;
  }

  /** The bulk method loads use now (`batch` after a fallback). */
  get bulkMethod(): MariaDbBulkMethod {
    return this.bulk;
  }

  /** Things worth telling the user that did not stop the work (e.g. the LOAD DATA fallback). */
  get notices(): readonly string[] {
    return this.noticesList;
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle

  /**
   * Creates the database when absent (if allowed), applies migrations and reconciles tables,
   * indexes and views with the TableDefs. Idempotent; needs no DDL privilege when nothing changed.
   */
  async init(): Promise<void> {
    this.assertNotClosed();
    const facts = await this.withRetry({ what: 'connect', privileges: [] }, () => this.prepareDatabase());
    this.facts = facts;
    this.chooseBulkMethod(facts);
    await this.withRetry({ what: 'prepare the database schema', privileges: ['CREATE', 'ALTER', 'INDEX', 'CREATE VIEW'] }, () => this.reconcileSchema());
  }

  /** Rolls back units still open and closes the pool. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const unit of [...this.units]) await unit.abort();
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await pool.end().catch(() => undefined);
  }

  private assertNotClosed(): void {
    if (this.closed) throw new LoadError(`The MariaDB store for ${this.describeTarget()} is closed.`, { code: 'STORE_CLOSED' });
  }

  /** `host:port/database` or `socket/database`, for messages (never credentials). */
  describeTarget(): string {
    return `${this.serverLabel()}/${this.options.database}`;
  }

  private serverLabel(): string {
    return this.options.socketPath ?? `${this.options.host ?? 'localhost'}:${this.options.port ?? 3306}`;
  }

  /** @internal Context for error messages. */
  errorContext(file?: string): MariaDbErrorContext {
    return {
      server: this.serverLabel(),
      database: this.options.database,
      account: this.facts?.account ?? `'${this.options.user.replace(/'/g, "''")}'@'%'`,
      file,
    };
  }

  private connectionConfig(withDatabase: boolean): ConnectionConfig {
    const o = this.options;
    const timeout = o.connectTimeoutMs ?? 10_000;
    return {
      host: o.host ?? 'localhost',
      port: o.port ?? 3306,
      socketPath: o.socketPath,
      user: o.user,
      password: o.password,
      database: withDatabase ? o.database : undefined,
      ssl: o.ssl,
      connectTimeout: timeout,
      // Only when asked for: the server could otherwise request client files (the connector
      // checks the name against our statement, and our stream factory serves memory only).
      permitLocalInfile: o.bulkMethod === 'load-data',
      dateStrings: true,
      decimalAsNumber: true,
      insertIdAsNumber: true,
      typeCast,
      sessionVariables: { ...SESSION_VARIABLES, ...(o.sessionVariables ?? {}) },
      maxAllowedPacket: this.facts?.maxAllowedPacket,
    };
  }

  private getPool(): Pool {
    this.assertNotClosed();
    if (this.pool) return this.pool;
    const timeout = this.options.connectTimeoutMs ?? 10_000;
    const config: PoolConfig = {
      ...this.connectionConfig(true),
      connectionLimit: this.options.connectionLimit ?? 8,
      // Connections are made when units need them; an idle CLI run holds one.
      minimumIdle: 1,
      acquireTimeout: timeout,
      idleTimeout: 300,
    };
    this.pool = mariadb.createPool(config);
    return this.pool;
  }

  /** @internal A pooled connection (a unit keeps it for its transaction). */
  async acquire(): Promise<PoolConnection> {
    return this.getPool().getConnection();
  }

  /** Connects without a database, reads server facts, creates the database when needed. */
  private async prepareDatabase(): Promise<ServerFacts> {
    const conn = await mariadb.createConnection(this.connectionConfig(false));
    try {
      const facts = await readFacts(conn);
      this.facts = facts;
      const exists = (await conn.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [this.options.database])) as unknown[];
      if (exists.length === 0) {
        if (this.options.createDatabase === false) {
          throw new LoadError(`The database ${this.options.database} does not exist on ${this.serverLabel()}.`, {
            code: 'DB_MISSING',
            hint: `The DBA must run: CREATE DATABASE ${quoteIdent(this.options.database)} CHARACTER SET ${CHARSET} COLLATE ${COLLATION}; ${grantStatement(this.errorContext(), REQUIRED_PRIVILEGES)}`,
          });
        }
        try {
          await conn.query(`CREATE DATABASE IF NOT EXISTS ${quoteIdent(this.options.database)} CHARACTER SET ${CHARSET} COLLATE ${COLLATION}`);
        } catch (error) {
          if (classifyMariaDbError(error) === 'permission') {
            throw new LoadError(`The database ${this.options.database} does not exist on ${this.serverLabel()} and ${facts.account} may not create it.`, {
              code: 'DB_PERMISSION_DENIED',
              dbCode: (error as { code?: string }).code,
              hint: `The DBA must run: CREATE DATABASE ${quoteIdent(this.options.database)} CHARACTER SET ${CHARSET} COLLATE ${COLLATION}; ${grantStatement(this.errorContext(), REQUIRED_PRIVILEGES)}`,
            });
          }
          throw error;
        }
      }
      return facts;
    } finally {
      await conn.end().catch(() => undefined);
    }
  }

  private chooseBulkMethod(facts: ServerFacts): void {
    this.bulk = this.options.bulkMethod ?? DEFAULT_BULK_METHOD;
    if (this.bulk === 'load-data' && !facts.localInfile) this.fallBackToBatch();
  }

  /** @internal The server refused LOAD DATA LOCAL: use `batch()` from now on, and say so. */
  fallBackToBatch(): void {
    const notice = `local_infile is OFF on ${this.serverLabel()}: loading with batch() INSERTs instead of LOAD DATA LOCAL INFILE. To use LOAD DATA the DBA must run SET GLOBAL local_infile = ON (and set it under [mariadbd]).`;
    if (!this.noticesList.includes(notice)) this.noticesList.push(notice);
    this.bulk = 'batch';
  }

  /** Migrations, then the TableDef tables, indexes and views: only the DDL that is missing runs. */
  private async reconcileSchema(): Promise<void> {
    const pool = this.getPool();
    const conn = await pool.getConnection();
    try {
      const columnRows = (await conn.query(
        'SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()',
      )) as { t: string; c: string }[];
      const tables = new Map<string, Set<string>>();
      for (const r of columnRows) {
        let set = tables.get(r.t);
        if (!set) tables.set(r.t, (set = new Set()));
        set.add(r.c.toLowerCase());
      }
      const indexRows = (await conn.query(
        'SELECT DISTINCT TABLE_NAME AS t, INDEX_NAME AS i FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()',
      )) as { t: string; i: string }[];
      const indexes = new Set(indexRows.map((r) => `${r.t}\u0000${r.i.toLowerCase()}`));
      const viewRows = (await conn.query('SELECT TABLE_NAME AS t FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()')) as { t: string }[];
      const views = new Set(viewRows.map((r) => r.t));

      let version = 0;
      if (tables.has(SCHEMA_VERSION_TABLE)) {
        const rows = (await conn.query(`SELECT MAX(version) AS v FROM ${SCHEMA_VERSION_TABLE}`)) as { v: number | null }[];
        version = Number(rows[0]?.v ?? 0);
      }
      if (version > MARIADB_SCHEMA_VERSION) {
        throw new LoadError(`${this.describeTarget()} was written by a newer version of pds (schema ${version}; this version knows ${MARIADB_SCHEMA_VERSION}).`, {
          code: 'SCHEMA_TOO_NEW',
          hint: 'Upgrade pds, or point this environment at another database.',
        });
      }
      if (!tables.has(SCHEMA_VERSION_TABLE)) await this.ddl(conn, SCHEMA_VERSION_TABLE_SQL, 'create the schema version table', ['CREATE']);
      for (const m of MIGRATIONS) {
        if (m.version <= version) continue;
        await this.ddlStep(`apply schema migration ${m.version} (${m.name})`, ['CREATE', 'ALTER', 'INDEX'], () => m.up(conn));
        // INSERT IGNORE: another process may have applied the same migration meanwhile (all DDL is IF NOT EXISTS).
        await conn.query(`INSERT IGNORE INTO ${SCHEMA_VERSION_TABLE} (version, name, applied_at) VALUES (?, ?, UTC_TIMESTAMP(6))`, [m.version, m.name]);
      }

      for (const def of [...WEEKLY_TABLES, ...EVENT_TABLES, ...DERIVED_TABLES]) {
        const have = tables.get(def.name);
        if (have === undefined) {
          await this.ddl(conn, createTableSql(def), `create table ${def.name}`, ['CREATE', 'INDEX']);
          this.columnsCache.set(def.name, new Set(physicalColumns(def).map((c) => c.name.toLowerCase())));
          continue;
        }
        const missing = physicalColumns(def).filter((c) => !have.has(c.name.toLowerCase()));
        if (missing.length > 0) {
          await this.ddl(conn, addColumnsSql(def, missing), `add columns to ${def.name}`, ['ALTER']);
          for (const c of missing) have.add(c.name.toLowerCase());
        }
        for (const cols of indexLists(def)) {
          if (!indexes.has(`${def.name}\u0000${indexName(def.name, cols).toLowerCase()}`)) {
            await this.ddl(conn, createIndexSql(def, cols), `index ${def.name}`, ['INDEX']);
          }
        }
        this.columnsCache.set(def.name, have);
      }
      for (const view of SUMMARY_VIEWS) {
        if (!views.has(view.name)) await this.ddl(conn, createViewSql(view.name), `create view ${view.name}`, ['CREATE VIEW']);
      }
    } finally {
      conn.release().catch(() => undefined);
    }
  }

  private async ddl(conn: Connection, sql: string, what: string, privileges: readonly string[]): Promise<void> {
    await this.ddlStep(what, privileges, () => conn.query(sql));
  }

  /** Runs one schema step, turning a permission refusal into a LoadError naming the grant. */
  private async ddlStep(what: string, privileges: readonly string[], fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      if (classifyMariaDbError(error) === 'permission') throw toMariaDbLoadError(error, { what, privileges }, this.errorContext());
      throw error;
    }
  }

  /**
   * Runs `fn` (which must be safe to repeat: reads, IF NOT EXISTS DDL) with retries on transient
   * errors; any other error becomes a LoadError for `op`.
   */
  private async withRetry<T>(op: MariaDbOperation, fn: () => Promise<T>, file?: string): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (error instanceof PdsError) throw error;
        if (!isTransientMariaDbError(error) || attempt >= this.retryAttempts || this.closed) {
          throw toMariaDbLoadError(error, op, this.errorContext(file));
        }
        await sleep(this.retryDelay(attempt));
      }
    }
  }

  /** @internal */
  get retryAttempts(): number {
    return this.options.retryAttempts ?? 3;
  }

  /** @internal Back-off before retry `attempt` (0-based). */
  retryDelay(attempt: number): number {
    return (this.options.retryDelayMs ?? 500) * 2 ** attempt;
  }

  /** @internal */
  get replayLimitBytes(): number {
    return this.options.replayLimitBytes ?? 16 * 1024 * 1024;
  }

  /** @internal Target bytes of one LOAD DATA statement. */
  get chunkBytes(): number {
    return Math.max(64 * 1024, Math.min(this.options.chunkBytes ?? 1024 * 1024, this.maxPayloadBytes));
  }

  /** @internal Largest payload one statement may carry (`max_allowed_packet` less protocol room). */
  get maxPayloadBytes(): number {
    return (this.facts?.maxAllowedPacket ?? 16 * 1024 * 1024) - PACKET_MARGIN;
  }

  /** @internal READ COMMITTED for writers (no gap locks between loads of different courses); InnoDB
   *  refuses it with statement-based binary logging, so then the default REPEATABLE READ stays. */
  get readCommitted(): boolean {
    return (this.facts?.binlogFormat ?? 'MIXED').toUpperCase() !== 'STATEMENT';
  }

  // ------------------------------------------------------------------------------------------
  // Tables

  private checkTableName(name: string, file?: string): void {
    const reserved = name.toLowerCase().startsWith('pds_') || SUMMARY_VIEWS.some((v) => v.name === name);
    if (!TABLE_NAME_RE.test(name) || reserved) {
      throw new LoadError(`The table name "${name}" cannot be used in ${this.describeTarget()}.`, {
        code: 'TABLE_NAME_INVALID',
        file,
        hint: 'Table names are letters, digits and underscores (at most 64), and may not start with pds_.',
      });
    }
  }

  /**
   * @internal Creates the table, or adds the columns it lacks (documented ones with their type,
   * drifted ones as LONGTEXT), on a pooled connection outside any unit's transaction. With
   * `allowAlter` false a needed ALTER is refused (the caller's transaction holds the table).
   */
  async ensureTable(def: TableDef, extra: readonly string[], file: string | undefined, allowAlter = true): Promise<void> {
    const needed = [...physicalColumns(def).map((c) => c.name), ...extra];
    const cached = this.columnsCache.get(def.name);
    if (cached && needed.every((n) => cached.has(n.toLowerCase()))) return;
    this.checkTableName(def.name, file);
    await this.serialised(def.name, () =>
      this.withRetry(
        { what: `prepare table ${def.name}`, privileges: ['CREATE', 'ALTER', 'INDEX'] },
        async () => {
          const conn = await this.acquire();
          try {
            let have = await readColumns(conn, def.name);
            if (have.size === 0) {
              await this.ddl(conn, createTableSql(def, extra), `create table ${def.name}`, ['CREATE', 'INDEX']);
            } else {
              const byName = new Map(physicalColumns(def).map((c) => [c.name.toLowerCase(), c]));
              const missing: ColumnDef[] = [];
              for (const name of needed) {
                const lower = name.toLowerCase();
                if (have.has(lower) || missing.some((m) => m.name.toLowerCase() === lower)) continue;
                missing.push(byName.get(lower) ?? { name, type: 'longtext' });
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
                await this.ddl(conn, addColumnsSql(def, missing), `add columns to ${def.name}`, ['ALTER']);
              }
            }
            have = await readColumns(conn, def.name);
            this.columnsCache.set(def.name, have);
          } finally {
            conn.release().catch(() => undefined);
          }
        },
        file,
      ),
    );
  }

  private async serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tableLocks.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    this.tableLocks.set(key, next);
    try {
      return await next;
    } finally {
      if (this.tableLocks.get(key) === next) this.tableLocks.delete(key);
    }
  }

  /** @internal Forgets cached columns (after a unit saw a schema error). */
  forgetTable(name: string): void {
    this.columnsCache.delete(name);
  }

  // ------------------------------------------------------------------------------------------
  // RelationalStore

  /** Starts replacing one course's snapshot of one table (invisible to readers until commit). */
  async beginSnapshot(spec: SnapshotSpec): Promise<SnapshotWriter> {
    this.assertNotClosed();
    const def = spec.table;
    if (!isSnapshotTable(def)) {
      throw new LoadError(`${def.name} is not a weekly snapshot table.`, { code: 'WRONG_TABLE_KIND', file: spec.origin.fileKey });
    }
    if (spec.columns.some((c) => c.toLowerCase() === ROW_ID_COLUMN)) {
      throw new LoadError(`${spec.origin.fileKey} has a column named ${ROW_ID_COLUMN}, which the MariaDB store reserves for its row ids.`, {
        code: 'COLUMN_NAME_RESERVED',
        file: spec.origin.fileKey,
        hint: 'This is a bug in pds: a file column with the name of a column pds adds is read as src_{name}. Please report it with the file name.',
      });
    }
    const known = new Set(physicalColumns(def).map((c) => c.name.toLowerCase()));
    await this.ensureTable(
      def,
      spec.columns.filter((c) => !known.has(c.toLowerCase())),
      spec.origin.fileKey,
    );
    return this.openUnit(new SnapshotUnit(this, spec));
  }

  /** Starts a unit of keyed inserts (designated event rows of one file). */
  async beginKeyed(origin: LoadOrigin): Promise<KeyedRowsWriter> {
    this.assertNotClosed();
    return this.openUnit(new KeyedUnit(this, origin));
  }

  /** Registers a unit and opens its transaction; a unit that fails to open is forgotten. */
  private async openUnit<U extends MariaDbUnit>(unit: U): Promise<U> {
    this.units.add(unit);
    try {
      await unit.open();
    } catch (error) {
      this.units.delete(unit);
      throw error;
    }
    return unit;
  }

  /** @internal */
  unitDone(unit: MariaDbUnit): void {
    this.units.delete(unit);
  }

  /**
   * Runs a read-only query for reports (`?` placeholders) in a READ ONLY transaction. Datetimes
   * come back as `YYYY-MM-DD HH:MM:SS[.ffffff]`, dates as `YYYY-MM-DD`, BIGINT as numbers (or
   * strings beyond 2^53), DECIMAL sums as numbers.
   */
  async query<T = Record<string, unknown>>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    this.assertNotClosed();
    if (!READ_ONLY_RE.test(sql)) {
      throw new LoadError('Only read-only SELECT queries can be run as reports.', { code: 'QUERY_NOT_READ_ONLY' });
    }
    return this.withRetry({ what: 'run a report query', privileges: ['SELECT'] }, async () => {
      const conn = await this.acquire();
      try {
        await conn.query('START TRANSACTION READ ONLY');
        const rows: unknown = await conn.query({ sql, typeCast }, params);
        await conn.query('COMMIT');
        return Array.isArray(rows) ? (Array.from(rows) as T[]) : [];
      } finally {
        conn.release().catch(() => undefined);
      }
    });
  }

  /**
   * @internal Whether the unit `unitId` committed, asked on a fresh connection after the one that
   * sent COMMIT was lost. `undefined` when the server cannot be asked.
   */
  async wasCommitted(unitId: string): Promise<boolean | undefined> {
    try {
      return await this.withRetry({ what: 'confirm a commit', privileges: ['SELECT'] }, async () => {
        const rows = (await this.getPool().query(`SELECT 1 AS ok FROM ${LOADS_TABLE} WHERE unit_id = ?`, [unitId])) as unknown[];
        return rows.length > 0;
      });
    } catch {
      return undefined;
    }
  }

  // ------------------------------------------------------------------------------------------
  // pds db check

  /**
   * Checks connectivity, the database, the account's privileges on it, the schema version and
   * the bulk path, without changing anything. Never throws: problems are in `detail`.
   */
  async check(): Promise<MariaDbCheckResult> {
    const ctx = this.errorContext();
    let conn: Connection | undefined;
    try {
      conn = await mariadb.createConnection({ ...this.connectionConfig(false), connectTimeout: this.options.connectTimeoutMs ?? 10_000 });
      const facts = await readFacts(conn);
      const account = facts.account;
      const db = this.options.database;
      const warnings: string[] = [];
      const problems: string[] = [];
      const grantCtx: MariaDbErrorContext = { ...ctx, account };

      const exists = ((await conn.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [db])) as unknown[]).length > 0;
      const privileges = await readPrivileges(conn, account, db);
      const missing = REQUIRED_PRIVILEGES.filter((p) => !privileges.includes(p));
      let schemaVersion = 0;
      if (exists) {
        const t = (await conn.query('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db, SCHEMA_VERSION_TABLE])) as unknown[];
        if (t.length > 0) {
          const rows = (await conn.query(`SELECT MAX(version) AS v FROM ${quoteIdent(db)}.${SCHEMA_VERSION_TABLE}`)) as { v: number | null }[];
          schemaVersion = Number(rows[0]?.v ?? 0);
        }
      } else if (!privileges.includes('CREATE')) {
        problems.push(`The database ${db} does not exist and ${account} may not create it: the DBA must run CREATE DATABASE ${quoteIdent(db)} CHARACTER SET ${CHARSET} COLLATE ${COLLATION}; ${grantStatement(grantCtx, REQUIRED_PRIVILEGES)}`);
      }
      if (missing.length > 0) problems.push(`${account} lacks ${missing.join(', ')} on ${db}: the DBA must run ${grantStatement(grantCtx, missing)}`);
      if (schemaVersion > MARIADB_SCHEMA_VERSION) problems.push(`The schema (version ${schemaVersion}) is newer than this pds knows (${MARIADB_SCHEMA_VERSION}): upgrade pds.`);
      if (facts.readOnly) problems.push(`The server is read-only (read_only = ON): point this environment at the primary, not a replica.`);

      let bulkMethod: MariaDbBulkMethod = this.options.bulkMethod ?? DEFAULT_BULK_METHOD;
      if (bulkMethod === 'load-data' && !facts.localInfile) {
        warnings.push('local_infile is OFF on the server: loads fall back from LOAD DATA LOCAL INFILE to batch() INSERTs. To use LOAD DATA the DBA must run SET GLOBAL local_infile = ON.');
        bulkMethod = 'batch';
      }
      if (facts.binlogFormat.toUpperCase() === 'STATEMENT') {
        warnings.push('binlog_format is STATEMENT: loads run at REPEATABLE READ (more lock waits between concurrent loads). ROW or MIXED is recommended.');
      }
      if (facts.galera) {
        warnings.push('Galera cluster: each snapshot replace is one write set, which must stay below wsrep_max_ws_size (at most 2 GB): for larger table files add wsrep_trx_fragment_unit: bytes and wsrep_trx_fragment_size: 67108864 to the relational target\'s sessionVariables; add wsrep_sync_wait: 1 for reads that must see the latest load.');
      }
      if (facts.maxAllowedPacket < 16 * 1024 * 1024) {
        warnings.push(`max_allowed_packet is ${facts.maxAllowedPacket} bytes: rows larger than that cannot be loaded (16 MB or more is recommended).`);
      }

      const state =
        schemaVersion === 0 ? 'not initialised yet (init creates it)' : schemaVersion === MARIADB_SCHEMA_VERSION ? `schema version ${schemaVersion} (current)` : `schema version ${schemaVersion}`;
      const head = `Connected to MariaDB ${facts.version} at ${ctx.server} as ${account}; database ${db}: ${exists ? state : 'absent'}; bulk load: ${bulkMethod === 'load-data' ? 'LOAD DATA LOCAL INFILE' : 'batched INSERT'}.`;
      return {
        ok: problems.length === 0,
        detail: [head, ...problems].join(' '),
        version: facts.version,
        schemaVersion,
        privileges,
        warnings,
        bulkMethod,
      };
    } catch (error) {
      const e = toMariaDbLoadError(error, { what: 'connect', privileges: [] }, ctx);
      return { ok: false, detail: `${e.message}${e.hint ? ` ${e.hint}` : ''}` };
    } finally {
      await conn?.end().catch(() => undefined);
    }
  }
}

async function readFacts(conn: Connection): Promise<ServerFacts> {
  const [row] = (await conn.query(
    'SELECT VERSION() AS `version`, @@local_infile AS `local_infile`, @@max_allowed_packet AS `max_allowed_packet`, @@binlog_format AS `binlog_format`, @@read_only AS `read_only`, CURRENT_USER() AS `account`',
  )) as { version: string; local_infile: number; max_allowed_packet: number; binlog_format: string; read_only: number; account: string }[];
  const wsrep = (await conn.query("SHOW GLOBAL VARIABLES LIKE 'wsrep_on'")) as { Value: string }[];
  return {
    version: row.version,
    localInfile: Number(row.local_infile) === 1,
    maxAllowedPacket: Number(row.max_allowed_packet),
    binlogFormat: String(row.binlog_format ?? 'MIXED'),
    galera: wsrep.length > 0 && String(wsrep[0].Value).toUpperCase() === 'ON',
    readOnly: Number(row.read_only) === 1,
    account: accountOf(row.account),
  };
}

async function readColumns(conn: Connection, table: string): Promise<Set<string>> {
  const rows = (await conn.query('SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [table])) as { c: string }[];
  return new Set(rows.map((r) => r.c.toLowerCase()));
}

/**
 * Privileges of `account` that apply to database `db`: global ones and database-level ones
 * (grant patterns such as `pds\_%` included). Role grants are not expanded.
 */
async function readPrivileges(conn: Connection, account: string, db: string): Promise<string[]> {
  const rows = (await conn.query(
    `SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?
     UNION SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ? AND ? LIKE TABLE_SCHEMA`,
    [account, account, db],
  )) as { p: string }[];
  return [...new Set(rows.map((r) => r.p))].sort();
}

// ---------------------------------------------------------------------------------------------
// Units of work

type UnitState = 'open' | 'stale' | 'committed' | 'aborted' | 'failed';

/** Common machinery of a unit: its connection and transaction, the replay log, recovery. */
abstract class MariaDbUnit {
  protected conn: PoolConnection | undefined;
  protected state: UnitState = 'open';
  /** Sent in this transaction and re-sendable after a transient error; null once past the replay limit. */
  private log: unknown[] | null = [];
  private logBytes = 0;
  private inflight: Promise<unknown> | undefined;
  private recoveries = 0;
  /** Key of this unit's `pds_loads` row. */
  protected readonly unitId = randomUUID();

  constructor(
    protected readonly store: MariaDbStore,
    protected readonly file: string,
  ) {}

  /** Runs right after START TRANSACTION (locks, deletes). Returns 'stale' to end the unit as a no-op. */
  protected abstract prologue(conn: PoolConnection): Promise<'ok' | 'stale'>;
  /** Sends one recorded operation. */
  protected abstract send(conn: PoolConnection, op: unknown): Promise<unknown>;
  /** Bytes an operation holds in memory, for the replay limit. */
  protected abstract opBytes(op: unknown): number;
  /** Bookkeeping written in the transaction just before COMMIT. */
  protected abstract epilogue(conn: PoolConnection): Promise<void>;

  /** Opens the transaction (with retries: nothing has been sent yet). */
  async open(): Promise<void> {
    await this.guarded({ what: 'start a load', privileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] }, () => this.startTransaction());
  }

  private async startTransaction(): Promise<void> {
    const conn = await this.store.acquire();
    this.conn = conn;
    if (this.store.readCommitted) await conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
    await conn.query('START TRANSACTION');
    if ((await this.prologue(conn)) === 'stale') {
      await this.dropConnection(false);
      this.state = 'stale';
    }
  }

  protected assertUsable(what: string): void {
    if (this.state === 'open' || this.state === 'stale') return;
    if (this.state === 'failed') {
      throw new LoadError(`Cannot ${what}: an earlier error ended this load and rolled it back; nothing of it was committed.`, {
        code: 'TRANSACTION_LOST',
        file: this.file,
        retryable: true,
        hint: 'Load the file again.',
      });
    }
    throw new LoadError(`Cannot ${what}: this load was already ${this.state}.`, { code: 'UNIT_FINISHED', file: this.file });
  }

  /**
   * Runs `fn`; on a transient error starts a new transaction, re-sends the log and runs `fn`
   * again. Any other error (or no replay possible) ends the unit and is thrown as a LoadError.
   */
  protected async guarded<T>(op: MariaDbOperation, fn: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await fn();
      } catch (error) {
        const outcome = error instanceof PdsError ? error : await this.recover(error);
        if (outcome === 'recovered') continue;
        await this.fail();
        throw toMariaDbLoadError(outcome, op, this.store.errorContext(this.file));
      }
    }
  }

  /**
   * After a transient error: a new transaction with the log re-sent, up to `retryAttempts` times.
   * Returns 'recovered', or the error to report (the latest one) when that is not possible.
   */
  private async recover(error: unknown): Promise<'recovered' | unknown> {
    let current = error;
    while (isTransientMariaDbError(current) && this.log !== null && this.recoveries < this.store.retryAttempts) {
      const delay = this.store.retryDelay(this.recoveries);
      this.recoveries++;
      await this.dropConnection(isConnectionLost(current));
      this.inflight = undefined;
      await sleep(delay);
      try {
        await this.startTransaction();
        if (this.state === 'stale') return 'recovered';
        for (const op of this.log) await this.send(this.conn!, op);
        return 'recovered';
      } catch (again) {
        current = again;
      }
    }
    return current;
  }

  /** Keeps `op` for replay while the log stays under the limit. */
  protected record(op: unknown): void {
    if (this.log === null) return;
    this.logBytes += this.opBytes(op);
    if (this.logBytes > this.store.replayLimitBytes) this.log = null;
    else this.log.push(op);
  }

  /** Sends `op` without waiting for it (one statement in flight), after the previous one succeeded. */
  protected async dispatch(op: unknown): Promise<void> {
    await this.settle();
    if (this.state !== 'open') return;
    this.record(op);
    const p = this.send(this.conn!, op);
    p.catch(() => undefined); // observed by settle()
    this.inflight = p;
  }

  /** Waits for the statement in flight; throws its error. */
  protected async settle(): Promise<void> {
    const p = this.inflight;
    this.inflight = undefined;
    if (p) await p;
  }

  /** Sends `op` and waits, recording it for replay only once it succeeded. */
  protected async execute<T>(op: unknown): Promise<T> {
    await this.settle();
    const result = (await this.send(this.conn!, op)) as T;
    this.record(op);
    return result;
  }

  /** Bookkeeping + COMMIT; when the connection drops during COMMIT, asks the server what happened. */
  protected async finish(): Promise<void> {
    const conn = this.conn!;
    await this.epilogue(conn);
    try {
      await conn.query('COMMIT');
    } catch (error) {
      if (!isConnectionLost(error)) throw error;
      await this.dropConnection(true);
      const committed = await this.store.wasCommitted(this.unitId);
      if (committed === true) {
        this.done('committed');
        return;
      }
      if (committed === undefined) {
        this.done('failed');
        throw new LoadError(`The connection to MariaDB (${this.store.describeTarget()}) was lost during COMMIT and the server could not be asked whether it committed.`, {
          code: 'COMMIT_UNCERTAIN',
          file: this.file,
          retryable: true,
          hint: 'Run the load again: a snapshot replaces itself and keyed rows skip ids already present, so nothing is doubled either way.',
        });
      }
      throw error; // not committed: recover() replays the unit
    }
    await this.dropConnection(false);
    this.done('committed');
  }

  /** Ends the unit after an error: rolls back what the server still holds. */
  private async fail(): Promise<void> {
    await this.dropConnection(false, true);
    this.done('failed');
  }

  /** Rolls back the transaction; the previous state stays. Safe to repeat and after errors. */
  async abort(): Promise<void> {
    if (this.state === 'committed' || this.state === 'aborted' || this.state === 'failed') {
      if (this.state === 'failed') this.done('aborted');
      return;
    }
    const p = this.inflight;
    this.inflight = undefined;
    if (p) await p.catch(() => undefined);
    await this.dropConnection(false, true);
    this.done('aborted');
  }

  /** Returns the connection: destroyed when lost (the server rolls back), else rolled back and released. */
  private async dropConnection(lost: boolean, rollback = true): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    if (!conn) return;
    if (lost || !conn.isValid()) {
      conn.destroy();
      return;
    }
    try {
      if (rollback) await conn.query('ROLLBACK');
      await conn.release();
    } catch {
      conn.destroy();
    }
  }

  protected done(state: UnitState): void {
    this.state = state;
    this.store.unitDone(this);
  }
}

function valueBug(error: UnencodableValueError, file: string): LoadError {
  return new LoadError(`A row has an unusable value (${error.message}); this is a bug in the loader.`, { code: 'ROW_VALUE_INVALID', file });
}

/** One chunk of a snapshot: rows and, for LOAD DATA, their encoding. */
interface SnapshotOp {
  rows: SqlValue[][];
  /** LOAD DATA payload; undefined when the chunk goes through `batch()`. */
  payload: Buffer[] | undefined;
  bytes: number;
  /** 1-based index of the chunk, for messages. */
  index: number;
}

/** A snapshot replace: one transaction per course and table (see the file comment). */
class SnapshotUnit extends MariaDbUnit implements SnapshotWriter {
  private readonly spec: SnapshotSpec;
  private readonly table: string;
  private readonly width: number;
  private replaced = 0;
  private staleRows = 0;
  /** Rows sent in this unit (replays not counted twice): the snapshot's row count. */
  private rowsSent = 0;
  private chunks = 0;
  private pending: SnapshotOp | undefined;
  private constants: ConstantColumn[] | undefined;
  private loadSqlText: string | undefined;
  private insertSqlText: string | undefined;

  constructor(store: MariaDbStore, spec: SnapshotSpec) {
    super(store, spec.origin.fileKey);
    this.spec = spec;
    this.table = spec.table.name;
    this.width = spec.columns.length;
  }

  protected async prologue(conn: PoolConnection): Promise<'ok' | 'stale'> {
    const { courseKey, snapshotDate, origin } = this.spec;
    // Claim the (table, course) row: inserted when new, locked when present. A concurrent load of
    // the same course and table waits here until this one commits or rolls back.
    await conn.query(
      `INSERT INTO ${SNAPSHOTS_TABLE} (table_name, course_key, snapshot_date, row_count, file_key, load_id, loaded_at)
       VALUES (?, ?, ?, 0, ?, ?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE table_name = table_name`,
      [this.table, courseKey, snapshotDate, origin.fileKey, origin.loadId],
    );
    const [stored] = (await conn.query(`SELECT snapshot_date, row_count FROM ${SNAPSHOTS_TABLE} WHERE table_name = ? AND course_key = ? FOR UPDATE`, [
      this.table,
      courseKey,
    ])) as { snapshot_date: string; row_count: number }[];
    if (stored !== undefined && String(stored.snapshot_date) > snapshotDate) {
      this.staleRows = Number(stored.row_count);
      return 'stale';
    }
    const result = (await conn.query(`DELETE FROM ${quoteIdent(this.table)} WHERE course_key = ?`, [courseKey])) as UpsertResult;
    this.replaced = Number(result.affectedRows);
    this.constants = [
      { column: 'course_key', literal: conn.escape(courseKey) },
      { column: 'snapshot_date', literal: conn.escape(snapshotDate) },
      { column: LOAD_ID_COLUMN.name, literal: conn.escape(origin.loadId) },
    ];
    return 'ok';
  }

  private get op(): MariaDbOperation {
    return { what: `write rows to ${this.table}`, privileges: ['INSERT', 'DELETE', 'UPDATE'] };
  }

  async write(rows: SqlValue[][]): Promise<void> {
    this.assertUsable('write');
    if (this.state === 'stale' || rows.length === 0) return;
    for (const row of rows) {
      if (row.length !== this.width) {
        throw new LoadError(`A row for ${this.table} has ${row.length} values for ${this.width} columns (a loader bug).`, { code: 'ROW_WIDTH', file: this.file });
      }
    }
    let ready: SnapshotOp[];
    try {
      ready = this.chunksOf(rows);
    } catch (error) {
      throw error instanceof UnencodableValueError ? valueBug(error, this.file) : error;
    }
    for (const op of ready) await this.guarded(this.op, () => this.dispatch(op));
  }

  /** Adds rows to the pending chunk; returns the chunks that are full and ready to send. */
  private chunksOf(rows: SqlValue[][]): SnapshotOp[] {
    const ready: SnapshotOp[] = [];
    const target = this.store.chunkBytes;
    const add = (slice: SqlValue[][], payload: Buffer | undefined, bytes: number): void => {
      if (this.pending && this.pending.bytes + bytes > target) ready.push(this.takePending()!);
      if (!this.pending) this.pending = { rows: [], payload: payload ? [] : undefined, bytes: 0, index: 0 };
      for (const r of slice) this.pending.rows.push(r);
      if (payload) this.pending.payload?.push(payload);
      this.pending.bytes += bytes;
      if (this.pending.bytes >= target) ready.push(this.takePending()!);
    };
    if (this.store.bulkMethod === 'load-data') {
      this.encode(rows, add);
    } else {
      let bytes = 0;
      for (const r of rows) bytes += approximateRowBytes(r);
      add(rows, undefined, bytes);
    }
    return ready;
  }

  /** Encodes rows for LOAD DATA, splitting a batch whose encoding would not fit one statement. */
  private encode(rows: SqlValue[][], add: (slice: SqlValue[][], payload: Buffer, bytes: number) => void): void {
    const payload = Buffer.from(encodeLoadDataRows(rows), 'utf8');
    if (payload.length <= this.store.chunkBytes || (rows.length === 1 && payload.length <= this.store.maxPayloadBytes)) {
      add(rows, payload, payload.length);
      return;
    }
    if (rows.length === 1) {
      throw new LoadError(`A row for ${this.table} is ${payload.length} bytes, more than the server's max_allowed_packet allows.`, {
        code: 'DB_PACKET_TOO_LARGE',
        file: this.file,
        hint: 'The DBA must raise max_allowed_packet (e.g. SET GLOBAL max_allowed_packet = 1073741824, and the same under [mariadbd]); then run again.',
      });
    }
    const half = Math.ceil(rows.length / 2);
    this.encode(rows.slice(0, half), add);
    this.encode(rows.slice(half), add);
  }

  private takePending(): SnapshotOp | undefined {
    const op = this.pending;
    this.pending = undefined;
    if (op) op.index = ++this.chunks;
    return op;
  }

  protected opBytes(op: unknown): number {
    return (op as SnapshotOp).bytes * (1 + ROW_MEMORY_FACTOR);
  }

  protected async send(conn: PoolConnection, raw: unknown): Promise<void> {
    const op = raw as SnapshotOp;
    if (op.payload !== undefined && this.store.bulkMethod === 'load-data') {
      try {
        await this.sendLoadData(conn, op, op.payload);
        return;
      } catch (error) {
        // local_infile switched off under us: the statement did nothing, the transaction goes on.
        if (classifyMariaDbError(error) !== 'local-infile') throw error;
        this.store.fallBackToBatch();
      }
    }
    await this.sendBatch(conn, op);
  }

  private async sendLoadData(conn: PoolConnection, op: SnapshotOp, payload: Buffer[]): Promise<void> {
    this.loadSqlText ??= loadDataSql(this.table, this.spec.columns, this.constants!);
    const result = (await conn.query({ sql: this.loadSqlText, infileStreamFactory: () => Readable.from(payload) }, [])) as UpsertResult;
    // LOAD DATA LOCAL turns refusals into warnings (the server cannot stop the client mid-file),
    // so a warning is an error here: values arrive checked, and none is expected.
    const { rows, warnings } = affected(result);
    if (warnings > 0) await this.refuseWarnings(conn, op);
    this.checkStored(rows, op);
  }

  /** Every row of a chunk must have been stored: values are checked before they are sent. */
  private checkStored(rows: number, op: SnapshotOp): void {
    if (rows === op.rows.length) return;
    throw new LoadError(`MariaDB stored ${rows} of ${op.rows.length} rows of chunk ${op.index} for ${this.table}.`, {
      code: 'DB_ROW_COUNT_MISMATCH',
      file: this.file,
      batch: op.index,
      hint: 'Values are checked before loading, so this is a bug in pds; please report it with the file name.',
    });
  }

  private async refuseWarnings(conn: PoolConnection, op: SnapshotOp): Promise<never> {
    const list = (await conn.query('SHOW WARNINGS LIMIT 10')) as { Code: number }[];
    const codes = [...new Set(list.map((w) => Number(w.Code)))].join(', ');
    throw new LoadError(`MariaDB adjusted values while loading chunk ${op.index} into ${this.table} (warning codes ${codes}).`, {
      code: 'DB_VALUE_REJECTED',
      file: this.file,
      batch: op.index,
      dbCode: list[0]?.Code,
      hint: 'Values are checked before loading, so this is a bug in pds (or the table was changed by hand); please report it with the file name.',
    });
  }

  private async sendBatch(conn: PoolConnection, op: SnapshotOp): Promise<void> {
    this.insertSqlText ??= insertSql(this.table, this.spec.columns, this.constants!);
    const result = (await conn.batch(this.insertSqlText, op.rows)) as UpsertResult | UpsertResult[];
    const { rows } = affected(result);
    this.checkStored(rows, op);
  }

  protected async epilogue(conn: PoolConnection): Promise<void> {
    const { courseKey, snapshotDate, origin } = this.spec;
    await conn.query(
      `UPDATE ${SNAPSHOTS_TABLE} SET snapshot_date = ?, row_count = ?, file_key = ?, load_id = ?, loaded_at = UTC_TIMESTAMP(6) WHERE table_name = ? AND course_key = ?`,
      [snapshotDate, this.rowsSent, origin.fileKey, origin.loadId, this.table, courseKey],
    );
    await conn.query(
      `INSERT INTO ${LOADS_TABLE} (unit_id, kind, load_id, file_key, table_name, course_key, row_count, committed_at) VALUES (?, 'snapshot', ?, ?, ?, ?, ?, UTC_TIMESTAMP(6))`,
      [this.unitId, origin.loadId, origin.fileKey, this.table, courseKey, this.rowsSent],
    );
  }

  async commit(): Promise<SnapshotCommitResult> {
    this.assertUsable('commit');
    if (this.state === 'open') {
      const last = this.takePending();
      if (last) await this.guarded(this.op, () => this.dispatch(last));
      await this.guarded(this.op, () => this.settle());
    }
    // A recovery may also find the snapshot stale (a newer one committed meanwhile): then stop.
    if (this.state === 'open') {
      await this.guarded({ what: `replace the ${this.table} snapshot`, privileges: ['INSERT', 'UPDATE', 'DELETE'] }, async () => {
        if (this.state === 'open') await this.finish();
      });
    }
    if (this.state === 'stale') {
      this.done('committed');
      return { rows: this.staleRows, replacedRows: 0, stale: true };
    }
    return { rows: this.rowsSent, replacedRows: this.replaced, stale: false };
  }

  protected override async dispatch(op: unknown): Promise<void> {
    await super.dispatch(op);
    if (this.state === 'open') this.rowsSent += (op as SnapshotOp).rows.length;
  }
}

/** One recorded keyed insert. */
interface KeyedOp {
  def: TableDef;
  rows: SqlValue[][];
  bytes: number;
}

/** A unit of keyed inserts (designated events of one file), idempotent on the primary key. */
class KeyedUnit extends MariaDbUnit implements KeyedRowsWriter {
  private readonly origin: LoadOrigin;
  private inserted = 0;
  /** Tables this unit has written: altering them now would wait on our own metadata lock. */
  private readonly touched = new Set<string>();
  private readonly statements = new Map<string, string>();

  constructor(store: MariaDbStore, origin: LoadOrigin) {
    super(store, origin.fileKey);
    this.origin = origin;
  }

  protected async prologue(): Promise<'ok'> {
    return 'ok';
  }

  /** Overlapping calls run one at a time, in the order made (ports: KeyedRowsWriter). */
  private queue: Promise<unknown> = Promise.resolve();

  write(def: TableDef, rows: SqlValue[][]): Promise<KeyedWriteResult> {
    const run = this.queue.then(() => this.writeNow(def, rows));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async writeNow(def: TableDef, rows: SqlValue[][]): Promise<KeyedWriteResult> {
    this.assertUsable('write');
    if (isSnapshotTable(def)) {
      throw new LoadError(`${def.name} is a weekly snapshot table, not a keyed table.`, { code: 'WRONG_TABLE_KIND', file: this.file });
    }
    if (rows.length === 0) return { inserted: 0, duplicates: 0 };
    const width = def.columns.length;
    for (const row of rows) {
      if (row.length !== width) {
        throw new LoadError(`A row for ${def.name} has ${row.length} values for ${width} columns (a loader bug).`, { code: 'ROW_WIDTH', file: this.file });
      }
    }
    await this.store.ensureTable(def, [], this.file, !this.touched.has(def.name));
    this.touched.add(def.name);
    let inserted = 0;
    for (let i = 0; i < rows.length; i += KEYED_BATCH_ROWS) {
      const slice = rows.slice(i, i + KEYED_BATCH_ROWS);
      let bytes = 0;
      for (const r of slice) bytes += approximateRowBytes(r);
      const op: KeyedOp = { def, rows: slice, bytes };
      inserted += await this.guarded({ what: `write rows to ${def.name}`, privileges: ['INSERT'] }, () => this.execute<number>(op));
    }
    this.inserted += inserted;
    return { inserted, duplicates: rows.length - inserted };
  }

  protected opBytes(op: unknown): number {
    return (op as KeyedOp).bytes * ROW_MEMORY_FACTOR;
  }

  protected async send(conn: PoolConnection, raw: unknown): Promise<number> {
    const op = raw as KeyedOp;
    let sql = this.statements.get(op.def.name);
    if (sql === undefined) {
      sql = insertSql(op.def.name, op.def.columns.map((c) => c.name), [], true);
      this.statements.set(op.def.name, sql);
    }
    const result = (await conn.batch(sql, op.rows)) as UpsertResult | UpsertResult[];
    const { rows, warnings } = affected(result);
    // INSERT IGNORE warns once per duplicate (1062); any other warning is a value MariaDB
    // adjusted, which strict mode would have refused: treat it as the error it is.
    if (warnings > op.rows.length - rows) {
      const list = (await conn.query('SHOW WARNINGS LIMIT 64')) as { Code: number }[];
      const codes = [...new Set(list.map((w) => Number(w.Code)).filter((c) => c !== 1062))];
      if (codes.length > 0) {
        throw new LoadError(`MariaDB adjusted values while inserting into ${op.def.name} (warning codes ${codes.join(', ')}).`, {
          code: 'DB_VALUE_REJECTED',
          file: this.file,
          dbCode: codes[0],
          hint: 'Values are fitted to their columns before loading, so this is a bug in pds; please report it with the file name.',
        });
      }
    }
    return rows;
  }

  protected async epilogue(conn: PoolConnection): Promise<void> {
    await conn.query(
      `INSERT INTO ${LOADS_TABLE} (unit_id, kind, load_id, file_key, table_name, course_key, row_count, committed_at) VALUES (?, 'keyed', ?, ?, NULL, NULL, ?, UTC_TIMESTAMP(6))`,
      [this.unitId, this.origin.loadId, this.origin.fileKey, this.inserted],
    );
  }

  async commit(): Promise<void> {
    this.assertUsable('commit');
    await this.guarded({ what: 'commit keyed rows', privileges: ['INSERT'] }, () => this.finish());
  }
}
