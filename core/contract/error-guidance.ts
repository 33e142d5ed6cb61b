/**
 * What the console offers as the next step of an engine error: an `action` (a button beside the
 * message) chosen by the error's code, and a hint worded for someone at a screen. The engine's
 * hints are written for the CLI; where one tells the reader to type a `pds …` command, the console
 * shows the table's GUI hint instead (or, for codes without one, the action's generic hint).
 *
 * The codes are those the engine raises (`grep -rhoE "code: '[A-Z_]+'" core | sort -u`); a code
 * not listed falls back on its prefix (`S3_`, `MONGO_`, `DB_`…), then on `none`. Run-file codes
 * get `retry-file` only where fetching or loading the same file again can succeed (a broken
 * download, a lost connection); a file whose content is at fault keeps `none`, since retrying it
 * changes nothing until edX sends it again.
 *
 * Pure: no Node API (the renderer imports it, to word the hints of a report's files the same way).
 */
import type { ErrorAction } from './methods.js';

export interface ErrorGuidance {
  action: ErrorAction;
  /** Replaces an engine hint that names a CLI command (or is missing). */
  guiHint?: string;
}

const g = (action: ErrorAction, guiHint?: string): ErrorGuidance => (guiHint === undefined ? { action } : { action, guiHint });

/** The hint shown for an action when the engine's hint was for the CLI and the code has no GUI hint of its own. */
export const ACTION_HINTS: Record<ErrorAction, string | undefined> = {
  none: undefined,
  'import-key': 'Import the secret key on the Keys screen.',
  'edit-environment': "Correct the environment's settings.",
  'set-secret': "Set the secret in the environment's settings.",
  'check-connection': 'Test the connection to see which step fails.',
  'retry-file': 'Retry the file.',
  'start-run': 'Start the run again.',
  reload: 'Reload to see the current state.',
};

/** Guidance by exact code. */
export const ERROR_GUIDANCE: Readonly<Record<string, ErrorGuidance>> = {
  // Keys
  DECRYPT_NO_KEY: g('import-key', "Import the data czar's secret key on the Keys screen."),
  DECRYPT_NO_MATCHING_KEY: g('import-key', 'Import the secret key matching these key ids on the Keys screen.'),
  DECRYPT_KEY_PUBLIC_ONLY: g('import-key'),
  DECRYPT_KEY_NO_ENCRYPTION: g('import-key'),
  DECRYPT_KEY_INVALID: g('import-key'),
  KEY_FILE_UNREADABLE: g('import-key', 'Import the key again, pasting its text or choosing its file.'),
  KEY_FINGERPRINT_INVALID: g('reload', 'Choose the key from the list on the Keys screen.'),
  KEY_NOT_FOUND: g('reload', 'Choose the key from the list on the Keys screen.'),

  // Secrets
  SECRET_MISSING: g('set-secret'),
  SECRET_INLINE: g('set-secret', "Set the secret in the environment's settings: it is stored in a file only this user can read."),
  SECRET_IN_KEYCHAIN: g('set-secret', 'This secret is kept in the desktop app’s keychain: run the environment from the desktop app, or set the secret again here to store it where every process can read it.'),
  DECRYPT_BAD_PASSPHRASE: g('set-secret'),
  DECRYPT_KEY_LOCKED: g('set-secret'),

  // The environment's settings
  CONFIG_INVALID: g('edit-environment'),
  CONFIG_NO_ENVIRONMENT: g('edit-environment', 'Create the environment on the Environments screen.'),
  CONFIG_TLS_FILE: g('edit-environment'),
  CONFIG_YAML: g('edit-environment'),
  CONFIG_UNREADABLE: g('none'),
  CONFIG_CHANGED: g('reload'),
  CONFIG_ENV_EXISTS: g('none'),
  DATE_INVALID: g('none'),
  S3_NO_SUCH_BUCKET: g('edit-environment'),
  S3_WRONG_REGION: g('edit-environment'),
  S3_DUPLICATE_LOCATION: g('edit-environment'),
  S3_UNKNOWN_LOCATION: g('edit-environment'),
  MONGO_URI_INVALID: g('edit-environment'),
  MONGO_DATABASE_INVALID: g('edit-environment'),
  MONGO_PREFIX_INVALID: g('edit-environment'),
  MONGO_WRITE_CONCERN_INVALID: g('edit-environment'),
  MONGO_WRITE_CONCERN: g('edit-environment'),
  MONGO_INDEX_CONFLICT: g('edit-environment'),
  DB_READ_ONLY: g('edit-environment'),
  LOCAL_NOT_A_FOLDER: g('edit-environment'),
  LOCAL_NOT_FOUND: g('edit-environment'),
  LOCAL_NOTHING_TO_LOAD: g('edit-environment'),
  TABLE_NAME_INVALID: g('edit-environment'),

  // Reaching the source and the targets
  SOURCE_NOT_ANSWERING: g('check-connection'),
  S3_UNREACHABLE: g('check-connection'),
  S3_REQUEST_FAILED: g('check-connection'),
  S3_ACCESS_DENIED: g('check-connection'),
  LOCAL_ACCESS_DENIED: g('check-connection'),
  TARGET_UNAVAILABLE: g('check-connection', 'Test the connection to the database; files not loaded are taken by the next run.'),
  TARGET_NOT_ANSWERING: g('check-connection'),
  DB_UNAVAILABLE: g('check-connection'),
  DB_AUTH_FAILED: g('check-connection'),
  DB_PERMISSION_DENIED: g('check-connection'),
  DB_MISSING: g('check-connection'),
  DB_LOCAL_INFILE_DISABLED: g('check-connection'),
  MONGO_UNREACHABLE: g('check-connection'),
  MONGO_AUTH_FAILED: g('check-connection'),
  MONGO_UNAUTHORIZED: g('check-connection'),
  SUMMARY_QUERY_FAILED: g('check-connection', 'Test the connection to the database (it checks its tables too), then open this screen again.'),

  // One file, where fetching or loading it again can succeed
  S3_CHECKSUM_MISMATCH: g('retry-file'),
  S3_SIZE_MISMATCH: g('retry-file'),
  S3_OBJECT_CHANGED: g('retry-file'),
  LOCAL_FILE_CHANGED: g('retry-file'),
  LOCAL_READ_FAILED: g('retry-file'),
  LANDING_WRITE_FAILED: g('retry-file'),
  DECRYPT_TRUNCATED: g('retry-file'),
  DECRYPT_CORRUPT: g('retry-file'),
  DECRYPT_INTEGRITY: g('retry-file'),
  DECRYPT_NOT_OPENPGP: g('retry-file'),
  NOT_ENCRYPTED: g('retry-file'),
  GZIP_TRUNCATED: g('retry-file'),
  GZIP_CORRUPT: g('retry-file'),
  NOT_GZIP: g('retry-file'),
  NOT_ZIP: g('retry-file'),
  NOT_TAR_GZ: g('retry-file'),
  LOAD_FAILED: g('retry-file', 'Retry the file once nothing else is writing the same database.'),
  DB_CONFLICT: g('retry-file'),
  DB_FULL: g('retry-file'),
  DB_PACKET_TOO_LARGE: g('retry-file'),
  COMMIT_UNCERTAIN: g('retry-file'),
  TRANSACTION_LOST: g('retry-file'),
  SCHEMA_CHANGE_IN_UNIT: g('retry-file'),
  STORE_THREAD_FAILED: g('retry-file'),
  MONGO_PARTIAL_BATCH: g('retry-file', 'Retry the file: events already stored count as duplicates.'),
  MONGO_WRITE_FAILED: g('retry-file', 'A transient server condition (election, shutdown, timeout): retry the file.'),
  MONGO_LOAD_SUPERSEDED: g('retry-file'),

  // Runs
  CANCELLED: g('start-run'),
  RUN_INTERRUPTED: g('start-run'),
  ZIP_MEMBER_MISSING: g('start-run', 'The package changed since it was listed; start the run again to plan it afresh.'),
  RUN_IN_PROGRESS: g('reload', 'Wait for the run in progress to finish, or cancel it from the Run screen.'),
  NO_SUCH_RUN: g('reload', 'Pick a run from the run history.'),
  NOTHING_TO_RETRY: g('none'),
  FORUM_SNAPSHOT_BUSY: g('reload'),

  // Reports over the loaded data
  NOTHING_LOADED: g('start-run', 'Nothing has been loaded yet: start a run, then open this report again.'),
  REPORT_QUERY_FAILED: g('check-connection', 'Test the connection to the database (it checks its tables too), then ask again.'),
  COURSE_UNKNOWN: g('none', 'Pick a course from the list, or name it by its course id or course key.'),
  COURSE_AMBIGUOUS: g('none'),
  LEARNER_UNKNOWN: g('none'),
  PROGRAM_UNKNOWN: g('edit-environment', 'Programs are defined in the environment’s settings (programs).'),
  PROGRAM_NOT_LOADED: g('edit-environment', 'Check the program’s course keys against the loaded courses (the Roster report lists them).'),
};

/** Guidance by code prefix, for codes not in the table (checked in order). */
const PREFIX_GUIDANCE: readonly (readonly [string, ErrorGuidance])[] = [
  ['CONFIG_', g('edit-environment')],
  ['SECRET_', g('set-secret')],
  ['DECRYPT_KEY_', g('import-key')],
  ['SOURCE_', g('check-connection')],
  ['S3_', g('check-connection')],
  ['TARGET_', g('check-connection')],
  ['DB_', g('check-connection')],
  ['MONGO_', g('check-connection')],
];

/** The guidance for an error code: the table's entry, else its prefix's, else `none`. */
export function guidanceFor(code: string): ErrorGuidance {
  if (Object.prototype.hasOwnProperty.call(ERROR_GUIDANCE, code)) return ERROR_GUIDANCE[code];
  return PREFIX_GUIDANCE.find(([prefix]) => code.startsWith(prefix))?.[1] ?? { action: 'none' };
}

/**
 * True when a hint tells the reader to type a `pds` command: a backticked or bracketed `pds …`
 * (`(pds db check)`), a command with options (`pds key import --env live`), or "run pds again".
 * "Only one pds run at a time" is not.
 */
export function namesCliCommand(hint: string): boolean {
  return /`pds\b/.test(hint) || /\(pds [a-z]+( [a-z]+)?\)/.test(hint) || /\bpds(\s+[a-z]+){1,2}\s+--[a-z]/.test(hint) || /\brun pds again\b/i.test(hint);
}

/** The hint a console user sees for an engine error: the engine's own unless it names a CLI command. */
export function consoleHint(code: string, hint: string | undefined): string | undefined {
  if (hint !== undefined && !namesCliCommand(hint)) return hint;
  const guidance = guidanceFor(code);
  if (hint === undefined) return guidance.guiHint;
  return guidance.guiHint ?? ACTION_HINTS[guidance.action];
}
