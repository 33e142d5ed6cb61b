/**
 * End to end into MariaDB (issue: MariaDB target): the MinIO + GnuPG delivery of the core tests
 * loaded with `targets.relational = mariadb` gives the same row counts and values as into SQLite,
 * and a database that dies in the middle of a run leaves nothing half-loaded: its files are
 * flagged, and the next run completes them.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { RunResult } from '../../core/domain/results.js';
import { TABLES_BY_NAME, isSnapshotTable } from '../../core/domain/tables.js';
import { MariaDbStore } from '../../core/stores/mariadb/mariadb-store.js';
import { SqliteStore } from '../../core/stores/sqlite/sqlite-store.js';
import type { RelationalStore } from '../../core/stores/ports.js';
import { createDelivery, expectedTableRows, FAULTS, type Delivery } from '../support/delivery.js';
import { mariaDbTargetLines, startMariaDb, type MariaDbServer } from '../support/mariadb.js';
import { collect, runPds, spawnPds } from '../support/pds-cli.js';

let d: Delivery;
let db: MariaDbServer;

/** Targets by fields; `byUrl` gives the same server as one URL held in an environment variable. */
function mariaTargets(database: string, byUrl = false): string[] {
  if (byUrl) return ['    targets:', '      relational:', '        type: mariadb', '        url: env:PDS_IT_DB_URL'];
  return mariaDbTargetLines(db, 'PDS_IT_DB_PASSWORD', database);
}

/** Every snapshot table's rows (documented columns and the snapshot key), canonical and sorted. */
async function snapshotContents(store: RelationalStore): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const def of TABLES_BY_NAME.values()) {
    if (!isSnapshotTable(def)) continue;
    const columns = ['course_key', 'snapshot_date', ...def.columns.map((c) => c.name)];
    const list = columns.map((c) => `\`${c}\``).join(', ');
    const sql = `SELECT ${list} FROM ${def.name}`.replace(/`/g, store.engine === 'sqlite' ? '"' : '`');
    const rows = await store.query<Record<string, unknown>>(sql);
    // Datetimes: MariaDB DATETIME(6) always prints six fraction digits; SQLite keeps what the file had.
    const canon = (v: unknown): unknown =>
      typeof v === 'string' && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$/.test(v) ? v.replace(/\.?0+$/, '').replace(/:(\d{2})$/, ':$1') : typeof v === 'bigint' ? Number(v) : v;
    out[def.name] = rows.map((r) => JSON.stringify(columns.map((c) => canon(r[c])))).sort();
  }
  return out;
}

describe('pds run into MariaDB', { timeout: 900_000 }, () => {
  before(async () => {
    [d, db] = await Promise.all([createDelivery(), startMariaDb()]);
  });

  after(async () => {
    await Promise.allSettled([d?.dispose(), db?.stop()]);
  });

  test('the delivery lands in MariaDB with the same rows and values as in SQLite', async () => {
    const maria = await d.newHome({ targetsYaml: mariaTargets('pds_same', true) });
    const env = { ...maria.env, PDS_IT_DB_URL: `mariadb://${db.user}:${encodeURIComponent(db.password)}@${db.host}:${db.port}/pds_same` };
    const res = await runPds(['run', '--env', 'itest', '--json'], env);
    assert.equal(res.code, 2, res.stderr);
    const result = JSON.parse(res.stdout) as RunResult;
    assert.equal(result.files.find((f) => f.key === FAULTS.badRowsMember)?.rejectedLines?.[0]?.line, 3);
    const check = await runPds(['db', 'check', '--env', 'itest', '--json'], env);
    assert.equal(check.code, 0, check.stdout + check.stderr);

    const sqliteHome = await d.newHome();
    assert.equal((await runPds(['run', '--env', 'itest', '--quiet'], sqliteHome.env)).code, 2);

    const mariaStore = new MariaDbStore({ host: db.host, port: db.port, user: db.user, password: db.password, database: 'pds_same' });
    const sqliteStore = new SqliteStore({ path: join(sqliteHome.home, 'envs', 'itest', 'data.sqlite') });
    await Promise.all([mariaStore.init(), sqliteStore.init()]);
    try {
      for (const { table, courseKey, rows } of expectedTableRows(d.manifest)) {
        const [r] = await mariaStore.query<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE course_key = ?`, [courseKey]);
        assert.equal(Number(r!.n), rows, `${table} / ${courseKey}`);
      }
      const [fromMaria, fromSqlite] = [await snapshotContents(mariaStore), await snapshotContents(sqliteStore)];
      for (const table of Object.keys(fromSqlite)) assert.deepEqual(fromMaria[table], fromSqlite[table], `values of ${table}`);
      for (const t of ['video_events', 'problem_events', 'navigation_events', 'enrollment_events', 'course_daily_activity']) {
        const [m] = await mariaStore.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`);
        const [s] = await sqliteStore.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`);
        assert.equal(Number(m!.n), Number(s!.n), t);
        assert.ok(Number(s!.n) > 0, t);
      }
    } finally {
      await mariaStore.close();
      await sqliteStore.close();
    }
  });

  test('MariaDB killed in the middle of a run: its files are flagged, nothing half-loaded is visible, the next run completes them', async () => {
    const reference = await d.newHome({ targetsYaml: mariaTargets('pds_reference') });
    assert.equal((await runPds(['run', '--env', 'itest', '--quiet'], { ...reference.env, PDS_IT_DB_PASSWORD: db.password })).code, 2);

    const victim = await d.newHome({ targetsYaml: mariaTargets('pds_victim') });
    const env = { ...victim.env, PDS_IT_DB_PASSWORD: db.password };
    const child = spawnPds(['run', '--env', 'itest'], env);
    let finished = 0;
    let killed = false;
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      finished += s.split('\n').filter((l) => /^(loaded|partial|failed|skipped) /.test(l)).length;
      if (finished >= 10 && !killed) {
        killed = true;
        void db.kill();
      }
    });
    const interrupted = await collect(child);
    assert.ok(killed, 'the database was killed during the run');
    // An unreachable database stops the run (exit 1) with one clear message; the file being
    // loaded is flagged at the load stage, and the files not yet tried are left for the next run.
    assert.equal(interrupted.code, 1, interrupted.stderr);
    const report = await runPds(['report', '--env', 'itest', '--json'], env);
    const { run, files } = JSON.parse(report.stdout) as { run: { status: string; error: { code: string; hint?: string } }; files: RunResult['files'] };
    assert.equal(run.status, 'failed');
    assert.equal(run.error.code, 'TARGET_UNAVAILABLE');
    assert.match(run.error.hint ?? '', /Run again/);
    const dbFailures = files.filter((f) => f.stage === 'load' && f.status === 'failed');
    assert.ok(dbFailures.length > 0, 'the file being loaded when the database died is flagged at the load stage');

    await db.restart();
    // Nothing half-loaded: every course's snapshot of every table is either complete or absent.
    const store = new MariaDbStore({ host: db.host, port: db.port, user: db.user, password: db.password, database: 'pds_victim' });
    await store.init();
    try {
      for (const { table, courseKey, rows } of expectedTableRows(d.manifest)) {
        const [r] = await store.query<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE course_key = ?`, [courseKey]).catch(() => [{ n: 0 }]);
        assert.ok(Number(r!.n) === 0 || Number(r!.n) === rows, `${table} / ${courseKey}: ${r!.n} of ${rows}`);
      }
    } finally {
      await store.close();
    }

    const resumed = await runPds(['run', '--env', 'itest', '--json'], env);
    assert.equal(resumed.code, 2, resumed.stderr);
    const planned = (JSON.parse(resumed.stdout) as RunResult).planned;
    assert.ok(planned.length > 0, 'the next run takes what the interrupted one left');
    const refStore = new MariaDbStore({ host: db.host, port: db.port, user: db.user, password: db.password, database: 'pds_reference' });
    const victimStore = new MariaDbStore({ host: db.host, port: db.port, user: db.user, password: db.password, database: 'pds_victim' });
    await Promise.all([refStore.init(), victimStore.init()]);
    try {
      assert.deepEqual(await snapshotContents(victimStore), await snapshotContents(refStore));
    } finally {
      await refStore.close();
      await victimStore.close();
    }
  });
});
