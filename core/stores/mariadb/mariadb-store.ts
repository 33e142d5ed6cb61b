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
 *
 * Files: connection settings and server facts (`mariadb-connection.ts`), schema and migrations
 * (`mariadb-schema.ts`), `pds db check` (`mariadb-check.ts`), the unit base and what units use of
 * the store (`mariadb-unit.ts`, `MariaDbUnitHost`), the two units (`mariadb-snapshot-unit.ts`,
 * `mariadb-keyed-unit.ts`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import * as mariadb from 'mariadb';
import type { Pool, PoolConnection } from 'mariadb';
import type { SqlValue } from '../../domain/records.js';
import type { TableDef } from '../../domain/schema-types.js';
import { isSnapshotTable } from '../../domain/tables.js';
import { LoadError, PdsError } from '../../errors/index.js';
import type { KeyedRowsWriter, LoadOrigin, RelationalStore, SnapshotSpec, SnapshotWriter } from '../ports.js';
import { checkMariaDb, type MariaDbCheckResult } from './mariadb-check.js';
import {
  connectionConfig,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_QUERY_TIMEOUT_MS,
  poolConfig,
  readFacts,
  serverLabel,
  typeCast,
  type ServerFacts,
} from './mariadb-connection.js';
import { checkTableName, physicalColumns } from '../sql-schema.js';
import { LOADS_TABLE, ROW_ID_COLUMN } from './mariadb-ddl.js';
import { isTransientMariaDbError, toMariaDbLoadError, type MariaDbErrorContext, type MariaDbOperation } from './mariadb-errors.js';
import { KeyedUnit } from './mariadb-keyed-unit.js';
import { DEFAULT_BULK_METHOD, type MariaDbBulkMethod } from './mariadb-load-data.js';
import { ensureDatabase, prepareTable, reconcileSchema } from './mariadb-schema.js';
import { SnapshotUnit } from './mariadb-snapshot-unit.js';
import type { MariaDbUnit, MariaDbUnitHost } from './mariadb-unit.js';

export { MARIADB_BULK_METHODS, DEFAULT_BULK_METHOD, type MariaDbBulkMethod } from './mariadb-load-data.js';
export { MARIADB_SCHEMA_VERSION } from './mariadb-schema.js';
export type { MariaDbCheckResult } from './mariadb-check.js';

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
  /**
   * Longest silence of the server during a statement, ms: the connection is then dropped (the
   * server rolls the unit back) and the load fails with `TARGET_NOT_ANSWERING`. Default 300,000.
   */
  queryTimeoutMs?: number;
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

/** Statements `query()` runs: reads only (also enforced by a READ ONLY transaction). */
const READ_ONLY_RE = /^(?:\s|\/\*[\s\S]*?\*\/|--[^\n]*\n|#[^\n]*\n)*\(*\s*(?:SELECT|WITH|SHOW|EXPLAIN|DESCRIBE|DESC|VALUES)\b/i;

/** Space left in a packet for the protocol around a LOAD DATA payload. */
const PACKET_MARGIN = 64 * 1024;

/** The MariaDB store. Create one per database and `init()` it before use. */
export class MariaDbStore implements RelationalStore, MariaDbUnitHost {
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
    await this.withRetry({ what: 'prepare the database schema', privileges: ['CREATE', 'ALTER', 'INDEX', 'CREATE VIEW'] }, async () => {
      const conn = await this.getPool().getConnection();
      try {
        for (const [table, columns] of await reconcileSchema(conn, this)) this.columnsCache.set(table, columns);
      } finally {
        conn.release().catch(() => undefined);
      }
    });
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
    return `${serverLabel(this.options)}/${this.options.database}`;
  }

  /** @internal Context for error messages. */
  errorContext(file?: string): MariaDbErrorContext {
    return {
      server: serverLabel(this.options),
      database: this.options.database,
      account: this.facts?.account ?? `'${this.options.user.replace(/'/g, "''")}'@'%'`,
      file,
      timeouts: {
        connectSeconds: (this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS) / 1000,
        querySeconds: (this.options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS) / 1000,
      },
    };
  }

  private getPool(): Pool {
    this.assertNotClosed();
    if (this.pool) return this.pool;
    this.pool = mariadb.createPool(poolConfig(this.options, this.facts?.maxAllowedPacket));
    return this.pool;
  }

  /** @internal A pooled connection (a unit keeps it for its transaction). */
  async acquire(): Promise<PoolConnection> {
    return this.getPool().getConnection();
  }

  /** Connects without a database, reads server facts, creates the database when needed. */
  private async prepareDatabase(): Promise<ServerFacts> {
    const conn = await mariadb.createConnection(connectionConfig(this.options, false, this.facts?.maxAllowedPacket));
    try {
      const facts = await readFacts(conn);
      this.facts = facts;
      await ensureDatabase(conn, this.options.database, this.options.createDatabase !== false, facts.account, this);
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
    const notice = `local_infile is OFF on ${serverLabel(this.options)}: loading with batch() INSERTs instead of LOAD DATA LOCAL INFILE. To use LOAD DATA the DBA must run SET GLOBAL local_infile = ON (and set it under [mariadbd]).`;
    if (!this.noticesList.includes(notice)) this.noticesList.push(notice);
    this.bulk = 'batch';
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

  /**
   * @internal Creates the table, or adds the columns it lacks (documented ones with their type,
   * drifted ones as LONGTEXT), on a pooled connection outside any unit's transaction. With
   * `allowAlter` false a needed ALTER is refused (the caller's transaction holds the table).
   */
  async ensureTable(def: TableDef, extra: readonly string[], file: string | undefined, allowAlter = true): Promise<void> {
    const needed = [...physicalColumns(def).map((c) => c.name), ...extra];
    const cached = this.columnsCache.get(def.name);
    if (cached && needed.every((n) => cached.has(n.toLowerCase()))) return;
    checkTableName(def.name, { target: this.describeTarget(), file });
    await this.serialised(def.name, () =>
      this.withRetry(
        { what: `prepare table ${def.name}`, privileges: ['CREATE', 'ALTER', 'INDEX'] },
        async () => {
          const conn = await this.acquire();
          try {
            this.columnsCache.set(def.name, await prepareTable(conn, { def, extra, allowAlter, file }, this));
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

  /** Names of the tables and views in the database. */
  async tableNames(): Promise<string[]> {
    const rows = await this.query<{ name: string }>('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME');
    return rows.map((r) => r.name);
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
    return checkMariaDb({
      connect: () => mariadb.createConnection(connectionConfig(this.options, false, this.facts?.maxAllowedPacket)),
      database: this.options.database,
      bulkMethod: this.options.bulkMethod ?? DEFAULT_BULK_METHOD,
      context: this.errorContext(),
    });
  }
}
