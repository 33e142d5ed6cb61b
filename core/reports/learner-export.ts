/**
 * The learning-analytics export (for a tool such as OnTask): one row per learner per course with
 * last activity, days active, videos watched, problems attempted and answered correctly, grade and
 * passed, in the stable columns of `EXPORT_COLUMNS` (docs/exports.md).
 */
import type { ProgramConfig } from '../config/config-schema.js';
import type { ExportRow, LearnerExport, ReportCourse } from '../contract/report-schemas.js';
import { ConfigError } from '../errors/index.js';
import type { ReportQueries } from '../stores/ports.js';
import { PROBLEM_CHECKS } from './activity-report.js';
import { knownCourses, resolveCourse } from './course-lookup.js';
import { programRuns } from './program-report.js';
import { ACTIVITY_TABLES, REPORT_TABLES, compareText, dialectOf, laterOf, nullableNumber, numberOf, requireTables, run, textOf, timeOf } from './report-sql.js';

type Scope = { course: string } | { program: ProgramConfig };

async function courseRows(q: ReportQueries, course: ReportCourse): Promise<ExportRow[]> {
  const d = dialectOf(q);
  const checks = PROBLEM_CHECKS.map((n) => `'${n}'`).join(', ');
  const [base, activity, modules, videos, problems] = await Promise.all([
    run<{ user_id: unknown; course_key: unknown; username: unknown; email: unknown; mode: unknown; is_active: unknown; percent_grade: unknown; passed_timestamp: unknown }>(
      q,
      'learner export',
      `SELECT e.user_id, e.course_key, u.username, u.email, e.mode, e.is_active, g.percent_grade, g.passed_timestamp
FROM student_courseenrollment e
LEFT JOIN auth_user u ON u.course_key = e.course_key AND u.id = e.user_id
LEFT JOIN grades_persistentcoursegrade g ON g.course_key = e.course_key AND g.user_id = e.user_id
WHERE e.course_key = ?`,
      [course.courseKey],
    ),
    run<{ user_id: unknown; days: unknown; last: unknown }>(
      q,
      'learner export',
      `SELECT user_id, COUNT(DISTINCT day) AS days, MAX(time) AS last FROM (\n${ACTIVITY_TABLES.map((t) => `SELECT user_id, ${d.day('time')} AS day, time FROM ${t} WHERE course_id = ? AND user_id IS NOT NULL`).join('\nUNION ALL\n')}\n) a GROUP BY user_id`,
      ACTIVITY_TABLES.map(() => course.courseId),
    ),
    run<{ user_id: unknown; last: unknown }>(q, 'learner export', 'SELECT student_id AS user_id, MAX(modified) AS last FROM courseware_studentmodule WHERE course_key = ? GROUP BY student_id', [course.courseKey]),
    run<{ user_id: unknown; n: unknown }>(q, 'learner export', `SELECT user_id, COUNT(DISTINCT video_id) AS n FROM video_events WHERE course_id = ? AND event_type = 'play_video' GROUP BY user_id`, [course.courseId]),
    run<{ user_id: unknown; attempted: unknown; correct: unknown }>(
      q,
      'learner export',
      `SELECT user_id, COUNT(DISTINCT problem_id) AS attempted, COUNT(DISTINCT CASE WHEN success = 'correct' THEN problem_id END) AS correct FROM problem_events WHERE course_id = ? AND event_source = 'server' AND event_type IN (${checks}) GROUP BY user_id`,
      [course.courseId],
    ),
  ]);
  const byUser = <T extends { user_id: unknown }>(rows: T[]): Map<number, T> => new Map(rows.map((r) => [numberOf(r.user_id), r]));
  const act = byUser(activity);
  const mod = byUser(modules);
  const vid = byUser(videos);
  const prob = byUser(problems);
  return base
    .filter((r) => String(r.course_key) === course.courseKey)
    .map((r): ExportRow => {
      const id = numberOf(r.user_id);
      return {
        user_id: id,
        username: textOf(r.username),
        email: textOf(r.email),
        course_id: course.courseId,
        course_key: course.courseKey,
        mode: textOf(r.mode),
        is_active: numberOf(r.is_active) === 1,
        last_active: laterOf(timeOf(act.get(id)?.last), timeOf(mod.get(id)?.last)),
        days_active: numberOf(act.get(id)?.days),
        videos_watched: numberOf(vid.get(id)?.n),
        problems_attempted: numberOf(prob.get(id)?.attempted),
        problems_correct: numberOf(prob.get(id)?.correct),
        grade: nullableNumber(r.percent_grade),
        passed: r.passed_timestamp !== null && r.passed_timestamp !== undefined,
      };
    })
    .sort((a, b) => compareText(a.username, b.username) || a.user_id - b.user_id);
}

const safeName = (s: string): string => s.replace(/[^A-Za-z0-9._+-]+/g, '_');

/** The export for one course (course id or course key) or for every loaded run of a program's modules. */
export async function learnerExport(q: ReportQueries, scope: Scope): Promise<LearnerExport> {
  await requireTables(q, REPORT_TABLES);
  let courses: ReportCourse[];
  let name: string;
  if ('course' in scope) {
    courses = [await resolveCourse(q, scope.course)];
    name = courses[0]!.courseKey;
  } else {
    const runs = programRuns(scope.program);
    courses = (await knownCourses(q)).filter((c) => runs.has(c.courseKey));
    name = scope.program.name;
    if (courses.length === 0) {
      throw new ConfigError(`No run of program ${scope.program.name}'s modules has been loaded (runs: ${[...runs.keys()].join(', ')}).`, {
        code: 'PROGRAM_NOT_LOADED',
        hint: 'Check the course keys under programs: in config.yaml against the loaded courses (pds query roster names them).',
      });
    }
  }
  const rows: ExportRow[] = [];
  for (const c of courses) rows.push(...(await courseRows(q, c)));
  return {
    scope: { ...('course' in scope ? { course: courses[0] } : { program: scope.program.name }), courses },
    filename: `learners-${safeName(name)}.csv`,
    rows,
  };
}
