/**
 * Course activity per day or week: active learners, events, video plays, problem attempts and
 * correct answers, forum posts, enrolments and unenrolments. Events come from the daily summary
 * (course_daily_activity); the rest from the designated event tables, each read through its
 * (course_id, time) index over the period only.
 */
import type { ActivityReport, ActivityRow } from '../contract/report-schemas.js';
import { ConfigError } from '../errors/index.js';
import type { ReportQueries } from '../stores/ports.js';
import { resolveCourse } from './course-lookup.js';
import { ACTIVITY_TABLES, REPORT_TABLES, dayOf, dialectOf, numberOf, requireTables, run } from './report-sql.js';

export interface ActivityOptions {
  from?: string;
  to?: string;
  by?: 'day' | 'week';
}

/** Names of the events counted (docs/edx-formats.md §5.4). */
export const PROBLEM_CHECKS = ['problem_check', 'save_problem_check'] as const;
export const FORUM_POSTS = ['edx.forum.thread.created', 'edx.forum.response.created', 'edx.forum.comment.created'] as const;
const quoted = (names: readonly string[]): string => names.map((n) => `'${n}'`).join(', ');

function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** The SQL of each part of the report, rendered in the store's dialect (exported for the benchmark). */
export function activitySql(q: ReportQueries, by: 'day' | 'week'): Record<'daily' | 'video' | 'problems' | 'forum' | 'enrolments' | 'learners', string> {
  const d = dialectOf(q);
  const bucket = (e: string): string => (by === 'week' ? d.weekStart(e) : d.day(e));
  const range = 'course_id = ? AND time >= ? AND time < ?';
  return {
    daily: `SELECT ${bucket('date')} AS period, SUM(events) AS events FROM course_daily_activity WHERE course_id = ? AND date >= ? AND date < ? GROUP BY ${bucket('date')}`,
    video: `SELECT ${bucket('time')} AS period, COUNT(*) AS plays FROM video_events WHERE ${range} AND event_type = 'play_video' GROUP BY ${bucket('time')}`,
    problems: `SELECT ${bucket('time')} AS period, COUNT(*) AS attempts, SUM(CASE WHEN success = 'correct' THEN 1 ELSE 0 END) AS correct FROM problem_events WHERE ${range} AND event_source = 'server' AND event_type IN (${quoted(PROBLEM_CHECKS)}) GROUP BY ${bucket('time')}`,
    forum: `SELECT ${bucket('time')} AS period, COUNT(*) AS posts FROM forum_events WHERE ${range} AND event_type IN (${quoted(FORUM_POSTS)}) GROUP BY ${bucket('time')}`,
    enrolments: `SELECT ${bucket('time')} AS period, SUM(CASE WHEN event_type = 'edx.course.enrollment.activated' THEN 1 ELSE 0 END) AS enrolments, SUM(CASE WHEN event_type = 'edx.course.enrollment.deactivated' THEN 1 ELSE 0 END) AS unenrolments FROM enrollment_events WHERE ${range} GROUP BY ${bucket('time')}`,
    learners: `SELECT period, COUNT(DISTINCT user_id) AS learners FROM (\n${ACTIVITY_TABLES.map((t) => `SELECT ${bucket('time')} AS period, user_id FROM ${t} WHERE ${range} AND user_id IS NOT NULL`).join('\nUNION ALL\n')}\n) a GROUP BY period`,
  };
}

/** The course's first and last day in the daily summary, or undefined when it has none. */
async function dataDays(q: ReportQueries, courseId: string): Promise<{ first: string; last: string } | undefined> {
  const [r] = await run<{ first: unknown; last: unknown }>(q, 'activity', 'SELECT MIN(date) AS first, MAX(date) AS last FROM course_daily_activity WHERE course_id = ?', [courseId]);
  return r && r.first !== null && r.first !== undefined ? { first: dayOf(r.first), last: dayOf(r.last) } : undefined;
}

/**
 * Activity of the course named by `course` from `from` to `to` (inclusive, UTC days; by default
 * the course's first and last day of data), per day or per week (weeks start on Monday). Periods
 * without any activity are left out.
 */
export async function activityReport(q: ReportQueries, course: string, options: ActivityOptions = {}): Promise<ActivityReport> {
  await requireTables(q, REPORT_TABLES);
  const found = await resolveCourse(q, course);
  const by = options.by ?? 'day';
  let { from, to } = options;
  if (from === undefined || to === undefined) {
    const days = await dataDays(q, found.courseId);
    from ??= days?.first ?? to ?? new Date().toISOString().slice(0, 10);
    to ??= days?.last ?? from;
  }
  if (from > to) throw new ConfigError(`--from ${from} is after --to ${to}.`, { code: 'DATE_INVALID', hint: 'Give --from on or before --to.' });
  const end = addDays(to, 1);
  const sql = activitySql(q, by);
  const range = [found.courseId, from, end];
  const [daily, video, problems, forum, enrolments, learners] = await Promise.all([
    run<{ period: unknown; events: unknown }>(q, 'activity', sql.daily, range),
    run<{ period: unknown; plays: unknown }>(q, 'activity', sql.video, range),
    run<{ period: unknown; attempts: unknown; correct: unknown }>(q, 'activity', sql.problems, range),
    run<{ period: unknown; posts: unknown }>(q, 'activity', sql.forum, range),
    run<{ period: unknown; enrolments: unknown; unenrolments: unknown }>(q, 'activity', sql.enrolments, range),
    run<{ period: unknown; learners: unknown }>(q, 'activity', sql.learners, ACTIVITY_TABLES.flatMap(() => range)),
  ]);
  const rows = new Map<string, ActivityRow>();
  const row = (period: unknown): ActivityRow => {
    const p = dayOf(period);
    let r = rows.get(p);
    if (!r) {
      r = { period: p, activeLearners: 0, events: 0, videoPlays: 0, problemAttempts: 0, correctAnswers: 0, forumPosts: 0, enrolments: 0, unenrolments: 0 };
      rows.set(p, r);
    }
    return r;
  };
  for (const r of daily) row(r.period).events += numberOf(r.events);
  for (const r of video) row(r.period).videoPlays += numberOf(r.plays);
  for (const r of problems) {
    row(r.period).problemAttempts += numberOf(r.attempts);
    row(r.period).correctAnswers += numberOf(r.correct);
  }
  for (const r of forum) row(r.period).forumPosts += numberOf(r.posts);
  for (const r of enrolments) {
    row(r.period).enrolments += numberOf(r.enrolments);
    row(r.period).unenrolments += numberOf(r.unenrolments);
  }
  for (const r of learners) row(r.period).activeLearners += numberOf(r.learners);
  return { course: found, from, to, by, rows: [...rows.values()].sort((a, b) => (a.period < b.period ? -1 : 1)) };
}
