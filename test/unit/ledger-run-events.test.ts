/**
 * Ledger migration 0002-run-events: a ledger written before it upgrades in place (its runs kept),
 * and the run events, origin, process and cancel requests it adds.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Ledger } from '../../core/ledger/ledger.js';
import * as m0001 from '../../core/ledger/migrations/0001-initial.js';

test('0002-run-events upgrades a 0001 ledger in place and records events, origin, process and cancel requests', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pds-ledger-events-'));
  try {
    const path = join(dir, 'ledger.sqlite');
    // A ledger as the first version left it, with one finished run.
    const old = new Database(path);
    old.exec('CREATE TABLE ledger_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
    old.exec(m0001.sql);
    old.prepare('INSERT INTO ledger_migrations VALUES (?, ?)').run(m0001.name, '2026-01-01T00:00:00.000Z');
    old.prepare(`INSERT INTO runs (id, env, started_at, finished_at, status, options) VALUES ('old', 'dev', '2026-01-01T00:00:00.000Z', '2026-01-01T00:01:00.000Z', 'succeeded', '{}')`).run();
    old.close();

    const ledger = Ledger.open(path);
    try {
      assert.deepEqual(ledger.migrations().slice(0, 2), ['0001-initial', '0002-run-events']);
      const kept = ledger.getRun('old');
      assert.equal(kept?.status, 'succeeded');
      assert.equal(kept?.origin, undefined);

      const { runId } = ledger.startRun('dev', {}, { origin: 'cli' });
      assert.equal(ledger.getRun(runId)?.origin, 'cli');
      assert.deepEqual(ledger.runningRuns().map((r) => [r.runId, r.pid]), [[runId, process.pid]]);

      assert.equal(ledger.lastRunEventSeq(), 0);
      const first = ledger.appendRunEvent(runId, 'run-started', '2026-01-02T00:00:00.000Z', { type: 'run-started', origin: 'cli', options: {} });
      const second = ledger.appendRunEvent(runId, 'plan', '2026-01-02T00:00:01.000Z', { type: 'plan', planned: [], upToDate: 0, bytes: 0 });
      assert.ok(second > first);
      assert.equal(ledger.seqBeforeRun(runId), first - 1);
      assert.deepEqual(ledger.runEventsAfter(first).map((e) => [e.seq, e.runId, e.type, e.data.type]), [[second, runId, 'plan', 'plan']]);

      assert.equal(ledger.cancelRequested(runId), false);
      assert.equal(ledger.requestCancel(runId), true);
      assert.equal(ledger.cancelRequested(runId), true);
      assert.equal(ledger.requestCancel('old'), false, 'a finished run cannot be asked to stop');

      assert.equal(ledger.markInterrupted(runId), true);
      assert.equal(ledger.getRun(runId)?.status, 'failed');
      assert.equal(ledger.getRun(runId)?.error?.code, 'RUN_INTERRUPTED');
      assert.equal(ledger.markInterrupted(runId), false);
      assert.equal(ledger.countRuns(), 2);
      assert.deepEqual(ledger.listRuns(1, 1).map((r) => r.runId), ['old']);
    } finally {
      ledger.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
