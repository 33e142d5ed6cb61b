/**
 * Servers that stop answering (issue 9 §5): the S3 server, MariaDB and MongoDB (FerretDB) are
 * stopped with SIGSTOP, as a hung host or a half-dead network path behaves: connections are still
 * accepted by the kernel, but nothing answers. With short timeouts in the environment, each stall
 * ends the file or the run within its bound with its own code; SIGTERM during a stall ends `pds run`
 * promptly; and once the server goes on (SIGCONT), the next run loads exactly what was missing.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import * as mariadb from 'mariadb';
import { MongoClient } from 'mongodb';
import type { RunResult } from '../../core/domain/results.js';
import { SourceError } from '../../core/errors/index.js';
import { createS3Source } from '../../core/sources/s3/s3-source.js';
import { createDelivery, expectedTableRows, type Delivery } from '../support/delivery.js';
import { startFerretDb, type FerretDbServer } from '../support/ferretdb.js';
import { mariaDbTargetLines, startMariaDb, type MariaDbServer } from '../support/mariadb.js';
import { collect, runPds, spawnPds, type CliResult } from '../support/pds-cli.js';
import { dumpSqlite } from '../support/sqlite-dump.js';

/** Short waits, so every stall ends in seconds. */
const TIMEOUTS = ['    timeouts: { connectSeconds: 2, requestSeconds: 2, querySeconds: 4 }'];
/** Far above any bound these waits give: a run still going after this has hung. */
const HANG_MS = 120_000;

let d: Delivery;

function sqlitePath(home: string): string {
  return join(home, 'envs', 'itest', 'data.sqlite');
}

/** Collects a `pds` child, failing (and killing it) instead of hanging when it outlives `HANG_MS`. */
async function bounded(child: ReturnType<typeof spawnPds>, what: string): Promise<CliResult> {
  const timer = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
  try {
    const res = await collect(child);
    assert.notEqual(res.signal, 'SIGKILL', `${what}: pds was still running after ${HANG_MS / 1000} s\n${res.stderr}`);
    return res;
  } finally {
    clearTimeout(timer);
  }
}

/** The newest run of the environment, as `pds runs --json` lists it. */
async function lastRun(env: NodeJS.ProcessEnv): Promise<{ status: string; error?: { code: string; message: string } | null }> {
  const runs = JSON.parse((await runPds(['runs', '--env', 'itest', '--json'], env)).stdout) as { status: string; error?: { code: string; message: string } | null }[];
  assert.ok(runs[0], 'a run was recorded');
  return runs[0];
}

/** Resolves once the ledger shows a run in progress: `pds` has started and handles signals. */
async function runStarted(home: string): Promise<void> {
  const ledger = join(home, 'envs', 'itest', 'ledger.sqlite');
  for (let i = 0; i < 1200; i++) {
    if (existsSync(ledger)) {
      const db = new Database(ledger, { readonly: true, fileMustExist: true });
      try {
        if (db.prepare(`SELECT 1 FROM runs WHERE status = 'running'`).get()) return;
      } catch {
        // Not created yet.
      } finally {
        db.close();
      }
    }
    await sleep(50);
  }
  assert.fail('pds did not start a run');
}

/**
 * The report of a run stopped by a target that stopped answering: the run failed with
 * TARGET_UNAVAILABLE, and the one file in hand failed to load with its own code,
 * TARGET_NOT_ANSWERING, naming the bound it waited for (its package, if any, is left unfinished).
 */
async function stalledRun(env: NodeJS.ProcessEnv): Promise<{ run: { status: string }; file: RunResult['files'][number] }> {
  const report = JSON.parse((await runPds(['report', '--env', 'itest', '--json'], env)).stdout) as {
    run: { status: string; error: { code: string } };
    files: RunResult['files'];
  };
  assert.equal(report.run.error.code, 'TARGET_UNAVAILABLE');
  const failed = report.files.filter((f) => f.status === 'failed' && f.stage === 'load' && f.code !== 'TARGET_UNAVAILABLE');
  assert.deepEqual(
    failed.map((f) => f.code),
    ['TARGET_NOT_ANSWERING'],
    JSON.stringify(failed.map((f) => `${f.key}: ${f.code} ${f.reason}`)),
  );
  assert.match(failed[0]!.reason ?? '', /did not answer within \d+ s \(timeouts\.(querySeconds|connectSeconds)\)/);
  return { run: report.run, file: failed[0]! };
}

/** Pauses `pause` once `count` files have finished (progress lines on stderr); resolves true when it did. */
function pauseAfterFiles(child: ReturnType<typeof spawnPds>, count: number, pause: () => void, match = /^(loaded|partial|failed|skipped) /): Promise<boolean> {
  let finished = 0;
  let paused = false;
  return new Promise((resolve) => {
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      finished += text.split('\n').filter((l) => match.test(l)).length;
      if (!paused && finished >= count) {
        paused = true;
        pause();
        resolve(true);
      }
    });
    child.once('close', () => resolve(paused));
  });
}

describe('servers that stop answering', { timeout: 1_200_000 }, () => {
  before(async () => {
    d = await createDelivery({ eventsPerDay: 120 });
  });

  after(async () => {
    d?.minio.resume();
    await d?.dispose();
  });

  describe('the S3 source', () => {
    let expected: ReturnType<typeof dumpSqlite>;

    before(async () => {
      const reference = await d.newHome({ targetsYaml: TIMEOUTS });
      assert.equal((await runPds(['run', '--env', 'itest', '--quiet'], reference.env)).code, 2);
      expected = dumpSqlite(sqlitePath(reference.home));
    });

    test('stopped before the listing: the run fails with SOURCE_NOT_ANSWERING naming the endpoint; SIGTERM ends a stalled run at once; the next run loads everything', async () => {
      const { home, env } = await d.newHome({ targetsYaml: TIMEOUTS });
      d.minio.pause();
      try {
        const stalled = await bounded(spawnPds(['run', '--env', 'itest', '--json'], env), 'listing stall');
        assert.equal(stalled.code, 1, stalled.stderr);
        const result = JSON.parse(stalled.stdout) as RunResult;
        assert.equal(result.status, 'failed');
        assert.equal(result.error?.code, 'SOURCE_NOT_ANSWERING');
        assert.ok(result.error?.message.includes(d.minio.endpoint), result.error?.message);
        assert.match(result.error?.message ?? '', /did not answer when listing s3:\/\/.* for \d+ s/);
        assert.match(result.error?.message ?? '', /timeouts\.requestSeconds/);
        assert.match(result.error?.hint ?? '', /reachable/);
        assert.ok(!(stalled.stdout + stalled.stderr).includes(d.minio.secretKey), 'no secret in the output');

        // SIGTERM while the listing waits: the request is aborted and the run recorded as cancelled.
        const child = spawnPds(['run', '--env', 'itest'], env);
        await runStarted(home);
        child.kill('SIGTERM');
        const stopped = await bounded(child, 'SIGTERM during a listing stall');
        assert.equal(stopped.signal, null, 'pds exited by itself');
        assert.equal(stopped.code, 1, stopped.stderr);
        assert.equal((await lastRun(env)).status, 'cancelled');
      } finally {
        d.minio.resume();
      }

      const resumed = await runPds(['run', '--env', 'itest', '--json'], env);
      assert.equal(resumed.code, 2, resumed.stderr);
      assert.deepEqual(dumpSqlite(sqlitePath(home)), expected);
    });

    test('stopped between two downloads of a run: the file fails with SOURCE_NOT_ANSWERING, the run stops with the rest left for the next run, which loads everything', async () => {
      const { home, env } = await d.newHome({ targetsYaml: TIMEOUTS });
      let stalled: CliResult;
      try {
        const child = spawnPds(['run', '--env', 'itest'], env);
        const paused = pauseAfterFiles(child, 1, () => d.minio.pause());
        stalled = await bounded(child, 'download stall');
        assert.ok(await paused, `the server was stopped during the run\n${stalled.stderr}`);
      } finally {
        d.minio.resume();
      }
      assert.equal(stalled.code, 1, stalled.stderr);
      const report = JSON.parse((await runPds(['report', '--env', 'itest', '--json'], env)).stdout) as {
        run: { status: string; error: { code: string; message: string } };
        files: RunResult['files'];
      };
      assert.equal(report.run.error.code, 'SOURCE_NOT_ANSWERING');
      assert.match(report.run.error.message, /The run stopped with \d+ file\(s\) not yet tried\./);
      const failed = report.files.filter((f) => f.code === 'SOURCE_NOT_ANSWERING');
      assert.equal(failed.length, 1, JSON.stringify(report.files.map((f) => `${f.key}: ${f.status} ${f.code ?? ''}`)));
      assert.equal(failed[0]!.stage, 'fetch');

      const resumed = await runPds(['run', '--env', 'itest', '--json'], env);
      assert.equal(resumed.code, 2, resumed.stderr);
      assert.deepEqual(dumpSqlite(sqlitePath(home)), expected);
    });

    test('stopped in the middle of a download: the download fails with SOURCE_NOT_ANSWERING and keeps its partial copy; after SIGCONT it resumes to a verified file', async () => {
      // Large enough that the bytes already in the socket buffers cannot finish it.
      const body = randomBytes(48 * 1024 * 1024);
      const key = 'demox/stall/big-object.bin';
      const admin = new S3Client({
        endpoint: d.minio.endpoint,
        region: d.minio.region,
        forcePathStyle: true,
        credentials: { accessKeyId: d.minio.accessKey, secretAccessKey: d.minio.secretKey },
      });
      await admin.send(new PutObjectCommand({ Bucket: 'edx-course-data', Key: key, Body: body }));
      admin.destroy();
      const source = createS3Source({
        region: d.minio.region,
        endpoint: d.minio.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: d.minio.accessKey, secretAccessKey: d.minio.secretKey },
        locations: [{ name: 'events', bucket: 'edx-course-data', prefix: 'demox/stall/' }],
        environment: 'itest',
        maxAttempts: 2,
        timeouts: { connectSeconds: 2, requestSeconds: 2 },
      });
      const objects = [];
      for await (const o of source.list()) objects.push(o);
      assert.equal(objects.length, 1);
      const dest = join(await mkdtemp(join(d.work, 'landing-')), 'big-object.bin');

      let paused = false;
      try {
        await assert.rejects(
          source.download(objects[0]!, dest, {
            onProgress: (bytes) => {
              if (!paused && bytes > 0) {
                paused = true;
                d.minio.pause();
              }
            },
          }),
          (error: unknown) => {
            assert.ok(error instanceof SourceError, String(error));
            assert.equal(error.code, 'SOURCE_NOT_ANSWERING');
            assert.equal(error.retryable, true);
            assert.ok(error.message.includes(d.minio.endpoint), error.message);
            assert.match(error.message, /stopped sending s3:\/\/edx-course-data\/demox\/stall\/big-object\.bin|did not answer when downloading/);
            assert.match(error.message, /2 s by timeouts\.requestSeconds of environment "itest"/);
            return true;
          },
        );
      } finally {
        d.minio.resume();
      }
      assert.ok(paused, 'the server was stopped mid-download');
      const part = (await stat(`${dest}.part`)).size;
      assert.ok(part > 0 && part < body.length, `a partial copy is kept (${part} bytes)`);

      await source.download(objects[0]!, dest);
      assert.equal(createHash('md5').update(await readFile(dest)).digest('hex'), createHash('md5').update(body).digest('hex'));
      assert.ok(!existsSync(`${dest}.part`));
    });
  });

  describe('MariaDB', () => {
    let db: MariaDbServer;

    before(async () => {
      db = await startMariaDb();
    });

    after(async () => {
      db?.resume();
      await db?.stop();
    });

    const targets = (database: string): string[] => [...TIMEOUTS, ...mariaDbTargetLines(db, 'PDS_IT_DB_PASSWORD', database)];

    /** Rows per data table (bookkeeping tables `pds_*` left out). */
    async function tableCounts(database: string): Promise<Record<string, number>> {
      const conn = await mariadb.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database });
      try {
        const tables = (await conn.query(
          `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'pds\\_%' ORDER BY table_name`,
          [database],
        )) as { t: string }[];
        const out: Record<string, number> = {};
        for (const { t } of tables) out[t] = Number(((await conn.query(`SELECT COUNT(*) AS n FROM \`${t}\``)) as { n: bigint | number }[])[0]!.n);
        return out;
      } finally {
        await conn.end();
      }
    }

    test('stopped in the middle of a load: the run stops within its bound, SIGTERM ends a stalled run, nothing half-loaded is visible, and the next run loads exactly the data', async () => {
      const reference = await d.newHome({ targetsYaml: targets('pds_reference') });
      assert.equal((await runPds(['run', '--env', 'itest', '--quiet'], { ...reference.env, PDS_IT_DB_PASSWORD: db.password })).code, 2);
      const expected = await tableCounts('pds_reference');

      const victim = await d.newHome({ targetsYaml: targets('pds_victim') });
      const env = { ...victim.env, PDS_IT_DB_PASSWORD: db.password };
      try {
        const child = spawnPds(['run', '--env', 'itest'], env);
        const paused = pauseAfterFiles(child, 10, () => db.pause());
        const stalled = await bounded(child, 'MariaDB stall');
        assert.ok(await paused, `the server was stopped during the run\n${stalled.stderr}`);
        assert.equal(stalled.code, 1, stalled.stderr);
        const { run, file } = await stalledRun(env);
        assert.equal(run.status, 'failed');
        assert.ok(file.reason?.includes(`${db.host}:${db.port}`), file.reason);

      } finally {
        db.resume();
      }

      // Stopped again during the next run, and SIGTERM while the load waits on it: pds exits by
      // itself, the run is recorded as cancelled.
      try {
        const second = spawnPds(['run', '--env', 'itest'], env);
        // SIGTERM right after the server stops (no wait that could outlast querySeconds on a busy
        // machine): the load in hand, or the next statement, waits on the stopped server.
        const paused = pauseAfterFiles(second, 3, () => {
          db.pause();
          second.kill('SIGTERM');
        });
        const stopped = await bounded(second, 'SIGTERM during a MariaDB stall');
        assert.ok(await paused, `the server was stopped during the second run\n${stopped.stderr}`);
        assert.equal(stopped.signal, null, 'pds exited by itself');
        assert.equal(stopped.code, 1, stopped.stderr);
        assert.equal((await lastRun(env)).status, 'cancelled');
      } finally {
        db.resume();
      }

      // Nothing half-loaded: every course's snapshot of every table is complete or absent.
      const conn = await mariadb.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: 'pds_victim' });
      try {
        for (const { table, courseKey, rows } of expectedTableRows(d.manifest)) {
          const n = await conn
            .query(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE course_key = ?`, [courseKey])
            .then((r: { n: bigint | number }[]) => Number(r[0]!.n), () => 0);
          assert.ok(n === 0 || n === rows, `${table} / ${courseKey}: ${n} of ${rows}`);
        }
      } finally {
        await conn.end();
      }

      const resumed = await runPds(['run', '--env', 'itest', '--json'], env);
      assert.equal(resumed.code, 2, resumed.stderr);
      assert.ok((JSON.parse(resumed.stdout) as RunResult).planned.length > 0, 'the next run takes what was missing');
      assert.deepEqual(await tableCounts('pds_victim'), expected);
    });
  });

  describe('MongoDB', () => {
    let mongo: FerretDbServer;

    before(async () => {
      mongo = await startFerretDb();
    });

    after(async () => {
      mongo?.resume();
      await mongo?.stop();
    });

    const targets = (database: string): string[] => [...TIMEOUTS, '    targets:', '      events:', '        type: mongodb', `        uri: ${mongo.uri}`, `        database: ${database}`];

    /** Events per (course, type) in the collection. */
    async function eventCounts(database: string): Promise<[string, number][]> {
      const client = new MongoClient(mongo.uri);
      try {
        const out = new Map<string, number>();
        for await (const doc of client.db(database).collection('events').find({}, { projection: { _course: 1, _type: 1 } })) {
          const key = `${doc._course ?? ''}|${doc._type ?? ''}`;
          out.set(key, (out.get(key) ?? 0) + 1);
        }
        return [...out.entries()].sort();
      } finally {
        await client.close();
      }
    }

    test('stopped in the middle of a load: the run stops within its bound with TARGET_NOT_ANSWERING, and the next run loads exactly the events', async () => {
      const reference = await d.newHome({ targetsYaml: targets('pds_reference') });
      assert.equal((await runPds(['run', '--env', 'itest', '--only', 'events', '--quiet'], reference.env)).code, 2);
      const expected = await eventCounts('pds_reference');

      const victim = await d.newHome({ targetsYaml: targets('pds_victim') });
      try {
        const child = spawnPds(['run', '--env', 'itest', '--only', 'events'], victim.env);
        const paused = pauseAfterFiles(child, 1, () => mongo.pause(), /^(loaded|partial) .*events/);
        const stalled = await bounded(child, 'MongoDB stall');
        assert.ok(await paused, `the server was stopped during the run\n${stalled.stderr}`);
        assert.equal(stalled.code, 1, stalled.stderr);
        await stalledRun(victim.env);
      } finally {
        mongo.resume();
      }

      const resumed = await runPds(['run', '--env', 'itest', '--only', 'events', '--json'], victim.env);
      assert.equal(resumed.code, 2, resumed.stderr);
      assert.ok((JSON.parse(resumed.stdout) as RunResult).planned.length > 0);
      assert.deepEqual(await eventCounts('pds_victim'), expected);
    });
  });
});
