/**
 * What the report queries share: the few things SQLite and MariaDB spell differently (a day and
 * the Monday of a week from a DATETIME or DATE), placeholders, and turning driver values into the
 * contract's (times as `YYYY-MM-DD HH:MM:SS`, numbers, booleans). Every report is written once as
 * SQL over the tables of `core/domain/tables.ts` and rendered in the store's dialect; ordering is
 * done here, not in SQL, because the two stores collate text differently.
 */
import { LoadError, PdsError } from '../errors/index.js';
import type { ReportQueries, SqlDialect } from '../stores/ports.js';

export interface ReportDialect {
  readonly name: SqlDialect;
  /** `YYYY-MM-DD` of a DATETIME or DATE expression. */
  day(expression: string): string;
  /** The Monday on or before the day of a DATETIME or DATE expression, `YYYY-MM-DD`. */
  weekStart(expression: string): string;
}

const SQLITE: ReportDialect = {
  name: 'sqlite',
  // Datetimes are text `YYYY-MM-DD HH:MM:SS[.ffffff]` (sqlite-ddl.ts).
  day: (e) => `substr(${e}, 1, 10)`,
  // The Julian day number modulo 7 is 0 on Mondays: step back that many days. Twice as fast as
  // date(d, '-6 days', 'weekday 1'), which gives the same day (measured on 1M rows).
  weekStart: (e) => `date(julianday(substr(${e}, 1, 10)) - (CAST(julianday(substr(${e}, 1, 10)) + 0.5 AS INTEGER) % 7))`,
};

const MARIADB: ReportDialect = {
  name: 'mariadb',
  day: (e) => `DATE(${e})`,
  weekStart: (e) => `DATE_SUB(DATE(${e}), INTERVAL WEEKDAY(${e}) DAY)`,
};

export function dialectOf(q: ReportQueries): ReportDialect {
  return q.dialect === 'sqlite' ? SQLITE : MARIADB;
}

/** `?, ?, ?` for an IN list of `n` values (at least one). */
export function placeholders(n: number): string {
  return Array.from({ length: Math.max(n, 1) }, () => '?').join(', ');
}

/** A DATETIME as `YYYY-MM-DD HH:MM:SS` (fractions dropped), or null. */
export function timeOf(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Date) return value.toISOString().slice(0, 19).replace('T', ' ');
  const text = String(value).replace('T', ' ');
  return text.length >= 19 ? text.slice(0, 19) : text;
}

/** A DATE as `YYYY-MM-DD`. */
export function dayOf(value: unknown): string {
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return String(value).slice(0, 10);
}

export function numberOf(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

export function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export function textOf(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** The later of two times (null is earlier than any). */
export function laterOf(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a >= b ? a : b;
}

/** Text comparison independent of any database collation. */
export function compareText(a: string | null, b: string | null): number {
  return (a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0;
}

/**
 * Runs a report query; a store failure becomes REPORT_QUERY_FAILED naming the report and the
 * store's reason, once.
 */
export async function run<T>(q: ReportQueries, report: string, sql: string, params: (string | number | null)[] = []): Promise<T[]> {
  try {
    return await q.query<T>(sql, params);
  } catch (error) {
    const cause = error instanceof PdsError ? error : undefined;
    throw new LoadError(`The ${report} report could not be read from ${q.target}: ${cause?.message ?? 'the query failed.'}`, {
      code: 'REPORT_QUERY_FAILED',
      retryable: cause?.retryable ?? false,
      cause: error,
      hint: cause?.hint ?? 'Check the database (pds db check), then ask again.',
    });
  }
}

/** Tables every report reads; a database without them has had nothing loaded by this pds. */
export async function requireTables(q: ReportQueries, tables: readonly string[]): Promise<void> {
  const present = new Set(await q.tableNames());
  const missing = tables.filter((t) => !present.has(t));
  if (missing.length > 0) {
    throw new LoadError(`Nothing has been loaded into ${q.target} yet (it has no ${missing[0]} table).`, {
      code: 'NOTHING_LOADED',
      hint: 'Run a load first (pds run), then ask again.',
    });
  }
}

/** The designated event tables a learner's activity is read from (docs/edx-formats.md §5.4). */
export const ACTIVITY_TABLES = ['video_events', 'problem_events', 'navigation_events', 'forum_events', 'enrollment_events', 'certificate_events'] as const;

/** Every table the reports read. */
export const REPORT_TABLES = [
  'student_courseenrollment',
  'auth_user',
  'grades_persistentcoursegrade',
  'certificates_generatedcertificate',
  'courseware_studentmodule',
  'course_daily_activity',
  ...ACTIVITY_TABLES,
] as const;
