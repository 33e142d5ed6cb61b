/**
 * Pseudonymised analytics on the demo delivery (SQLite): after a run, the `pseudo_*` views hold no
 * e-mail, username or name of any learner of the delivery, still join across tables and events,
 * give each learner the HMAC pseudonym of their user id under the environment's secret (another
 * secret: other pseudonyms), and a pseudonymised export (`pds export learners --pseudonymise`)
 * holds no direct identifier either and uses the same pseudonyms. `pds db grants` names only the
 * pseudonymised and aggregate views for the analyst role. Learners edX has retired are reported
 * after a run, and erased with `privacy.eraseRetired`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { runCli } from '../../core/cli/main.js';
import { environmentPaths, getEnvironment, loadConfig, saveConfig } from '../../core/config/config-store.js';
import { DEMO_ENV, runDemo } from '../../core/demo/run-demo.js';
import { openErasureTargets } from '../../core/privacy/erasure-targets.js';
import { PrivacyLedger, privacySecret } from '../../core/privacy/privacy-ledger.js';
import { AGGREGATE_VIEWS, grantStatements, pseudoViews, pseudonymOf, pseudonymiseTable, refreshPseudonyms } from '../../core/privacy/pseudonyms.js';
import { queryFile } from '../support/sqlite-files.js';
import { createConsoleService } from '../../core/service/console-service.js';

let home: string;
let secret: string;
const paths = () => environmentPaths(home, DEMO_ENV);
const identifiers: string[] = [];

function all<T>(sql: string, ...params: unknown[]): T[] {
  return queryFile<T>(paths().sqlite, sql, ...params);
}

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'pds-pseudo-'));
  await runDemo(createConsoleService({ home }));
  const config = getEnvironment(await loadConfig(home), DEMO_ENV);
  secret = await privacySecret(home, DEMO_ENV, config, paths());
  for (const r of all<{ v: string | null }>(
    `SELECT username AS v FROM auth_user UNION SELECT email FROM auth_user UNION SELECT name FROM auth_userprofile
     UNION SELECT username FROM events UNION SELECT full_name FROM email_opt_in UNION SELECT email FROM email_opt_in UNION SELECT author_username FROM forum_contents`,
  )) {
    if (r.v && r.v.length >= 4) identifiers.push(r.v);
  }
});
after(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('pseudonymised views', () => {
  test('exist after a run and hold no e-mail, username or name of the delivery', () => {
    const views = all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'view' AND name LIKE 'pseudo\\_%' ESCAPE '\\'").map((r) => r.name);
    assert.ok(views.includes('pseudo_auth_user') && views.includes('pseudo_events') && views.includes('pseudo_video_events'), views.join(', '));
    assert.ok(identifiers.length > 50);
    for (const v of views) {
      const text = JSON.stringify(all(`SELECT * FROM "${v}"`));
      for (const id of identifiers) assert.ok(!text.includes(id), `${v} holds a direct identifier`);
    }
  });

  test('each learner\'s pseudonym is the HMAC of their user id, the same in every table and events', () => {
    const users = all<{ id: number; p: string }>('SELECT u.id, p.user_pseudonym AS p FROM auth_user u JOIN pseudo_auth_user p ON p.course_key = u.course_key AND p.date_joined IS u.date_joined AND p.last_login IS u.last_login GROUP BY u.id');
    assert.ok(users.length > 10);
    for (const u of users) assert.equal(u.p, pseudonymOf(secret, u.id));
    const events = all<{ user_id: number; p: string }>('SELECT e.user_id, p.user_pseudonym AS p FROM events e JOIN pseudo_events p ON p.event_id = e.event_id WHERE e.user_id IS NOT NULL LIMIT 200');
    for (const e of events) assert.equal(e.p, pseudonymOf(secret, e.user_id));
  });

  test('joins across tables and events give what the tables give', () => {
    const [plain] = all<{ n: number }>('SELECT COUNT(*) AS n FROM student_courseenrollment e JOIN video_events v ON v.user_id = e.user_id');
    const [pseudo] = all<{ n: number }>('SELECT COUNT(*) AS n FROM pseudo_student_courseenrollment e JOIN pseudo_video_events v ON v.user_pseudonym = e.user_pseudonym');
    assert.ok(plain!.n > 0);
    assert.equal(pseudo!.n, plain!.n);
    const [grades] = all<{ n: number }>('SELECT COUNT(*) AS n FROM pseudo_grades_persistentcoursegrade g JOIN pseudo_auth_userprofile p ON p.user_pseudonym = g.user_pseudonym AND p.course_key = g.course_key');
    const [gradesPlain] = all<{ n: number }>('SELECT COUNT(*) AS n FROM grades_persistentcoursegrade g JOIN auth_userprofile p ON p.user_id = g.user_id AND p.course_key = g.course_key');
    assert.equal(grades!.n, gradesPlain!.n);
  });

  test('another secret gives other pseudonyms', async () => {
    const config = getEnvironment(await loadConfig(home), DEMO_ENV);
    const targets = (await openErasureTargets(home, DEMO_ENV, config, paths()))!;
    try {
      const [before_] = all<{ p: string }>('SELECT user_pseudonym AS p FROM pseudo_auth_user WHERE user_pseudonym IS NOT NULL LIMIT 1');
      await refreshPseudonyms(targets.relational, 'another environment\'s secret');
      const now = all<{ p: string }>('SELECT user_pseudonym AS p FROM pseudo_auth_user');
      assert.ok(!now.some((r) => r.p === before_!.p));
      await refreshPseudonyms(targets.relational, secret);
      assert.ok(all<{ p: string }>('SELECT user_pseudonym AS p FROM pseudo_auth_user').some((r) => r.p === before_!.p));
    } finally {
      await targets.close();
    }
    assert.notEqual(pseudonymOf('a', 1), pseudonymOf('b', 1));
  });

  test('a pseudonymised export holds no direct identifier and uses the views\' pseudonyms', async () => {
    const out = join(home, 'export.csv');
    const code = await runCli(['--home', home, 'export', 'learners', '--env', DEMO_ENV, 'DemoX-6.00.1-x-1T2026', '--pseudonymise', '--out', out]);
    assert.equal(code, 0);
    const csv = readFileSync(out, 'utf8');
    const [header, ...rows] = csv.trim().split(/\r?\n/);
    assert.ok(header!.startsWith('user_pseudonym,'), header);
    assert.ok(!/(^|,)(username|email)(,|$)/.test(header!));
    for (const id of identifiers) assert.ok(!csv.includes(id), 'the export holds a direct identifier');
    const known = new Set(all<{ p: string }>('SELECT user_pseudonym AS p FROM pseudo_student_courseenrollment').map((r) => r.p));
    assert.ok(rows.length > 0 && rows.every((r) => known.has(r.split(',')[0]!)));
    assert.deepEqual(pseudonymiseTable({ columns: ['user_id', 'email', 'grade'], rows: [[7, 'a@b.c', 0.5]] }, 's'), { columns: ['user_pseudonym', 'grade'], rows: [[pseudonymOf('s', 7), 0.5]] });
  });

  test('grants: the analyst role reads the pseudonymised and aggregate views only', async () => {
    const statements = grantStatements('edx');
    const analyst = statements.filter((s) => s.includes('TO pds_analyst'));
    assert.ok(analyst.every((s) => /ON `edx`\.`(pseudo_\w+|\w+)`/.test(s)));
    const granted = analyst.map((s) => /`edx`\.`(\w+)`/.exec(s)![1]!);
    assert.deepEqual(granted.filter((v) => !v.startsWith('pseudo_')).sort(), [...AGGREGATE_VIEWS].sort());
    assert.equal(granted.filter((v) => v.startsWith('pseudo_')).length, pseudoViews().length);
    assert.ok(!statements.some((s) => /\.`(pds_pseudonyms|auth_user|events)`/.test(s) && s.includes('pds_analyst')));
    assert.ok(statements.some((s) => s.includes('TO pds_data_czar')));
    // SQLite has no accounts: the command says so.
    const code = await runCli(['--home', home, 'db', 'grants', '--env', DEMO_ENV]);
    assert.equal(code, 1);
  });
});

describe('learners edX has retired', () => {
  test('are reported after a run, and with privacy.eraseRetired their rows and events are erased', async () => {
    const retired = all<{ id: number; username: string }>("SELECT DISTINCT id, username FROM auth_user WHERE username LIKE 'retired\\_\\_user\\_%' ESCAPE '\\'");
    assert.ok(retired.length > 0, 'the demo snapshot has retired learners');
    const [r] = retired;
    // A daily log still carrying one of them.
    const dir = await mkdtemp(join(tmpdir(), 'pds-retired-'));
    const line = JSON.stringify({
      username: r!.username,
      event_type: 'play_video',
      name: 'play_video',
      event_source: 'browser',
      time: '2026-06-10T10:00:00.000000+00:00',
      context: { user_id: r!.id, course_id: 'course-v1:DemoX+6.00.1-x+1T2026', org_id: 'DemoX' },
      event: JSON.stringify({ id: 'block-v1:DemoX+6.00.1-x+1T2026+type@video+block@v1', code: 'html5', currentTime: 1 }),
      ip: '192.0.2.1',
      agent: 'test',
      host: 'courses.edx.org',
      page: 'https://courses.edx.org/',
      session: 'abc',
    });
    const log = join(dir, 'demox-edx-events-2026-06-10.log.gz');
    await writeFile(log, gzipSync(`${line}\n`));
    const service = createConsoleService({ home });
    const first = await service.load(DEMO_ENV, [log], {});
    assert.equal(first.files[0]?.status, 'loaded');
    assert.equal(all('SELECT event_id FROM events WHERE user_id = ?', r!.id).length, 1);
    const ledgerNotices = new Database(paths().ledger, { readonly: true });
    const reported = (ledgerNotices.prepare("SELECT data FROM run_events WHERE type = 'notice' AND run_id = ?").all(first.runId) as { data: string }[]).map((n) => n.data);
    ledgerNotices.close();
    assert.ok(reported.some((d) => /retired/.test(d)), 'the run reports the retired learners');

    const config = await loadConfig(home);
    config.environments[DEMO_ENV]!.privacy = { eraseRetired: true };
    await saveConfig(home, config);
    await service.run(DEMO_ENV, {});
    assert.equal(all('SELECT event_id FROM events WHERE user_id = ?', r!.id).length, 0, 'their events are erased');
    assert.equal(all("SELECT id FROM auth_user WHERE username LIKE 'retired\\_\\_user\\_%' ESCAPE '\\'").length, 0);
    const pl = PrivacyLedger.open(paths().ledger);
    try {
      assert.ok(pl.erasures().some((e) => e.reason === 'retired'));
    } finally {
      pl.close();
    }
    await rm(dir, { recursive: true, force: true });
  });
});
