/**
 * Retention of stored data: `pds purge` removes exactly the events, designated rows and snapshot
 * rows older than the environment's ages, a dry run only counts, the default keeps everything, and
 * the purge is recorded in the audit log.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { environmentPaths, getEnvironment, loadConfig } from '../../core/config/config-store.js';
import type { EnvironmentConfig } from '../../core/config/config-schema.js';
import { DEMO_ENV, runDemo } from '../../core/demo/run-demo.js';
import { DESIGNATED_TABLES } from '../../core/domain/tables.js';
import { cutoffOf, purge } from '../../core/privacy/purge.js';
import { PrivacyLedger } from '../../core/privacy/privacy-ledger.js';
import { retentionPolicy } from '../../core/privacy/retention-policy.js';
import { createConsoleService } from '../../core/service/console-service.js';

let home: string;
let config: EnvironmentConfig;
const paths = () => environmentPaths(home, DEMO_ENV);
// The demo's events run from 2026-05-31 to 2026-06-05 and its weekly package is of 2026-06-07.
const NOW = new Date('2027-06-03T00:00:00Z');

function count(sql: string, ...params: unknown[]): number {
  const db = new Database(paths().sqlite, { readonly: true });
  try {
    return Number((db.prepare(sql).get(...params) as { n: number }).n);
  } finally {
    db.close();
  }
}

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'pds-purge-'));
  await runDemo(createConsoleService({ home }));
  config = getEnvironment(await loadConfig(home), DEMO_ENV);
});
after(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('pds purge', () => {
  test('ages: years, months, weeks and days before now, UTC', () => {
    assert.equal(cutoffOf('1y', NOW).toISOString(), '2026-06-03T00:00:00.000Z');
    assert.equal(cutoffOf('13m', NOW).toISOString(), '2026-05-03T00:00:00.000Z');
    assert.equal(cutoffOf('2w', NOW).toISOString(), '2027-05-20T00:00:00.000Z');
    assert.equal(cutoffOf('30d', NOW).toISOString(), '2027-05-04T00:00:00.000Z');
  });

  test('the default keeps everything', async () => {
    const events = count('SELECT COUNT(*) AS n FROM events');
    const r = await purge({ home, env: DEMO_ENV, config, paths: paths(), actor: 'os:test', now: NOW });
    assert.equal(r.totalRows, 0);
    assert.deepEqual(r.cutoffs, {});
    assert.equal(count('SELECT COUNT(*) AS n FROM events'), events);
    assert.match(retentionPolicy(config).events, /kept until erased/);
  });

  test('removes exactly the events and designated rows older than the policy, and records it', async () => {
    const policy: EnvironmentConfig = { ...config, retention: { landingDays: 30, quarantineDays: 0, diskFactor: 3, events: '1y' } };
    const cut = '2026-06-03';
    const olderEvents = count('SELECT COUNT(*) AS n FROM events WHERE time < ?', cut);
    const newerEvents = count('SELECT COUNT(*) AS n FROM events WHERE time >= ?', cut);
    const older = Object.fromEntries(DESIGNATED_TABLES.map((t) => [t, count(`SELECT COUNT(*) AS n FROM ${t} WHERE time < ?`, cut)]));
    const newer = Object.fromEntries(DESIGNATED_TABLES.map((t) => [t, count(`SELECT COUNT(*) AS n FROM ${t} WHERE time >= ?`, cut)]));
    assert.ok(olderEvents > 0 && newerEvents > 0);

    const dry = await purge({ home, env: DEMO_ENV, config: policy, paths: paths(), dryRun: true, actor: 'os:test', now: NOW });
    assert.equal(dry.stores.find((s) => s.target === 'events')?.rows, olderEvents);
    assert.equal(count('SELECT COUNT(*) AS n FROM events WHERE time < ?', cut), olderEvents, 'a dry run removes nothing');

    const r = await purge({ home, env: DEMO_ENV, config: policy, paths: paths(), actor: 'os:test', now: NOW });
    assert.equal(r.cutoffs.events, '2026-06-03T00:00:00.000Z');
    assert.equal(r.stores.find((s) => s.target === 'events')?.rows, olderEvents);
    assert.equal(count('SELECT COUNT(*) AS n FROM events WHERE time < ?', cut), 0);
    assert.equal(count('SELECT COUNT(*) AS n FROM events WHERE time >= ?', cut), newerEvents);
    for (const t of DESIGNATED_TABLES) {
      assert.equal(r.stores.find((s) => s.target === t)?.rows ?? 0, older[t], t);
      assert.equal(count(`SELECT COUNT(*) AS n FROM ${t} WHERE time < ?`, cut), 0, t);
      assert.equal(count(`SELECT COUNT(*) AS n FROM ${t} WHERE time >= ?`, cut), newer[t], t);
    }
    const ledger = PrivacyLedger.open(paths().ledger);
    try {
      const entry = ledger.audit().find((e) => e.action === 'purge');
      assert.equal(entry?.actor, 'os:test');
      assert.equal(entry?.detail.rows, r.totalRows);
    } finally {
      ledger.close();
    }
    assert.match(retentionPolicy(policy).events, /1y, then removed by `pds purge` and scheduled runs/);
  });

  test('snapshots older than their age are removed, newer ones kept', async () => {
    const users = count('SELECT COUNT(*) AS n FROM auth_user');
    const keep = await purge({ home, env: DEMO_ENV, config: { ...config, retention: { landingDays: 30, quarantineDays: 0, diskFactor: 3, snapshots: '2y' } }, paths: paths(), actor: 'os:test', now: NOW });
    assert.equal(keep.totalRows, 0);
    assert.equal(count('SELECT COUNT(*) AS n FROM auth_user'), users);
    const r = await purge({ home, env: DEMO_ENV, config: { ...config, retention: { landingDays: 30, quarantineDays: 0, diskFactor: 3, snapshots: '6m' } }, paths: paths(), actor: 'os:test', now: NOW });
    assert.equal(r.stores.find((s) => s.target === 'auth_user')?.rows, users);
    assert.equal(count('SELECT COUNT(*) AS n FROM auth_user'), 0);
  });
});
