import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Ledger } from '../../core/ledger/ledger.js';
import { MIGRATIONS } from '../../core/ledger/migrations/index.js';
import type { FileResult } from '../../core/domain/results.js';

async function withLedger(fn: (ledger: Ledger, path: string) => void | Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pds-ledger-'));
  const path = join(dir, 'ledger.sqlite');
  const ledger = Ledger.open(path);
  try {
    await fn(ledger, path);
  } finally {
    ledger.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function result(partial: Partial<FileResult> & Pick<FileResult, 'key' | 'status'>): FileResult {
  return { kind: 'event-log', counts: { bytes: 10, read: 5, loaded: 4, rejected: 1, duplicates: 0 }, warnings: [], durationMs: 1, ...partial };
}

describe('ledger', () => {
  test('migration 0001-initial creates the runs, files, run_files, stage_log and rejected_lines tables', async () => {
    await withLedger((ledger, path) => {
      assert.deepEqual(ledger.migrations(), MIGRATIONS.map((m) => m.name));
      const db = new Database(path, { readonly: true });
      const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
      db.close();
      for (const t of ['files', 'rejected_lines', 'run_files', 'runs', 'stage_log']) assert.ok(tables.includes(t), `missing table ${t}`);
    });
  });

  test('re-opening applies no migration twice', async () => {
    await withLedger((ledger, path) => {
      ledger.close();
      const again = Ledger.open(path);
      assert.deepEqual(again.migrations(), MIGRATIONS.map((m) => m.name));
      again.close();
      // withLedger closes `ledger` again: better-sqlite3 allows closing twice.
    });
  });

  test('a run records file outcomes with rejected line numbers, and the report reads them back', async () => {
    await withLedger((ledger) => {
      const { runId } = ledger.startRun('dev', { only: 'events' });
      ledger.recordFetched(runId, { key: 'a.log.gz.gpg', location: 'events', kind: 'event-log', size: 10, etag: 'e1', landing: '/x/a' });
      assert.equal(ledger.getFile('a.log.gz.gpg')?.status, 'fetched');
      const r = result({ key: 'a.log.gz.gpg', status: 'partial', code: 'LINES_REJECTED', rejectedLines: [{ line: 7, code: 'JSON_INVALID', reason: 'truncated' }] });
      ledger.recordResult(runId, r, { location: 'events', size: 10, etag: 'e1' });
      ledger.finishRun(runId, 'flagged', { loaded: 0, partial: 1, failed: 0, skipped: 0 });
      const file = ledger.getFile('a.log.gz.gpg');
      assert.equal(file?.status, 'partial');
      assert.equal(file?.etag, 'e1');
      assert.equal(file?.landing, '/x/a', 'the landing path recorded at fetch is kept');
      assert.deepEqual(ledger.runFiles(runId)[0]?.rejectedLines, [{ line: 7, code: 'JSON_INVALID', reason: 'truncated' }]);
      const run = ledger.getRun(runId);
      assert.equal(run?.status, 'flagged');
      assert.deepEqual(run?.options, { only: 'events' });
      assert.deepEqual(ledger.flaggedFiles().map((f) => f.key), ['a.log.gz.gpg']);
    });
  });

  test('a run left running by a killed process is marked failed when the next run starts', async () => {
    await withLedger((ledger) => {
      const first = ledger.startRun('dev', {});
      const second = ledger.startRun('dev', {});
      assert.equal(ledger.getRun(first.runId)?.status, 'failed');
      assert.equal(ledger.getRun(first.runId)?.error?.code, 'RUN_INTERRUPTED');
      assert.equal(ledger.getRun(second.runId)?.status, 'running');
      assert.equal(ledger.latestRunId(), second.runId);
    });
  });

  test('members are listed under their package', async () => {
    await withLedger((ledger) => {
      const { runId } = ledger.startRun('dev', {});
      ledger.recordResult(runId, result({ key: 'p.zip!x/a.sql', parentKey: 'p.zip', status: 'loaded', kind: 'weekly-table' }), { location: 'weekly', etag: 'p:1' });
      ledger.recordResult(runId, result({ key: 'p.zip!x/b.sql', parentKey: 'p.zip', status: 'failed', stage: 'decrypt', code: 'DECRYPT_NO_MATCHING_KEY', kind: 'weekly-table' }), { location: 'weekly', etag: 'p:2' });
      const members = ledger.membersOf('p.zip');
      assert.deepEqual(members.map((m) => [m.key, m.status, m.stage, m.code]), [
        ['p.zip!x/a.sql', 'loaded', null, null],
        ['p.zip!x/b.sql', 'failed', 'decrypt', 'DECRYPT_NO_MATCHING_KEY'],
      ]);
    });
  });
});
