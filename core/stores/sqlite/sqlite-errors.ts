/**
 * SQLite errors → `LoadError`s (docs/architecture.md §4). Classification uses better-sqlite3's
 * extended result code (`SQLITE_BUSY_SNAPSHOT`, …), never the message text, and the driver's
 * message is never copied: constraint messages can quote values.
 */
import { LoadError, PdsError } from '../../errors/index.js';

/** SQLite result codes after which trying again later may succeed. */
const RETRYABLE_CODES = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_NOMEM', 'SQLITE_CANTOPEN', 'SQLITE_PROTOCOL'];

/** An error of better-sqlite3 carrying SQLite's (extended) result code. */
export function isSqliteError(error: unknown): error is Error & { code: string } {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_');
}

/**
 * The LoadError for a failure while the store tried to `what` (a verb phrase) on the database
 * file `path`; `file` is the load's file when there is one. A PdsError passes unchanged.
 */
export function toSqliteLoadError(what: string, error: unknown, path: string, file?: string): PdsError {
  if (error instanceof PdsError) return error;
  const code = isSqliteError(error) ? error.code : undefined;
  const retryable = code !== undefined && RETRYABLE_CODES.some((c) => code === c || code.startsWith(`${c}_`));
  return new LoadError(`SQLite could not ${what}${code ? ` (${code})` : ''} in ${path}.`, {
    code: 'LOAD_FAILED',
    file: file ?? path,
    dbCode: code,
    retryable,
    cause: error,
    hint: hintFor(code),
  });
}

function hintFor(code: string | undefined): string {
  if (code === undefined) return 'This looks like a bug in pds; please report it with the log.';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return 'Another process is writing the same database file; run pds again once it has finished.';
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
