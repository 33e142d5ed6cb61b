/**
 * The MariaDB store against a real `mariadbd` (Debian package) started in a temp folder: the
 * shared store contract, then what only a server can show — a server killed in the middle of a
 * load, a lost connection replayed, `local_infile` switched off, an account without CREATE.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as mariadb from 'mariadb';
import type { SqlValue } from '../../core/domain/records.js';
import type { ColumnDef, TableDef } from '../../core/domain/schema-types.js';
import { getTableDef } from '../../core/domain/tables.js';
import { LoadError } from '../../core/errors/index.js';
import type { SnapshotSpec } from '../../core/stores/ports.js';
import { MARIADB_SCHEMA_VERSION, MariaDbStore, type MariaDbStoreOptions } from '../../core/stores/mariadb/mariadb-store.js';
import { startMariaDb, type MariaDbServer } from '../support/mariadb.js';
import { describeRelationalStoreContract } from '../support/store-contract.js';

let server: MariaDbServer;
const stores: MariaDbStore[] = [];

before(async () => {
  server = await startMariaDb();
});

after(async () => {
  for (const s of stores) await s.close();
  await server?.stop();
});

function options(database: string, extra: Partial<MariaDbStoreOptions> = {}): MariaDbStoreOptions {
  return {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database,
    // Fail fast in tests: a stopped server is noticed in about a second.
    connectTimeoutMs: 1500,
    retryDelayMs: 50,
    ...extra,
  };
}

function newStore(database: string, extra: Partial<MariaDbStoreOptions> = {}): MariaDbStore {
  const store = new MariaDbStore(options(database, extra));
  stores.push(store);
  return store;
}

/** A plain connection as the test's all-privileges user, for setup the store does not do. */
async function admin<T>(fn: (conn: mariadb.Connection) => Promise<T>): Promise<T> {
  const conn = await mariadb.createConnection({ host: server.host, port: server.port, user: server.user, password: server.password });
  try {
    return await fn(conn);
  } finally {
    await conn.end();
  }
}

describeRelationalStoreContract('mariadb', async () => {
  const store = newStore('pds_contract');
  return Object.assign(store, {
    async drop() {
      await admin((c) => c.query('DROP DATABASE IF EXISTS pds_contract'));
    },
  });
});

const enrollment = getTableDef('student_courseenrollment')!;

function spec(courseKey: string, snapshotDate: string): SnapshotSpec {
  return {
    table: enrollment,
    courseKey,
    snapshotDate,
    columns: enrollment.columns.map((c) => c.name),
    origin: { fileKey: `test/${courseKey}-${snapshotDate}.sql`, loadId: `${courseKey}-${snapshotDate}-${Math.random().toString(36).slice(2)}` },
  };
}

/** `n` enrollment rows with ids from `first`; the mode carries ~200 bytes so chunks fill up. */
function rows(n: number, first: number): SqlValue[][] {
  return Array.from({ length: n }, (_, i) => [first + i, 5000 + first + i, 'course-v1:T+t+1', '2024-01-02 03:04:05.123456', 1, `verified\t${'x'.repeat(80)}`]);
}

async function ids(store: MariaDbStore, courseKey: string): Promise<number[]> {
  const read = await store.query<{ id: number }>('SELECT id FROM student_courseenrollment WHERE course_key = ? ORDER BY id', [courseKey]);
  return read.map((r) => Number(r.id));
}

function range(first: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => first + i);
}

describe('MariaDB store: bulk path and bookkeeping', () => {
  test('batch() (the default) keeps every row and value across chunks; schema version and bookkeeping are recorded', async () => {
    const store = newStore('pds_bulk', { chunkBytes: 64 * 1024 });
    await store.init();
    assert.equal(store.bulkMethod, 'batch');
    const w = await store.beginSnapshot(spec('bulk', '2024-01-07'));
    for (let i = 0; i < 5; i++) await w.write(rows(1000, i * 1000 + 1));
    assert.deepEqual(await w.commit(), { rows: 5000, replacedRows: 0, stale: false });
    assert.deepEqual(await ids(store, 'bulk'), range(1, 5000));
    const [one] = await store.query<{ mode: string; created: string }>('SELECT mode, created FROM student_courseenrollment WHERE course_key = ? AND id = 4321', ['bulk']);
    assert.equal(one.mode, `verified\t${'x'.repeat(80)}`);
    assert.equal(one.created, '2024-01-02 03:04:05.123456');
    const [snap] = await store.query<{ row_count: number; snapshot_date: string }>('SELECT row_count, snapshot_date FROM pds_snapshots WHERE table_name = ? AND course_key = ?', [
      'student_courseenrollment',
      'bulk',
    ]);
    assert.deepEqual({ ...snap }, { row_count: 5000, snapshot_date: '2024-01-07' });
    const [version] = await store.query<{ v: number }>('SELECT MAX(version) AS v FROM pds_schema_version');
    assert.equal(version.v, MARIADB_SCHEMA_VERSION);
  });

  test('LOAD DATA LOCAL INFILE, when chosen, loads the same rows and values in chunks', async () => {
    const store = newStore('pds_bulk', { bulkMethod: 'load-data', chunkBytes: 64 * 1024 });
    await store.init();
    assert.equal(store.bulkMethod, 'load-data');
    const w = await store.beginSnapshot(spec('bulk-infile', '2024-01-07'));
    await w.write(rows(1500, 1));
    // Strings that look like LOAD DATA escapes or NULL must stay strings.
    await w.write([[1501, 1, '\\N', null, 0, 'a\\tb\r\n\0'], ...rows(499, 1502)]);
    assert.deepEqual(await w.commit(), { rows: 2000, replacedRows: 0, stale: false });
    assert.deepEqual(await ids(store, 'bulk-infile'), range(1, 2000));
    const [odd] = await store.query<Record<string, unknown>>('SELECT course_id, created, mode FROM student_courseenrollment WHERE course_key = ? AND id = 1501', ['bulk-infile']);
    assert.deepEqual({ ...odd }, { course_id: '\\N', created: null, mode: 'a\\tb\r\n\0' });
  });

  test('indexes too long for InnoDB get prefixes, and the table loads and answers through them', async () => {
    const vc = (name: string, length: number): ColumnDef => ({ name, type: 'varchar', length });
    const wide: TableDef = {
      name: 'mariadb_wide_keys',
      group: 'weekly',
      doc: 'Test: keys beyond 3072 bytes in utf8mb4.',
      columns: [vc('a', 255), vc('b', 255), vc('c', 255), vc('d', 255), { name: 'note', type: 'text' }, vc('long_value', 1000)],
      indexes: [['a', 'b', 'c', 'd'], ['note'], ['long_value']],
    };
    const store = newStore('pds_bulk');
    await store.init();
    const w = await store.beginSnapshot({ ...spec('wide', '2024-01-07'), table: wide, columns: wide.columns.map((c) => c.name) });
    const long = '😀'.repeat(1000);
    await w.write([['a1', 'b1', 'c1', 'd1', 'n1', long], ['a2', 'b2', 'c2', 'd2', 'n2', `${long.slice(0, -2)}x`]]);
    assert.equal((await w.commit()).rows, 2);
    const found = await store.query<{ a: string }>('SELECT a FROM mariadb_wide_keys WHERE long_value = ? AND note = ?', [long, 'n1']);
    assert.deepEqual(found.map((r) => r.a), ['a1']);
    const keys = await store.query<{ k: string; sub: number | null }>(
      'SELECT INDEX_NAME AS k, SUB_PART AS sub FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND SUB_PART IS NOT NULL ORDER BY k, SEQ_IN_INDEX',
      ['mariadb_wide_keys'],
    );
    assert.ok(keys.length >= 3, JSON.stringify(keys));
  });

  test('report queries are read-only', async () => {
    const store = newStore('pds_bulk');
    await store.init();
    await assert.rejects(store.query('DELETE FROM student_courseenrollment'), (e: unknown) => e instanceof LoadError && e.code === 'QUERY_NOT_READ_ONLY');
  });

  test('check() reports version, schema version, privileges and the bulk method', async () => {
    const store = newStore('pds_bulk');
    const result = await store.check();
    assert.equal(result.ok, true, result.detail);
    assert.match(result.version ?? '', /MariaDB/);
    assert.equal(result.schemaVersion, MARIADB_SCHEMA_VERSION);
    for (const p of ['SELECT', 'INSERT', 'CREATE', 'ALTER', 'INDEX', 'CREATE VIEW']) assert.ok(result.privileges?.includes(p), p);
    assert.equal(result.bulkMethod, 'batch');
  });

  test('check() of an unreachable server is not ok and says so without throwing', async () => {
    const store = newStore('pds_bulk', { port: 1, host: '127.0.0.1' });
    const result = await store.check();
    assert.equal(result.ok, false);
    assert.match(result.detail, /127\.0\.0\.1:1/);
    assert.doesNotMatch(result.detail, new RegExp(server.password));
  });
});

describe('MariaDB store: permissions', () => {
  const password = 'limited-Pa55';
  before(async () => {
    await admin(async (c) => {
      await c.query('CREATE DATABASE IF NOT EXISTS pds_limited');
      await c.query(`CREATE USER IF NOT EXISTS 'limited'@'%' IDENTIFIED BY '${password}'`);
      await c.query("GRANT SELECT, INSERT, UPDATE, DELETE ON pds_limited.* TO 'limited'@'%'");
    });
  });

  test('init() without CREATE fails with a LoadError whose hint is the GRANT to run', async () => {
    const store = newStore('pds_limited', { user: 'limited', password });
    await assert.rejects(store.init(), (e: unknown) => {
      assert.ok(e instanceof LoadError);
      assert.equal(e.code, 'DB_PERMISSION_DENIED');
      assert.equal(e.retryable, false);
      assert.match(e.hint ?? '', /GRANT [A-Z ,]*CREATE[A-Z ,]* ON `pds_limited`\.\* TO 'limited'@'%'/);
      assert.doesNotMatch(`${e.message} ${e.hint}`, new RegExp(password));
      return true;
    });
  });

  test('init() of a database the account may not create names CREATE DATABASE', async () => {
    const store = newStore('pds_not_allowed', { user: 'limited', password });
    await assert.rejects(store.init(), (e: unknown) => e instanceof LoadError && e.code === 'DB_PERMISSION_DENIED' && /CREATE DATABASE `pds_not_allowed`/.test(e.hint ?? ''));
  });

  test('a wrong password is an authentication error, not retried, with no password in it', async () => {
    const store = newStore('pds_limited', { user: 'limited', password: 'wrong-secret' });
    await assert.rejects(store.init(), (e: unknown) => e instanceof LoadError && e.code === 'DB_AUTH_FAILED' && !e.retryable && !`${e.message}${e.hint}`.includes('wrong-secret'));
  });

  test('check() names the missing privileges', async () => {
    const result = await newStore('pds_limited', { user: 'limited', password }).check();
    assert.equal(result.ok, false);
    assert.match(result.detail, /lacks CREATE, ALTER, INDEX, CREATE VIEW on pds_limited/);
    assert.match(result.detail, /GRANT CREATE, ALTER, INDEX, CREATE VIEW ON `pds_limited`\.\* TO 'limited'@'%'/);
  });
});

describe('MariaDB store: local_infile switched off', () => {
  after(async () => {
    await admin((c) => c.query('SET GLOBAL local_infile = 1'));
  });

  test('a LOAD DATA load in progress falls back to batch() and completes, with a notice', async () => {
    const store = newStore('pds_infile', { bulkMethod: 'load-data' });
    await store.init();
    assert.equal(store.bulkMethod, 'load-data');
    const w = await store.beginSnapshot(spec('infile', '2024-01-07'));
    await admin((c) => c.query('SET GLOBAL local_infile = 0'));
    await w.write(rows(300, 1));
    await w.write(rows(200, 301));
    assert.deepEqual(await w.commit(), { rows: 500, replacedRows: 0, stale: false });
    assert.equal(store.bulkMethod, 'batch');
    assert.match(store.notices.join(' '), /local_infile is OFF.*SET GLOBAL local_infile = ON/);
    assert.deepEqual(await ids(store, 'infile'), range(1, 500));
  });

  test('a store preferring LOAD DATA starts on batch() and check() warns; the default store is unaffected', async () => {
    await admin((c) => c.query('SET GLOBAL local_infile = 0'));
    const preferring = newStore('pds_infile', { bulkMethod: 'load-data' });
    await preferring.init();
    assert.equal(preferring.bulkMethod, 'batch');
    const check = await preferring.check();
    assert.equal(check.ok, true, check.detail);
    assert.equal(check.bulkMethod, 'batch');
    assert.match((check.warnings ?? []).join(' '), /local_infile is OFF/);

    const plain = newStore('pds_infile');
    await plain.init();
    const w = await plain.beginSnapshot(spec('infile-default', '2024-01-07'));
    await w.write(rows(10, 1));
    assert.deepEqual(await w.commit(), { rows: 10, replacedRows: 0, stale: false });
    assert.deepEqual(plain.notices, []);
  });
});

/** Kills every connection of the test user except the caller's: what a network cut does to them. */
async function killOtherConnections(): Promise<number> {
  return admin(async (c) => {
    const list = (await c.query("SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID() AND COMMAND <> 'Daemon'", [server.user])) as { id: number }[];
    for (const { id } of list) await c.query(`KILL CONNECTION ${Number(id)}`).catch(() => undefined);
    return list.length;
  });
}

describe('MariaDB store: lost connections', () => {
  test('a unit whose connection is killed mid-load is replayed in a new transaction and commits once', async () => {
    const store = newStore('pds_lost', { chunkBytes: 64 * 1024 });
    await store.init();
    const w = await store.beginSnapshot(spec('lost', '2024-01-07'));
    await w.write(rows(1000, 1));
    assert.ok((await killOtherConnections()) > 0);
    await w.write(rows(1000, 1001));
    assert.deepEqual(await w.commit(), { rows: 2000, replacedRows: 0, stale: false });
    assert.deepEqual(await ids(store, 'lost'), range(1, 2000));
  });

  test('past the replay buffer the same cut is a retryable LoadError and the old snapshot stays', async () => {
    const store = newStore('pds_lost', { chunkBytes: 64 * 1024, replayLimitBytes: 64 * 1024 });
    await store.init();
    await (async () => {
      const w = await store.beginSnapshot(spec('lost-big', '2024-01-07'));
      await w.write(rows(3, 1));
      await w.commit();
    })();
    const w = await store.beginSnapshot(spec('lost-big', '2024-01-14'));
    await w.write(rows(1000, 100));
    await killOtherConnections();
    await assert.rejects(
      (async () => {
        await w.write(rows(1000, 1100));
        await w.commit();
      })(),
      (e: unknown) => e instanceof LoadError && e.code === 'DB_UNAVAILABLE' && e.retryable,
    );
    await w.abort();
    assert.deepEqual(await ids(store, 'lost-big'), [1, 2, 3]);
  });
});

describe('MariaDB store: server stopped in the middle of a load', () => {
  test('the load fails retryable; after a restart the old snapshot is intact and a new load completes', async () => {
    const store = newStore('pds_killed', { retryAttempts: 1 });
    await store.init();
    const first = await store.beginSnapshot(spec('killed', '2024-01-07'));
    await first.write(rows(5, 1));
    await first.commit();

    const w = await store.beginSnapshot(spec('killed', '2024-01-14'));
    await w.write(rows(500, 100));
    await server.kill();

    await assert.rejects(
      (async () => {
        await w.write(rows(500, 600));
        await w.commit();
      })(),
      (e: unknown) => e instanceof LoadError && e.retryable && e.code === 'DB_UNAVAILABLE',
    );
    await w.abort();

    // Same binary, same options, same data folder: InnoDB recovery rolls the open transaction back.
    await server.restart();

    assert.deepEqual(await ids(store, 'killed'), [1, 2, 3, 4, 5]);
    const again = await store.beginSnapshot(spec('killed', '2024-01-14'));
    await again.write(rows(500, 100));
    await again.write(rows(500, 600));
    assert.deepEqual(await again.commit(), { rows: 1000, replacedRows: 5, stale: false });
    assert.deepEqual(await ids(store, 'killed'), range(100, 1000));
  });
});
