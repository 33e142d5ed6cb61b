/**
 * End to end against real components (DESIGN.md §5): a signature-checking S3 server (MinIO)
 * holding an edX delivery whose every file was encrypted by the real `gpg` command to the edX
 * master key and the data czar's key → `pds run` (the CLI, in a child process) → the embedded
 * SQLite store and the ledger.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import yazl from 'yazl';
import { generateDemoData, type DemoManifest } from '../../core/demo/generate-package.js';
import { generateEventLines } from '../../core/demo/generate-package.js';
import type { RunResult } from '../../core/domain/results.js';
import { createGpgHome, type GeneratedKey, type GpgHome } from '../support/gpg.js';
import { startMinio, type MinioServer } from '../support/minio.js';
import { collect, runPds, spawnPds } from '../support/pds-cli.js';
import { dumpSqlite } from '../support/sqlite-dump.js';

const PASSPHRASE = 'correct horse battery staple';

let minio: MinioServer;
let gpg: GpgHome;
let czar: GeneratedKey;
let edxMaster: GeneratedKey;
let stranger: GeneratedKey;
let work: string;
let manifest: DemoManifest;
let secretKeyFile: string;
const extraFaults = {
  otherKey: 'demox/edx/events/2026/demox-edx-events-2026-05-20.log.gz.gpg',
  truncatedGzip: 'demox/edx/events/2026/demox-edx-events-2026-05-21.log.gz.gpg',
  badRowsPackage: 'demox-2026-05-31.zip',
};

async function gpgEncrypt(plain: Uint8Array, recipients: string[]): Promise<Uint8Array> {
  const dir = await mkdtemp(join(work, 'enc-'));
  try {
    await writeFile(join(dir, 'in'), plain);
    await gpg.encryptFile(join(dir, 'in'), join(dir, 'out'), recipients);
    return await readFile(join(dir, 'out'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function zipOf(entries: { name: string; data: Uint8Array }[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) zip.addBuffer(Buffer.from(e.data), e.name);
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

/** A fresh PDS_HOME with an `itest` environment reading the MinIO buckets, and the czar's key imported. */
async function newHome(options: { keyFile?: string } = {}): Promise<{ home: string; env: NodeJS.ProcessEnv }> {
  const home = await mkdtemp(join(work, 'home-'));
  const config = [
    'environments:',
    '  itest:',
    '    source:',
    '      type: s3',
    '      org: DemoX',
    `      endpoint: ${minio.endpoint}`,
    `      region: ${minio.region}`,
    '      accessKeyId: env:PDS_IT_ACCESS_KEY',
    '      secretAccessKey: env:PDS_IT_SECRET_KEY',
    '      weekly: { bucket: course-data, prefix: "" }',
    '      events: { bucket: edx-course-data, prefix: demox/ }',
    '    key:',
    '      passphrase: env:PDS_IT_PASSPHRASE',
    '',
  ].join('\n');
  await writeFile(join(home, 'config.yaml'), config);
  const env = { PDS_HOME: home, PDS_IT_ACCESS_KEY: minio.accessKey, PDS_IT_SECRET_KEY: minio.secretKey, PDS_IT_PASSPHRASE: PASSPHRASE };
  const imported = await runPds(['key', 'import', '--env', 'itest', options.keyFile ?? secretKeyFile], env);
  assert.equal(imported.code, 0, imported.stderr);
  return { home, env };
}

function sqlitePath(home: string): string {
  return join(home, 'envs', 'itest', 'data.sqlite');
}

function count(db: Database.Database, sql: string, ...params: unknown[]): number {
  return Number((db.prepare(sql).get(...params) as { n: number }).n);
}

describe('pds run: MinIO + GnuPG → SQLite', { timeout: 600_000 }, () => {
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'pds-e2e-'));
    [minio, gpg] = await Promise.all([startMinio(), createGpgHome()]);
    czar = await gpg.generateKey({ name: 'Data Czar', email: 'czar@university.example', passphrase: PASSPHRASE });
    edxMaster = await gpg.generateKey({ name: 'edX Master', email: 'master@edx.example' });
    stranger = await gpg.generateKey({ name: 'Another Org', email: 'czar@elsewhere.example' });
    secretKeyFile = join(work, 'czar-secret.asc');
    await writeFile(secretKeyFile, await gpg.exportSecretKey(czar.fingerprint, PASSPHRASE));

    // The delivery: every file encrypted by gpg to the edX master key and the czar's key (§2).
    const out = join(work, 'delivery');
    manifest = await generateDemoData({
      outDir: out,
      eventsPerDay: 400,
      encryptTo: { armoredPublicKeys: [], encrypt: (plain) => gpgEncrypt(plain, [edxMaster.fingerprint, czar.fingerprint]) },
    });

    // Faults beside the generated ones: a log encrypted to another org's key only, a log whose
    // gzip stream is cut short (encrypted correctly), and an older weekly package with a TSV row
    // that has the wrong number of fields.
    const day = (date: string, n: number): Buffer =>
      Buffer.from([...generateEventLines({ count: n, seed: 7, date, courseIds: manifest.courses.map((c) => c.courseId), users: [{ id: 1, username: 'amy' }, { id: 2, username: 'bob' }] })].map((l) => `${l}\n`).join(''));
    const otherKey = await gpgEncrypt(gzipSync(day('2026-05-20', 50)), [stranger.fingerprint]);
    const fullGzip = gzipSync(day('2026-05-21', 50));
    const truncated = await gpgEncrypt(fullGzip.subarray(0, Math.floor(fullGzip.length * 0.6)), [czar.fingerprint]);
    const badTsv = Buffer.from('id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n1\t10\tcourse-v1:DemoX+Old+1T\t2026-05-01 10:00:00\t1\thonor\n2\t11\tcourse-v1:DemoX+Old+1T\t2026-05-01 10:00:00\n3\t12\tcourse-v1:DemoX+Old+1T\t2026-05-02 11:00:00.5\t0\taudit\n');
    const badPackage = await zipOf([
      { name: 'DemoX-2026-05-31/DemoX-Old-1T-student_courseenrollment-prod-analytics.sql.gpg', data: await gpgEncrypt(badTsv, [czar.fingerprint]) },
    ]);

    const s3 = new S3Client({ endpoint: minio.endpoint, region: minio.region, forcePathStyle: true, credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey } });
    await s3.send(new CreateBucketCommand({ Bucket: 'course-data' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'edx-course-data' }));
    for (const file of manifest.files) {
      const [bucket, ...rest] = file.split('/');
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: rest.join('/'), Body: await readFile(join(out, file)) }));
    }
    await s3.send(new PutObjectCommand({ Bucket: 'edx-course-data', Key: extraFaults.otherKey, Body: otherKey }));
    await s3.send(new PutObjectCommand({ Bucket: 'edx-course-data', Key: extraFaults.truncatedGzip, Body: truncated }));
    await s3.send(new PutObjectCommand({ Bucket: 'course-data', Key: extraFaults.badRowsPackage, Body: badPackage }));
    // Not ours: another org's package in the same bucket must be ignored.
    await s3.send(new PutObjectCommand({ Bucket: 'course-data', Key: 'otherx-2026-06-07.zip', Body: badPackage }));
    s3.destroy();
  });

  after(async () => {
    await Promise.allSettled([minio?.stop(), gpg?.dispose()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('loads every file, flags each fault with its reason, and a second run adds nothing', async () => {
    const { home, env } = await newHome();
    const first = await runPds(['run', '--env', 'itest', '--json'], env);
    assert.equal(first.code, 2, `exit code 2 = finished with files flagged\n${first.stderr}`);
    const result = JSON.parse(first.stdout) as RunResult;
    const byKey = new Map(result.files.map((f) => [f.key, f]));

    // Each fault flags its own file with the right reason; nothing else fails.
    assert.equal(byKey.get(extraFaults.otherKey)?.code, 'DECRYPT_NO_MATCHING_KEY');
    assert.match(byKey.get(extraFaults.otherKey)?.reason ?? '', new RegExp(stranger.encryptionKeyId, 'i'), 'names the key id the file wants');
    assert.equal(byKey.get(extraFaults.truncatedGzip)?.code, 'GZIP_TRUNCATED');
    const badRows = byKey.get(`${extraFaults.badRowsPackage}!DemoX-2026-05-31/DemoX-Old-1T-student_courseenrollment-prod-analytics.sql.gpg`);
    assert.equal(badRows?.status, 'partial');
    assert.deepEqual(badRows?.rejectedLines?.map((r) => [r.line, r.code]), [[3, 'TSV_FIELD_COUNT']]);
    assert.equal(badRows?.counts.loaded, 2);
    const corrupt = manifest.corrupt.key.replace(/^edx-course-data\//, '');
    assert.equal(byKey.get(corrupt)?.status, 'failed');
    assert.match(byKey.get(corrupt)?.code ?? '', /^DECRYPT_(TRUNCATED|CORRUPT|INTEGRITY)$/);
    for (const failed of manifest.failedMembers) {
      assert.equal(result.files.find((f) => f.key.endsWith(failed))?.code, 'EDX_EXPORT_FAILED');
    }
    const unexpected = result.files.filter(
      (f) => f.status === 'failed' && ![extraFaults.otherKey, extraFaults.truncatedGzip, corrupt].includes(f.key) && !manifest.failedMembers.some((m) => f.key.endsWith(m)),
    );
    assert.deepEqual(unexpected.map((f) => `${f.key}: ${f.reason}`), []);
    assert.ok(!result.files.some((f) => f.key.startsWith('otherx-')), 'another org\'s package is not ours');

    // What landed: row counts per table and course equal what the generator wrote.
    const db = new Database(sqlitePath(home), { readonly: true });
    try {
      for (const [table, courses] of Object.entries(manifest.tables)) {
        for (const [courseKey, rows] of Object.entries(courses)) {
          if (manifest.failedMembers.some((m) => m.includes(`${courseKey}-${table}-`))) continue;
          assert.equal(count(db, `SELECT COUNT(*) AS n FROM "${table}" WHERE course_key = ?`, courseKey), rows, `${table} / ${courseKey}`);
        }
      }
      for (const [courseKey, docs] of Object.entries(manifest.forumDocuments)) {
        assert.equal(count(db, 'SELECT COUNT(*) AS n FROM forum_contents WHERE course_key = ?', courseKey), docs, `forum ${courseKey}`);
      }
      for (const [courseKey, blocks] of Object.entries(manifest.courseStructureBlocks)) {
        assert.equal(count(db, 'SELECT COUNT(*) AS n FROM course_blocks WHERE course_key = ?', courseKey), blocks, `blocks ${courseKey}`);
      }
      assert.equal(count(db, 'SELECT COUNT(*) AS n FROM email_opt_in'), manifest.emailOptIn.rows);
      const goodEvents = manifest.events.filter((d) => !d.corrupt).reduce((n, d) => n + d.goodEvents, 0);
      assert.equal(count(db, 'SELECT COUNT(*) AS n FROM events'), goodEvents, 'one event per distinct good line; the corrupt day loads nothing');

      // NULL vs empty string (§3): auth_user.email_key is exported as NULL, status as ''.
      const users = count(db, 'SELECT COUNT(*) AS n FROM auth_user');
      assert.equal(count(db, 'SELECT COUNT(*) AS n FROM auth_user WHERE email_key IS NULL'), users);
      assert.equal(count(db, `SELECT COUNT(*) AS n FROM auth_user WHERE status = ''`), users);
      // 4-byte unicode survives (§3 encoding).
      assert.ok(count(db, `SELECT COUNT(*) AS n FROM auth_userprofile WHERE name = 'Zoë Ng 😀'`) >= 1);
      // The TSV escapes are decoded: studentmodule state is valid JSON again.
      const states = db.prepare(`SELECT state FROM courseware_studentmodule WHERE state IS NOT NULL`).all() as { state: string }[];
      assert.ok(states.length > 0);
      for (const { state } of states) JSON.parse(state);
      // Drift (§4.2): the pre-2021 allow_certificate column landed where the file had it.
      assert.ok(count(db, 'SELECT COUNT(*) AS n FROM auth_userprofile WHERE allow_certificate IS NOT NULL') > 0);
      // Datetimes keep optional microseconds.
      assert.equal(count(db, `SELECT COUNT(*) AS n FROM student_courseenrollment WHERE created = '2026-05-02 11:00:00.500000' OR created = '2026-05-02 11:00:00.5'`), 1);
    } finally {
      db.close();
    }

    // A second run adds nothing and changes nothing. Only the file that wants another key is
    // tried again (a key may have been imported since); files with bad content stay flagged.
    const before = dumpSqlite(sqlitePath(home));
    const second = await runPds(['run', '--env', 'itest', '--json'], env);
    const again = JSON.parse(second.stdout) as RunResult;
    assert.deepEqual(again.planned.map((p) => [p.key, p.why]), [[extraFaults.otherKey, 'retry']]);
    assert.equal(again.files[0]?.code, 'DECRYPT_NO_MATCHING_KEY');
    assert.equal(second.code, 2);
    assert.deepEqual(dumpSqlite(sqlitePath(home)), before);

    // The report of the first run is kept in the ledger.
    const report = await runPds(['report', '--env', 'itest', result.runId], env);
    assert.match(report.stdout, /DECRYPT_NO_MATCHING_KEY/);
    assert.match(report.stdout, /line 3: expected 6 fields/);
  });

  test('a run killed mid-way (SIGKILL) and started again ends with exactly the data of an uninterrupted run', async () => {
    const reference = await newHome();
    assert.equal((await runPds(['run', '--env', 'itest', '--quiet'], reference.env)).code, 2);
    const expected = dumpSqlite(sqlitePath(reference.home));

    const victim = await newHome();
    for (const killAfter of [3, 40]) {
      const child = spawnPds(['run', '--env', 'itest'], victim.env);
      let finished = 0;
      child.stderr?.setEncoding('utf8').on('data', (s: string) => {
        finished += s.split('\n').filter((l) => /^(loaded|partial|failed|skipped) /.test(l)).length;
        if (finished >= killAfter) child.kill('SIGKILL');
      });
      const res = await collect(child);
      assert.equal(res.signal, 'SIGKILL', `the run was killed after ${killAfter} files`);
    }
    const resumed = await runPds(['run', '--env', 'itest', '--json'], victim.env);
    assert.ok(resumed.code === 2 || resumed.code === 0, resumed.stderr);
    assert.deepEqual(dumpSqlite(sqlitePath(victim.home)), expected);
  });

  test('a wrong secret key flags every encrypted file with the key ids it needs, and the run goes on', async () => {
    const wrongKeyFile = join(work, 'stranger-secret.asc');
    await writeFile(wrongKeyFile, await gpg.exportSecretKey(stranger.fingerprint));
    const { env } = await newHome({ keyFile: wrongKeyFile });
    const res = await runPds(['run', '--env', 'itest', '--only', 'events', '--json'], env);
    assert.equal(res.code, 2);
    const result = JSON.parse(res.stdout) as RunResult;
    const byCode = new Map<string, number>();
    for (const f of result.files) byCode.set(f.code ?? f.status, (byCode.get(f.code ?? f.status) ?? 0) + 1);
    // Every daily log of the delivery wants the czar's key; the stranger's own file decrypts but its gzip is fine.
    assert.equal(byCode.get('DECRYPT_NO_MATCHING_KEY'), manifest.events.length + 1);
    const one = result.files.find((f) => f.code === 'DECRYPT_NO_MATCHING_KEY')!;
    assert.match(one.reason ?? '', new RegExp(czar.encryptionKeyId, 'i'));
    assert.match(one.hint ?? one.reason ?? '', /pds key import/);
    assert.doesNotMatch(res.stdout + res.stderr, new RegExp(PASSPHRASE), 'the passphrase never reaches the output');
  });

  test('pds load takes local files by hand: a plain daily log and a single table file', async () => {
    const { home, env } = await newHome();
    const dir = join(work, 'manual', 'DemoX-2026-06-14');
    await mkdir(dir, { recursive: true });
    const log = join(dirname(dir), 'demox-edx-events-2026-06-10.log');
    await writeFile(log, [...generateEventLines({ count: 25, seed: 3, date: '2026-06-10', courseIds: ['course-v1:DemoX+Data101+2T2026'], users: [{ id: 5, username: 'eve' }] })].map((l) => `${l}\n`).join(''));
    const table = join(dir, 'DemoX-Data101-2T2026-student_courseenrollment-prod-analytics.sql');
    await writeFile(table, 'id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n1\t5\tcourse-v1:DemoX+Data101+2T2026\tNULL\t1\tverified\n');
    const res = await runPds(['load', '--env', 'itest', '--json', log, table], env);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const db = new Database(sqlitePath(home), { readonly: true });
    try {
      assert.equal(count(db, 'SELECT COUNT(*) AS n FROM events'), 25);
      assert.equal(count(db, `SELECT COUNT(*) AS n FROM student_courseenrollment WHERE course_key = 'DemoX-Data101-2T2026' AND snapshot_date = '2026-06-14' AND created IS NULL`), 1);
    } finally {
      db.close();
    }
  });
});
