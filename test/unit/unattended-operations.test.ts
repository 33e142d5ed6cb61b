/**
 * Operations of unattended running (README "Unattended operation"): the disk-space check refuses
 * with a clear message; retention removes old encrypted originals and quarantine files and the run
 * says what it removed; log files rotate by size; schedules are saved in config.yaml in place
 * (comments kept), checked, turned on and off, and their next run times listed.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { environmentPaths } from '../../core/config/config-store.js';
import { Ledger } from '../../core/ledger/ledger.js';
import { checkDiskSpace, freeBytes } from '../../core/pipeline/disk-space.js';
import { createLogger } from '../../core/schedule/log.js';
import { createConsoleHandlers } from '../../core/service/console-handlers.js';
import { createConsoleService } from '../../core/service/console-service.js';
import { PdsError } from '../../core/errors/index.js';
import { createConsoleHome } from '../support/console-home.js';
import { runPds } from '../support/pds-cli.js';

describe('disk space', () => {
  test('a plan that would not fit is refused before fetching, naming the folder, the sizes and the fix', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pds-disk-'));
    try {
      const free = await freeBytes(dir);
      await checkDiskSpace(dir, Math.floor(free / 4), 3);
      await assert.rejects(checkDiskSpace(dir, free, 2), (e: unknown) => {
        assert.ok(e instanceof PdsError);
        assert.equal(e.code, 'DISK_SPACE_LOW');
        assert.match(e.message, new RegExp(`in ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, and only [\\d,]+ MB is free\\. Nothing was fetched\\.`));
        assert.match(e.hint ?? '', /retention\.landingDays/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('retention', () => {
  test('an encrypted original loaded more than landingDays ago and an old quarantine file are removed, recorded, and the run says so', async () => {
    const home = await createConsoleHome({ files: 1, linesPerFile: 5 });
    try {
      const config = await readFile(join(home.home, 'config.yaml'), 'utf8');
      await writeFile(join(home.home, 'config.yaml'), `${config}    retention: { landingDays: 30, quarantineDays: 60 }\n`);
      const service = createConsoleService({ home: home.home });
      assert.equal((await service.run('local', {})).status, 'succeeded');

      // What an S3 run leaves: a downloaded original, loaded 40 days ago; a recent one; an old and a new quarantine file.
      const paths = environmentPaths(home.home, 'local');
      const old = join(paths.landing, 'weekly', 'unix-2026-01-04.zip.gpg');
      const recent = join(paths.landing, 'weekly', 'unix-2026-02-22.zip.gpg');
      await mkdir(join(paths.landing, 'weekly'), { recursive: true });
      await mkdir(join(paths.landing, 'quarantine'), { recursive: true });
      await writeFile(old, Buffer.alloc(2048));
      await writeFile(recent, Buffer.alloc(1024));
      const oldQuarantine = join(paths.landing, 'quarantine', 'old.log');
      const newQuarantine = join(paths.landing, 'quarantine', 'new.log');
      await writeFile(oldQuarantine, 'x\n');
      await writeFile(newQuarantine, 'y\n');
      const ninetyDaysAgo = new Date(Date.now() - 90 * 24 * 3600 * 1000);
      await utimes(oldQuarantine, ninetyDaysAgo, ninetyDaysAgo);
      const ledger = Ledger.open(paths.ledger);
      for (const [key, landing] of [['unix-2026-01-04.zip.gpg', old], ['unix-2026-02-22.zip.gpg', recent]] as const) {
        ledger.recordFetched('seed', { key, location: 'weekly', kind: 'weekly-package', size: 1, landing });
        ledger.recordResult('seed', { key, kind: 'weekly-package', status: 'loaded', counts: { bytes: 1, read: 0, loaded: 0, rejected: 0, duplicates: 0 }, warnings: [], durationMs: 1 }, { location: 'weekly', landing });
      }
      ledger.close();
      const db = new Database(paths.ledger);
      db.prepare(`UPDATE files SET updated_at = ? WHERE key = 'unix-2026-01-04.zip.gpg'`).run(new Date(Date.now() - 40 * 24 * 3600 * 1000).toISOString());
      db.close();

      const result = await service.run('local', {});
      assert.equal(result.status, 'succeeded');
      assert.ok(!existsSync(old), 'the original loaded 40 days ago is removed');
      assert.ok(existsSync(recent), 'a recent original is kept');
      assert.ok(!existsSync(oldQuarantine), 'a quarantine file older than 60 days is removed');
      assert.ok(existsSync(newQuarantine));

      const check = Ledger.open(paths.ledger);
      try {
        const notices = check.runEventsAfter(0, 10_000).filter((e) => e.runId === result.runId && e.type === 'notice');
        const said = notices.map((n) => String(n.data.message)).join('\n');
        assert.match(said, /Retention removed 1 encrypted original\(s\) loaded more than 30 days ago \(landing\/weekly\/unix-2026-01-04\.zip\.gpg\) and 1 quarantine file\(s\) older than 60 days \(landing\/quarantine\/old\.log\)/);
        assert.equal(check.getFile('unix-2026-01-04.zip.gpg')?.landing, null);
      } finally {
        check.close();
      }
      const log = new Database(paths.ledger, { readonly: true });
      try {
        assert.deepEqual((log.prepare('SELECT what, run_id FROM retention_log ORDER BY what').all() as { what: string; run_id: string }[]).map((r) => [r.what, r.run_id]), [
          ['landing', result.runId],
          ['quarantine', result.runId],
        ]);
      } finally {
        log.close();
      }
    } finally {
      await home.remove();
    }
  });
});

describe('log files', () => {
  test('JSON lines in pds.log, rotated by size, the oldest dropped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pds-logs-'));
    try {
      const lines: string[] = [];
      const log = createLogger({ dir, format: 'json', maxBytes: 400, keep: 2, stderr: (l) => lines.push(l) });
      for (let i = 0; i < 40; i++) log({ level: 'info', msg: `line ${i}`, env: 'live' });
      assert.deepEqual((await readdir(dir)).sort(), ['pds.log', 'pds.log.1', 'pds.log.2']);
      const newest = (await readFile(join(dir, 'pds.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { msg: string; env: string; level: string; time: string });
      assert.equal(newest.at(-1)!.msg, 'line 39');
      assert.equal(newest[0]!.env, 'live');
      assert.equal(lines.length, 40);
      assert.equal((JSON.parse(lines[0]!) as { msg: string }).msg, 'line 0');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('pds run --log-format json', () => {
  test('one JSON line per file and one for the run, on stderr and in PDS_HOME/logs/pds.log', async () => {
    const home = await createConsoleHome({ files: 2, linesPerFile: 5, badLines: { 1: 1 } });
    try {
      const r = await runPds(['--home', home.home, 'run', '--env', 'local', '--log-format', 'json'], {});
      assert.equal(r.code, 2, r.stderr);
      const file = (await readFile(join(home.home, 'logs', 'pds.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { msg: string; status?: string; key?: string; code?: string });
      assert.deepEqual(file.map((l) => l.msg), ['run started: 2 file(s) planned', 'loaded: orgx-edx-events-2026-01-01.log', 'partial: orgx-edx-events-2026-01-02.log', 'run flagged']);
      assert.equal(file[2]!.code, 'LINES_REJECTED');
      const stderr = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
      assert.deepEqual(stderr.map((l) => l.msg), file.map((l) => l.msg));
      assert.ok(!/learner\d/.test(r.stderr), 'no learner data in the log lines');
    } finally {
      await home.remove();
    }
  });
});

describe('schedule methods', () => {
  test('save, check, turn off and list schedules in config.yaml in place; next run times in the zone and UTC', async () => {
    const home = await createConsoleHome({ files: 1, linesPerFile: 5 });
    const handlers = createConsoleHandlers({ home: home.home });
    try {
      const file = join(home.home, 'config.yaml');
      await writeFile(file, `# Our environments\n${await readFile(file, 'utf8')}`);
      let list = await handlers.listSchedules({ env: 'local' });
      assert.deepEqual(list.schedules, []);
      assert.equal(list.scheduler.state, 'never');

      const saved = await handlers.saveSchedule({ env: 'local', revision: list.revision, schedule: { name: 'nightly', cron: '30 1 * * *', timezone: 'Europe/London', load: 'events', enabled: true } });
      assert.equal(saved.nextRuns.length, 5);
      assert.match(saved.nextRuns[0]!.local, /^\d{4}-\d{2}-\d{2} 01:30 (GMT|BST)$/);
      const text = await readFile(file, 'utf8');
      assert.match(text, /^# Our environments/, 'comments kept');
      assert.match(text, /name: nightly/);

      await assert.rejects(handlers.saveSchedule({ env: 'local', revision: list.revision, schedule: { name: 'x', cron: '0 3 * * *', timezone: 'UTC', load: 'both', enabled: true } }), (e: unknown) => (e as { code: string }).code === 'CONFIG_CHANGED');
      list = await handlers.listSchedules({ env: 'local' });
      await assert.rejects(handlers.saveSchedule({ env: 'local', revision: list.revision, schedule: { name: 'bad', cron: '61 * * * *', timezone: 'UTC', load: 'both', enabled: true } }), (e: unknown) => (e as { code: string }).code === 'CONFIG_INVALID');
      await assert.rejects(handlers.saveSchedule({ env: 'local', revision: list.revision, schedule: { name: 'bad', cron: '0 3 * * *', timezone: 'Mars/Olympus', load: 'both', enabled: true } }), (e: unknown) => (e as { code: string }).code === 'CONFIG_INVALID');

      const off = await handlers.setScheduleEnabled({ env: 'local', name: 'nightly', enabled: false });
      assert.equal(off.enabled, false);
      list = await handlers.listSchedules({ env: 'local' });
      assert.deepEqual(list.schedules.map((s) => [s.name, s.enabled]), [['nightly', false]]);
      await assert.rejects(handlers.setScheduleEnabled({ env: 'local', name: 'weekly', enabled: true }), (e: unknown) => (e as { code: string }).code === 'NO_SUCH_SCHEDULE');

      // The CLI prints the same: each run time in the schedule's zone, with UTC.
      await handlers.setScheduleEnabled({ env: 'local', name: 'nightly', enabled: true });
      const cli = await runPds(['--home', home.home, 'schedule', 'list', '--env', 'local'], {});
      assert.equal(cli.code, 0, cli.stderr);
      const runLines = cli.stdout.split('\n').filter((l) => /^ {2}\d{4}-/.test(l));
      assert.equal(runLines.length, 5, cli.stdout);
      for (const l of runLines) assert.match(l, /^ {2}\d{4}-\d{2}-\d{2} 01:30 (GMT|BST) {2}\(\d{4}-\d{2}-\d{2}T0[01]:30Z\)$/);
      assert.match(cli.stdout, /^nightly: "30 1 \* \* \*" Europe\/London, loads events$/m);
      assert.match(cli.stdout, /^Scheduler: never\./m);

      const times = await handlers.nextRuns({ cron: '30 1 * * *', timezone: 'Europe/London', count: 3, after: '2026-03-27T12:00:00Z' });
      assert.deepEqual(times, [
        { utc: '2026-03-28T01:30:00.000Z', local: '2026-03-28 01:30 GMT' },
        { utc: '2026-03-29T01:00:00.000Z', local: '2026-03-29 02:00 BST' },
        { utc: '2026-03-30T00:30:00.000Z', local: '2026-03-30 01:30 BST' },
      ]);
    } finally {
      await handlers.close();
      await home.remove();
    }
  });
});
