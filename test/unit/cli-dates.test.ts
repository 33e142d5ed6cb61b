/**
 * Dates given to `pds run` / `pds load` and to the service are real calendar dates, and `from` is
 * not after `to`; anything else is refused before any work starts (exit code 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCode } from '../../core/errors/index.js';
import { createConsoleService } from '../../core/service/console-service.js';
import { runPds } from '../support/pds-cli.js';

test('pds refuses a date that is not a calendar date, naming the option, with exit code 1', async () => {
  const home = await mkdtemp(join(tmpdir(), 'pds-dates-'));
  try {
    const env = { PDS_HOME: home };
    const from = await runPds(['run', '--env', 'dev', '--from', '2026-02-31'], env);
    assert.equal(from.code, 1);
    assert.equal(from.stderr, 'pds: --from: 2026-02-31 is not a date (February 2026 has 28 days); use YYYY-MM-DD, e.g. 2026-02-28\n');
    assert.equal(from.stdout, '');

    const snapshot = await runPds(['load', '--env', 'dev', '--snapshot-date', '2026-13-01', 'x.sql'], env);
    assert.equal(snapshot.code, 1);
    assert.equal(snapshot.stderr, 'pds: --snapshot-date: 2026-13-01 is not a date (there is no month 13); use YYYY-MM-DD, e.g. 2026-12-01\n');

    const order = await runPds(['run', '--env', 'dev', '--from', '2026-03-01', '--to', '2026-02-01'], env);
    assert.equal(order.code, 1);
    assert.equal(order.stderr, 'pds: --from 2026-03-01 is after --to 2026-02-01: no date is in that window; give the earlier date first.\n');
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test('the service refuses the same dates before it opens anything', async () => {
  const home = await mkdtemp(join(tmpdir(), 'pds-dates-'));
  try {
    const service = createConsoleService({ home });
    await assert.rejects(service.run('dev', { from: '2026-02-31' }), (e: unknown) => {
      assert.ok(hasCode(e, 'DATE_INVALID'));
      assert.equal((e as Error).message, 'from: 2026-02-31 is not a date (February 2026 has 28 days); use YYYY-MM-DD, e.g. 2026-02-28');
      return true;
    });
    await assert.rejects(service.load('dev', ['x.sql'], { snapshotDate: '2026-04-31' }), (e: unknown) => {
      assert.ok(hasCode(e, 'DATE_INVALID'));
      assert.equal((e as Error).message, 'snapshotDate: 2026-04-31 is not a date (April 2026 has 30 days); use YYYY-MM-DD, e.g. 2026-04-30');
      return true;
    });
    await assert.rejects(service.run('dev', { from: '2026-03-01', to: '2026-02-28' }), (e: unknown) => hasCode(e, 'DATE_INVALID'));
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
