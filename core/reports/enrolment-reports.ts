/**
 * The learner report (every course of one learner) and the roster (every learner of one course):
 * enrolment, current grade, passed or not, certificate status and last activity, joined on the
 * user id — a learner who changed username between courses is still one learner.
 */
import type { EnrolmentRow, LearnerReport, RosterReport, RosterStatus } from '../contract/report-schemas.js';
import { ConfigError } from '../errors/index.js';
import type { ReportQueries } from '../stores/ports.js';
import { resolveCourse } from './course-lookup.js';
import { ACTIVITY_TABLES, REPORT_TABLES, compareText, laterOf, nullableNumber, numberOf, placeholders, requireTables, run, textOf, timeOf } from './report-sql.js';

/** Enrolments with the grade, certificate and username of the same course snapshot. */
const ENROLMENTS_SQL = `SELECT e.user_id, e.course_id, e.course_key, e.mode, e.is_active, e.created,
  u.username, g.percent_grade, g.passed_timestamp, c.status AS certificate_status, c.mode AS certificate_mode
FROM student_courseenrollment e
LEFT JOIN auth_user u ON u.course_key = e.course_key AND u.id = e.user_id
LEFT JOIN grades_persistentcoursegrade g ON g.course_key = e.course_key AND g.user_id = e.user_id
LEFT JOIN certificates_generatedcertificate c ON c.course_key = e.course_key AND c.user_id = e.user_id`;

interface EnrolmentRecord {
  user_id: unknown;
  course_id: unknown;
  course_key: unknown;
  mode: unknown;
  is_active: unknown;
  created: unknown;
  username: unknown;
  percent_grade: unknown;
  passed_timestamp: unknown;
  certificate_status: unknown;
  certificate_mode: unknown;
}

function enrolmentRow(r: EnrolmentRecord, last: Map<string, string>): EnrolmentRow {
  const userId = numberOf(r.user_id);
  const courseId = String(r.course_id);
  const passedAt = timeOf(r.passed_timestamp);
  return {
    userId,
    username: textOf(r.username),
    courseId,
    courseKey: String(r.course_key),
    mode: textOf(r.mode),
    active: numberOf(r.is_active) === 1,
    enrolledAt: timeOf(r.created),
    grade: nullableNumber(r.percent_grade),
    passed: passedAt !== null,
    passedAt,
    certificateStatus: textOf(r.certificate_status),
    certificateMode: textOf(r.certificate_mode),
    lastActivity: last.get(`${courseId}\u0000${userId}`) ?? null,
  };
}

/**
 * Newest activity per course and learner: designated events (`time`) and courseware_studentmodule
 * changes (`modified`), for one course or for some learners. Keys are `course_id NUL user_id`.
 */
async function lastActivity(q: ReportQueries, scope: { courseId: string; courseKey: string } | { userIds: number[] }): Promise<Map<string, string>> {
  const byCourse = 'courseId' in scope;
  const where = byCourse ? 'course_id = ?' : `user_id IN (${placeholders(scope.userIds.length)})`;
  const params: (string | number)[] = byCourse ? [scope.courseId] : scope.userIds;
  const parts = ACTIVITY_TABLES.map((t) => `SELECT course_id, user_id, MAX(time) AS last FROM ${t} WHERE ${where} GROUP BY course_id, user_id`);
  const moduleWhere = byCourse ? 'course_key = ?' : `student_id IN (${placeholders(scope.userIds.length)})`;
  parts.push(`SELECT course_id, student_id AS user_id, MAX(modified) AS last FROM courseware_studentmodule WHERE ${moduleWhere} GROUP BY course_id, student_id`);
  const allParams: (string | number)[] = [...ACTIVITY_TABLES.flatMap(() => params), ...(byCourse ? [scope.courseKey] : scope.userIds)];
  const rows = await run<{ course_id: unknown; user_id: unknown; last: unknown }>(q, 'last activity', parts.join('\nUNION ALL\n'), allParams);
  const last = new Map<string, string>();
  for (const r of rows) {
    if (r.course_id === null || r.user_id === null) continue;
    const key = `${String(r.course_id)}\u0000${numberOf(r.user_id)}`;
    const t = laterOf(last.get(key) ?? null, timeOf(r.last));
    if (t !== null) last.set(key, t);
  }
  return last;
}

/**
 * Every course of the learner named by `who`: a username, an e-mail address or a user id. Every
 * user id the name matches is reported (a username seen in any course's snapshot).
 */
export async function learnerReport(q: ReportQueries, who: string): Promise<LearnerReport> {
  await requireTables(q, REPORT_TABLES);
  const name = who.trim();
  const conditions = ['username = ?'];
  const params: (string | number)[] = [name];
  if (name.includes('@')) {
    conditions.push('email = ?');
    params.push(name);
  }
  if (/^\d{1,15}$/.test(name)) {
    conditions.push('id = ?');
    params.push(Number(name));
  }
  const found = await run<{ id: unknown; username: unknown; email: unknown }>(q, 'learner', `SELECT DISTINCT id, username, email FROM auth_user WHERE ${conditions.join(' OR ')}`, params);
  // MariaDB compares text ignoring case: keep the exact matches only, as SQLite does.
  const ids = [...new Set(found.filter((r) => String(r.username) === name || String(r.email) === name || String(numberOf(r.id)) === name).map((r) => numberOf(r.id)))].sort((a, b) => a - b);
  if (ids.length === 0) {
    throw new ConfigError(`No learner "${name}" in the loaded data (no username, e-mail address or user id matches).`, {
      code: 'LEARNER_UNKNOWN',
      hint: 'Give the username, e-mail address or user id exactly as edX has it.',
    });
  }
  const names = await run<{ id: unknown; username: unknown; email: unknown; snapshot_date: unknown }>(
    q,
    'learner',
    `SELECT id, username, email, snapshot_date FROM auth_user WHERE id IN (${placeholders(ids.length)})`,
    ids,
  );
  const learners = ids.map((userId) => {
    const mine = names.filter((r) => numberOf(r.id) === userId).sort((a, b) => compareText(String(b.snapshot_date), String(a.snapshot_date)));
    const unique = (values: unknown[]): string[] => [...new Set(values.filter((v) => v !== null && v !== undefined && v !== '').map(String))];
    return { userId, usernames: unique(mine.map((r) => r.username)), emails: unique(mine.map((r) => r.email)) };
  });
  const [records, last] = await Promise.all([
    run<EnrolmentRecord>(q, 'learner', `${ENROLMENTS_SQL}\nWHERE e.user_id IN (${placeholders(ids.length)})`, ids),
    lastActivity(q, { userIds: ids }),
  ]);
  const rows = records.map((r) => enrolmentRow(r, last)).sort((a, b) => a.userId - b.userId || compareText(a.enrolledAt, b.enrolledAt) || compareText(a.courseKey, b.courseKey));
  return { learners, rows };
}

export interface RosterFilter {
  /** Enrolment modes to keep (any of). */
  modes?: string[];
  /** Statuses to keep (all of). */
  statuses?: RosterStatus[];
}

function keeps(row: EnrolmentRow, status: RosterStatus): boolean {
  switch (status) {
    case 'active':
      return row.active;
    case 'inactive':
      return !row.active;
    case 'passed':
      return row.passed;
    case 'not-passed':
      return !row.passed;
    case 'certified':
      return row.certificateStatus === 'downloadable';
  }
}

/** Every learner of the course named by `course` (course id or course key), filtered. */
export async function rosterReport(q: ReportQueries, course: string, filter: RosterFilter = {}): Promise<RosterReport> {
  await requireTables(q, REPORT_TABLES);
  const found = await resolveCourse(q, course);
  const [records, last] = await Promise.all([
    run<EnrolmentRecord>(q, 'roster', `${ENROLMENTS_SQL}\nWHERE e.course_key = ?`, [found.courseKey]),
    lastActivity(q, found),
  ]);
  const modes = filter.modes?.length ? new Set(filter.modes) : undefined;
  const rows = records
    .filter((r) => String(r.course_key) === found.courseKey)
    .map((r) => enrolmentRow(r, last))
    .filter((r) => (!modes || (r.mode !== null && modes.has(r.mode))) && (filter.statuses ?? []).every((s) => keeps(r, s)))
    .sort((a, b) => compareText(a.username, b.username) || a.userId - b.userId);
  return { course: found, rows };
}
