/**
 * Console runs (core/service/run-methods.ts, run-hub.ts): startRun answers with the run id before
 * the run ends, its events arrive in order with an increasing seq, one run per environment,
 * cancel, retry of exactly the flagged files, run history paged, and a run of the CLI in another
 * process followed through the ledger. Real SQLite files and ledgers, plain daily logs in a folder.
 */
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { environmentPaths } from '../../core/config/config-store.js';
import { ContractError, runEventSchema } from '../../core/contract/methods.js';
import { PdsError } from '../../core/errors/index.js';
import { createConsoleHandlers, type ConsoleEngine } from '../../core/service/console-handlers.js';
import { createConsoleHome, type ConsoleHome } from '../support/console-home.js';
import { collect, spawnPds } from '../support/pds-cli.js';
import { recordEvents } from '../support/run-events.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setup(options: Parameters<typeof createConsoleHome>[0] = {}): Promise<{ home: ConsoleHome; console: ConsoleEngine }> {
  const home = await createConsoleHome(options);
  const console = createConsoleHandlers({ home: home.home });
  cleanups.push(async () => {
    await console.close();
    await home.remove();
  });
  return { home, console };
}

function hasZip(): boolean {
  try {
    execFileSync('zip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops `child` (SIGSTOP) at a moment it holds no write lock on the SQLite file at `path`: when
 * stopped while writing, it is let go on and stopped again. Nothing is timed, the lock is asked for.
 */
async function pauseOutsideLedgerWrite(child: ChildProcess, path: string): Promise<void> {
  const db = new Database(path, { timeout: 0 });
  try {
    for (;;) {
      child.kill('SIGSTOP');
      try {
        db.exec('BEGIN IMMEDIATE');
        db.exec('ROLLBACK');
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
      }
      child.kill('SIGCONT');
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    db.close();
  }
}

function codeOf(error: unknown): string | undefined {
  return error instanceof PdsError || error instanceof ContractError ? error.code : undefined;
}

describe('console runs', () => {
  test('startRun answers with the run id before the run ends; its events arrive in order with an increasing seq', async () => {
    const { home, console } = await setup({ files: 3 });
    const log = recordEvents(console);
    const { runId } = await console.startRun({ env: 'local', options: {} });
    assert.ok(!log.events.some((e) => e.type === 'run-finished'), 'the answer came before the run finished');
    const finished = await log.finished(runId);
    assert.equal(finished.run.status, 'succeeded');
    assert.equal(finished.run.origin, 'console');

    const events = log.of(runId);
    for (const e of events) runEventSchema.parse(e);
    for (let i = 1; i < events.length; i++) assert.ok(events[i]!.seq > events[i - 1]!.seq, 'seq increases');
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'run-started');
    assert.equal(types[1], 'plan');
    assert.equal(types.at(-1), 'run-finished');
    const plan = events[1] as Extract<(typeof events)[number], { type: 'plan' }>;
    assert.deepEqual(plan.planned.map((p) => p.key), home.keys);
    for (const key of home.keys) {
      const started = types.findIndex((t, i) => t === 'file-started' && (events[i] as { key?: string }).key === key);
      const done = events.findIndex((e) => e.type === 'file-finished' && e.result.key === key);
      assert.ok(started > 1 && done > started, `${key}: started, then finished`);
    }

    // A client reconnecting after the first event gets the rest, in order.
    const resumed = recordEvents(console, { afterSeq: events[0]!.seq });
    assert.deepEqual(resumed.of(runId).map((e) => e.seq), events.slice(1).map((e) => e.seq));
    resumed.stop();
    log.stop();
    assert.deepEqual(await console.listActiveRuns({}), []);
  });

  test('a second start of the same environment is refused with RUN_IN_PROGRESS; the next one after it ends runs', async () => {
    const { console } = await setup({ files: 2 });
    const log = recordEvents(console);
    const { runId } = await console.startRun({ env: 'local', options: {} });
    await assert.rejects(console.startRun({ env: 'local', options: {} }), (e: unknown) => codeOf(e) === 'RUN_IN_PROGRESS' && /run of environment local/.test((e as Error).message));
    assert.equal((await log.finished(runId)).run.status, 'succeeded');
    const again = await console.startRun({ env: 'local', options: {} });
    assert.equal((await log.finished(again.runId)).run.status, 'succeeded');
    log.stop();
  });

  test('cancelRun stops a run of this process: recorded cancelled, with a notice, and the next run loads the rest', async () => {
    const { home, console } = await setup({ files: 6 });
    const log = recordEvents(console);
    const { runId } = await console.startRun({ env: 'local', options: {} });
    assert.deepEqual(await console.cancelRun({ env: 'local', runId }), { cancelling: true });
    const finished = await log.finished(runId);
    assert.equal(finished.run.status, 'cancelled');
    assert.ok(log.of(runId).some((e) => e.type === 'notice'));
    // Finished runs cannot be cancelled; unknown ones are named.
    assert.deepEqual(await console.cancelRun({ env: 'local', runId }), { cancelling: false });
    await assert.rejects(console.cancelRun({ env: 'local', runId: 'nope' }), (e: unknown) => codeOf(e) === 'NO_SUCH_RUN');

    const next = await console.startRun({ env: 'local', options: {} });
    assert.equal((await log.finished(next.runId)).run.status, 'succeeded');
    const status = await console.getStatus({ env: 'local' });
    assert.equal(status.files.loaded, home.keys.length);
    log.stop();
  });

  test('retry by code plans just the files flagged with it; retry by keys exactly those', async () => {
    const { home, console } = await setup({ files: 4, badLines: { 2: 3 } });
    const log = recordEvents(console);
    const first = await console.startRun({ env: 'local', options: {} });
    assert.equal((await log.finished(first.runId)).run.status, 'flagged');
    const flagged = home.keys[2]!;

    assert.deepEqual((await console.planRun({ env: 'local', options: {} })).planned, [], 'a plain run has nothing to do');
    const plan = await console.planRun({ env: 'local', options: { retry: { code: 'LINES_REJECTED' } } });
    assert.deepEqual(plan.planned.map((p) => [p.key, p.why]), [[flagged, 'retry']]);

    const retry = await console.startRun({ env: 'local', options: { retry: { code: 'LINES_REJECTED' } } });
    const finished = await log.finished(retry.runId);
    // Recorded with the code as given, so the run is named by it (in its events and in the history).
    assert.deepEqual(finished.run.options.retry, { keys: [flagged], code: 'LINES_REJECTED' });
    const history = await console.listRuns({ env: 'local', offset: 0, limit: 10 });
    assert.deepEqual(history.runs.find((r) => r.runId === retry.runId)?.options.retry, { keys: [flagged], code: 'LINES_REJECTED' });
    const events = log.of(retry.runId);
    const startedEvent = events.find((e) => e.type === 'run-started');
    assert.ok(startedEvent?.type === 'run-started');
    assert.equal(startedEvent.options.retry?.code, 'LINES_REJECTED');
    const planEvent = events.find((e) => e.type === 'plan');
    assert.ok(planEvent?.type === 'plan');
    assert.deepEqual(planEvent.planned.map((p) => p.key), [flagged]);
    assert.deepEqual(events.filter((e) => e.type === 'file-finished').map((e) => (e.type === 'file-finished' ? e.result.key : '')), [flagged]);

    const byKeys = await console.planRun({ env: 'local', options: { retry: { keys: [home.keys[0]!, home.keys[3]!] } } });
    assert.deepEqual(byKeys.planned.map((p) => p.key), [home.keys[0], home.keys[3]]);
    await assert.rejects(console.planRun({ env: 'local', options: { retry: { code: 'DECRYPT_NO_KEY' } } }), (e: unknown) => codeOf(e) === 'NOTHING_TO_RETRY' && /DECRYPT_NO_KEY/.test((e as Error).message));
    log.stop();
  });

  test('a retry of one package member opens the package and loads just that member', { skip: !hasZip() && 'zip command not installed' }, async () => {
    const { home, console } = await setup({ files: 0 });
    // A weekly package as the exporter makes it, two tables each with one row of the wrong width.
    const folder = 'orgx-2026-01-04';
    const work = join(home.home, 'pkg');
    await mkdir(join(work, folder), { recursive: true });
    const header = 'id\tuser_id\tcourse_id\tcreated\tis_active\tmode';
    const names = ['OrgX-Course1-2T2026', 'OrgX-Course2-2T2026'].map((course) => `${course}-student_courseenrollment-prod-analytics.sql`);
    for (const name of names) await writeFile(join(work, folder, name), `${header}\n1\t5\tcourse-v1:OrgX+C+2T2026\tNULL\t1\tverified\n2\t6\n`);
    execFileSync('zip', ['--quiet', '--recurse-paths', join(home.source, `${folder}.zip`), folder], { cwd: work });
    const members = names.map((n) => `${folder}.zip!${folder}/${n}`);

    const log = recordEvents(console);
    const first = await console.startRun({ env: 'local', options: {} });
    await log.finished(first.runId);
    const flagged = (await console.getStatus({ env: 'local' })).flagged.map((f) => f.key).sort();
    assert.deepEqual(flagged, members);

    const plan = await console.planRun({ env: 'local', options: { retry: { keys: [members[0]!] } } });
    assert.deepEqual(plan.planned.map((p) => [p.key, p.why]), [[`${folder}.zip`, 'retry']]);
    const retry = await console.startRun({ env: 'local', options: { retry: { keys: [members[0]!] } } });
    await log.finished(retry.runId);
    const finished = log.of(retry.runId).flatMap((e) => (e.type === 'file-finished' ? [e.result.key] : []));
    assert.deepEqual(finished, [members[0], `${folder}.zip`], 'the member, then the package summary');
    log.stop();
  });

  test('a run with a package: the report counts its files per status as the run totals do, the package row listed but not counted', { skip: !hasZip() && 'zip command not installed' }, async () => {
    const { home, console } = await setup({ files: 1 });
    const folder = 'orgx-2026-01-04';
    const work = join(home.home, 'pkg');
    await mkdir(join(work, folder), { recursive: true });
    const header = 'id\tuser_id\tcourse_id\tcreated\tis_active\tmode';
    const good = `${header}\n1\t5\tcourse-v1:OrgX+C+2T2026\tNULL\t1\tverified\n`;
    const tables = { 'OrgX-Course1-2T2026': good, 'OrgX-Course2-2T2026': good, 'OrgX-Course3-2T2026': `${good}2\t6\n` };
    for (const [course, text] of Object.entries(tables)) await writeFile(join(work, folder, `${course}-student_courseenrollment-prod-analytics.sql`), text);
    execFileSync('zip', ['--quiet', '--recurse-paths', join(home.source, `${folder}.zip`), folder], { cwd: work });

    const log = recordEvents(console);
    const { runId } = await console.startRun({ env: 'local', options: {} });
    const finished = await log.finished(runId);
    log.stop();
    // One event log and two members loaded, one member partial; the package's own row is a summary.
    const expected = { loaded: 3, partial: 1, failed: 0, skipped: 0 };
    assert.deepEqual(finished.run.totals, expected);
    const listed = (await console.listRuns({ env: 'local', offset: 0, limit: 1 })).runs[0]!;
    assert.deepEqual(listed.totals, expected);
    const report = await console.getReport({ env: 'local', runId, filter: {}, offset: 0, limit: 100 });
    assert.deepEqual(report.counts, { loaded: 3, partial: 1 });
    assert.equal(report.total, 5, 'every row is listed, the package summary too');
    assert.ok(report.files.some((f) => f.kind === 'weekly-package' && f.status === 'loaded'));
  });

  test('listRuns pages the history newest first, with the total', async () => {
    const { console } = await setup({ files: 1 });
    const log = recordEvents(console);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { runId } = await console.startRun({ env: 'local', options: {} });
      await log.finished(runId);
      ids.push(runId);
    }
    const page = await console.listRuns({ env: 'local', offset: 1, limit: 1 });
    assert.equal(page.total, 3);
    assert.deepEqual(page.runs.map((r) => r.runId), [ids[1]]);
    assert.deepEqual((await console.listRuns({ env: 'local', offset: 0, limit: 10 })).runs.map((r) => r.runId), [...ids].reverse());
    log.stop();
  });

  test('a run of the CLI in another process appears in subscribe and listActiveRuns, and a cancel request stops it', async () => {
    // Enough files that the run is still going when the console sees its plan.
    const { home, console } = await setup({ files: 28, linesPerFile: 3000 });
    const log = recordEvents(console);
    const child = spawnPds(['run', '--env', 'local'], { PDS_HOME: home.home });
    const exited = collect(child);
    try {
      const plan = await log.waitFor((e) => e.type === 'plan');
      // Frozen while the console looks: it cannot finish in between. Never frozen inside a write
      // to the ledger, or the cancel request below would wait for a lock no one releases.
      await pauseOutsideLedgerWrite(child, environmentPaths(home.home, 'local').ledger);
      const active = await console.listActiveRuns({});
      assert.equal(active.length, 1);
      assert.equal(active[0]!.runId, plan.runId);
      assert.equal(active[0]!.origin, 'cli');
      assert.equal(active[0]!.local, false);
      assert.equal(active[0]!.planned, home.keys.length);
      assert.deepEqual(await console.cancelRun({ env: 'local', runId: plan.runId }), { cancelling: true });
      child.kill('SIGCONT');
      const finished = await log.finished(plan.runId);
      assert.equal(finished.run.status, 'cancelled');
      assert.equal(finished.run.origin, 'cli');
      const types = log.of(plan.runId).map((e) => e.type);
      assert.equal(types[0], 'run-started');
      assert.ok(types.includes('notice'));
      const result = await exited;
      assert.equal(result.code, 1, result.stderr);
    } finally {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
    assert.deepEqual(await console.listActiveRuns({}), []);
    log.stop();
  });

  test('a CLI run killed mid-way is recorded as interrupted and announced finished', async () => {
    const { home, console } = await setup({ files: 28, linesPerFile: 3000 });
    const log = recordEvents(console);
    const child = spawnPds(['run', '--env', 'local'], { PDS_HOME: home.home });
    const exited = collect(child);
    const plan = await log.waitFor((e) => e.type === 'plan');
    child.kill('SIGKILL');
    await exited;
    const finished = await log.finished(plan.runId);
    assert.equal(finished.run.status, 'failed');
    assert.equal(finished.run.error?.code, 'RUN_INTERRUPTED');
    assert.deepEqual(await console.listActiveRuns({}), []);
    assert.equal((await console.listRuns({ env: 'local', offset: 0, limit: 1 })).runs[0]?.status, 'failed');
    log.stop();
  });
});
