/**
 * How the MariaDB store talks to its server: the connector settings every connection and the
 * pool get (timeouts, session variables, how result values are typed), and the facts read from
 * the server when it connects. No schema and no units here: `mariadb-schema.ts` and the unit
 * files use the connections made from these settings.
 */
import type { Connection, ConnectionConfig, FieldInfo, PoolConfig, TypeCastNextFunction, TypeCastResult } from 'mariadb';
import type { MariaDbStoreOptions } from './mariadb-store.js';

/** Connect and pool-acquire timeout when the options give none, ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Longest silence of the server on a connection when the options give none, ms: a statement
 * without an answer for this long (a hung server, a half-dead network path) drops the connection,
 * and the server rolls its transaction back.
 */
export const DEFAULT_QUERY_TIMEOUT_MS = 300_000;

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

/**
 * Result values in the engine-neutral forms of the store contract: datetimes as
 * `YYYY-MM-DD HH:MM:SS[.ffffff]` (a zero fraction dropped, as `normalizeSqlDatetime` writes
 * them), BIGINT as a number when exact, else its decimal string.
 */
export function typeCast(field: FieldInfo, next: TypeCastNextFunction): TypeCastResult {
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

/** `host:port` or the socket path, for messages (never credentials). */
export function serverLabel(options: MariaDbStoreOptions): string {
  return options.socketPath ?? `${options.host ?? 'localhost'}:${options.port ?? 3306}`;
}

/**
 * Settings of one connection. `withDatabase` false connects to the server only (to create the
 * database, or to check it); `maxAllowedPacket` is the server's, once known.
 */
export function connectionConfig(options: MariaDbStoreOptions, withDatabase: boolean, maxAllowedPacket?: number): ConnectionConfig {
  const o = options;
  return {
    host: o.host ?? 'localhost',
    port: o.port ?? 3306,
    socketPath: o.socketPath,
    user: o.user,
    password: o.password,
    database: withDatabase ? o.database : undefined,
    ssl: o.ssl,
    connectTimeout: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    // The connector's socket time-out is the only wait it can end while a statement is in flight
    // (destroying a connection first asks the server to KILL it, which a hung server never answers).
    // It counts silence, so an idle pooled connection is dropped too; the pool makes a new one.
    socketTimeout: o.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
    // Only when asked for: the server could otherwise request client files (the connector
    // checks the name against our statement, and our stream factory serves memory only).
    permitLocalInfile: o.bulkMethod === 'load-data',
    dateStrings: true,
    decimalAsNumber: true,
    insertIdAsNumber: true,
    typeCast,
    sessionVariables: { ...SESSION_VARIABLES, ...(o.sessionVariables ?? {}) },
    maxAllowedPacket,
  };
}

/** Settings of the pool units and report queries take their connections from. */
export function poolConfig(options: MariaDbStoreOptions, maxAllowedPacket?: number): PoolConfig {
  return {
    ...connectionConfig(options, true, maxAllowedPacket),
    connectionLimit: options.connectionLimit ?? 8,
    // Connections are made when units need them; an idle CLI run holds one.
    minimumIdle: 1,
    acquireTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    idleTimeout: 300,
  };
}

/** Facts read from the server on connect. */
export interface ServerFacts {
  version: string;
  localInfile: boolean;
  maxAllowedPacket: number;
  binlogFormat: string;
  galera: boolean;
  readOnly: boolean;
  /** `'user'@'host'` of the authenticated account. */
  account: string;
}

/** Reads the server's version, the settings loads depend on and the authenticated account. */
export async function readFacts(conn: Connection): Promise<ServerFacts> {
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

/** `'user'@'host'` from `CURRENT_USER()`'s `user@host`. */
function accountOf(currentUser: string): string {
  const at = currentUser.lastIndexOf('@');
  const user = at < 0 ? currentUser : currentUser.slice(0, at);
  const host = at < 0 ? '%' : currentUser.slice(at + 1);
  return `'${user.replace(/'/g, "''")}'@'${host.replace(/'/g, "''")}'`;
}
