/**
 * A realistic edX delivery on a signature-checking S3 server, every file encrypted by the real
 * `gpg` command to the edX master key and the data czar's key (docs/edx-formats.md §2), plus faults:
 * a log encrypted to another org's key only, a log whose gzip stream is cut short, and an older
 * weekly package with a TSV row that has the wrong number of fields. Shared by the end-to-end
 * tests of every target.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { generateDemoData, generateEventLines, type DemoManifest } from '../../core/demo/generate-package.js';
import { createGpgHome, type GeneratedKey, type GpgHome } from './gpg.js';
import { startMinio, type MinioServer } from './minio.js';
import { zipOf } from './zip.js';
import { runPds } from './pds-cli.js';

export const PASSPHRASE = 'correct horse battery staple';

export const FAULTS = {
  otherKey: 'demox/edx/events/2026/demox-edx-events-2026-05-20.log.gz.gpg',
  truncatedGzip: 'demox/edx/events/2026/demox-edx-events-2026-05-21.log.gz.gpg',
  badRowsPackage: 'demox-2026-05-31.zip',
  badRowsMember: 'demox-2026-05-31.zip!DemoX-2026-05-31/DemoX-Old-1T-student_courseenrollment-prod-analytics.sql.gpg',
} as const;

export interface Delivery {
  work: string;
  minio: MinioServer;
  gpg: GpgHome;
  czar: GeneratedKey;
  stranger: GeneratedKey;
  manifest: DemoManifest;
  secretKeyFile: string;
  /** A fresh PDS_HOME with an `itest` environment reading the buckets, and the czar's key imported. */
  newHome(options?: { keyFile?: string; targetsYaml?: string[] }): Promise<{ home: string; env: NodeJS.ProcessEnv }>;
  dispose(): Promise<void>;
}

export async function createDelivery(options: { eventsPerDay?: number } = {}): Promise<Delivery> {
  const work = await mkdtemp(join(tmpdir(), 'pds-delivery-'));
  const [minio, gpg] = await Promise.all([startMinio(), createGpgHome()]);
  const encrypt = async (plain: Uint8Array, recipients: string[]): Promise<Uint8Array> => {
    const dir = await mkdtemp(join(work, 'enc-'));
    try {
      await writeFile(join(dir, 'in'), plain);
      await gpg.encryptFile(join(dir, 'in'), join(dir, 'out'), recipients);
      return await readFile(join(dir, 'out'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  const czar = await gpg.generateKey({ name: 'Data Czar', email: 'czar@university.example', passphrase: PASSPHRASE });
  const edxMaster = await gpg.generateKey({ name: 'edX Master', email: 'master@edx.example' });
  const stranger = await gpg.generateKey({ name: 'Another Org', email: 'czar@elsewhere.example' });
  const secretKeyFile = join(work, 'czar-secret.asc');
  await writeFile(secretKeyFile, await gpg.exportSecretKey(czar.fingerprint, PASSPHRASE));

  const out = join(work, 'delivery');
  const manifest = await generateDemoData({
    outDir: out,
    eventsPerDay: options.eventsPerDay ?? 400,
    encryptTo: { armoredPublicKeys: [], encrypt: (plain) => encrypt(plain, [edxMaster.fingerprint, czar.fingerprint]) },
  });

  const day = (date: string, n: number): Buffer =>
    Buffer.from(
      [...generateEventLines({ count: n, seed: 7, date, courseIds: manifest.courses.map((c) => c.courseId), users: [{ id: 1, username: 'amy' }, { id: 2, username: 'bob' }] })]
        .map((l) => `${l}\n`)
        .join(''),
    );
  const otherKey = await encrypt(gzipSync(day('2026-05-20', 50)), [stranger.fingerprint]);
  const fullGzip = gzipSync(day('2026-05-21', 50));
  const truncated = await encrypt(fullGzip.subarray(0, Math.floor(fullGzip.length * 0.6)), [czar.fingerprint]);
  const badTsv = Buffer.from(
    'id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n1\t10\tcourse-v1:DemoX+Old+1T\t2026-05-01 10:00:00\t1\thonor\n2\t11\tcourse-v1:DemoX+Old+1T\t2026-05-01 10:00:00\n3\t12\tcourse-v1:DemoX+Old+1T\t2026-05-02 11:00:00.5\t0\taudit\n',
  );
  const badPackage = await zipOf([{ name: FAULTS.badRowsMember.split('!')[1]!, data: await encrypt(badTsv, [czar.fingerprint]) }]);

  const s3 = new S3Client({ endpoint: minio.endpoint, region: minio.region, forcePathStyle: true, credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey } });
  await s3.send(new CreateBucketCommand({ Bucket: 'course-data' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'edx-course-data' }));
  for (const file of manifest.files) {
    const [bucket, ...rest] = file.split('/');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: rest.join('/'), Body: await readFile(join(out, file)) }));
  }
  await s3.send(new PutObjectCommand({ Bucket: 'edx-course-data', Key: FAULTS.otherKey, Body: otherKey }));
  await s3.send(new PutObjectCommand({ Bucket: 'edx-course-data', Key: FAULTS.truncatedGzip, Body: truncated }));
  await s3.send(new PutObjectCommand({ Bucket: 'course-data', Key: FAULTS.badRowsPackage, Body: badPackage }));
  // Not ours: another org's package in the same bucket must be ignored.
  await s3.send(new PutObjectCommand({ Bucket: 'course-data', Key: 'otherx-2026-06-07.zip', Body: badPackage }));
  s3.destroy();

  return {
    work,
    minio,
    gpg,
    czar,
    stranger,
    manifest,
    secretKeyFile,
    async newHome(homeOptions = {}) {
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
        ...(homeOptions.targetsYaml ?? []),
        '',
      ].join('\n');
      await writeFile(join(home, 'config.yaml'), config);
      const env = { PDS_HOME: home, PDS_IT_ACCESS_KEY: minio.accessKey, PDS_IT_SECRET_KEY: minio.secretKey, PDS_IT_PASSPHRASE: PASSPHRASE };
      const imported = await runPds(['key', 'import', '--env', 'itest', homeOptions.keyFile ?? secretKeyFile], env);
      assert.equal(imported.code, 0, imported.stderr);
      return { home, env };
    },
    async dispose() {
      await Promise.allSettled([minio.stop(), gpg.dispose()]);
      await rm(work, { recursive: true, force: true });
    },
  };
}

/** Expected rows per table and course key after a correct load (files edX failed to export excluded). */
export function expectedTableRows(manifest: DemoManifest): { table: string; courseKey: string; rows: number }[] {
  const out: { table: string; courseKey: string; rows: number }[] = [];
  for (const [table, courses] of Object.entries(manifest.tables)) {
    for (const [courseKey, rows] of Object.entries(courses)) {
      if (manifest.failedMembers.some((m) => m.includes(`${courseKey}-${table}-`))) continue;
      out.push({ table, courseKey, rows });
    }
  }
  for (const [courseKey, rows] of Object.entries(manifest.forumDocuments)) out.push({ table: 'forum_contents', courseKey, rows });
  for (const [courseKey, rows] of Object.entries(manifest.courseStructureBlocks)) out.push({ table: 'course_blocks', courseKey, rows });
  return out;
}
