/**
 * A small plain (unencrypted) edX delivery with known answers for the reports: two weekly packages
 * and three daily logs of org UniX, in a folder laid out like the buckets, for a local source.
 *
 * The program `sds` has modules prob (runs Prob101-1T2025 and Prob101-3T2025), stats (Stat201-1T2025,
 * renamed Stat201x for the 1T2026 run), econ (Econ110-1T2025), ml and viz. Version 2024-01-01: core
 * prob + econ, one elective of ml/viz; version 2025-09-01: core prob + stats, one elective.
 *
 * - alice (101) passed prob, stats (the renamed run, as `alice_w`: she changed username) and ml;
 * - bob (102) passed prob and ml, failed stats;
 * - carol (103) passed prob twice (both runs), stats and viz;
 * - dave (104) has a passing prob grade in audit mode but no certificate; passed stats and ml;
 * - erin (105) passed prob, econ and viz before 2025-09-01: eligible under the old version only;
 * - frank (106) passed econ only after the new version started, and no stats;
 * - gina (107) enrolled in Prob101-3T2025 and unenrolled.
 *
 * The tables are written with the demo's TSV writer (docs/edx-formats.md §3); headers are the
 * documented columns of each table.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tsvFile, type TsvCell } from '../../core/demo/tsv-line.js';
import { getTableDef } from '../../core/domain/tables.js';
import { createConsoleService } from '../../core/service/console-service.js';
import { zipOf } from './zip.js';

export const ORG = 'UniX';

export const COURSES = {
  prob1: { key: 'UniX-Prob101-1T2025', id: 'course-v1:UniX+Prob101+1T2025' },
  prob3: { key: 'UniX-Prob101-3T2025', id: 'course-v1:UniX+Prob101+3T2025' },
  stat1: { key: 'UniX-Stat201-1T2025', id: 'course-v1:UniX+Stat201+1T2025' },
  statx: { key: 'UniX-Stat201x-1T2026', id: 'course-v1:UniX+Stat201x+1T2026' },
  econ: { key: 'UniX-Econ110-1T2025', id: 'course-v1:UniX+Econ110+1T2025' },
  ml: { key: 'UniX-ML301-2T2025', id: 'course-v1:UniX+ML301+2T2025' },
  viz: { key: 'UniX-Viz302-2T2025', id: 'course-v1:UniX+Viz302+2T2025' },
} as const;
type CourseName = keyof typeof COURSES;

export const USERS = { alice: 101, bob: 102, carol: 103, dave: 104, erin: 105, frank: 106, gina: 107 } as const;
type UserName = keyof typeof USERS;

/** The modules and versions both test programs share (their pass rules differ). */
const PROGRAM_MODULES_AND_VERSIONS = [
  '        modules:',
  `          prob: [${COURSES.prob1.key}, ${COURSES.prob3.key}]`,
  `          stats: [${COURSES.stat1.key}, ${COURSES.statx.key}]`,
  `          econ: [${COURSES.econ.key}]`,
  `          ml: [${COURSES.ml.key}]`,
  `          viz: [${COURSES.viz.key}]`,
  '        versions:',
  '          - { from: 2024-01-01, core: [prob, econ], electives: [ml, viz], electivesRequired: 1 }',
  '          - { from: 2025-09-01, core: [prob, stats], electives: [ml, viz], electivesRequired: 1 }',
];

/** The programs of the test environment, as config.yaml lines (indented under the environment). */
export const PROGRAMS_YAML = [
  '    programs:',
  '      - name: sds',
  '        title: Statistics and Data Science',
  ...PROGRAM_MODULES_AND_VERSIONS,
  '        pass: { rule: certificate, modes: [verified] }',
  '      - name: sds-either',
  ...PROGRAM_MODULES_AND_VERSIONS,
  '        pass: { rule: either, modes: [verified] }',
];

interface Enrolment {
  user: UserName;
  /** Username in this course's snapshot (default the user's name). */
  username?: string;
  mode: string;
  active?: 0 | 1;
  created: string;
  certificate?: { status: string; mode: string; created: string; grade: string };
  grade?: { percent: number; passed?: string };
}

/** Every enrolment, by course; the answers the tests expect follow from these. */
export const ENROLMENTS: Record<CourseName, Enrolment[]> = {
  prob1: [
    { user: 'alice', mode: 'verified', created: '2025-01-10 09:00:00', certificate: { status: 'downloadable', mode: 'verified', created: '2025-05-01 10:00:00', grade: '0.91' }, grade: { percent: 0.91, passed: '2025-04-28 09:00:00' } },
    { user: 'bob', mode: 'verified', created: '2025-01-11 09:00:00', certificate: { status: 'downloadable', mode: 'verified', created: '2025-05-02 10:00:00', grade: '0.85' }, grade: { percent: 0.85, passed: '2025-04-29 09:00:00' } },
    { user: 'carol', mode: 'verified', created: '2025-01-12 09:00:00', certificate: { status: 'downloadable', mode: 'verified', created: '2025-05-10 10:00:00', grade: '0.8' }, grade: { percent: 0.8, passed: '2025-05-08 09:00:00' } },
    { user: 'dave', mode: 'audit', created: '2025-01-13 09:00:00', certificate: { status: 'audit_passing', mode: 'audit', created: '2025-05-03 10:00:00', grade: '0.75' }, grade: { percent: 0.75, passed: '2025-05-03 09:00:00' } },
    { user: 'erin', mode: 'verified', created: '2025-01-05 09:00:00', certificate: { status: 'downloadable', mode: 'verified', created: '2025-03-01 10:00:00', grade: '0.95' }, grade: { percent: 0.95, passed: '2025-02-27 09:00:00' } },
    { user: 'frank', mode: 'verified', created: '2025-01-14 09:00:00', certificate: { status: 'downloadable', mode: 'verified', created: '2025-05-01 11:00:00', grade: '0.7' }, grade: { percent: 0.7, passed: '2025-04-30 09:00:00' } },
  ],
  prob3: [
    { user: 'carol', mode: 'verified', created: '2025-09-10 09:00:00', certificate: { status: 'downloadable', mode: 'verified', created: '2025-12-01 10:00:00', grade: '0.9' }, grade: { percent: 0.9, passed: '2025-11-28 09:00:00' } },
    { user: 'gina', mode: 'audit', active: 0, created: '2025-09-11 09:00:00' },
  ],
  stat1: [
    { user: 'bob', mode: 'verified', created: '2025-02-01 09:00:00', certificate: { status: 'notpassing', mode: 'verified', created: '2025-06-01 10:00:00', grade: '0.4' }, grade: { percent: 0.4 } },
    { user: 'carol', mode: 'verified', created: '2025-02-02 09:00:00', certificate: { status: 'downloadable', mode: 'verified', created: '2025-06-15 10:00:00', grade: '0.82' }, grade: { percent: 0.82, passed: '2025-06-12 09:00:00' } },
  ],
  statx: [
    { user: 'alice', username: 'alice_w', mode: 'verified', created: '2025-12-20 09:00:00', certificate: { status: 'downloadable', mode: 'verified', created: '2026-05-01 10:00:00', grade: '0.88' }, grade: { percent: 0.88, passed: '2026-04-28 09:00:00' } },
    { user: 'dave', mode: 'verified', created: '2025-12-21 09:00:00', certificate: { status: 'downloadable', mode: 'verified', created: '2026-05-02 10:00:00', grade: '0.77' }, grade: { percent: 0.77, passed: '2026-04-29 09:00:00' } },
  ],
  econ: [
    { user: 'erin', mode: 'verified', created: '2025-03-05 09:00:00', certificate: { status: 'downloadable', mode: 'verified', created: '2025-06-01 10:00:00', grade: '0.9' }, grade: { percent: 0.9, passed: '2025-05-29 09:00:00' } },
    { user: 'frank', mode: 'verified', created: '2025-06-05 09:00:00', certificate: { status: 'downloadable', mode: 'verified', created: '2025-10-15 10:00:00', grade: '0.8' }, grade: { percent: 0.8, passed: '2025-10-12 09:00:00' } },
  ],
  ml: [
    { user: 'alice', mode: 'verified', created: '2025-05-15 09:00:00', certificate: { status: 'downloadable', mode: 'verified', created: '2025-08-01 10:00:00', grade: '0.9' }, grade: { percent: 0.9, passed: '2025-07-29 09:00:00' } },
    { user: 'bob', mode: 'verified', created: '2025-05-16 09:00:00', certificate: { status: 'downloadable', mode: 'verified', created: '2025-08-02 10:00:00', grade: '0.8' } },
    { user: 'dave', mode: 'verified', created: '2025-05-17 09:00:00', certificate: { status: 'downloadable', mode: 'verified', created: '2025-08-03 10:00:00', grade: '0.8' } },
    { user: 'frank', mode: 'verified', created: '2025-05-18 09:00:00', certificate: { status: 'downloadable', mode: 'verified', created: '2025-08-01 10:00:00', grade: '0.8' } },
  ],
  viz: [
    { user: 'carol', mode: 'verified', created: '2025-05-20 09:00:00', certificate: { status: 'downloadable', mode: 'verified', created: '2025-08-05 10:00:00', grade: '0.8' } },
    { user: 'erin', mode: 'verified', created: '2025-04-01 09:00:00', certificate: { status: 'downloadable', mode: 'verified', created: '2025-07-01 10:00:00', grade: '0.8' } },
  ],
};

/** courseware_studentmodule rows (last activity beside the events). */
const STUDENT_MODULES: { course: CourseName; user: UserName; modified: string }[] = [
  { course: 'prob1', user: 'alice', modified: '2025-04-01 12:00:00' },
  { course: 'prob1', user: 'erin', modified: '2025-02-20 08:00:00' },
];

/** Which weekly package each course is in: package 2 holds the 2026 run only. */
const PACKAGES: { date: string; courses: CourseName[] }[] = [
  { date: '2025-12-07', courses: ['prob1', 'prob3', 'stat1', 'econ', 'ml', 'viz'] },
  { date: '2026-06-07', courses: ['statx'] },
];

const email = (user: UserName): string => `${user}@uni.example`;

function table(name: string, rows: Record<string, TsvCell>[]): string {
  const def = getTableDef(name)!;
  const header = def.columns.filter((c) => !c.optional).map((c) => c.name);
  return tsvFile(header, rows.map((r) => header.map((h) => r[h] ?? null)));
}

function courseTables(course: CourseName): Record<string, string> {
  const c = COURSES[course];
  const list = ENROLMENTS[course];
  let rowId = 1;
  return {
    auth_user: table(
      'auth_user',
      list.map((e) => ({
        id: USERS[e.user],
        username: e.username ?? e.user,
        first_name: '',
        last_name: '',
        email: email(e.user),
        password: '',
        is_staff: 0,
        is_active: 1,
        is_superuser: 0,
        date_joined: '2024-12-01 00:00:00',
        status: '',
        avatar_type: '',
        country: '',
        show_country: 0,
        interesting_tags: '',
        ignored_tags: '',
        email_tag_filter_strategy: 0,
        display_tag_filter_strategy: 0,
        consecutive_days_visit_count: 0,
      })),
    ),
    student_courseenrollment: table(
      'student_courseenrollment',
      list.map((e) => ({ id: rowId++, user_id: USERS[e.user], course_id: c.id, created: e.created, is_active: e.active ?? 1, mode: e.mode })),
    ),
    certificates_generatedcertificate: table(
      'certificates_generatedcertificate',
      list
        .filter((e) => e.certificate)
        .map((e) => ({
          id: rowId++,
          user_id: USERS[e.user],
          download_url: '',
          grade: e.certificate!.grade,
          course_id: c.id,
          key: '',
          distinction: 0,
          status: e.certificate!.status,
          verify_uuid: `v${USERS[e.user]}${course}`.slice(0, 32),
          download_uuid: '',
          name: e.user,
          created_date: e.certificate!.created,
          modified_date: e.certificate!.created,
          error_reason: '',
          mode: e.certificate!.mode,
        })),
    ),
    grades_persistentcoursegrade: table(
      'grades_persistentcoursegrade',
      list
        .filter((e) => e.grade)
        .map((e) => ({
          course_id: c.id,
          user_id: USERS[e.user],
          grading_policy_hash: 'h',
          percent_grade: e.grade!.percent,
          letter_grade: e.grade!.passed ? 'Pass' : '',
          passed_timestamp: e.grade!.passed ?? null,
          created: e.created,
          modified: e.grade!.passed ?? e.created,
        })),
    ),
    courseware_studentmodule: table(
      'courseware_studentmodule',
      STUDENT_MODULES.filter((m) => m.course === course).map((m) => ({
        id: rowId++,
        module_type: 'problem',
        module_id: `block-v1:${c.id.slice(10)}+type@problem+block@p1`,
        student_id: USERS[m.user],
        state: '{}',
        grade: 1,
        created: m.modified,
        modified: m.modified,
        max_grade: 1,
        done: 'na',
        course_id: c.id,
      })),
    ),
  };
}

interface EventSpec {
  user: UserName;
  username?: string;
  course: CourseName;
  time: string;
  type: string;
  source: 'browser' | 'server';
  event: Record<string, unknown>;
}

/** The daily logs' events (UTC). 2025-03-03 and 2025-03-10 are Mondays. */
export const EVENTS: EventSpec[] = [
  // 2025-03-03: 9 events of Prob101-1T2025, 4 learners with designated events (erin only views a page).
  { user: 'alice', course: 'prob1', time: '2025-03-03T10:00:00.000000+00:00', type: 'play_video', source: 'browser', event: { id: 'v1', code: 'html5', currentTime: 0 } },
  { user: 'alice', course: 'prob1', time: '2025-03-03T10:05:00.000000+00:00', type: 'play_video', source: 'browser', event: { id: 'v2', code: 'html5', currentTime: 0 } },
  { user: 'bob', course: 'prob1', time: '2025-03-03T11:00:00.000000+00:00', type: 'play_video', source: 'browser', event: { id: 'v1', code: 'html5', currentTime: 3 } },
  { user: 'alice', course: 'prob1', time: '2025-03-03T10:10:00.000000+00:00', type: 'problem_check', source: 'server', event: { problem_id: 'p1', attempts: 1, success: 'correct', grade: 1, max_grade: 1, answers: {} } },
  { user: 'alice', course: 'prob1', time: '2025-03-03T10:10:00.100000+00:00', type: 'problem_check', source: 'browser', event: { problem_id: 'p1' } },
  { user: 'bob', course: 'prob1', time: '2025-03-03T11:10:00.000000+00:00', type: 'problem_check', source: 'server', event: { problem_id: 'p1', attempts: 1, success: 'incorrect', grade: 0, max_grade: 1, answers: {} } },
  { user: 'carol', course: 'prob1', time: '2025-03-03T12:00:00.000000+00:00', type: 'edx.forum.thread.created', source: 'server', event: { id: 't1', title: 'Hello', commentable_id: 'c1' } },
  { user: 'dave', course: 'prob1', time: '2025-03-03T13:00:00.000000+00:00', type: 'edx.course.enrollment.activated', source: 'server', event: { course_id: COURSES.prob1.id, user_id: USERS.dave, mode: 'audit' } },
  { user: 'erin', course: 'prob1', time: '2025-03-03T14:00:00.000000+00:00', type: '/courses/course-v1:UniX+Prob101+1T2025/courseware', source: 'server', event: { GET: {}, POST: {} } },
  // 2025-03-05: 3 events, 3 learners.
  { user: 'alice', course: 'prob1', time: '2025-03-05T09:00:00.000000+00:00', type: 'play_video', source: 'browser', event: { id: 'v1', code: 'html5', currentTime: 30 } },
  { user: 'dave', course: 'prob1', time: '2025-03-05T09:30:00.000000+00:00', type: 'edx.course.enrollment.deactivated', source: 'server', event: { course_id: COURSES.prob1.id, user_id: USERS.dave, mode: 'audit' } },
  { user: 'bob', course: 'prob1', time: '2025-03-05T10:00:00.000000+00:00', type: 'seq_goto', source: 'browser', event: { id: 'seq1', old: 1, new: 2 } },
  // 2025-03-10 (the next week): 2 events, 1 learner.
  { user: 'carol', course: 'prob1', time: '2025-03-10T08:00:00.000000+00:00', type: 'problem_check', source: 'server', event: { problem_id: 'p2', attempts: 1, success: 'correct', grade: 1, max_grade: 1, answers: {} } },
  { user: 'carol', course: 'prob1', time: '2025-03-10T08:30:00.000000+00:00', type: 'play_video', source: 'browser', event: { id: 'v3', code: 'html5', currentTime: 0 } },
  // Alice under her new username in the renamed run.
  { user: 'alice', username: 'alice_w', course: 'statx', time: '2026-02-02T15:00:00.000000+00:00', type: 'play_video', source: 'browser', event: { id: 'sv1', code: 'html5', currentTime: 0 } },
];

function eventLine(e: EventSpec): string {
  const course = COURSES[e.course];
  return JSON.stringify({
    username: e.username ?? e.user,
    event_type: e.type,
    event_source: e.source,
    time: e.time,
    context: { course_id: course.id, user_id: USERS[e.user], org_id: ORG, path: '/event' },
    // Browser events carry `event` as a JSON-encoded string (docs/edx-formats.md §5.3).
    event: e.source === 'browser' ? JSON.stringify(e.event) : e.event,
    page: null,
    session: `s${USERS[e.user]}`,
    host: 'courses.edx.org',
    ip: '10.0.0.1',
    agent: 'test',
  });
}

/** Writes the delivery under `dir` (weekly zips in `course-data/`, logs in `edx-course-data/`). */
export async function writeReportDelivery(dir: string): Promise<void> {
  const weekly = join(dir, 'course-data');
  await mkdir(weekly, { recursive: true });
  for (const p of PACKAGES) {
    const folder = `${ORG}-${p.date}`;
    const members = p.courses.flatMap((course) =>
      Object.entries(courseTables(course)).map(([t, data]) => ({ name: `${folder}/${COURSES[course].key}-${t}-prod-analytics.sql`, data })),
    );
    await writeFile(join(weekly, `${ORG.toLowerCase()}-${p.date}.zip`), await zipOf(members));
  }
  const byDay = new Map<string, string[]>();
  for (const e of EVENTS) {
    const day = e.time.slice(0, 10);
    byDay.set(day, [...(byDay.get(day) ?? []), eventLine(e)]);
  }
  for (const [day, lines] of byDay) {
    const folder = join(dir, 'edx-course-data', ORG.toLowerCase(), 'edx', 'events', day.slice(0, 4));
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, `${ORG.toLowerCase()}-edx-events-${day}.log`), `${lines.join('\n')}\n`);
  }
}

/**
 * A home folder under a new temporary `work` folder with one environment, `univ`, whose local source
 * holds this delivery and whose config holds the test programs, loaded through the real pipeline.
 */
export async function loadedReportHome(prefix: string): Promise<{ work: string; home: string }> {
  const work = await mkdtemp(join(tmpdir(), prefix));
  const home = join(work, 'home');
  const source = join(work, 'delivery');
  await mkdir(home, { recursive: true });
  await writeReportDelivery(source);
  await writeFile(join(home, 'config.yaml'), ['environments:', '  univ:', `    source: { type: local, path: ${source} }`, ...PROGRAMS_YAML, ''].join('\n'));
  const result = await createConsoleService({ home }).run('univ', {});
  if (result.status !== 'succeeded') throw new Error(`loading the report delivery ended ${result.status}`);
  return { work, home };
}
