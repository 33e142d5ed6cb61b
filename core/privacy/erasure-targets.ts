/**
 * Direct access to an environment's stores for erasure and purges: deleting rows is not part of
 * the load ports, so these open their own connection (SQLite file, MariaDB connection, MongoDB
 * client) from the same configuration the loads use.
 */
import Database from 'better-sqlite3';
import type { Db as MongoDb } from 'mongodb';
import type { EnvironmentConfig } from '../config/config-schema.js';
import { isSecretRef, timeoutsOf } from '../config/config-schema.js';
import { resolvePath, resolveSecret, type EnvironmentPaths } from '../config/config-store.js';
import type { SqlValue } from '../domain/records.js';

/** One SQL database (SQLite file or MariaDB database). */
export interface SqlTarget {
  readonly dialect: 'sqlite' | 'mariadb';
  /** Human label: `SQLite envs/x/data.sqlite`, `MariaDB edx`. */
  readonly label: string;
  all<T = Record<string, unknown>>(sql: string, params?: SqlValue[]): Promise<T[]>;
  /** Runs a statement; the number of rows it changed. */
  run(sql: string, params?: SqlValue[]): Promise<number>;
  tables(): Promise<string[]>;
  columns(table: string): Promise<string[]>;
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /** After deleting: deleted rows leave no trace in free pages or the WAL (SQLite: VACUUM + checkpoint). */
  scrub(): Promise<void>;
  close(): Promise<void>;
}

export function quoteIdent(dialect: SqlTarget['dialect'], name: string): string {
  return dialect === 'sqlite' ? `"${name.replace(/"/g, '""')}"` : `\`${name.replace(/`/g, '``')}\``;
}

class SqliteTarget implements SqlTarget {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  constructor(readonly path: string, readonly label: string) {
    this.db = new Database(path, { fileMustExist: true, timeout: 30_000 });
    this.db.pragma('busy_timeout = 30000');
    // Deleted content is overwritten with zeros, not left in free pages.
    this.db.pragma('secure_delete = ON');
  }
  async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return this.db.prepare(sql).all(...(params as unknown[])) as T[];
  }
  async run(sql: string, params: SqlValue[] = []): Promise<number> {
    return this.db.prepare(sql).run(...(params as unknown[])).changes;
  }
  async tables(): Promise<string[]> {
    return (this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((r) => r.name);
  }
  async columns(table: string): Promise<string[]> {
    return (this.db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((r) => r.name);
  }
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const out = await fn();
      this.db.exec('COMMIT');
      return out;
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }
  async scrub(): Promise<void> {
    // Move everything out of the WAL, rebuild the file without free pages, and empty the WAL again.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.exec('VACUUM');
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }
  async close(): Promise<void> {
    this.db.close();
  }
}

/**
 * A MariaDB database over one connection, made again when the server or the connector dropped it
 * while pds worked elsewhere: the connector's socket time-out counts silence, and an erasure can
 * spend minutes in MongoDB between two statements. A drop is caught (never an uncaught error); a
 * statement inside a transaction on a dropped connection fails as it should.
 */
class MariaDbTarget implements SqlTarget {
  readonly dialect = 'mariadb' as const;
  private conn: import('mariadb').Connection | undefined;
  private inTransaction = false;
  constructor(
    private readonly connect: () => Promise<import('mariadb').Connection>,
    readonly label: string,
  ) {}
  /** Connects once, before the first statement (a wrong password is said at open). */
  async open(): Promise<this> {
    await this.connection();
    return this;
  }
  private async connection(): Promise<import('mariadb').Connection> {
    if (this.conn?.isValid()) return this.conn;
    if (this.inTransaction) throw new Error(`the connection to ${this.label} was lost during a transaction; nothing of it was committed`);
    const conn = await this.connect();
    conn.on('error', () => {
      if (this.conn === conn) this.conn = undefined;
    });
    this.conn = conn;
    return conn;
  }
  async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return (await (await this.connection()).query(sql, params)) as T[];
  }
  async run(sql: string, params: SqlValue[] = []): Promise<number> {
    const r = (await (await this.connection()).query(sql, params)) as { affectedRows?: number };
    return Number(r.affectedRows ?? 0);
  }
  async tables(): Promise<string[]> {
    const rows = await this.all<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'");
    return rows.map((r) => r.t);
  }
  async columns(table: string): Promise<string[]> {
    const rows = await this.all<{ c: string }>('SELECT column_name AS c FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position', [table]);
    return rows.map((r) => r.c);
  }
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const conn = await this.connection();
    await conn.beginTransaction();
    this.inTransaction = true;
    try {
      const out = await fn();
      await conn.commit();
      return out;
    } catch (error) {
      await conn.rollback().catch(() => undefined);
      throw error;
    } finally {
      this.inTransaction = false;
    }
  }
  async scrub(): Promise<void> {
    // InnoDB purges deleted records itself; nothing to do from a client.
  }
  async close(): Promise<void> {
    await this.conn?.end().catch(() => undefined);
    this.conn = undefined;
  }
}

/** The MongoDB event database, with the collection prefix applied. */
export interface MongoTarget {
  readonly label: string;
  db: MongoDb;
  name(base: string): string;
  close(): Promise<void>;
}

export interface ErasureTargets {
  relational: SqlTarget;
  /** The SQL database holding `events`, when it is not MongoDB (may be `relational` itself). */
  sqlEvents?: SqlTarget;
  mongo?: MongoTarget;
  close(): Promise<void>;
}

/** Opens the environment's targets for erasure or purge. A SQLite file not created yet: undefined. */
export async function openErasureTargets(home: string, env: string, config: EnvironmentConfig, paths: EnvironmentPaths): Promise<ErasureTargets | undefined> {
  const opened: { close(): Promise<void> }[] = [];
  const sqlite = new Map<string, SqliteTarget>();
  const closeAll = async (): Promise<void> => {
    for (const o of opened.reverse()) await o.close().catch(() => undefined);
  };
  const openSqlite = (path: string | undefined): SqliteTarget | undefined => {
    const full = path ? resolvePath(paths.root, path) : paths.sqlite;
    let t = sqlite.get(full);
    if (!t) {
      try {
        t = new SqliteTarget(full, `SQLite ${full}`);
      } catch {
        return undefined;
      }
      opened.push(t);
      sqlite.set(full, t);
    }
    return t;
  };
  try {
    const r = config.targets.relational;
    let relational: SqlTarget | undefined;
    if (r.type === 'sqlite') relational = openSqlite(r.path);
    else {
      const { mariaDbOptions } = await import('../stores/open-stores.js');
      const { connectionConfig } = await import('../stores/mariadb/mariadb-connection.js');
      const mariadb = await import('mariadb');
      const options = await mariaDbOptions(env, r, home, (ref, path) => resolveSecret(ref, home, path), config);
      const target = await new MariaDbTarget(() => mariadb.createConnection(connectionConfig(options, true)), `MariaDB ${options.database}`).open();
      opened.push(target);
      relational = target;
    }
    if (!relational) return undefined;
    const e = config.targets.events;
    if (e.type === 'sqlite') {
      const sqlEvents = openSqlite(e.path);
      return { relational, sqlEvents, close: closeAll };
    }
    const uri = isSecretRef(e.uri) ? await resolveSecret(e.uri, home, `environments.${env}.targets.events.uri`) : e.uri;
    const { MongoClient } = await import('mongodb');
    const { mongoTimeoutOptions } = await import('../stores/mongodb/mongo-connection.js');
    const client = new MongoClient(uri, mongoTimeoutOptions(uri, { connectSeconds: timeoutsOf(config).connectSeconds, querySeconds: timeoutsOf(config).querySeconds }));
    await client.connect();
    const prefix = e.collectionPrefix ?? '';
    const mongo: MongoTarget = { label: `MongoDB ${e.database}`, db: client.db(e.database), name: (base) => `${prefix}${base}`, close: () => client.close() };
    opened.push(mongo);
    return { relational, mongo, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
