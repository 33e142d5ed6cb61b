/**
 * Finds the course a report names: by course id (`course-v1:Org+Course+Run`, `Org/Course/Run`) or
 * by the course key of the weekly file names (`Org-Course-Run`, docs/edx-formats.md §1.2). An
 * unknown or ambiguous name is an error listing the close matches.
 */
import type { ReportCourse } from '../contract/report-schemas.js';
import { ConfigError } from '../errors/index.js';
import type { ReportQueries } from '../stores/ports.js';
import { compareText, run, textOf } from './report-sql.js';

/** The course key of a course id: `course-v1:Org+C+R` and `Org/C/R` → `Org-C-R`. */
export function courseKeyOf(courseId: string): string {
  const v1 = /^course-v1:(.+)$/.exec(courseId);
  if (v1) return v1[1]!.split('+').join('-');
  return courseId.split('/').join('-');
}

/** Every course the store knows: from the enrolment snapshots, and from the daily activity. */
export async function knownCourses(q: ReportQueries): Promise<ReportCourse[]> {
  const enrolled = await run<{ course_key: unknown; course_id: unknown }>(
    q,
    'course',
    'SELECT course_key, MIN(course_id) AS course_id FROM student_courseenrollment GROUP BY course_key',
  );
  const byKey = new Map<string, ReportCourse>();
  for (const r of enrolled) {
    const key = textOf(r.course_key);
    const id = textOf(r.course_id);
    if (key !== null && id !== null) byKey.set(key, { courseId: id, courseKey: key });
  }
  const ids = new Set([...byKey.values()].map((c) => c.courseId));
  const active = await run<{ course_id: unknown }>(q, 'course', 'SELECT DISTINCT course_id FROM course_daily_activity');
  for (const r of active) {
    const id = textOf(r.course_id);
    if (id === null || ids.has(id)) continue;
    const key = courseKeyOf(id);
    if (!byKey.has(key)) byKey.set(key, { courseId: id, courseKey: key });
  }
  return [...byKey.values()].sort((a, b) => compareText(a.courseKey, b.courseKey));
}

/** Edit distance, for suggestions. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = prev[j]!;
      prev[j] = next;
    }
  }
  return prev[b.length]!;
}

/** The course named `name`, matched exactly (then ignoring case); otherwise COURSE_UNKNOWN or COURSE_AMBIGUOUS. */
export function matchCourse(courses: readonly ReportCourse[], name: string): ReportCourse {
  const wanted = name.trim();
  const exact = courses.filter((c) => c.courseId === wanted || c.courseKey === wanted);
  if (exact.length === 1) return exact[0]!;
  const lower = wanted.toLowerCase();
  const folded = courses.filter((c) => c.courseId.toLowerCase() === lower || c.courseKey.toLowerCase() === lower);
  if (folded.length === 1) return folded[0]!;
  const partial = courses.filter((c) => c.courseId.toLowerCase().includes(lower) || c.courseKey.toLowerCase().includes(lower));
  const list = (cs: readonly ReportCourse[]): string => cs.map((c) => `${c.courseKey} (${c.courseId})`).join(', ');
  if (folded.length > 1 || partial.length > 1) {
    const matches = folded.length > 1 ? folded : partial;
    throw new ConfigError(`"${wanted}" names more than one course: ${list(matches.slice(0, 10))}${matches.length > 10 ? `, and ${matches.length - 10} more` : ''}.`, {
      code: 'COURSE_AMBIGUOUS',
      hint: 'Name the course by its full course id or course key.',
    });
  }
  const close = partial.length === 1
    ? partial
    : courses
        .map((c) => ({ c, d: Math.min(distance(lower, c.courseKey.toLowerCase()), distance(lower, c.courseId.toLowerCase())) }))
        .filter((x) => x.d <= Math.max(3, Math.floor(lower.length / 3)))
        .sort((a, b) => a.d - b.d)
        .slice(0, 5)
        .map((x) => x.c);
  throw new ConfigError(
    courses.length === 0
      ? `No course "${wanted}": no course has been loaded yet.`
      : `No course "${wanted}" in the loaded data.${close.length > 0 ? ` Close matches: ${list(close)}.` : ''}`,
    {
      code: 'COURSE_UNKNOWN',
      hint: courses.length === 0 ? 'Run a load first (pds run), then ask again.' : 'Name a course by its course id (course-v1:Org+Course+Run) or its course key (Org-Course-Run).',
    },
  );
}

/**
 * The course named `name`. An exact course id or key is looked up through the indexes (the usual
 * case, fast on any size); anything else is matched against every known course.
 */
export async function resolveCourse(q: ReportQueries, name: string): Promise<ReportCourse> {
  const wanted = name.trim();
  const enrolled = await run<{ course_key: unknown; course_id: unknown }>(
    q,
    'course',
    'SELECT course_key, course_id FROM (SELECT course_key, course_id FROM student_courseenrollment WHERE course_key = ? LIMIT 1) k\nUNION SELECT course_key, course_id FROM (SELECT course_key, course_id FROM student_courseenrollment WHERE course_id = ? LIMIT 1) i',
    [wanted, wanted],
  );
  // Exact matches only: MariaDB may compare ignoring case, SQLite does not.
  const exact = new Map<string, ReportCourse>();
  for (const r of enrolled) {
    const c = { courseId: String(r.course_id), courseKey: String(r.course_key) };
    if (c.courseId === wanted || c.courseKey === wanted) exact.set(c.courseKey, c);
  }
  if (exact.size === 1) return [...exact.values()][0]!;
  if (exact.size === 0) {
    const active = await run<{ course_id: unknown }>(q, 'course', 'SELECT course_id FROM course_daily_activity WHERE course_id = ? LIMIT 1', [wanted]);
    if (active.length === 1 && String(active[0]!.course_id) === wanted) return { courseId: wanted, courseKey: courseKeyOf(wanted) };
  }
  return matchCourse(await knownCourses(q), name);
}
