/**
 * Which files a run takes: the course filter, the date window, the `--only` switch, and which
 * failed files are worth retrying. Pure rules: no Node API.
 */
import type { RecognizedFile } from './files.js';
import type { RunOptions } from './results.js';

/** What selection reads of an environment's configuration (`courses` and `window` in config.yaml). */
export interface SelectionConfig {
  courses: { include?: readonly string[]; exclude?: readonly string[]; includeEdge?: boolean };
  window: { from?: string; to?: string };
}

/** What retry decisions read of a file's ledger record. */
export interface RecordedFileState {
  status: string;
  stage: string | null;
  code?: string | null;
}

/** Converts a glob (`*`, `?`) into an anchored, case-insensitive RegExp. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

/**
 * True when the course filter of the environment lets this weekly member through, and the run's
 * own course globs (`narrow`, a schedule's `courses`) when given.
 */
export function courseSelected(config: SelectionConfig, file: RecognizedFile, narrow?: readonly string[]): boolean {
  const { include, exclude, includeEdge } = config.courses;
  if (!includeEdge && (file.site === 'edge' || /edge/.test(file.env ?? ''))) return false;
  const key = file.courseKey;
  if (!key) return true;
  if (include && include.length > 0 && !include.some((g) => globToRegExp(g).test(key))) return false;
  if (exclude && exclude.some((g) => globToRegExp(g).test(key))) return false;
  if (narrow && narrow.length > 0 && !narrow.some((g) => globToRegExp(g).test(key))) return false;
  return true;
}

const WEEKLY_KINDS = new Set(['weekly-package', 'email-opt-in-package', 'weekly-table', 'course-structure', 'forum', 'olx', 'email-opt-in', 'export-failed']);

/** True when the file passes `--only`, `--from/--to` and the environment's window. */
export function fileSelected(config: SelectionConfig, file: RecognizedFile, options: RunOptions): boolean {
  if (options.only === 'events' && file.kind !== 'event-log') return false;
  if (options.only === 'weekly' && !WEEKLY_KINDS.has(file.kind)) return false;
  const from = options.from ?? config.window.from;
  const to = options.to ?? config.window.to;
  if (file.date && from && file.date < from) return false;
  if (file.date && to && file.date > to) return false;
  return true;
}

/**
 * Failed files are retried on the next run when the failure could be mended outside the file
 * (network, key import, database down); a file whose content is bad stays flagged until it
 * changes at the source.
 */
const RETRY_STAGES = new Set(['fetch', 'decrypt', 'load', 'record', 'plan', 'config']);
const NO_RETRY_CODES = new Set(['DECRYPT_INTEGRITY', 'DECRYPT_CORRUPT', 'DECRYPT_TRUNCATED', 'DECRYPT_NOT_OPENPGP', 'NOT_ENCRYPTED', 'EDX_EXPORT_FAILED']);

export function memberIsRetryable(file: RecordedFileState): boolean {
  if (file.status === 'pending' || file.status === 'fetched') return true;
  if (file.status !== 'failed') return false;
  if (file.code && NO_RETRY_CODES.has(file.code)) return false;
  return RETRY_STAGES.has(file.stage ?? '');
}

/**
 * Codes meaning a target database cannot be reached at all (or, for SQLite, its thread is gone).
 * When a file fails with one, the run stops (docs/architecture.md §3: an unreachable target is a whole-run
 * failure): the files not yet tried stay unloaded and the next run takes them, instead of each
 * waiting out connection time-outs or failing the same way.
 */
const TARGET_DOWN_CODES = new Set(['DB_UNAVAILABLE', 'MONGO_UNREACHABLE', 'TARGET_NOT_ANSWERING', 'TARGET_UNAVAILABLE', 'STORE_THREAD_FAILED']);

export function targetIsDown(code: string | undefined): boolean {
  return code !== undefined && TARGET_DOWN_CODES.has(code);
}
