/**
 * End to end against real components (docs/architecture.md §5): a signature-checking S3 server (MinIO)
 * holding an edX delivery whose every file was encrypted by the real `gpg` command to the edX
 * master key and the data czar's key → `pds run` (the CLI, in a child process) → the embedded
 * SQLite store and the ledger.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { generateEventLines } from '../../core/demo/generate-package.js';
import type { RunResult } from '../../core/domain/results.js';
import { createDelivery, expectedTableRows, FAULTS, PASSPHRASE, type Delivery } from '../support/delivery.js';
import { collect, runPds, spawnPds } from '../support/pds-cli.js';
import { dumpSqlite } from '../support/sqlite-dump.js';

let d: Delivery;
const extraFaults = FAULTS;

function sqlitePath(home: string): string {
  return join(home, 'envs', 'itest', 'data.sqlite');
}

function count(db: Database.Database, sql: string, ...params: unknown[]): number {
  return Number((db.prepare(sql).get(...params) as { n: number }).n);
}

describe('pds run: MinIO + GnuPG → SQLite', { timeout: 600_000 }, () => {
  before(async () => {
    d = await createDelivery();
  });

  after(async () => {
    await d?.dispose();
  });

  test('loads every file, flags each fault with its reason, and a second run adds nothing', async () => {
    const { home, env } = await d.newHome();
    const first = await runPds(['run', '--env', 'itest', '--json'], env);
    assert.equal(first.code, 2, `exit code 2 = finished with files flagged\n${first.stderr}`);
    const result = JSON.parse(first.stdout) as RunResult;
    const byKey = new Map(result.files.map((f) => [f.key, f]));

    // Each fault flags its own file with the right reason; nothing else fails.
    assert.equal(byKey.get(extraFaults.otherKey)?.code, 'DECRYPT_NO_MATCHING_KEY');
    assert.match(byKey.get(extraFaults.otherKey)?.reason ?? '', new RegExp(d.stranger.encryptionKeyId, 'i'), 'names the key id the file wants');
    assert.equal(byKey.get(extraFaults.truncatedGzip)?.code, 'GZIP_TRUNCATED');
    const badRows = byKey.get(extraFaults.badRowsMember);
    assert.equal(badRows?.status, 'partial');
    assert.deepEqual(badRows?.rejectedLines?.map((r) => [r.line, r.code]), [[3, 'TSV_FIELD_COUNT']]);
    assert.equal(badRows?.counts.loaded, 2);
    const corrupt = d.manifest.corrupt.key.replace(/^edx-course-data\//, '');
    assert.equal(byKey.get(corrupt)?.status, 'failed');
    assert.match(byKey.get(corrupt)?.code ?? '', /^DECRYPT_(TRUNCATED|CORRUPT|INTEGRITY)$/);
    for (const failed of d.manifest.failedMembers) {
      assert.equal(result.files.find((f) => f.key.endsWith(failed))?.code, 'EDX_EXPORT_FAILED');
    }
    const unexpected = result.files.filter(
      (f) => f.status === 'failed' && ![extraFaults.otherKey, extraFaults.truncatedGzip, corrupt].includes(f.key) && !d.manifest.failedMembers.some((m) => f.key.endsWith(m)),
    );
    assert.deepEqual(unexpected.map((f) => `${f.key}: ${f.reason}`), []);
    assert.ok(!result.files.some((f) => f.key.startsWith('otherx-')), 'another org\'s package is not ours');

    // What landed: row counts per table and course equal what the generator wrote.
    const db = new Database(sqlitePath(home), { readonly: true });
    try {
      for (const { table, courseKey, rows } of expectedTableRows(d.manifest)) {
        assert.equal(count(db, `SELECT COUNT(*) AS n FROM "${table}" WHERE course_key = ?`, courseKey), rows, `${table} / ${courseKey}`);
      }
      assert.equal(count(db, 'SELECT COUNT(*) AS n FROM email_opt_in'), d.manifest.emailOptIn.rows);
      const goodEvents = d.manifest.events.filter((d) => !d.corrupt).reduce((n, d) => n + d.goodEvents, 0);
      assert.equal(count(db, 'SELECT COUNT(*) AS n FROM events'), goodEvents, 'one event per distinct good line; the corrupt day loads nothing');
      // The per-course, per-day summary is kept up to date as days load.
      assert.equal(
        count(db, 'SELECT SUM(events) AS n FROM daily_course_activity'),
        count(db, 'SELECT COUNT(*) AS n FROM events WHERE course_id IS NOT NULL AND time IS NOT NULL'),
      );
      assert.equal(count(db, 'SELECT SUM(video_events) AS n FROM daily_course_activity'), count(db, 'SELECT COUNT(*) AS n FROM video_events WHERE course_id IS NOT NULL AND time IS NOT NULL'));

      // NULL vs empty string (§3): auth_user.email_key is exported as NULL, status as ''.
      const users = count(db, 'SELECT COUNT(*) AS n FROM auth_user');
      assert.equal(count(db, 'SELECT COUNT(*) AS n FROM auth_user WHERE email_key IS NULL'), users);
      assert.equal(count(db, `SELECT COUNT(*) AS n FROM auth_user WHERE status = ''`), users);
      // 4-byte unicode survives (§3 encoding).
      assert.ok(count(db, `SELECT COUNT(*) AS n FROM auth_userprofile WHERE name = 'Zoë Ng 😀'`) >= 1);
      // The TSV escapes are decoded: studentmodule state is valid JSON again.
      const states = db.prepare(`SELECT state FROM courseware_studentmodule WHERE state IS NOT NULL`).all() as { state: string }[];
      assert.ok(states.length > 0);
      for (const { state } of states) JSON.parse(state);
      // Drift (§4.2): the pre-2021 allow_certificate column landed where the file had it.
      assert.ok(count(db, 'SELECT COUNT(*) AS n FROM auth_userprofile WHERE allow_certificate IS NOT NULL') > 0);
      // Datetimes keep optional microseconds.
      assert.equal(count(db, `SELECT COUNT(*) AS n FROM student_courseenrollment WHERE created = '2026-05-02 11:00:00.500000' OR created = '2026-05-02 11:00:00.5'`), 1);
    } finally {
      db.close();
    }

    // A second run adds nothing and changes nothing. Only the file that wants another key is
    // tried again (a key may have been imported since); files with bad content stay flagged.
    const before = dumpSqlite(sqlitePath(home));
    const second = await runPds(['run', '--env', 'itest', '--json'], env);
    const again = JSON.parse(second.stdout) as RunResult;
    assert.deepEqual(again.planned.map((p) => [p.key, p.why]), [[extraFaults.otherKey, 'retry']]);
    assert.equal(again.files[0]?.code, 'DECRYPT_NO_MATCHING_KEY');
    assert.equal(second.code, 2);
    assert.deepEqual(dumpSqlite(sqlitePath(home)), before);

    // Status shows what needs attention whichever run flagged it, and what the next run retries.
    const status = await runPds(['status', '--env', 'itest', '--json'], env);
    assert.equal(status.code, 2);
    const flagged = new Map((JSON.parse(status.stdout) as { flagged: { key: string; retriedNextRun: boolean }[] }).flagged.map((f) => [f.key, f.retriedNextRun]));
    assert.equal(flagged.get(extraFaults.otherKey), true, 'a file wanting another key is retried once a key is imported');
    assert.equal(flagged.get(corrupt), false, 'a corrupt file stays flagged until it changes');
    assert.equal(flagged.get(extraFaults.badRowsMember), false);

    // The report of the first run is kept in the ledger.
    const report = await runPds(['report', '--env', 'itest', result.runId], env);
    assert.match(report.stdout, /DECRYPT_NO_MATCHING_KEY/);
    assert.match(report.stdout, /line 3: expected 6 fields/);
  });

  test('a run killed mid-way (SIGKILL, then Ctrl-C) and started again ends with exactly the data of an uninterrupted run', async () => {
    const reference = await d.newHome();
    assert.equal((await runPds(['run', '--env', 'itest', '--quiet'], reference.env)).code, 2);
    const expected = dumpSqlite(sqlitePath(reference.home));

    const victim = await d.newHome();
    for (const killAfter of [3, 40]) {
      const child = spawnPds(['run', '--env', 'itest'], victim.env);
      let finished = 0;
      child.stderr?.setEncoding('utf8').on('data', (s: string) => {
        finished += s.split('\n').filter((l) => /^(loaded|partial|failed|skipped) /.test(l)).length;
        if (finished >= killAfter) child.kill('SIGKILL');
      });
      const res = await collect(child);
      assert.equal(res.signal, 'SIGKILL', `the run was killed after ${killAfter} files`);
    }
    // Ctrl-C (SIGINT): the run stops at once, marked cancelled, with the file in hand abandoned.
    const child = spawnPds(['run', '--env', 'itest'], victim.env);
    let done = 0;
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      done += text.split('\n').filter((l) => /^(loaded|partial|failed|skipped) /.test(l)).length;
      if (done >= 5) child.kill('SIGINT');
    });
    const cancelled = await collect(child);
    assert.equal(cancelled.code, 1, cancelled.stdout + cancelled.stderr);
    assert.match(cancelled.stdout, /cancelled/);
    const runs = JSON.parse((await runPds(['runs', '--env', 'itest', '--json'], victim.env)).stdout) as { status: string }[];
    assert.equal(runs[0]?.status, 'cancelled');

    const resumed = await runPds(['run', '--env', 'itest', '--json'], victim.env);
    assert.ok(resumed.code === 2 || resumed.code === 0, resumed.stderr);
    assert.deepEqual(dumpSqlite(sqlitePath(victim.home)), expected);
  });

  test('a wrong secret key flags every encrypted file with the key ids it needs, and the run goes on', async () => {
    const wrongKeyFile = join(d.work, 'stranger-secret.asc');
    await writeFile(wrongKeyFile, await d.gpg.exportSecretKey(d.stranger.fingerprint));
    const { env } = await d.newHome({ keyFile: wrongKeyFile });
    const res = await runPds(['run', '--env', 'itest', '--only', 'events', '--json'], env);
    assert.equal(res.code, 2);
    const result = JSON.parse(res.stdout) as RunResult;
    const byCode = new Map<string, number>();
    for (const f of result.files) byCode.set(f.code ?? f.status, (byCode.get(f.code ?? f.status) ?? 0) + 1);
    // Every daily log of the delivery wants the czar's key; the stranger's own file decrypts but its gzip is fine.
    assert.equal(byCode.get('DECRYPT_NO_MATCHING_KEY'), d.manifest.events.length + 1);
    const one = result.files.find((f) => f.code === 'DECRYPT_NO_MATCHING_KEY')!;
    assert.match(one.reason ?? '', new RegExp(d.czar.encryptionKeyId, 'i'));
    assert.match(one.hint ?? one.reason ?? '', /pds key import/);
    assert.doesNotMatch(res.stdout + res.stderr, new RegExp(PASSPHRASE), 'the passphrase never reaches the output');
  });

  test('pds load takes local files by hand: a plain daily log and a single table file', async () => {
    const { home, env } = await d.newHome();
    const dir = join(d.work, 'manual', 'DemoX-2026-06-14');
    await mkdir(dir, { recursive: true });
    const log = join(dirname(dir), 'demox-edx-events-2026-06-10.log');
    await writeFile(log, [...generateEventLines({ count: 25, seed: 3, date: '2026-06-10', courseIds: ['course-v1:DemoX+Data101+2T2026'], users: [{ id: 5, username: 'eve' }] })].map((l) => `${l}\n`).join(''));
    const table = join(dir, 'DemoX-Data101-2T2026-student_courseenrollment-prod-analytics.sql');
    await writeFile(table, 'id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n1\t5\tcourse-v1:DemoX+Data101+2T2026\tNULL\t1\tverified\n');
    const res = await runPds(['load', '--env', 'itest', '--json', log, table], env);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const db = new Database(sqlitePath(home), { readonly: true });
    try {
      assert.equal(count(db, 'SELECT COUNT(*) AS n FROM events'), 25);
      assert.equal(count(db, `SELECT COUNT(*) AS n FROM student_courseenrollment WHERE course_key = 'DemoX-Data101-2T2026' AND snapshot_date = '2026-06-14' AND created IS NULL`), 1);
    } finally {
      db.close();
    }
  });
});
