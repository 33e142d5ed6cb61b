/**
 * MariaDB errors → `LoadError`s (docs/architecture.md §4). Classification uses the driver's `errno` and
 * `code` only, never the message text, and the server's message is never copied into
 * ours: MariaDB quotes values in many of them ("Incorrect integer value: 'abc' …", "Duplicate
 * entry …"). The `cause` kept on the LoadError is a sanitised stand-in for the same reason.
 */
import { LoadError, PdsError } from '../../errors/index.js';

/** What an error means for the unit of work that saw it. */
export type MariaDbErrorKind =
  /** The connection is gone or could not be made: the transaction (if any) is lost. */
  | 'connection'
  /** Deadlock, lock wait timeout, Galera certification conflict: try the transaction again. */
  | 'conflict'
  /** The server refused on privileges or credentials: the DBA must act. */
  | 'permission'
  /** `LOAD DATA LOCAL INFILE` is disabled (server `local_infile=OFF` or client). */
  | 'local-infile'
  /** A value or row the table refuses (a loader bug: values arrive typed and checked). */
  | 'value'
  /** A packet above `max_allowed_packet`. */
  | 'packet'
  /** The server is read-only (a replica, or `read_only=ON`). */
  | 'read-only'
  /** Disk or table full. */
  | 'full'
  | 'other';

/** Server error numbers (MariaDB/MySQL `errno`). */
const ER = {
  CON_COUNT: 1040,
  DBACCESS_DENIED: 1044,
  ACCESS_DENIED: 1045,
  UNKNOWN_COM: 1047, // Galera: "WSREP has not yet prepared node for application use"
  BAD_DB: 1049,
  SERVER_SHUTDOWN: 1053,
  RECORD_FILE_FULL: 1114,
  TOO_BIG_ROWSIZE: 1118,
  TABLEACCESS_DENIED: 1142,
  COLUMNACCESS_DENIED: 1143,
  NOT_ALLOWED_COMMAND: 1148, // LOAD DATA LOCAL disabled (older servers)
  NET_PACKET_TOO_LARGE: 1153,
  NET_READ_ERROR: 1158,
  NET_READ_INTERRUPTED: 1159,
  NET_ERROR_ON_WRITE: 1160,
  NET_WRITE_INTERRUPTED: 1161,
  ERROR_DURING_COMMIT: 1180,
  TOO_MANY_USER_CONNECTIONS: 1203,
  LOCK_WAIT_TIMEOUT: 1205,
  LOCK_DEADLOCK: 1213,
  SPECIFIC_ACCESS_DENIED: 1227,
  WARN_DATA_OUT_OF_RANGE: 1264,
  WARN_DATA_TRUNCATED: 1265,
  OPTION_PREVENTS_STATEMENT: 1290, // --read-only
  TRUNCATED_WRONG_VALUE: 1292,
  TRUNCATED_WRONG_VALUE_FOR_FIELD: 1366,
  DATA_TOO_LONG: 1406,
  ACCESS_DENIED_NO_PASSWORD: 1698,
  READ_ONLY_MODE: 1836,
  QUERY_INTERRUPTED: 1317,
  CONNECTION_KILLED: 1927,
  CLIENT_LOCAL_FILES_DISABLED: 3948, // MySQL 8 spelling of the same refusal
  LOAD_INFILE_CAPABILITY_DISABLED: 4166, // MariaDB 10.x
  CR_SERVER_GONE: 2006,
  CR_SERVER_LOST: 2013,
} as const;

/** Connector (mariadb npm) client-side error numbers meaning the connection is unusable. */
const CLIENT_CONNECTION_ERRNOS = new Set([
  45001, // ER_CONNECTION_ALREADY_CLOSED
  45004, // ER_CMD_NOT_EXECUTED_DESTROYED
  45009, // ER_SOCKET_UNEXPECTED_CLOSE
  45012, // ER_CONNECTION_TIMEOUT
  45013, // ER_CMD_CONNECTION_CLOSED
  45019, // ER_SOCKET
  45026, // ER_SOCKET_TIMEOUT
  45028, // ER_GET_CONNECTION_TIMEOUT
  45035, // ER_ADD_CONNECTION_CLOSED_POOL
  45039, // ER_INITIAL_TIMEOUT_ERROR
  45042, // ER_PING_TIMEOUT
]);
/**
 * Connector errors of a server that accepted the connection (or never refused it) but did not
 * answer in time, with the limit that ran out: the socket's silence during a statement, or the
 * connection (handshake, pool acquire, ping).
 */
const NOT_ANSWERING_ERRNOS = new Map<number, 'connectSeconds' | 'querySeconds'>([
  [45012, 'connectSeconds'], // ER_CONNECTION_TIMEOUT
  [45026, 'querySeconds'], // ER_SOCKET_TIMEOUT
  [45039, 'connectSeconds'], // ER_INITIAL_TIMEOUT_ERROR
  [45042, 'connectSeconds'], // ER_PING_TIMEOUT
]);
const GET_CONNECTION_TIMEOUT = 45028;

/**
 * Which limit ran out when the server did not answer in time, or undefined for any other error.
 * A pool that could not hand out a connection in time counts when the connection it tried to
 * make timed out too (or it had none to try), not when the server refused it.
 */
export function notAnsweringLimit(error: unknown, depth = 0): 'connectSeconds' | 'querySeconds' | undefined {
  const { errno, code } = fields(error);
  if (errno !== undefined && NOT_ANSWERING_ERRNOS.has(errno)) return NOT_ANSWERING_ERRNOS.get(errno);
  if (code === 'ETIMEDOUT') return 'connectSeconds';
  if (errno === GET_CONNECTION_TIMEOUT && depth < 3) {
    const cause = (error as DriverError).cause;
    return cause === undefined || cause === null ? 'connectSeconds' : notAnsweringLimit(cause, depth + 1);
  }
  return undefined;
}

/** Connector error number when `permitLocalInfile` is off on our side. */
const CLIENT_LOCAL_INFILE_DISABLED = 45021;
/** Connector error number for a packet above its `maxAllowedPacket`. */
const CLIENT_MAX_ALLOWED_PACKET = 45046;

/** Node socket error codes meaning the network path to the server failed. */
const NODE_CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED']);

/** The fields of a driver error this module reads. */
interface DriverError {
  errno?: unknown;
  code?: unknown;
  sqlState?: unknown;
  fatal?: unknown;
  cause?: unknown;
}

function fields(error: unknown): { errno?: number; code?: string; sqlState?: string; fatal: boolean } {
  if (typeof error !== 'object' || error === null) return { fatal: false };
  const e = error as DriverError;
  return {
    errno: typeof e.errno === 'number' ? e.errno : undefined,
    code: typeof e.code === 'string' ? e.code : undefined,
    sqlState: typeof e.sqlState === 'string' ? e.sqlState : undefined,
    fatal: e.fatal === true,
  };
}

/** Classifies a driver error by `errno` and `code`. */
export function classifyMariaDbError(error: unknown): MariaDbErrorKind {
  const { errno, code, fatal } = fields(error);
  switch (errno) {
    case ER.LOCK_DEADLOCK:
    case ER.LOCK_WAIT_TIMEOUT:
    case ER.ERROR_DURING_COMMIT:
      return 'conflict';
    case ER.CON_COUNT:
    case ER.TOO_MANY_USER_CONNECTIONS:
    case ER.UNKNOWN_COM:
    case ER.SERVER_SHUTDOWN:
    case ER.CONNECTION_KILLED:
    case ER.NET_READ_ERROR:
    case ER.NET_READ_INTERRUPTED:
    case ER.NET_ERROR_ON_WRITE:
    case ER.NET_WRITE_INTERRUPTED:
    case ER.CR_SERVER_GONE:
    case ER.CR_SERVER_LOST:
      return 'connection';
    case ER.DBACCESS_DENIED:
    case ER.ACCESS_DENIED:
    case ER.ACCESS_DENIED_NO_PASSWORD:
    case ER.TABLEACCESS_DENIED:
    case ER.COLUMNACCESS_DENIED:
    case ER.SPECIFIC_ACCESS_DENIED:
    case ER.BAD_DB:
      return 'permission';
    case ER.NOT_ALLOWED_COMMAND:
    case ER.CLIENT_LOCAL_FILES_DISABLED:
    case ER.LOAD_INFILE_CAPABILITY_DISABLED:
    case CLIENT_LOCAL_INFILE_DISABLED:
      return 'local-infile';
    case ER.NET_PACKET_TOO_LARGE:
    case CLIENT_MAX_ALLOWED_PACKET:
      return 'packet';
    case ER.OPTION_PREVENTS_STATEMENT:
    case ER.READ_ONLY_MODE:
      return 'read-only';
    case ER.RECORD_FILE_FULL:
      return 'full';
    case ER.WARN_DATA_OUT_OF_RANGE:
    case ER.WARN_DATA_TRUNCATED:
    case ER.TRUNCATED_WRONG_VALUE:
    case ER.TRUNCATED_WRONG_VALUE_FOR_FIELD:
    case ER.DATA_TOO_LONG:
    case ER.TOO_BIG_ROWSIZE:
      return 'value';
    default:
      break;
  }
  if (errno !== undefined && CLIENT_CONNECTION_ERRNOS.has(errno)) return 'connection';
  if (code !== undefined && NODE_CONNECTION_CODES.has(code)) return 'connection';
  // Any other error the connector marks fatal has closed the connection with it.
  if (fatal) return 'connection';
  return 'other';
}

/** True when the transaction is gone but trying the whole unit again may succeed. */
export function isTransientMariaDbError(error: unknown): boolean {
  const kind = classifyMariaDbError(error);
  return kind === 'connection' || kind === 'conflict';
}

/** True when the error left the connection unusable (its transaction is rolled back by the server). */
export function isConnectionLost(error: unknown): boolean {
  return classifyMariaDbError(error) === 'connection';
}

/** Where and as whom: the pieces hints and messages need. Never a password. */
export interface MariaDbErrorContext {
  /** `host:port` or the socket path. */
  server: string;
  database: string;
  /** `'user'@'host'` as MariaDB spells the account, or just the user name before connecting. */
  account: string;
  /** Ledger key of the file being loaded, when there is one. */
  file?: string;
  /** The bounded waits in effect, in seconds, to say how long the server was waited for. */
  timeouts?: { connectSeconds: number; querySeconds: number };
}

/** What was being done, for the message, and which privileges it needs, for the hint. */
export interface MariaDbOperation {
  /** Verb phrase: "create table auth_user", "write rows to courseware_studentmodule". */
  what: string;
  /** Privileges this operation needs on the database, e.g. `['CREATE', 'INDEX']`. */
  privileges: readonly string[];
}

/** Every privilege the store uses on its database (`pds db check` compares against these). */
export const REQUIRED_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'ALTER', 'INDEX', 'CREATE VIEW'] as const;

/** The GRANT statement a DBA runs to give `privileges` on the database. */
export function grantStatement(ctx: MariaDbErrorContext, privileges: readonly string[]): string {
  return `GRANT ${privileges.join(', ')} ON \`${ctx.database.replace(/`/g, '``')}\`.* TO ${ctx.account};`;
}

const LOCAL_INFILE_HINT =
  'The DBA must allow LOAD DATA LOCAL INFILE: run SET GLOBAL local_infile = ON and add local_infile = ON under [mariadbd] in the server configuration; ' +
  'or use the store\'s default bulk method "batch", which does not need it.';

/** Builds the LoadError for a driver error (or passes a PdsError through). */
export function toMariaDbLoadError(error: unknown, op: MariaDbOperation, ctx: MariaDbErrorContext, extra: { batch?: number } = {}): PdsError {
  if (error instanceof PdsError) return error;
  const kind = classifyMariaDbError(error);
  const { errno, code, sqlState } = fields(error);
  const dbCode = code ?? errno;
  const tag = [code, errno !== undefined ? String(errno) : undefined].filter(Boolean).join(' ');
  const where = `${ctx.server}/${ctx.database}`;
  const base = `MariaDB (${where}) could not ${op.what}${tag ? ` (${tag})` : ''}`;
  // A sanitised stand-in for driver errors (their message and SQL may quote row values); anything
  // else is a bug of ours and is kept as it is, for the stack.
  const fromDriver = errno !== undefined || code !== undefined || sqlState !== undefined;
  const cause = fromDriver ? new Error(`MariaDB driver error${tag ? ` ${tag}` : ''}${sqlState ? `, SQLSTATE ${sqlState}` : ''}`) : error;
  const common = { file: ctx.file, dbCode, cause, batch: extra.batch };

  switch (kind) {
    case 'connection': {
      const limit = notAnsweringLimit(error);
      if (limit !== undefined) {
        const seconds = ctx.timeouts?.[limit];
        const waited = seconds === undefined ? 'in time' : `within ${seconds} s (timeouts.${limit})`;
        return new LoadError(`${base}: the server did not answer ${waited}; the connection was dropped. Nothing of this load was committed.`, {
          ...common,
          code: 'TARGET_NOT_ANSWERING',
          retryable: true,
          hint: `Check that the MariaDB server at ${ctx.server} is running (not stopped, hung or overloaded) and the network path to it.`,
        });
      }
      return new LoadError(`${base}: the connection to the server was lost or could not be made. Nothing of this load was committed.`, {
        ...common,
        code: 'DB_UNAVAILABLE',
        retryable: true,
        hint: `Check that the MariaDB server at ${ctx.server} is running and reachable.`,
      });
    }
    case 'conflict':
      return new LoadError(`${base}: a concurrent transaction conflicted (deadlock, lock wait timeout or cluster certification). Nothing of this load was committed.`, {
        ...common,
        code: 'DB_CONFLICT',
        retryable: true,
        hint: 'Another process was writing the same rows. If it keeps happening, run fewer loads at once.',
      });
    case 'permission': {
      if (errno === ER.ACCESS_DENIED || errno === ER.ACCESS_DENIED_NO_PASSWORD) {
        return new LoadError(`${base}: the server refused the user name or password for ${ctx.account}.`, {
          ...common,
          code: 'DB_AUTH_FAILED',
          hint: `Check the user and the password reference of this environment. The DBA creates the account with: CREATE USER ${ctx.account} IDENTIFIED BY '…'; ${grantStatement(ctx, REQUIRED_PRIVILEGES)}`,
        });
      }
      if (errno === ER.BAD_DB) {
        return new LoadError(`${base}: the database ${ctx.database} does not exist and could not be created.`, {
          ...common,
          code: 'DB_MISSING',
          hint: `The DBA must run: CREATE DATABASE \`${ctx.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci; ${grantStatement(ctx, REQUIRED_PRIVILEGES)}`,
        });
      }
      const privileges = op.privileges.length > 0 ? op.privileges : REQUIRED_PRIVILEGES;
      return new LoadError(`${base}: ${ctx.account} lacks the privilege (${privileges.join(', ')}).`, {
        ...common,
        code: 'DB_PERMISSION_DENIED',
        hint: `The DBA must run: ${grantStatement(ctx, privileges)} (pds needs ${REQUIRED_PRIVILEGES.join(', ')} on its database.)`,
      });
    }
    case 'local-infile':
      return new LoadError(`${base}: LOAD DATA LOCAL INFILE is disabled.`, { ...common, code: 'DB_LOCAL_INFILE_DISABLED', hint: LOCAL_INFILE_HINT });
    case 'packet':
      return new LoadError(`${base}: a row is larger than the server's max_allowed_packet.`, {
        ...common,
        code: 'DB_PACKET_TOO_LARGE',
        hint: 'The DBA must raise max_allowed_packet (e.g. SET GLOBAL max_allowed_packet = 1073741824, and the same under [mariadbd]); then run again.',
      });
    case 'read-only':
      return new LoadError(`${base}: the server is read-only.`, {
        ...common,
        code: 'DB_READ_ONLY',
        hint: 'This looks like a replica: point the environment at the primary (or any Galera node), not at a read-only replica.',
      });
    case 'full':
      return new LoadError(`${base}: the table or disk is full.`, {
        ...common,
        code: 'DB_FULL',
        retryable: true,
        hint: 'Free disk space on the database server, then run again.',
      });
    case 'value':
      return new LoadError(`${base}: MariaDB refused a value for its column.`, {
        ...common,
        code: 'DB_VALUE_REJECTED',
        hint: 'Values are checked before loading, so this is a bug in pds (or the table was changed by hand); please report it with the file name.',
      });
    case 'other':
      return new LoadError(`${base}.`, {
        ...common,
        code: 'LOAD_FAILED',
        hint: 'See the MariaDB error log for this error number; run again once it is resolved.',
      });
  }
}
