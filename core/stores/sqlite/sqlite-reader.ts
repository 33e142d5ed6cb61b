/**
 * Read-only access to an SQLite database file for the reports (`ReportQueries`). The file is
 * opened read-only on a connection of its own: in WAL mode it reads the last committed state while
 * a load writes, without blocking it or being blocked by it. Never creates nor migrates the file.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { SqlValue } from '../../domain/records.js';
import { LoadError } from '../../errors/index.js';
import type { ReportQueries } from '../ports.js';
import { TABLE_NAMES_SQL } from './sqlite-ddl.js';
import { toSqliteLoadError } from './sqlite-errors.js';


export class SqliteReader implements ReportQueries {
  readonly dialect = 'sqlite' as const;
  readonly target: string;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(path: string, db: Database.Database) {
    this.target = path;
    this.db = db;
  }

  /** Opens `path` read-only; NOTHING_LOADED when the file does not exist yet. */
  static open(path: string, options: { busyTimeoutMs?: number } = {}): SqliteReader {
    if (!existsSync(path)) {
      throw new LoadError(`Nothing has been loaded yet: the database file ${path} does not exist.`, {
        code: 'NOTHING_LOADED',
        file: path,
        hint: 'Run a load first (pds run), then ask again.',
      });
    }
    try {
      const db = new Database(path, { readonly: true, fileMustExist: true, timeout: options.busyTimeoutMs ?? 10_000 });
      // Reports scan many pages of large tables: a bigger cache than the 2 MB default.
      db.pragma('cache_size = -65536');
      return new SqliteReader(path, db);
    } catch (error) {
      throw toSqliteLoadError('open the database file for reading', error, path);
    }
  }

  async query<T = Record<string, unknown>>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    try {
      let stmt = this.statements.get(sql);
      if (!stmt) {
        stmt = this.db.prepare(sql);
        if (!stmt.readonly || !stmt.reader) {
          throw new LoadError('Only read-only SELECT queries can be run as reports.', { code: 'QUERY_NOT_READ_ONLY', file: this.target });
        }
        // Integers as plain numbers: what reports read (counts, user ids, grades) is far below
        // 2^53, and safe integers (BigInt per value, converted back) cost a third of a large read.
        stmt.safeIntegers(false);
        if (this.statements.size >= 200) this.statements.clear();
        this.statements.set(sql, stmt);
      }
      return stmt.all(...params) as T[];
    } catch (error) {
      throw toSqliteLoadError('run a report query', error, this.target);
    }
  }

  async tableNames(): Promise<string[]> {
    return (await this.query<{ name: string }>(TABLE_NAMES_SQL)).map((r) => r.name);
  }

  async close(): Promise<void> {
    this.statements.clear();
    if (this.db.open) this.db.close();
  }
}
