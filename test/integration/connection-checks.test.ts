/**
 * The console's "test connection" against real servers: MinIO (the S3 source), MariaDB and
 * FerretDB (the targets). Every check must change nothing: no object, database, table or
 * collection exists after it that did not exist before.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import mariadb from 'mariadb';
import { MongoClient } from 'mongodb';
import { environmentPaths, getEnvironment, loadConfig } from '../../core/config/config-store.js';
import { connectionMethods } from '../../core/service/connection-methods.js';
import { createConsoleService } from '../../core/service/console-service.js';
import { startFerretDb, type FerretDbServer } from '../support/ferretdb.js';
import { freePort } from '../support/free-port.js';
import { startMariaDb, type MariaDbServer } from '../support/mariadb.js';
import { startMinio, type MinioServer } from '../support/minio.js';

let minio: MinioServer;
let maria: MariaDbServer;
let ferret: FerretDbServer;
let home: string;
let methods: ReturnType<typeof connectionMethods>;
const LIMITED_PASSWORD = 'limited-pw-7f3a';
const saved = { ...process.env };

const WEEKLY = 'mitx-2026-01-26.zip';
const EVENTS = ['mitx/edx/events/2026/mitx-edx-events-2026-01-29.log.gz.gpg', 'mitx/edx/events/2026/mitx-edx-events-2026-01-30.log.gz.gpg'];

async function objectKeys(client: S3Client, bucket: string): Promise<string[]> {
  return ((await client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!).sort();
}

async function tablesIn(database: string): Promise<string[]> {
  const conn = await mariadb.createConnection({ host: maria.host, port: maria.port, user: maria.user, password: maria.password });
  try {
    const rows = (await conn.query('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [database])) as { t: string }[];
    return rows.map((r) => r.t);
  } finally {
    await conn.end();
  }
}

async function databaseExists(database: string): Promise<boolean> {
  const conn = await mariadb.createConnection({ host: maria.host, port: maria.port, user: maria.user, password: maria.password });
  try {
    return ((await conn.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database])) as unknown[]).length > 0;
  } finally {
    await conn.end();
  }
}

before(async () => {
  [minio, maria, ferret] = await Promise.all([startMinio(), startMariaDb(), startFerretDb()]);
  const admin = new S3Client({ endpoint: minio.endpoint, region: minio.region, forcePathStyle: true, credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey } });
  await admin.send(new CreateBucketCommand({ Bucket: 'course-data' }));
  await admin.send(new CreateBucketCommand({ Bucket: 'edx-course-data' }));
  await admin.send(new PutObjectCommand({ Bucket: 'course-data', Key: WEEKLY, Body: 'zip' }));
  for (const key of EVENTS) await admin.send(new PutObjectCommand({ Bucket: 'edx-course-data', Key: key, Body: 'gpg' }));
  await admin.send(new PutObjectCommand({ Bucket: 'edx-course-data', Key: 'mitx/readme.txt', Body: 'not edX' }));
  admin.destroy();

  const conn = await mariadb.createConnection({ host: maria.host, port: maria.port, user: maria.user, password: maria.password });
  await conn.query('CREATE DATABASE pds_empty');
  await conn.query(`CREATE USER 'limited'@'%' IDENTIFIED BY '${LIMITED_PASSWORD}'`);
  await conn.query("GRANT SELECT, INSERT, UPDATE, DELETE ON pds_empty.* TO 'limited'@'%'");
  await conn.end();

  home = await mkdtemp(join(tmpdir(), 'pds-conn-it-'));
  process.env.PDS_IT_S3_KEY = minio.accessKey;
  process.env.PDS_IT_S3_SECRET = minio.secretKey;
  process.env.PDS_IT_S3_BAD_SECRET = `${minio.secretKey}x`;
  process.env.PDS_IT_LIMITED_PW = LIMITED_PASSWORD;
  process.env.PDS_IT_WRONG_PW = 'not-the-password';
  process.env.PDS_IT_PDS_PW = maria.password;
  const s3 = (secret: string): string =>
    `{ type: s3, org: MITx, endpoint: '${minio.endpoint}', region: ${minio.region}, accessKeyId: env:PDS_IT_S3_KEY, secretAccessKey: env:${secret}, weekly: { bucket: course-data, prefix: '' }, events: { bucket: edx-course-data, prefix: mitx/ } }`;
  const local = '{ type: local, path: in }';
  const db = (user: string, pw: string, database: string): string =>
    `{ type: mariadb, host: 127.0.0.1, port: ${maria.port}, user: ${user}, password: env:${pw}, database: ${database} }`;
  const closedPort = await freePort();
  await writeFile(
    join(home, 'config.yaml'),
    [
      'environments:',
      `  good:\n    source: ${s3('PDS_IT_S3_SECRET')}`,
      `  badsecret:\n    source: ${s3('PDS_IT_S3_BAD_SECRET')}`,
      `  limited:\n    source: ${local}\n    targets: { relational: ${db('limited', 'PDS_IT_LIMITED_PW', 'pds_empty')} }`,
      `  wrongpw:\n    source: ${local}\n    targets: { relational: ${db('limited', 'PDS_IT_WRONG_PW', 'pds_empty')} }`,
      `  fresh:\n    source: ${local}\n    targets: { relational: ${db(maria.user, 'PDS_IT_PDS_PW', 'pds_not_yet')}, events: { type: mongodb, uri: '${ferret.uri}', database: pds_probe } }`,
      `  nomongo:\n    source: ${local}\n    timeouts: { connectSeconds: 2 }\n    targets: { events: { type: mongodb, uri: 'mongodb://127.0.0.1:${closedPort}/', database: pds_probe } }`,
      '',
    ].join('\n'),
  );
  methods = connectionMethods({ home, environment: async (env) => ({ config: getEnvironment(await loadConfig(home), env), paths: environmentPaths(home, env) }) });
});

after(async () => {
  process.env = saved;
  await Promise.all([minio?.stop(), maria?.stop(), ferret?.stop()]);
  if (home) await rm(home, { recursive: true, force: true });
});

const stepsOf = (c: { steps: { name: string; ok: boolean }[] }): string[] => c.steps.map((s) => `${s.name}:${s.ok ? 'ok' : 'FAIL'}`);

describe('test connection against real servers', () => {
  test('S3 (MinIO): good keys list every location, count the edX files and date the newest; nothing changes', async () => {
    const admin = new S3Client({ endpoint: minio.endpoint, region: minio.region, forcePathStyle: true, credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey } });
    const before = [await objectKeys(admin, 'course-data'), await objectKeys(admin, 'edx-course-data')];
    const result = await methods.testSource({ env: 'good' });
    assert.equal(result.ok, true, result.summary);
    assert.deepEqual(stepsOf(result), ['reachable:ok', 'credentials accepted:ok', 'listing weekly:ok', 'listing email-opt-in:ok', 'listing events:ok', 'objects found:ok', 'newest file:ok']);
    assert.match(result.steps.find((s) => s.name === 'listing events')!.detail, /3 objects, 2 edX files of MITx/);
    assert.match(result.steps.find((s) => s.name === 'objects found')!.detail, /^3 edX files of MITx/);
    assert.match(result.steps.find((s) => s.name === 'newest file')!.detail, /\d{4}-\d{2}-\d{2}/);
    assert.deepEqual([await objectKeys(admin, 'course-data'), await objectKeys(admin, 'edx-course-data')], before);
    admin.destroy();
    assert.ok(!JSON.stringify(result).includes(minio.secretKey));
  });

  test('S3 (MinIO): a wrong secret key fails the credentials step with its fix, and never shows the secret', async () => {
    const result = await methods.testSource({ env: 'badsecret' });
    assert.equal(result.ok, false);
    assert.deepEqual(stepsOf(result), ['reachable:ok', 'credentials accepted:FAIL']);
    assert.match(result.steps[1]!.detail, /refused the configured keys \(SignatureDoesNotMatch\)/);
    assert.match(result.steps[1]!.fix!, /Set the access key id and the secret access key of environment badsecret again/);
    assert.ok(!JSON.stringify(result).includes(minio.secretKey));
  });

  test('MariaDB: an account lacking privileges gets the exact GRANT; the empty database stays empty', async () => {
    const [relational, events] = await methods.testTargets({ env: 'limited' });
    assert.equal(relational!.target, 'relational');
    assert.equal(relational!.ok, false);
    const privileges = relational!.steps.find((s) => s.name === 'privileges')!;
    assert.equal(privileges.ok, false);
    assert.equal(privileges.fix, "The DBA must run: GRANT CREATE, ALTER, INDEX, CREATE VIEW ON `pds_empty`.* TO 'limited'@'%';");
    assert.ok(relational!.steps.find((s) => s.name === 'connects')!.ok);
    // The SQLite events target answers on its own, and was not created either.
    assert.equal(events!.target, 'events');
    assert.equal(events!.ok, true);
    assert.deepEqual(await tablesIn('pds_empty'), []);
    assert.ok(!existsSync(join(home, 'envs')));
    assert.ok(!JSON.stringify([relational, events]).includes(LIMITED_PASSWORD));

    // `pds db check` answers with the same probes.
    const cli = await createConsoleService({ home }).checkDatabases('limited');
    assert.deepEqual(
      cli.map((c) => [c.target, c.ok]),
      [
        ['relational', false],
        ['events', true],
      ],
    );
    assert.match(cli[0]!.detail, /GRANT CREATE, ALTER, INDEX, CREATE VIEW ON `pds_empty`\.\* TO 'limited'@'%'/);
    assert.deepEqual(await tablesIn('pds_empty'), []);
  });

  test('MariaDB: a wrong password is a readable failure of the connect step, without the password', async () => {
    const [relational] = await methods.testTargets({ env: 'wrongpw' });
    assert.deepEqual(stepsOf(relational!), ['connects:FAIL']);
    assert.match(relational!.steps[0]!.detail, /refused the user name or password for 'limited'/);
    assert.ok(relational!.steps[0]!.fix);
    assert.ok(!JSON.stringify(relational).includes('not-the-password'));
  });

  test('MariaDB and FerretDB, nothing there yet: both ready, and no database, table or collection is created', async () => {
    const [relational, events] = await methods.testTargets({ env: 'fresh' });
    assert.equal(relational!.ok, true, relational!.summary);
    assert.match(relational!.steps.find((s) => s.name === 'database')!.detail, /does not exist yet: the first load creates it/);
    assert.match(relational!.steps.find((s) => s.name === 'schema version')!.detail, /No pds schema yet/);
    assert.equal(await databaseExists('pds_not_yet'), false);

    assert.equal(events!.engine, 'mongodb');
    assert.equal(events!.ok, true, events!.summary);
    assert.ok(events!.steps.find((s) => s.name === 'connects')!.ok);
    assert.match(events!.steps.find((s) => s.name === 'collections')!.detail, /No pds collections yet/);
    const client = new MongoClient(ferret.uri);
    try {
      assert.deepEqual(await client.db('pds_probe').listCollections().toArray(), []);
      const dbs = (await client.db('admin').admin().listDatabases()).databases.map((d) => d.name);
      assert.ok(!dbs.includes('pds_probe'), 'the probe created no database');
    } finally {
      await client.close();
    }
  });

  test('MongoDB not reachable: the events target fails on its own within the connect wait', async () => {
    const [relational, events] = await methods.testTargets({ env: 'nomongo' });
    assert.equal(relational!.ok, true);
    assert.equal(events!.ok, false);
    assert.deepEqual(stepsOf(events!), ['connects:FAIL']);
    assert.ok(events!.steps[0]!.detail.length > 0);
  });
});
