/**
 * Learners edX removed from the weekly snapshot while their events stay (the embedded store, the
 * demo delivery): a newer package without one learner who has events and one who has none is
 * loaded; the first is reported as retired after the run, the second is not (nothing of theirs is
 * left); `pds forget --retired --dry-run` counts them, `privacy.eraseRetired` erases the first
 * after the next run (their events gone, the erasure recorded with reason `retired`). A purge of
 * old snapshot rows is not taken for learners edX removed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { environmentPaths, loadConfig, saveConfig } from '../../core/config/config-store.js';
import { DEFAULT_RETENTION } from '../../core/config/unattended-schema.js';
import { generateDemoData } from '../../core/demo/generate-package.js';
import { DEMO_ENV, runDemo } from '../../core/demo/run-demo.js';
import { listZipMembers, openZipMember } from '../../core/formats/weekly-zip.js';
import { DEPARTURES_AT_ONCE, SNAPSHOT_LEARNERS_TABLE } from '../../core/privacy/departed-learners.js';
import { Ledger } from '../../core/ledger/ledger.js';
import { PrivacyLedger } from '../../core/privacy/privacy-ledger.js';
import { createConsoleService } from '../../core/service/console-service.js';
import { zipOf } from '../support/zip.js';
import { queryFile } from '../support/sqlite-files.js';
import { runPds } from '../support/pds-cli.js';

let home: string;
let work: string;
const paths = () => environmentPaths(home, DEMO_ENV);

function all<T>(sql: string, ...params: unknown[]): T[] {
  return queryFile<T>(paths().sqlite, sql, ...params);
}

function notices(runId: string, homeDir = home): string[] {
  const ledger = Ledger.open(environmentPaths(homeDir, DEMO_ENV).ledger);
  try {
    return ledger.runNotices(runId).map((n) => n.message);
  } finally {
    ledger.close();
  }
}

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** The column naming the learner in each snapshot table a departure is read from. */
const LEARNER_COLUMN: Record<string, string> = { auth_user: 'id', student_courseenrollment: 'user_id', auth_userprofile: 'user_id' };

/**
 * A weekly package a week after the demo's, put where the environment `homeDir` reads its
 * deliveries, without the learners `ids` in every table edX deletes a learner from, and without
 * the learners `authUserOnly` in auth_user alone (as when their line there is rejected).
 */
async function newerPackageWithout(homeDir: string, ids: readonly number[], authUserOnly: readonly number[] = []): Promise<void> {
  const out = await mkdtemp(join(work, 'newer-'));
  await generateDemoData({ outDir: out, packageDate: '2026-06-14', days: 1, eventsPerDay: 20 });
  const zipPath = join(out, 'course-data', 'demox-2026-06-14.zip');
  const entries: { name: string; data: string }[] = [];
  const removed = new Set<number>();
  for (const m of await listZipMembers(zipPath)) {
    let data = await text(await openZipMember(zipPath, m.name));
    const table = Object.keys(LEARNER_COLUMN).find((t) => m.name.includes(`-${t}-`));
    if (table) {
      const out = table === 'auth_user' ? [...ids, ...authUserOnly] : ids;
      const [header, ...rows] = data.split('\n');
      const at = header!.split('\t').indexOf(LEARNER_COLUMN[table]!);
      assert.ok(at >= 0, `${m.name} has a ${LEARNER_COLUMN[table]} column`);
      const kept = rows.filter((line) => {
        const id = Number(line.split('\t')[at]);
        if (!out.includes(id)) return true;
        removed.add(id);
        return false;
      });
      data = [header, ...kept].join('\n');
    }
    entries.push({ name: m.name, data });
  }
  assert.equal(removed.size, ids.length + authUserOnly.length, 'the newer package held the learners before they were taken out');
  await writeFile(join(homeDir, 'demo', 'source', 'course-data', 'demox-2026-06-14.zip'), await zipOf(entries));
}

let withEvents: number;
let withoutEvents: number;
/** A learner whose auth_user line is missing (as when it is rejected) but who is still enrolled. */
let stillEnrolled: number;

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'pds-departed-'));
  work = await mkdtemp(join(tmpdir(), 'pds-departed-work-'));
  await runDemo(createConsoleService({ home }));
  const active = all<{ id: number }>(
    "SELECT u.id FROM auth_user u JOIN events e ON e.user_id = u.id WHERE u.username NOT LIKE 'retired\\_\\_%' ESCAPE '\\' GROUP BY u.id ORDER BY COUNT(*) DESC LIMIT 2",
  );
  const silent = all<{ id: number }>("SELECT id FROM auth_user WHERE username NOT LIKE 'retired\\_\\_%' ESCAPE '\\' AND id NOT IN (SELECT user_id FROM events WHERE user_id IS NOT NULL) ORDER BY id LIMIT 1");
  assert.ok(active[1] && silent[0], 'the demo has learners with and without events');
  withEvents = active[0]!.id;
  stillEnrolled = active[1]!.id;
  withoutEvents = silent[0].id;
});
after(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

describe('learners gone from a new snapshot while their events remain', () => {
  test('the first run records the learners of the snapshot and reports nobody as departed', () => {
    const recorded = all<{ user_id: number }>(`SELECT user_id FROM ${SNAPSHOT_LEARNERS_TABLE}`).map((r) => r.user_id);
    const current = all<{ id: number }>('SELECT DISTINCT id FROM auth_user').map((r) => r.id);
    assert.deepEqual(new Set(recorded), new Set(current));
  });

  test('are reported after the newer snapshot loads; a learner with no events left is not', async () => {
    // Learners edX deleted leave every table; an auth_user line alone missing (a rejected line) is no departure.
    await newerPackageWithout(home, [withEvents, withoutEvents], [stillEnrolled]);
    const service = createConsoleService({ home });
    const result = await service.run(DEMO_ENV, { only: 'weekly' });
    assert.notEqual(result.status, 'failed');
    assert.equal(all('SELECT id FROM auth_user WHERE id IN (?, ?, ?)', withEvents, withoutEvents, stillEnrolled).length, 0, 'the newer snapshot replaced the older one');
    assert.ok(all('SELECT user_id FROM student_courseenrollment WHERE user_id = ?', stillEnrolled).length > 0);
    assert.ok(all('SELECT event_id FROM events WHERE user_id = ?', withEvents).length > 0, 'their events remain');
    const said = notices(result.runId).join('\n');
    assert.match(said, /1 gone from every course of the weekly snapshot while their events remain/);
    assert.match(said, /pds forget --env demo --retired/);
    const recorded = new Set(all<{ user_id: number }>(`SELECT user_id FROM ${SNAPSHOT_LEARNERS_TABLE}`).map((r) => r.user_id));
    assert.ok(recorded.has(withEvents), 'a departed learner stays recorded until erased');
    const [mark] = all<{ departed_at: string | null }>(`SELECT departed_at FROM ${SNAPSHOT_LEARNERS_TABLE} WHERE user_id = ?`, withEvents);
    assert.ok(mark?.departed_at, 'marked departed: later runs report them without looking at the events again');
    assert.ok(!recorded.has(withoutEvents), 'a learner with nothing left leaves the record');
    const [enrolled] = all<{ departed_at: string | null }>(`SELECT departed_at FROM ${SNAPSHOT_LEARNERS_TABLE} WHERE user_id = ?`, stillEnrolled);
    assert.equal(enrolled?.departed_at, null, 'a learner still enrolled has not left, whatever auth_user says');
  });

  test('pds forget --retired --dry-run counts them (known departed, not looked for again) and changes nothing', async () => {
    const before = all<{ n: number }>('SELECT COUNT(*) AS n FROM events')[0]!.n;
    const r = await runPds(['--home', home, 'forget', '--env', DEMO_ENV, '--retired', '--dry-run', '--json'], {});
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { learners: number; totalRows: number; description: string };
    assert.ok(out.learners >= 1 && out.totalRows > 0, r.stdout);
    assert.match(out.description, /gone from every course/);
    assert.equal(all<{ n: number }>('SELECT COUNT(*) AS n FROM events')[0]!.n, before);
    const both = await runPds(['--home', home, 'forget', '--env', DEMO_ENV, '--retired', '--user', 'x'], {});
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /--user, or every learner edX has retired with --retired/);
  });

  test('with privacy.eraseRetired the next run erases them, events included, and records why', async () => {
    const config = await loadConfig(home);
    config.environments[DEMO_ENV]!.privacy = { eraseRetired: true };
    await saveConfig(home, config);
    const result = await createConsoleService({ home }).run(DEMO_ENV, {});
    assert.match(notices(result.runId).join('\n'), /were erased \(privacy\.eraseRetired\)/);
    assert.equal(all('SELECT event_id FROM events WHERE user_id = ?', withEvents).length, 0);
    assert.ok(all('SELECT event_id FROM events WHERE user_id = ?', stillEnrolled).length > 0, 'a learner still enrolled keeps their events');
    assert.equal(all(`SELECT user_id FROM ${SNAPSHOT_LEARNERS_TABLE} WHERE user_id = ?`, withEvents).length, 0);
    const ledger = PrivacyLedger.open(paths().ledger);
    try {
      assert.ok(ledger.erasures().some((e) => e.reason === 'retired'));
    } finally {
      ledger.close();
    }
    const again = await createConsoleService({ home }).run(DEMO_ENV, {});
    assert.ok(!notices(again.runId).some((n) => /retired/.test(n)), 'nobody is left to report');
  });

  test('a purge of old snapshot rows is not taken for learners edX removed', async () => {
    const config = await loadConfig(home);
    config.environments[DEMO_ENV]!.retention = { ...DEFAULT_RETENTION, ...config.environments[DEMO_ENV]!.retention, snapshots: '4w' };
    await saveConfig(home, config);
    const r = await runPds(['--home', home, 'purge', '--env', DEMO_ENV], {});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(all('SELECT id FROM auth_user').length, 0, 'the purge removed every snapshot row (the demo is older than four weeks)');
    assert.equal(all(`SELECT user_id FROM ${SNAPSHOT_LEARNERS_TABLE}`).length, 0);
    const result = await createConsoleService({ home }).run(DEMO_ENV, {});
    assert.ok(!notices(result.runId).some((n) => /retired/.test(n)), notices(result.runId).join('\n'));
  });
});

describe('many learners leaving the snapshot at once', () => {
  test('are reported with a warning and never erased automatically, even with privacy.eraseRetired', async () => {
    const other = await mkdtemp(join(tmpdir(), 'pds-departed-many-'));
    try {
      await runDemo(createConsoleService({ home: other }));
      const q = <T>(sql: string, ...params: unknown[]): T[] => queryFile<T>(environmentPaths(other, DEMO_ENV).sqlite, sql, ...params);
      const many = q<{ id: number }>(
        "SELECT u.id FROM auth_user u WHERE u.username NOT LIKE 'retired\\_\\_%' ESCAPE '\\' AND EXISTS (SELECT 1 FROM events e WHERE e.user_id = u.id) GROUP BY u.id ORDER BY u.id",
      ).map((r) => r.id);
      assert.ok(many.length > DEPARTURES_AT_ONCE, `the demo has more than ${DEPARTURES_AT_ONCE} learners with events (${many.length})`);
      await newerPackageWithout(other, many);
      const config = await loadConfig(other);
      config.environments[DEMO_ENV]!.privacy = { eraseRetired: true };
      await saveConfig(other, config);
      const result = await createConsoleService({ home: other }).run(DEMO_ENV, { only: 'weekly' });
      const said = notices(result.runId, other).join('\n');
      assert.match(said, new RegExp(`${many.length} learners left the weekly snapshot at once`));
      assert.match(said, /not erased automatically/);
      assert.equal(q<{ n: number }>(`SELECT COUNT(DISTINCT user_id) AS n FROM events WHERE user_id IN (${many.map(() => '?').join(', ')})`, ...many)[0]!.n, many.length, 'every one of them keeps their events');
      // The next run, with nothing new, still leaves them to the operator.
      const next = await createConsoleService({ home: other }).run(DEMO_ENV, {});
      const nextSaid = notices(next.runId, other).join('\n');
      assert.match(nextSaid, /not erased automatically/);
      assert.equal(q<{ n: number }>(`SELECT COUNT(DISTINCT user_id) AS n FROM events WHERE user_id IN (${many.map(() => '?').join(', ')})`, ...many)[0]!.n, many.length, 'still every one of them keeps their events');
      const ledger = PrivacyLedger.open(environmentPaths(other, DEMO_ENV).ledger);
      try {
        assert.ok(ledger.erasures().length <= 2, 'only the renamed retired learners were erased');
      } finally {
        ledger.close();
      }
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
