/**
 * The summary views (`SUMMARY_VIEWS` in `core/domain/tables.ts`) written once, as SQL over the
 * tables, and rendered in each SQL dialect by the few things the dialects spell differently:
 * identifier quoting, string literals, an integer sum, a member of a JSON text column. SQLite and
 * MariaDB therefore give the same rows for the same data; the behaviour suite checks they do.
 */
import { DAILY_ACTIVITY_COUNTS, ENROLLMENT_MODE_COLUMNS } from '../domain/tables.js';

/** What a SQL dialect spells its own way. */
export interface ViewDialect {
  /** Quotes an identifier. */
  ident(name: string): string;
  /** A string literal. */
  literal(value: string): string;
  /** `SUM` of integer counts, as an integer (MariaDB's SUM of INT is a DECIMAL). */
  sumAsInteger(expression: string): string;
  /**
   * Member `member` of the JSON text in column `column`: JSON text for objects and arrays, the
   * value for scalars, NULL for JSON null, an absent member and text that is not JSON (the few
   * lines read only after a repair, docs/edx-formats.md §7.2–7.3).
   */
  jsonMember(column: string, member: string): string;
  /** The Monday on or before the day of a DATE column, as a date. */
  weekStart(column: string): string;
}

/** Envelope fields `events_detail` reads out of the raw line. */
const DETAIL_FIELDS = ['ip', 'page', 'agent', 'referer', 'event', 'context'] as const;

/** `a,\n  b,\n  c` — select-list items, one a line. */
function items(list: readonly string[]): string[] {
  return list.map((item, i) => `  ${item}${i < list.length - 1 ? ',' : ''}`);
}

const BODIES: Readonly<Record<string, (d: ViewDialect) => string>> = {
  course_enrollment_summary: (d) => {
    const active = `${d.ident('is_active')} = 1`;
    const mode = d.ident('mode');
    const list = (modes: readonly string[]): string => modes.map(d.literal).join(', ');
    const allModes = ENROLLMENT_MODE_COLUMNS.flatMap(([, modes]) => modes);
    return [
      `SELECT ${d.ident('course_id')},`,
      ...items([
        `COUNT(*) AS ${d.ident('enrolled')}`,
        `COALESCE(SUM(${active}), 0) AS ${d.ident('active')}`,
        ...ENROLLMENT_MODE_COLUMNS.map(([column, modes]) => `COALESCE(SUM(${active} AND ${mode} IN (${list(modes)})), 0) AS ${d.ident(column)}`),
        `COALESCE(SUM(${active} AND (${mode} IS NULL OR ${mode} NOT IN (${list(allModes)}))), 0) AS ${d.ident('other_modes')}`,
      ]),
      `FROM ${d.ident('student_courseenrollment')}`,
      `GROUP BY ${d.ident('course_id')}`,
    ].join('\n');
  },
  daily_course_activity: (d) =>
    [
      `SELECT ${d.ident('course_id')}, ${d.ident('date')},`,
      ...items(DAILY_ACTIVITY_COUNTS.map((c) => `${d.sumAsInteger(d.ident(c))} AS ${d.ident(c)}`)),
      `FROM ${d.ident('course_daily_activity')}`,
      `GROUP BY ${d.ident('course_id')}, ${d.ident('date')}`,
    ].join('\n'),
  course_enrollments_by_mode: (d) => {
    const active = `${d.ident('is_active')} = 1`;
    return [
      `SELECT ${['course_key', 'course_id', 'mode'].map(d.ident).join(', ')},`,
      ...items([
        `COUNT(*) AS ${d.ident('enrolled')}`,
        `${d.sumAsInteger(`CASE WHEN ${active} THEN 1 ELSE 0 END`)} AS ${d.ident('active')}`,
        `${d.sumAsInteger(`CASE WHEN ${active} THEN 0 ELSE 1 END`)} AS ${d.ident('inactive')}`,
      ]),
      `FROM ${d.ident('student_courseenrollment')}`,
      `GROUP BY ${['course_key', 'course_id', 'mode'].map(d.ident).join(', ')}`,
    ].join('\n');
  },
  course_certificates_by_status: (d) =>
    [
      `SELECT ${['course_key', 'course_id', 'status', 'mode'].map(d.ident).join(', ')},`,
      ...items([`COUNT(*) AS ${d.ident('certificates')}`]),
      `FROM ${d.ident('certificates_generatedcertificate')}`,
      `GROUP BY ${['course_key', 'course_id', 'status', 'mode'].map(d.ident).join(', ')}`,
    ].join('\n'),
  weekly_course_activity: (d) => {
    const week = d.weekStart('date');
    return [
      `SELECT ${d.ident('course_id')}, ${week} AS ${d.ident('week')},`,
      ...items([
        `COUNT(DISTINCT ${d.ident('date')}) AS ${d.ident('days_with_events')}`,
        `${d.sumAsInteger(d.ident('events'))} AS ${d.ident('events')}`,
        `${d.sumAsInteger(d.ident('active_users'))} AS ${d.ident('active_user_days')}`,
        ...['video_events', 'problem_checks', 'forum_events', 'enrollment_events'].map((c) => `${d.sumAsInteger(d.ident(c))} AS ${d.ident(c)}`),
      ]),
      `FROM ${d.ident('course_daily_activity')}`,
      `GROUP BY ${d.ident('course_id')}, ${week}`,
    ].join('\n');
  },
  events_detail: (d) =>
    [
      `SELECT ${['event_id', 'time', 'canonical_type', 'user_id', 'course_id'].map(d.ident).join(', ')},`,
      ...items(DETAIL_FIELDS.map((f) => `${d.jsonMember('raw', f)} AS ${d.ident(f)}`)),
      `FROM ${d.ident('events')}`,
    ].join('\n'),
};

/** The `SELECT` of summary view `name` in `dialect`. */
export function summaryViewSql(name: string, dialect: ViewDialect): string {
  const body = BODIES[name];
  if (body === undefined) throw new Error(`No definition for summary view ${name}`);
  return body(dialect);
}
