/**
 * Events per UTC day per course for the console's Data screen, from `course_daily_activity`
 * (written with each daily file's events, in the relational store whatever the events target is).
 * The same SQL runs on SQLite and MariaDB.
 */
import { LoadError, PdsError } from '../errors/index.js';
import type { RelationalStore } from '../stores/ports.js';

export interface DayCount {
  day: string;
  courseId: string;
  events: number;
}

/** `YYYY-MM-DD` of a DATE column as either driver returns it (text in SQLite, a Date or text in MariaDB). */
function dayOf(value: unknown): string {
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return String(value).slice(0, 10);
}

function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function queryError(store: RelationalStore, error: unknown): PdsError {
  const cause = error instanceof PdsError ? error : undefined;
  return new LoadError(`The data summary could not read course_daily_activity in the ${store.engine} store: ${cause?.message ?? 'the query failed.'}`, {
    code: 'SUMMARY_QUERY_FAILED',
    retryable: cause?.retryable ?? false,
    cause: error,
    hint: cause?.hint ?? 'Check the course_daily_activity table (pds db check), then ask again.',
  });
}

/**
 * Events per day and course over the last `days` days that have data (ending at the newest day
 * loaded), oldest first. Empty when no daily log was loaded yet; a failing query is an error.
 */
export async function eventsPerDay(store: RelationalStore, days: number): Promise<DayCount[]> {
  if (!(await store.tableNames()).includes('course_daily_activity')) return [];
  try {
    const [newest] = await store.query<{ d: unknown }>('SELECT MAX(date) AS d FROM course_daily_activity');
    if (!newest || newest.d === null || newest.d === undefined) return [];
    const from = addDays(dayOf(newest.d), 1 - days);
    const rows = await store.query<{ course_id: string; date: unknown; n: unknown }>(
      'SELECT course_id, date, SUM(events) AS n FROM course_daily_activity WHERE date >= ? GROUP BY course_id, date ORDER BY date, course_id',
      [from],
    );
    return rows.map((r) => ({ day: dayOf(r.date), courseId: r.course_id, events: Number(r.n) }));
  } catch (error) {
    throw queryError(store, error);
  }
}
