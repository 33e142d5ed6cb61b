/**
 * A run's notices (retention, data protection, a cancel) reach every place a data czar reads a run,
 * not only the console's live Run screen: the ledger gives them back per run, `getReport` carries
 * them (through the HTTP transport of `pds serve`), `pds run`, `pds load` and `pds report` print
 * them in text and JSON, and the scheduler writes them to `PDS_HOME/logs`. The demo environment holds
 * learners renamed `retired__user_…`, so every run of it ends with the notice that edX has retired
 * learners the stores still hold.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { environmentPaths, getEnvironment, loadConfig, saveConfig } from '../../core/config/config-store.js';
import { createConsoleClient } from '../../core/contract/client.js';
import { createHttpTransport } from '../../core/contract/http-transport.js';
import { DEMO_ENV, runDemo } from '../../core/demo/run-demo.js';
import type { RunResult } from '../../core/domain/results.js';
import { startConsoleServer } from '../../core/http/console-server.js';
import { Ledger } from '../../core/ledger/ledger.js';
import type { LogEntry } from '../../core/schedule/log.js';
import { afterRun, runScheduler } from '../../core/schedule/run-scheduler.js';
import { ScheduleLedger } from '../../core/schedule/schedule-ledger.js';
import { createConsoleHandlers } from '../../core/service/console-handlers.js';
import { createConsoleService } from '../../core/service/console-service.js';
import { runPds } from '../support/pds-cli.js';

/** The notice every run of the demo environment ends with. */
const RETIRED = /^2 learner\(s\) edX has retired \(2 renamed retired__user_…\) are still held with their events\. Erase them with pds forget --env demo --retired/;

describe('Ledger.runNotices', () => {
  test('gives one run’s notices in the order they were recorded, leaving out other events, other runs and unreadable rows', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pds-run-notices-'));
    try {
      const path = join(dir, 'ledger.sqlite');
      const ledger = Ledger.open(path);
      try {
        const { runId } = ledger.startRun('dev', {}, { origin: 'cli' });
        const { runId: other } = ledger.startRun('dev', {}, { origin: 'cli' });
        assert.deepEqual(ledger.runNotices(runId), [], 'a run that gave no notice has none');
        ledger.appendRunEvent(runId, 'run-started', '2026-01-02T00:00:00.000Z', { type: 'run-started', origin: 'cli', options: {} });
        ledger.appendRunEvent(runId, 'notice', '2026-01-02T00:00:05.000Z', { type: 'notice', level: 'warning', message: 'Retention could not remove old files: EACCES' });
        ledger.appendRunEvent(other, 'notice', '2026-01-02T00:00:06.000Z', { type: 'notice', level: 'info', message: 'another run’s notice' });
        ledger.appendRunEvent(runId, 'file-finished', '2026-01-02T00:00:07.000Z', { type: 'file-finished', message: 'not a notice' });
        // A row whose data cannot be parsed, and one that is not a notice's shape: both left out.
        const db = new Database(path);
        try {
          db.prepare("INSERT INTO run_events (run_id, type, at, data) VALUES (?, 'notice', ?, ?)").run(runId, '2026-01-02T00:00:08.000Z', '{not json');
          db.prepare("INSERT INTO run_events (run_id, type, at, data) VALUES (?, 'notice', ?, ?)").run(runId, '2026-01-02T00:00:08.500Z', 'null');
        } finally {
          db.close();
        }
        ledger.appendRunEvent(runId, 'notice', '2026-01-02T00:00:09.000Z', { type: 'notice', level: 'info', message: 'Retention removed 3 rows.' });
        assert.deepEqual(ledger.runNotices(runId), [
          { level: 'warning', message: 'Retention could not remove old files: EACCES', time: '2026-01-02T00:00:05.000Z' },
          { level: 'info', message: 'Retention removed 3 rows.', time: '2026-01-02T00:00:09.000Z' },
        ]);
        assert.deepEqual(
          ledger.runNotices(other).map((n) => n.message),
          ['another run’s notice'],
        );
        assert.deepEqual(ledger.runNotices('no-such-run'), []);
      } finally {
        ledger.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the notices of the demo environment’s runs', { timeout: 300_000 }, () => {
  let home: string;
  let demo: RunResult;
  let demoSummary: string;

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'pds-run-notices-demo-'));
    ({ result: demo, summary: demoSummary } = await runDemo(createConsoleService({ home })));
  });
  after(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  test('the demo’s run recorded the retired learners’ notice in its ledger', () => {
    const ledger = Ledger.open(environmentPaths(home, DEMO_ENV).ledger);
    try {
      const notices = ledger.runNotices(demo.runId);
      assert.equal(notices.length, 1, JSON.stringify(notices));
      assert.equal(notices[0]!.level, 'info');
      assert.match(notices[0]!.message, RETIRED);
    } finally {
      ledger.close();
    }
  });

  test('pds demo’s summary lists them before the pointer to the full report', () => {
    assert.match(demoSummary, /\n\nNotices:\n {2}info {5}2 learner\(s\) edX has retired[^\n]+\n\nFull report: pds report --env demo/);
  });

  test('pds run prints the run’s notices after its summary in text, and gives them in --json', async () => {
    const text = await runPds(['--home', home, 'run', '--env', DEMO_ENV, '--quiet'], {});
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trimEnd().split('\n');
    const at = lines.indexOf('Notices:');
    assert.ok(at > 0, text.stdout);
    assert.match(lines[0]!, /^Run \S+ \(demo\): succeeded/);
    assert.ok(lines.findIndex((l) => l.startsWith('Files: ')) < at, 'after the run summary');
    assert.match(lines[at + 1]!, /^ {2}info {5}2 learner\(s\) edX has retired/);
    assert.match(lines[at + 1]!.trimStart().replace(/^info\s+/, ''), RETIRED);

    const json = await runPds(['--home', home, 'run', '--env', DEMO_ENV, '--json'], {});
    assert.equal(json.code, 0, json.stderr);
    const out = JSON.parse(json.stdout) as RunResult & { notices: { level: string; message: string; time: string }[] };
    assert.equal(out.status, 'succeeded');
    assert.equal(out.notices.length, 1);
    assert.equal(out.notices[0]!.level, 'info');
    assert.match(out.notices[0]!.message, RETIRED);
    assert.ok(!Number.isNaN(Date.parse(out.notices[0]!.time)) && out.notices[0]!.time >= out.startedAt);
  });

  test('a run that gave no notice prints nothing extra (a dry run) and gives an empty list in --json', async () => {
    const text = await runPds(['--home', home, 'run', '--env', DEMO_ENV, '--dry-run', '--quiet'], {});
    assert.equal(text.code, 0, text.stderr);
    assert.doesNotMatch(text.stdout, /Notices|retired/);
    const json = await runPds(['--home', home, 'run', '--env', DEMO_ENV, '--dry-run', '--json'], {});
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual((JSON.parse(json.stdout) as { notices: unknown[] }).notices, []);
  });

  test('pds load prints the notices of its run too', async () => {
    const weekly = join(home, 'demo', 'source', 'course-data');
    const zip = (await readdir(weekly)).find((f) => f.endsWith('.zip'));
    assert.ok(zip, 'the demo delivery has a weekly package');
    // Loaded by hand for the first time, the package ends flagged (exit 2): it holds one table edX
    // could not export. Loaded again, nothing is left to do (exit 0); the notices come either way.
    const text = await runPds(['--home', home, 'load', '--env', DEMO_ENV, '--quiet', join(weekly, zip)], {});
    assert.equal(text.code, 2, text.stderr);
    assert.match(text.stdout, /\nFiles: [^\n]+\n\nNotices:\n {2}info {5}2 learner\(s\) edX has retired[^\n]+(\n\n|$)/);
    const json = await runPds(['--home', home, 'load', '--env', DEMO_ENV, '--json', join(weekly, zip)], {});
    assert.equal(json.code, 0, json.stderr);
    const out = JSON.parse(json.stdout) as { notices: { level: string; message: string }[] };
    assert.deepEqual(out.notices.map((n) => n.level), ['info']);
    assert.match(out.notices[0]!.message, RETIRED);
  });

  test('pds report prints a run’s notices in text and gives them in --json', async () => {
    const text = await runPds(['--home', home, 'report', '--env', DEMO_ENV, demo.runId], {});
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^Run ${demo.runId} \\(demo\\)`));
    assert.match(text.stdout, /\nNotices:\n {2}info {5}2 learner\(s\) edX has retired \(2 renamed retired__user_…\) are still held/);
    const json = await runPds(['--home', home, 'report', '--env', DEMO_ENV, demo.runId, '--json'], {});
    assert.equal(json.code, 0, json.stderr);
    const out = JSON.parse(json.stdout) as { run: { runId: string }; notices: { level: string; message: string }[] };
    assert.equal(out.run.runId, demo.runId);
    assert.equal(out.notices.length, 1);
    assert.match(out.notices[0]!.message, RETIRED);
  });

  test('getReport carries the run’s notices through pds serve’s HTTP transport, on every page', async () => {
    const engine = createConsoleHandlers({ home });
    const server = await startConsoleServer({ engine });
    try {
      const client = createConsoleClient(createHttpTransport({ baseUrl: `http://127.0.0.1:${server.port}`, token: server.token }));
      const first = await client.getReport({ env: DEMO_ENV, runId: demo.runId, limit: 1 });
      assert.equal(first.run.runId, demo.runId);
      assert.equal(first.notices.length, 1);
      assert.equal(first.notices[0]!.level, 'info');
      assert.match(first.notices[0]!.message, RETIRED);
      const filtered = await client.getReport({ env: DEMO_ENV, runId: demo.runId, filter: { status: ['failed'] }, offset: 0, limit: 10 });
      assert.deepEqual(filtered.notices, first.notices, 'a filter narrows the files, never the notices');
      // The newest run gave it too (every run of the demo does); a dry run gave none.
      const newest = await client.getReport({ env: DEMO_ENV, limit: 1 });
      const dry = (await client.listRuns({ env: DEMO_ENV, limit: 20 })).runs.find((r) => r.options.dryRun);
      assert.ok(dry, 'an earlier test made a dry run');
      assert.deepEqual((await client.getReport({ env: DEMO_ENV, runId: dry.runId, limit: 1 })).notices, []);
      assert.ok(newest.notices.some((n) => RETIRED.test(n.message)));
    } finally {
      await server.close();
      await engine.close();
    }
  });

  test('after a load the scheduler writes each notice as a log line (warn for a warning) with env and run id', async () => {
    // A warning the run gave, besides the retired learners' notice.
    const ledger = Ledger.open(environmentPaths(home, DEMO_ENV).ledger);
    try {
      ledger.appendRunEvent(demo.runId, 'notice', new Date().toISOString(), { type: 'notice', level: 'warning', message: 'Retention could not remove old files: EACCES: permission denied' });
    } finally {
      ledger.close();
    }
    const config = getEnvironment(await loadConfig(home), DEMO_ENV);
    const log: LogEntry[] = [];
    await afterRun(home, { type: 'run-ended', env: DEMO_ENV, schedule: 'nightly', result: demo }, config, new Date(), (e) => log.push(e));
    const said = log.filter((e) => e.msg.startsWith('run notice: '));
    assert.deepEqual(
      said.map((e) => [e.level, e.env, e.runId, e.schedule]),
      [
        ['info', DEMO_ENV, demo.runId, 'nightly'],
        ['warn', DEMO_ENV, demo.runId, 'nightly'],
      ],
    );
    assert.match(said[0]!.msg.slice('run notice: '.length), RETIRED);
    assert.equal(said[1]!.msg, 'run notice: Retention could not remove old files: EACCES: permission denied');
  });

  test('pds schedule run’s scheduler keeps a scheduled load’s notices in PDS_HOME/logs', async () => {
    // A daily slot a few minutes ago, the one before it recorded: the scheduler catches up at once.
    const minute = 60_000;
    const slot = new Date(Math.floor((Date.now() - 5 * minute) / minute) * minute);
    const config = await loadConfig(home);
    config.environments[DEMO_ENV]!.schedules = [{ name: 'daily', cron: `${slot.getUTCMinutes()} ${slot.getUTCHours()} * * *`, timezone: 'UTC', load: 'both', enabled: true }];
    await saveConfig(home, config);
    const yesterday = new Date(slot.getTime() - 24 * 60 * minute);
    const slots = ScheduleLedger.open(environmentPaths(home, DEMO_ENV).ledger);
    try {
      slots.recordSlot('daily', yesterday, 'started', { at: yesterday, runId: 'an-earlier-run' });
    } finally {
      slots.close();
    }

    const logFile = join(home, 'logs', 'pds.log');
    const entries = async (): Promise<(LogEntry & { runId?: string; env?: string })[]> => {
      const text = await readFile(logFile, 'utf8').catch(() => '');
      return text
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as LogEntry & { runId?: string; env?: string });
    };
    const stop = new AbortController();
    const stderr: string[] = [];
    const running = runScheduler({ home, envs: [DEMO_ENV], signal: stop.signal, stderr: (l) => stderr.push(l) });
    try {
      const deadline = Date.now() + 120_000;
      while (!(await entries()).some((e) => e.msg.startsWith('run notice: ')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    } finally {
      stop.abort();
      await running;
    }
    const all = await entries();
    const ended = all.find((e) => /^load (succeeded|flagged): demo run /.test(e.msg));
    assert.ok(ended?.runId, stderr.join(''));
    const notices = all.filter((e) => e.msg.startsWith('run notice: '));
    assert.equal(notices.length, 1, stderr.join(''));
    assert.equal(notices[0]!.level, 'info');
    assert.equal(notices[0]!.env, DEMO_ENV);
    assert.equal(notices[0]!.runId, ended.runId, 'the notice of the scheduled load, named by its run id');
    assert.match(notices[0]!.msg.slice('run notice: '.length), RETIRED);
    assert.ok(stderr.some((l) => l.includes('INFO run notice: 2 learner(s) edX has retired') && l.includes(`runId=${ended.runId}`)), 'said on stderr too');
  });
});
