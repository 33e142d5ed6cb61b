/**
 * Reports (issue: reports for the university's three uses): a delivery with known answers
 * (test/support/report-delivery.ts) loaded through the real pipeline into SQLite and into MariaDB,
 * and every report checked row by row with the same expectations on both stores — through the
 * console's handlers, and through `pds query` / `pds export` for exit codes, messages and CSV.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import * as mariadb from 'mariadb';
import { EXPORT_COLUMNS } from '../../core/contract/report-schemas.js';
import { ContractError } from '../../core/contract/methods.js';
import { PdsError } from '../../core/errors/index.js';
import { environmentPaths, getEnvironment, loadConfig, resolveSecret } from '../../core/config/config-store.js';
import { createConsoleHandlers, type ConsoleEngine } from '../../core/service/console-handlers.js';
import { openReportQueries } from '../../core/stores/open-report-queries.js';
import { createConsoleService } from '../../core/service/console-service.js';
import { startMariaDb, type MariaDbServer } from '../support/mariadb.js';
import { runPds } from '../support/pds-cli.js';
import { COURSES, PROGRAMS_YAML, USERS, writeReportDelivery } from '../support/report-delivery.js';

let work: string;
let home: string;
let db: MariaDbServer;
let handlers: ConsoleEngine;
const PASSWORD_VAR = 'PDS_REPORTS_DB_PASSWORD';

const ENVS = ['lite', 'maria'] as const;

/** An error's code, whether the engine's or the contract's. */
async function rejectsWith(promise: Promise<unknown>, code: string, text?: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof PdsError || e instanceof ContractError, String(e));
    assert.equal((e as { code: string }).code, code);
    if (text) assert.match((e as Error).message, text);
    return true;
  });
}

describe('reports on SQLite and MariaDB', { timeout: 600_000 }, () => {
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'pds-reports-'));
    home = join(work, 'home');
    const source = join(work, 'delivery');
    db = await startMariaDb();
    process.env[PASSWORD_VAR] = db.password;
    await writeReportDelivery(source);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(home, { recursive: true });
    await writeFile(
      join(home, 'config.yaml'),
      [
        'environments:',
        '  lite:',
        `    source: { type: local, path: ${source} }`,
        ...PROGRAMS_YAML,
        '  maria:',
        `    source: { type: local, path: ${source} }`,
        '    targets:',
        `      relational: { type: mariadb, host: ${db.host}, port: ${db.port}, user: ${db.user}, password: env:${PASSWORD_VAR}, database: ${db.database} }`,
        '      events: { type: sqlite }',
        ...PROGRAMS_YAML,
        '  reader:',
        `    source: { type: local, path: ${source} }`,
        '    targets:',
        `      relational: { type: mariadb, host: ${db.host}, port: ${db.port}, user: reports_reader, password: env:${PASSWORD_VAR}, database: ${db.database} }`,
        ...PROGRAMS_YAML,
        '  empty:',
        `    source: { type: local, path: ${source} }`,
        '',
      ].join('\n'),
    );
    const service = createConsoleService({ home });
    for (const env of ENVS) {
      const result = await service.run(env, {});
      assert.equal(result.status, 'succeeded', `${env}: ${JSON.stringify(result.files.filter((f) => f.status !== 'loaded').map((f) => [f.key, f.status, f.reason]))}`);
    }
    handlers = createConsoleHandlers({ home, origin: 'cli' });
    // An account that may only read: reports need nothing more.
    const conn = await mariadb.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password });
    try {
      await conn.query(`CREATE USER 'reports_reader'@'%' IDENTIFIED BY ?`, [db.password]);
      await conn.query(`GRANT SELECT ON \`${db.database}\`.* TO 'reports_reader'@'%'`);
    } finally {
      await conn.end();
    }
  });

  after(async () => {
    await handlers?.close();
    await db?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  for (const env of ENVS) {
    describe(env, () => {
      test('learner: every course of one user id, by old username, new username, e-mail or id', async () => {
        const expected = [
          { courseKey: COURSES.prob1.key, username: 'alice', mode: 'verified', active: true, enrolledAt: '2025-01-10 09:00:00', grade: 0.91, passed: true, passedAt: '2025-04-28 09:00:00', certificateStatus: 'downloadable', lastActivity: '2025-04-01 12:00:00' },
          { courseKey: COURSES.ml.key, username: 'alice', mode: 'verified', active: true, enrolledAt: '2025-05-15 09:00:00', grade: 0.9, passed: true, passedAt: '2025-07-29 09:00:00', certificateStatus: 'downloadable', lastActivity: null },
          { courseKey: COURSES.statx.key, username: 'alice_w', mode: 'verified', active: true, enrolledAt: '2025-12-20 09:00:00', grade: 0.88, passed: true, passedAt: '2026-04-28 09:00:00', certificateStatus: 'downloadable', lastActivity: '2026-02-02 15:00:00' },
        ];
        for (const who of ['alice', 'alice_w', 'alice@uni.example', '101']) {
          const report = await handlers.queryLearner({ env, learner: who });
          assert.deepEqual(report.learners, [{ userId: 101, usernames: ['alice_w', 'alice'], emails: ['alice@uni.example'] }], who);
          assert.deepEqual(
            report.rows.map((r) => ({ courseKey: r.courseKey, username: r.username, mode: r.mode, active: r.active, enrolledAt: r.enrolledAt, grade: r.grade, passed: r.passed, passedAt: r.passedAt, certificateStatus: r.certificateStatus, lastActivity: r.lastActivity })),
            expected,
            who,
          );
        }
        await rejectsWith(handlers.queryLearner({ env, learner: 'mallory' }), 'LEARNER_UNKNOWN');
        // Case matters on both stores (MariaDB's collation alone would match it).
        await rejectsWith(handlers.queryLearner({ env, learner: 'ALICE' }), 'LEARNER_UNKNOWN');
      });

      test('roster: every learner of a course by id or key, filters by mode and status', async () => {
        const byKey = await handlers.queryRoster({ env, course: COURSES.prob1.key });
        const byId = await handlers.queryRoster({ env, course: COURSES.prob1.id });
        assert.deepEqual(byKey, byId);
        assert.deepEqual(byKey.course, { courseId: COURSES.prob1.id, courseKey: COURSES.prob1.key });
        assert.deepEqual(
          byKey.rows.map((r) => [r.username, r.userId, r.mode, r.active, r.grade, r.passed, r.certificateStatus, r.lastActivity]),
          [
            ['alice', 101, 'verified', true, 0.91, true, 'downloadable', '2025-04-01 12:00:00'],
            ['bob', 102, 'verified', true, 0.85, true, 'downloadable', '2025-03-05 10:00:00'],
            ['carol', 103, 'verified', true, 0.8, true, 'downloadable', '2025-03-10 08:30:00'],
            ['dave', 104, 'audit', true, 0.75, true, 'audit_passing', '2025-03-05 09:30:00'],
            ['erin', 105, 'verified', true, 0.95, true, 'downloadable', '2025-02-20 08:00:00'],
            ['frank', 106, 'verified', true, 0.7, true, 'downloadable', null],
          ],
        );
        const audit = await handlers.queryRoster({ env, course: COURSES.prob1.key, modes: ['audit'] });
        assert.deepEqual(audit.rows.map((r) => r.username), ['dave']);
        const certified = await handlers.queryRoster({ env, course: COURSES.prob1.key, statuses: ['certified'] });
        assert.deepEqual(certified.rows.map((r) => r.username), ['alice', 'bob', 'carol', 'erin', 'frank']);
        const inactive = await handlers.queryRoster({ env, course: COURSES.prob3.key, statuses: ['inactive'] });
        assert.deepEqual(inactive.rows.map((r) => [r.username, r.active, r.grade, r.certificateStatus]), [['gina', false, null, null]]);
        const stat = await handlers.queryRoster({ env, course: COURSES.stat1.key, statuses: ['not-passed'] });
        assert.deepEqual(stat.rows.map((r) => [r.username, r.grade, r.passed, r.certificateStatus]), [['bob', 0.4, false, 'notpassing']]);
        await rejectsWith(handlers.queryRoster({ env, course: 'Prob101' }), 'COURSE_AMBIGUOUS', /UniX-Prob101-1T2025.*UniX-Prob101-3T2025/);
        await rejectsWith(handlers.queryRoster({ env, course: 'UniX-Prob101-2T2025' }), 'COURSE_UNKNOWN', /Close matches: .*UniX-Prob101-1T2025/);
        await rejectsWith(handlers.queryRoster({ env, course: 'Nothing-Like-This' }), 'COURSE_UNKNOWN');
      });

      test('course activity by day and by week, from the daily summary and the designated tables', async () => {
        const columns = (r: { period: string; activeLearners: number; events: number; videoPlays: number; problemAttempts: number; correctAnswers: number; forumPosts: number; enrolments: number; unenrolments: number }) => [
          r.period,
          r.activeLearners,
          r.events,
          r.videoPlays,
          r.problemAttempts,
          r.correctAnswers,
          r.forumPosts,
          r.enrolments,
          r.unenrolments,
        ];
        const daily = await handlers.queryActivity({ env, course: COURSES.prob1.key, by: 'day' });
        assert.equal(daily.from, '2025-03-03');
        assert.equal(daily.to, '2025-03-10');
        assert.deepEqual(daily.rows.map(columns), [
          ['2025-03-03', 4, 9, 3, 2, 1, 1, 1, 0],
          ['2025-03-05', 3, 3, 1, 0, 0, 0, 0, 1],
          ['2025-03-10', 1, 2, 1, 1, 1, 0, 0, 0],
        ]);
        const weekly = await handlers.queryActivity({ env, course: COURSES.prob1.id, by: 'week', from: '2025-03-01', to: '2025-03-31' });
        assert.deepEqual(weekly.rows.map(columns), [
          ['2025-03-03', 4, 12, 4, 2, 1, 1, 1, 1],
          ['2025-03-10', 1, 2, 1, 1, 1, 0, 0, 0],
        ]);
        const oneDay = await handlers.queryActivity({ env, course: COURSES.prob1.key, by: 'day', from: '2025-03-05', to: '2025-03-05' });
        assert.deepEqual(oneDay.rows.map(columns), [['2025-03-05', 3, 3, 1, 0, 0, 0, 0, 1]]);
        const none = await handlers.queryActivity({ env, course: COURSES.prob1.key, by: 'day', from: '2024-01-01', to: '2024-01-31' });
        assert.deepEqual(none.rows, []);
      });

      test('program: modules passed (run, date), remaining, eligibility under the version met in time', async () => {
        const report = await handlers.queryProgram({ env, program: 'sds', eligibleOnly: false });
        assert.equal(report.currentVersion, '2025-09-01');
        assert.equal(report.learners, 7);
        assert.equal(report.eligible, 3);
        const rows = Object.fromEntries(report.rows.map((r) => [r.username ?? '', r]));
        assert.deepEqual(report.rows.map((r) => [r.username, r.userId, r.eligible, r.version, r.corePassed, r.electivesPassed, r.remaining]), [
          ['alice_w', 101, true, '2025-09-01', 2, 1, []],
          ['bob', 102, false, '2025-09-01', 1, 1, ['stats']],
          ['carol', 103, true, '2025-09-01', 2, 1, []],
          ['dave', 104, false, '2025-09-01', 1, 1, ['prob']],
          ['erin', 105, true, '2024-01-01', 2, 1, []],
          ['frank', 106, false, '2025-09-01', 1, 1, ['stats']],
          ['gina', 107, false, '2025-09-01', 0, 0, ['prob', 'stats', '1 more of: ml, viz']],
        ]);
        // A changed username is one learner; the renamed run counts for its module.
        assert.deepEqual(rows.alice_w!.passed, [
          { module: 'prob', kind: 'core', courseKey: COURSES.prob1.key, passedAt: '2025-05-01 10:00:00', via: 'certificate', runsPassed: [COURSES.prob1.key] },
          { module: 'stats', kind: 'core', courseKey: COURSES.statx.key, passedAt: '2026-05-01 10:00:00', via: 'certificate', runsPassed: [COURSES.statx.key] },
          { module: 'ml', kind: 'elective', courseKey: COURSES.ml.key, passedAt: '2025-08-01 10:00:00', via: 'certificate', runsPassed: [COURSES.ml.key] },
        ]);
        // A module passed twice counts once, from its first pass.
        assert.deepEqual(rows.carol!.passed[0], { module: 'prob', kind: 'core', courseKey: COURSES.prob1.key, passedAt: '2025-05-10 10:00:00', via: 'certificate', runsPassed: [COURSES.prob1.key, COURSES.prob3.key] });
        // Eligible under the old version, whose core held econ.
        assert.deepEqual(rows.erin!.passed.map((p: { module: string; kind: string; passedAt: string | null }) => [p.module, p.kind, p.passedAt]), [
          ['prob', 'core', '2025-03-01 10:00:00'],
          ['econ', 'core', '2025-06-01 10:00:00'],
          ['viz', 'elective', '2025-07-01 10:00:00'],
        ]);
        const eligible = await handlers.queryProgram({ env, program: 'sds', eligibleOnly: true });
        assert.deepEqual(eligible.rows.map((r) => r.username), ['alice_w', 'carol', 'erin']);
        // Pass rule "either": dave's passing grade in audit mode counts.
        const either = await handlers.queryProgram({ env, program: 'sds-either', eligibleOnly: true });
        assert.deepEqual(either.rows.map((r) => r.username), ['alice_w', 'carol', 'dave', 'erin']);
        const dave = either.rows.find((r) => r.userId === USERS.dave)!;
        assert.deepEqual(dave.passed[0], { module: 'prob', kind: 'core', courseKey: COURSES.prob1.key, passedAt: '2025-05-03 09:00:00', via: 'grade', runsPassed: [COURSES.prob1.key] });
        await rejectsWith(handlers.queryProgram({ env, program: 'nope', eligibleOnly: false }), 'PROGRAM_UNKNOWN', /sds, sds-either/);
      });

      test('learning-analytics export per learner per course', async () => {
        const course = await handlers.exportLearners({ env, course: COURSES.prob1.key });
        assert.equal(course.filename, `learners-${COURSES.prob1.key}.csv`);
        assert.deepEqual(
          course.rows.map((r) => EXPORT_COLUMNS.map((c) => r[c])),
          [
            [101, 'alice', 'alice@uni.example', COURSES.prob1.id, COURSES.prob1.key, 'verified', true, '2025-04-01 12:00:00', 2, 2, 1, 1, 0.91, true],
            [102, 'bob', 'bob@uni.example', COURSES.prob1.id, COURSES.prob1.key, 'verified', true, '2025-03-05 10:00:00', 2, 1, 1, 0, 0.85, true],
            [103, 'carol', 'carol@uni.example', COURSES.prob1.id, COURSES.prob1.key, 'verified', true, '2025-03-10 08:30:00', 2, 1, 1, 1, 0.8, true],
            [104, 'dave', 'dave@uni.example', COURSES.prob1.id, COURSES.prob1.key, 'audit', true, '2025-03-05 09:30:00', 2, 0, 0, 0, 0.75, true],
            [105, 'erin', 'erin@uni.example', COURSES.prob1.id, COURSES.prob1.key, 'verified', true, '2025-02-20 08:00:00', 0, 0, 0, 0, 0.95, true],
            [106, 'frank', 'frank@uni.example', COURSES.prob1.id, COURSES.prob1.key, 'verified', true, null, 0, 0, 0, 0, 0.7, true],
          ],
        );
        const program = await handlers.exportLearners({ env, program: 'sds' });
        assert.deepEqual(program.scope.courses.map((c) => c.courseKey).sort(), Object.values(COURSES).map((c) => c.key).sort());
        // One row per enrolment of every run: 6 + 2 + 2 + 2 + 2 + 4 + 2.
        assert.equal(program.rows.length, 20);
        const aliceStat = program.rows.find((r) => r.user_id === USERS.alice && r.course_key === COURSES.statx.key)!;
        assert.deepEqual([aliceStat.username, aliceStat.days_active, aliceStat.videos_watched, aliceStat.last_active], ['alice_w', 1, 1, '2026-02-02 15:00:00']);
      });

      test('the summary views for analysts: enrolments by mode, certificates by status, activity by week', async () => {
        const config = getEnvironment(await loadConfig(home), env);
        const q = await openReportQueries(env, config, environmentPaths(home, env), (ref, path) => resolveSecret(ref, home, path), home);
        try {
          const rows = async (sql: string, params: string[]) => (await q.query<Record<string, unknown>>(sql, params)).map((r) => Object.values(r).map((v) => (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v) ? v.slice(0, 10) : v)));
          const sortRows = (list: unknown[][]) => list.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
          assert.deepEqual(sortRows(await rows('SELECT course_key, mode, enrolled, active, inactive FROM course_enrollments_by_mode WHERE course_key = ?', [COURSES.prob3.key])), [
            [COURSES.prob3.key, 'audit', 1, 0, 1],
            [COURSES.prob3.key, 'verified', 1, 1, 0],
          ]);
          assert.deepEqual(sortRows(await rows('SELECT course_id, status, mode, certificates FROM course_certificates_by_status WHERE course_key = ?', [COURSES.prob1.key])), [
            [COURSES.prob1.id, 'audit_passing', 'audit', 1],
            [COURSES.prob1.id, 'downloadable', 'verified', 5],
          ]);
          assert.deepEqual(sortRows(await rows('SELECT week, days_with_events, events, active_user_days, video_events, problem_checks, forum_events, enrollment_events FROM weekly_course_activity WHERE course_id = ?', [COURSES.prob1.id])), [
            ['2025-03-03', 2, 12, 8, 4, 2, 1, 2],
            ['2025-03-10', 1, 2, 1, 1, 1, 0, 0],
          ]);
        } finally {
          await q.close();
        }
      });
    });
  }

  test('both stores give identical answers for every report', async () => {
    const all = async (env: string) => ({
      learner: await handlers.queryLearner({ env, learner: 'carol' }),
      roster: await handlers.queryRoster({ env, course: COURSES.prob3.key }),
      week: await handlers.queryActivity({ env, course: COURSES.prob1.key, by: 'week' }),
      program: await handlers.queryProgram({ env, program: 'sds', eligibleOnly: false }),
      export: await handlers.exportLearners({ env, program: 'sds' }),
    });
    assert.deepEqual(await all('maria'), await all('lite'));
  });

  test('an account with SELECT only runs every report (nothing is created or migrated)', async () => {
    const program = await handlers.queryProgram({ env: 'reader', program: 'sds', eligibleOnly: true });
    assert.deepEqual(program.rows.map((r) => r.username), ['alice_w', 'carol', 'erin']);
    await rejectsWith(handlers.queryRoster({ env: 'reader', course: 'Nothing-Like-This' }), 'COURSE_UNKNOWN');
    const roster = await handlers.queryRoster({ env: 'reader', course: COURSES.prob1.key });
    assert.deepEqual(roster, await handlers.queryRoster({ env: 'maria', course: COURSES.prob1.key }));
  });

  test('an environment with nothing loaded answers NOTHING_LOADED', async () => {
    await rejectsWith(handlers.queryRoster({ env: 'empty', course: COURSES.prob1.key }), 'NOTHING_LOADED');
  });

  describe('pds query and pds export', () => {
    const pds = (args: string[]) => runPds(['--home', home, ...args], {});

    test('a table on the terminal, --json and --csv from the same rows', async () => {
      const table = await pds(['query', 'roster', '--env', 'lite', COURSES.prob1.key]);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^course-v1:UniX\+Prob101\+1T2025 \(UniX-Prob101-1T2025\): 6 learner\(s\)/);
      assert.match(table.stdout, /\n\s+104\s+dave\s+.*audit_passing/);
      const json = await pds(['query', 'roster', '--env', 'maria', COURSES.prob1.key, '--json']);
      assert.equal(json.code, 0, json.stderr);
      assert.equal(JSON.parse(json.stdout).rows.length, 6);
      const csv = await pds(['query', 'activity', '--env', 'maria', COURSES.prob1.key, '--by', 'week', '--csv']);
      assert.equal(csv.code, 0, csv.stderr);
      assert.deepEqual(parse(csv.stdout, { columns: true }), [
        { week: '2025-03-03', active_learners: '4', events: '12', video_plays: '4', problem_attempts: '2', correct_answers: '1', forum_posts: '1', enrolments: '1', unenrolments: '1' },
        { week: '2025-03-10', active_learners: '1', events: '2', video_plays: '1', problem_attempts: '1', correct_answers: '1', forum_posts: '0', enrolments: '0', unenrolments: '0' },
      ]);
      const program = await pds(['query', 'program', '--env', 'lite', 'sds', '--eligible', '--csv']);
      assert.equal(program.code, 0, program.stderr);
      assert.deepEqual((parse(program.stdout, { columns: true }) as Record<string, string>[]).map((r) => [r.username, r.eligible, r.version]), [
        ['alice_w', '1', '2025-09-01'],
        ['carol', '1', '2025-09-01'],
        ['erin', '1', '2024-01-01'],
      ]);
    });

    test('unknown learner or course, ambiguous course, empty result: a message and exit code 1, never a stack trace', async () => {
      const cases: [string[], RegExp][] = [
        [['query', 'learner', '--env', 'lite', 'mallory'], /No learner "mallory"/],
        [['query', 'roster', '--env', 'lite', 'Prob101'], /names more than one course: UniX-Prob101-1T2025/],
        [['query', 'activity', '--env', 'maria', 'UniX-Prob101-2T2025'], /No course "UniX-Prob101-2T2025".*Close matches/],
        [['query', 'roster', '--env', 'lite', COURSES.prob3.key, '--status', 'inactive', '--status', 'certified'], /No learner of UniX-Prob101-3T2025 matches inactive, certified/],
        [['query', 'activity', '--env', 'lite', COURSES.prob1.key, '--from', '2024-01-01', '--to', '2024-01-31'], /No activity of UniX-Prob101-1T2025 from 2024-01-01 to 2024-01-31/],
        [['query', 'program', '--env', 'lite', 'nope'], /no program "nope"; its programs are sds, sds-either/],
        [['query', 'activity', '--env', 'lite', COURSES.prob1.key, '--from', '2025-02-30'], /2025-02-30/],
        [['export', 'learners', '--env', 'lite'], /Name either a course or --program/],
        [['query', 'roster', '--env', 'lite', COURSES.prob1.key, '--status', 'bogus'], /argument 'bogus' is invalid. Allowed choices are active, inactive/],
      ];
      for (const [args, message] of cases) {
        const r = await pds(args);
        assert.equal(r.code, 1, args.join(' '));
        assert.match(r.stderr, message, args.join(' '));
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      }
    });

    test('the CSV export round-trips through a CSV parser with the documented columns', async () => {
      const out = join(work, 'export.csv');
      const r = await pds(['export', 'learners', '--env', 'maria', '--program', 'sds', '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      const text = await readFile(out, 'utf8');
      const documented = [...(await readFile(new URL('../../docs/exports.md', import.meta.url), 'utf8')).matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
      assert.deepEqual(documented, [...EXPORT_COLUMNS]);
      const rows = parse(text, { columns: true }) as Record<string, string>[];
      assert.deepEqual(Object.keys(rows[0]!), documented);
      const expected = await handlers.exportLearners({ env: 'maria', program: 'sds' });
      assert.deepEqual(
        rows,
        expected.rows.map((row) => Object.fromEntries(EXPORT_COLUMNS.map((c) => [c, row[c] === null ? '' : typeof row[c] === 'boolean' ? (row[c] ? '1' : '0') : String(row[c])]))),
      );
    });
  });
});
