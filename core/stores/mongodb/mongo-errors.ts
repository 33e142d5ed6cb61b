/**
 * Turns MongoDB driver errors into `LoadError`s (docs/architecture.md §4). Classification uses the driver's
 * error classes, server error codes and error labels only, never message text. Driver
 * messages are not copied into ours: server messages can quote document values (a duplicate-key
 * message names the key) and connection messages can name hosts of a URI that carried secrets.
 */
import {
  MongoError,
  MongoErrorLabel,
  MongoMissingCredentialsError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoNotConnectedError,
  MongoParseError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoClientClosedError,
} from 'mongodb';
import { ConfigError, LoadError, PdsError } from '../../errors/index.js';

/** Server error codes (see the server's `error_codes.yml`) this module acts on. */
export const MONGO_CODES = {
  BadValue: 2,
  Unauthorized: 13,
  AuthenticationFailed: 18,
  NamespaceNotFound: 26,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  WriteConcernFailed: 64,
  UnknownReplWriteConcern: 79,
  UnsatisfiableWriteConcern: 100,
  DocumentValidationFailure: 121,
  DuplicateKey: 11000,
  DuplicateKeyLegacy: 11001,
  BSONObjectTooLarge: 10334,
  OutOfDiskSpace: 14031,
  AtlasAuthentication: 8000,
} as const;

/**
 * Codes after which the same write can succeed later without a change on our side: elections,
 * shutdowns, network trouble, time limits, lock and write conflicts, a full disk once freed.
 * (The driver's own retryable-write set, plus the ones a next run overcomes.)
 */
const RETRYABLE_CODES = new Set<number>([
  6, 7, 50, 63, 64, 89, 91, 112, 150, 189, 262, 9001, 10107, 10058, 11600, 11602, 13388, 13435, 13436, 14031,
]);

/** Duplicate `_id` (or other unique key): the document is already there. */
export function isDuplicateKeyCode(code: unknown): boolean {
  return code === MONGO_CODES.DuplicateKey || code === MONGO_CODES.DuplicateKeyLegacy;
}

/** The numeric server code of an error, if it has one. */
export function serverCode(error: unknown): number | undefined {
  if (error instanceof MongoError && typeof error.code === 'number') return error.code;
  return undefined;
}

/** True when the collection/index/namespace does not exist (code 26). */
export function isNamespaceNotFound(error: unknown): boolean {
  return serverCode(error) === MONGO_CODES.NamespaceNotFound;
}

/**
 * The first server error code found in `error`, its cause chain, or (for a server-selection
 * timeout) the errors the driver recorded per server, e.g. an authentication failure during the
 * handshake.
 */
function codeIn(error: unknown, depth = 0): number | undefined {
  if (depth > 4 || typeof error !== 'object' || error === null) return undefined;
  if (error instanceof MongoServerError && typeof error.code === 'number') return error.code;
  if (error instanceof MongoServerSelectionError) {
    for (const server of error.reason?.servers?.values() ?? []) {
      const code = codeIn(server.error, depth + 1);
      if (code !== undefined) return code;
    }
  }
  return codeIn((error as { cause?: unknown }).cause, depth + 1);
}

/**
 * Node socket error codes meaning the connection failed or broke. The driver normally wraps them
 * in `MongoNetworkError`, but a write on a socket the server just closed can surface as the bare
 * system error (`EPIPE`) inside a bulk-write error.
 */
const SOCKET_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** The server cannot be reached now: nothing wrong with the data or the configuration. */
export function isUnreachable(error: unknown): boolean {
  const code: unknown = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return (
    (typeof code === 'string' && SOCKET_ERROR_CODES.has(code)) ||
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoClientClosedError ||
    error instanceof MongoNotConnectedError
  );
}

/**
 * The driver error behind a bulk-write error. A bulk write that fails for a reason other than
 * per-document errors (a refused connection, a command error) is rethrown by the driver as a
 * `MongoBulkWriteError` that keeps the original in `errorResponse` (and copies its labels); the
 * original is usually a driver error, sometimes a bare socket error.
 */
export function unwrapBulkError(error: unknown): unknown {
  let current = error;
  for (let i = 0; i < 3; i++) {
    if (!(current instanceof MongoServerError)) break;
    const inner: unknown = current.errorResponse;
    if (!(inner instanceof Error) || inner === current) break;
    current = inner;
  }
  return current;
}

function hasLabel(error: unknown, label: string): boolean {
  return error instanceof MongoError && error.hasErrorLabel(label);
}

/**
 * The server accepted the connection but did not answer in time: a socket time-out, or no server
 * found because every one of them timed out. Which limit ran out: the connection's (before the
 * handshake, or finding a server) or the command's. Undefined for any other error.
 */
function notAnsweringLimit(error: unknown): 'connectSeconds' | 'querySeconds' | undefined {
  if (error instanceof MongoNetworkTimeoutError) {
    return (error as { beforeHandshake?: boolean }).beforeHandshake ? 'connectSeconds' : 'querySeconds';
  }
  if (error instanceof MongoServerSelectionError) {
    const errors = [...(error.reason?.servers?.values() ?? [])].map((server) => server.error);
    if (errors.length > 0 && errors.every((e) => e instanceof MongoNetworkTimeoutError)) return 'connectSeconds';
  }
  return undefined;
}

/** Context for an error message: what was being done, where. */
export interface MongoErrorContext {
  /** What failed, as a verb phrase: `write events`, `create the indexes`. */
  action: string;
  /** The database name (no URI: it may hold credentials). */
  database: string;
  /** Ledger key of the file being loaded, when there is one. */
  file?: string;
  /** 1-based batch within the file. */
  batch?: number;
  /** The bounded waits in effect, in seconds, to say how long the server was waited for. */
  timeouts?: { connectSeconds: number; querySeconds: number };
}

/**
 * Classifies a driver error as a `LoadError` (or `ConfigError` for a URI the driver cannot
 * parse). PdsErrors pass through unchanged.
 *
 * - accepted the connection but did not answer in time (socket time-out, or every server timed
 *   out during selection) → `TARGET_NOT_ANSWERING`, retryable;
 * - unreachable (network error, server-selection timeout, closed topology) → `MONGO_UNREACHABLE`,
 *   retryable;
 * - authentication failed (18) → `MONGO_AUTH_FAILED`; missing rights (13) → `MONGO_UNAUTHORIZED`
 *   with the role to grant; neither retryable;
 * - elections, shutdowns, write-concern timeouts, full disk … (codes or the
 *   `RetryableWriteError` label) → `MONGO_WRITE_FAILED`, retryable;
 * - anything else → `MONGO_WRITE_FAILED`, not retryable, with the server code.
 */
export function toMongoLoadError(thrown: unknown, ctx: MongoErrorContext): PdsError {
  if (thrown instanceof PdsError) return thrown;
  const error = unwrapBulkError(thrown);
  const where = ctx.file === undefined ? `database "${ctx.database}"` : `${ctx.file} (database "${ctx.database}")`;
  const base = { file: ctx.file, batch: ctx.batch, cause: thrown };

  if (error instanceof MongoParseError || error instanceof MongoMissingCredentialsError) {
    return new ConfigError(`The MongoDB connection string for ${where} is not valid; could not ${ctx.action}.`, {
      code: 'MONGO_URI_INVALID',
      cause: thrown,
      hint: 'Check the events target URI: mongodb://USER:PASSWORD@HOST:27017/?replicaSet=NAME or mongodb+srv://USER:PASSWORD@CLUSTER/, with the user name and password URL-encoded and only known options.',
    });
  }

  const code = codeIn(error);
  if (code === MONGO_CODES.AuthenticationFailed || code === MONGO_CODES.AtlasAuthentication) {
    return new LoadError(`MongoDB refused the credentials for ${where}; could not ${ctx.action}.`, {
      ...base,
      code: 'MONGO_AUTH_FAILED',
      dbCode: code,
      retryable: false,
      hint: 'Check the user name and password in the URI secret and its authSource (the database holding the user, often "admin").',
    });
  }
  if (code === MONGO_CODES.Unauthorized) {
    return new LoadError(`The MongoDB user lacks the rights to ${ctx.action} in ${where} (code 13).`, {
      ...base,
      code: 'MONGO_UNAUTHORIZED',
      dbCode: code,
      retryable: false,
      hint: `Grant the role readWrite on database "${ctx.database}" to the user, e.g. db.grantRolesToUser("<user>", [{ role: "readWrite", db: "${ctx.database}" }]).`,
    });
  }
  const limit = notAnsweringLimit(error);
  if (limit !== undefined) {
    const seconds = ctx.timeouts?.[limit];
    const waited = seconds === undefined ? 'in time' : `within ${seconds} s (timeouts.${limit})`;
    return new LoadError(`The MongoDB server for ${where} accepted the connection but did not answer ${waited}; could not ${ctx.action}.`, {
      ...base,
      code: 'TARGET_NOT_ANSWERING',
      retryable: true,
      hint: 'Check that the server is running (not stopped, hung or overloaded) and the network path to it.',
    });
  }
  if (isUnreachable(error)) {
    return new LoadError(`The MongoDB server for ${where} could not be reached; could not ${ctx.action}.`, {
      ...base,
      code: 'MONGO_UNREACHABLE',
      dbCode: code,
      retryable: true,
      hint: 'Check that the server runs and that the hosts, port, TLS options and replicaSet name in the URI are right.',
    });
  }
  if (code === MONGO_CODES.UnsatisfiableWriteConcern || code === MONGO_CODES.UnknownReplWriteConcern) {
    return new LoadError(`MongoDB cannot satisfy the configured write concern for ${where}.`, {
      ...base,
      code: 'MONGO_WRITE_CONCERN',
      dbCode: code,
      retryable: false,
      hint: 'Use a write concern the deployment can meet in targets.events.writeConcern (a standalone server accepts only 0, 1 or "majority").',
    });
  }
  if (code === MONGO_CODES.IndexOptionsConflict || code === MONGO_CODES.IndexKeySpecsConflict) {
    return new LoadError(`An index in ${where} has the name pds uses but a different definition; could not ${ctx.action}.`, {
      ...base,
      code: 'MONGO_INDEX_CONFLICT',
      dbCode: code,
      retryable: false,
      hint: 'Drop or rename the existing index of that name (pds creates its indexes again), or set another collectionPrefix for the events target.',
    });
  }
  const retryable =
    (code !== undefined && RETRYABLE_CODES.has(code)) ||
    [MongoErrorLabel.RetryableWriteError, MongoErrorLabel.RetryableError, MongoErrorLabel.SystemOverloadedError].some((l) => hasLabel(thrown, l));
  const codeText = code === undefined ? '' : ` (code ${code})`;
  return new LoadError(`MongoDB could not ${ctx.action} in ${where}${codeText}.`, {
    ...base,
    code: 'MONGO_WRITE_FAILED',
    dbCode: code,
    retryable,
    hint:
      code === MONGO_CODES.OutOfDiskSpace
        ? 'The database server is out of disk space: free space, then run again.'
        : retryable
          ? 'A transient server condition (election, shutdown, timeout): run pds again.'
          : 'Look up the code in the MongoDB error codes list; the server log has the details.',
  });
}

/** Plain-language reason for a per-document write error (no document values). */
export function documentErrorReason(code: number | undefined): { code: string; reason: string } {
  switch (code) {
    case MONGO_CODES.DocumentValidationFailure:
      return { code: 'MONGO_VALIDATION', reason: 'the document was rejected by a validation rule on the events collection (code 121)' };
    case MONGO_CODES.BSONObjectTooLarge:
      return { code: 'MONGO_TOO_LARGE', reason: 'the event’s document would exceed MongoDB’s 16 MB document limit' };
    case MONGO_CODES.BadValue:
      return { code: 'MONGO_BAD_VALUE', reason: 'the server rejected a field name or value of this event (code 2)' };
    default:
      return { code: 'MONGO_DOC_REJECTED', reason: `the server rejected this event${code === undefined ? '' : ` (code ${code})`}` };
  }
}
