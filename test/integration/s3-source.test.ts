/**
 * The S3 source against MinIO, which checks request signatures like AWS: listing with pagination,
 * verified downloads, resume with Range + If-Match, damaged partial copies, changed objects, broken
 * connections, and errors classified without leaking credentials.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

import { CancelledError, SourceError } from '../../core/errors/index.js';
import type { ObjectSource, SourceObject } from '../../core/sources/ports.js';
import { createS3Client, createS3Source, type S3SourceConfig } from '../../core/sources/s3/s3-source.js';
import { freePort } from '../support/free-port.js';
import { startMinio, type MinioServer } from '../support/minio.js';

const BUCKET = 'edx-course-data';
const EVENTS_PREFIX = 'orgx/edx/events/2015/';

let minio: MinioServer;
let admin: S3Client;
let work: string;
/** A 3 MB single-part object: its ETag is its MD5. */
let weekly: Buffer;
const WEEKLY_KEY = 'orgx/orgx-2015-01-04.zip';

function config(overrides: Partial<S3SourceConfig> = {}): S3SourceConfig {
  return {
    region: minio.region,
    endpoint: minio.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey },
    locations: [
      { name: 'events', bucket: BUCKET, prefix: EVENTS_PREFIX },
      { name: 'weekly', bucket: BUCKET, prefix: 'orgx/', match: (key) => key.endsWith('.zip') },
    ],
    maxAttempts: 2,
    environment: 'live',
    ...overrides,
  };
}

interface Recorded {
  command: string;
  prefix?: string;
  range?: string;
  ifMatch?: string;
}

/** A source whose client records each command (once per command, before SDK retries). */
function observedSource(overrides: Partial<S3SourceConfig> = {}): { source: ObjectSource; requests: Recorded[] } {
  const cfg = config(overrides);
  const client = createS3Client(cfg);
  const requests: Recorded[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Prefix?: string; Range?: string; IfMatch?: string };
      const recorded: Recorded = { command: context.commandName ?? '?' };
      if (input.Prefix !== undefined) recorded.prefix = input.Prefix;
      if (input.Range !== undefined) recorded.range = input.Range;
      if (input.IfMatch !== undefined) recorded.ifMatch = input.IfMatch;
      requests.push(recorded);
      return next(args);
    },
    { step: 'initialize', name: 'pdsTestRecorder' },
  );
  return { source: createS3Source(cfg, { client }), requests };
}

async function listAll(source: ObjectSource): Promise<SourceObject[]> {
  const objects: SourceObject[] = [];
  for await (const object of source.list()) objects.push(object);
  return objects;
}

async function weeklyObject(source: ObjectSource): Promise<SourceObject> {
  const found = (await listAll(source)).find((object) => object.key === WEEKLY_KEY);
  assert.ok(found, 'the weekly object is listed');
  return found;
}

function md5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

before(async () => {
  minio = await startMinio();
  work = await mkdtemp(join(tmpdir(), 'pds-s3-test-'));
  admin = new S3Client({
    region: minio.region,
    endpoint: minio.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey },
  });
  await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const puts: Promise<unknown>[] = [];
  for (let day = 1; day <= 25; day += 1) {
    const key = `${EVENTS_PREFIX}orgx-edx-events-2015-01-${String(day).padStart(2, '0')}.log.gz.gpg`;
    puts.push(admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: randomBytes(100 + day) })));
  }
  // A folder marker as the S3 console makes them, and a key outside every location.
  puts.push(admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: EVENTS_PREFIX, Body: new Uint8Array() })));
  puts.push(admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'other/readme.txt', Body: 'x' })));
  weekly = randomBytes(3 * 1024 * 1024);
  puts.push(admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: WEEKLY_KEY, Body: weekly })));
  puts.push(admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'orgx/notes.txt', Body: 'not a zip' })));
  await Promise.all(puts);
});

after(async () => {
  admin?.destroy();
  await minio?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('S3 source (MinIO)', () => {
  test('lists every location across pages, skipping folder markers and unmatched keys', async () => {
    const { source, requests } = observedSource({ pageSize: 7 });
    const objects = await listAll(source);
    const events = objects.filter((object) => object.location === 'events');
    assert.equal(events.length, 25);
    assert.equal(new Set(events.map((object) => object.key)).size, 25);
    assert.ok(events.every((object) => object.key.startsWith(EVENTS_PREFIX) && !object.key.endsWith('/')));
    assert.deepEqual(
      objects.filter((object) => object.location === 'weekly').map((object) => object.key),
      [WEEKLY_KEY],
    );
    // 25 events + the folder marker in pages of 7: at least 4 pages, each continuing the last.
    const eventPages = requests.filter((request) => request.command === 'ListObjectsV2Command' && request.prefix === EVENTS_PREFIX);
    assert.ok(eventPages.length >= 4, `${eventPages.length} pages`);

    const zip = objects.find((object) => object.key === WEEKLY_KEY);
    assert.equal(zip?.size, weekly.length);
    assert.equal(zip?.etag, md5(weekly), 'the ETag is listed without quotes');
    assert.match(source.describe(), /s3:\/\/edx-course-data\/orgx\/edx\/events\/2015\/.*us-east-1 via http:\/\/127\.0\.0\.1/);
    assert.ok(!source.describe().includes(minio.secretKey));
  });

  test('downloads, verifies the MD5 and renames; If-Match guards the request', async () => {
    const { source, requests } = observedSource();
    const object = await weeklyObject(source);
    const dest = join(work, 'download', 'weekly.zip');
    let last = 0;
    await source.download(object, dest, { onProgress: (bytes) => (last = bytes) });
    assert.ok((await readFile(dest)).equals(weekly));
    assert.equal(last, weekly.length);
    assert.equal(existsSync(`${dest}.part`), false);
    assert.equal(existsSync(`${dest}.part.etag`), false);
    const get = requests.find((request) => request.command === 'GetObjectCommand');
    assert.deepEqual(get, { command: 'GetObjectCommand', ifMatch: `"${object.etag}"` });
  });

  test('resumes a partial .part with a Range request and ends byte-identical', async () => {
    const { source, requests } = observedSource();
    const object = await weeklyObject(source);
    const dest = join(work, 'resume', 'weekly.zip');
    const prefix = 1024 * 1024 + 17;
    await mkdir(join(work, 'resume'), { recursive: true });
    await writeFile(`${dest}.part`, weekly.subarray(0, prefix));
    const progress: number[] = [];
    await source.download(object, dest, { onProgress: (bytes) => progress.push(bytes) });
    assert.ok((await readFile(dest)).equals(weekly));
    const gets = requests.filter((request) => request.command === 'GetObjectCommand');
    assert.deepEqual(
      gets.map((request) => request.range),
      [`bytes=${prefix}-`],
    );
    assert.equal(progress[0], prefix, 'progress starts at the resumed prefix');
  });

  test('a .part whose prefix is not this object is caught by the MD5 and downloaded afresh', async () => {
    const { source, requests } = observedSource();
    const object = await weeklyObject(source);
    const dest = join(work, 'damaged', 'weekly.zip');
    await mkdir(join(work, 'damaged'), { recursive: true });
    const bad = Buffer.from(weekly.subarray(0, 512 * 1024));
    bad[1000] ^= 0xff;
    await writeFile(`${dest}.part`, bad);
    await source.download(object, dest);
    assert.ok((await readFile(dest)).equals(weekly));
    assert.deepEqual(
      requests.filter((request) => request.command === 'GetObjectCommand').map((request) => request.range),
      [`bytes=${512 * 1024}-`, undefined],
    );
  });

  test('a download cancelled mid-way keeps its .part; an object replaced since then restarts from zero', async () => {
    const key = 'orgx/orgx-2015-01-11.zip';
    const first = randomBytes(2 * 1024 * 1024);
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: first }));
    const { source, requests } = observedSource();
    const listed = (await listAll(source)).find((object) => object.key === key);
    assert.ok(listed);
    const dest = join(work, 'replaced', 'weekly.zip');
    const controller = new AbortController();
    await assert.rejects(
      source.download(listed, dest, { signal: controller.signal, onProgress: (bytes) => bytes > 256 * 1024 && controller.abort() }),
      (error: unknown) => error instanceof CancelledError,
    );
    const partial = await readFile(`${dest}.part`);
    assert.ok(partial.length > 0 && partial.length < first.length, `kept ${partial.length} bytes`);

    // edX re-sends a corrected file under the same name: same key, new content, new ETag.
    const second = randomBytes(2 * 1024 * 1024);
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: second }));
    const relisted = (await listAll(source)).find((object) => object.key === key);
    assert.ok(relisted && relisted.etag !== listed.etag);
    requests.length = 0;
    await source.download(relisted, dest);
    assert.ok((await readFile(dest)).equals(second));
    assert.deepEqual(
      requests.filter((request) => request.command === 'GetObjectCommand').map((request) => request.range),
      [undefined],
      'no bytes of the old version were reused',
    );
  });

  test('an object changed between listing and download fails as retryable S3_OBJECT_CHANGED', async () => {
    const key = 'orgx/orgx-2015-01-18.zip';
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: randomBytes(1000) }));
    const source = createS3Source(config());
    const listed = (await listAll(source)).find((object) => object.key === key);
    assert.ok(listed);
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: randomBytes(1000) }));
    const dest = join(work, 'changed', 'weekly.zip');
    await assert.rejects(source.download(listed, dest), (error: unknown) => {
      assert.ok(error instanceof SourceError);
      assert.equal(error.code, 'S3_OBJECT_CHANGED');
      assert.equal(error.retryable, true);
      return true;
    });
    assert.equal(existsSync(dest), false);
    assert.equal(existsSync(`${dest}.part`), false);
  });

  test('a multipart object (ETag not an MD5) is checked by size, and a stray .part is not trusted', async () => {
    const key = 'orgx/orgx-2015-01-25.zip';
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1234)];
    const upload = await admin.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const etags: string[] = [];
    for (const [index, body] of parts.entries()) {
      const part = await admin.send(
        new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: upload.UploadId, PartNumber: index + 1, Body: body }),
      );
      etags.push(part.ETag ?? '');
    }
    await admin.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
      }),
    );
    const { source, requests } = observedSource();
    const object = (await listAll(source)).find((candidate) => candidate.key === key);
    assert.ok(object);
    assert.match(object.etag ?? '', /-2$/);
    const dest = join(work, 'multipart', 'weekly.zip');
    await mkdir(join(work, 'multipart'), { recursive: true });
    // A .part of unknown origin: nothing could verify it later, so it must not be resumed.
    await writeFile(`${dest}.part`, randomBytes(4096));
    await source.download(object, dest);
    assert.ok((await readFile(dest)).equals(Buffer.concat(parts)));
    assert.deepEqual(
      requests.filter((request) => request.command === 'GetObjectCommand').map((request) => request.range),
      [undefined],
    );
  });

  test('a connection that breaks mid-body is resumed with a Range request', async () => {
    const proxy = await startCuttingProxy(new URL(minio.endpoint).port, 1024 * 1024);
    try {
      const { source, requests } = observedSource({ endpoint: `http://127.0.0.1:${proxy.port}`, maxAttempts: 3 });
      const object = await weeklyObject(source);
      proxy.arm();
      const dest = join(work, 'broken', 'weekly.zip');
      await source.download(object, dest);
      assert.ok((await readFile(dest)).equals(weekly));
      assert.equal(proxy.cuts(), 1);
      const ranges = requests.filter((request) => request.command === 'GetObjectCommand').map((request) => request.range);
      assert.equal(ranges.length, 2);
      assert.equal(ranges[0], undefined);
      assert.match(ranges[1] ?? '', /^bytes=\d+-$/);
    } finally {
      await proxy.close();
    }
  });

  test('a wrong secret key is refused as S3_ACCESS_DENIED naming the environment, without the secret', async () => {
    const wrongSecret = `${minio.secretKey}x`;
    const source = createS3Source(
      config({ credentials: { accessKeyId: minio.accessKey, secretAccessKey: wrongSecret } }),
    );
    await assert.rejects(listAll(source), (error: unknown) => {
      assert.ok(error instanceof SourceError);
      assert.equal(error.code, 'S3_ACCESS_DENIED');
      assert.equal(error.stage, 'plan');
      assert.match(error.hint ?? '', /AWS keys of environment "live"/);
      const everything = JSON.stringify({ message: error.message, hint: error.hint, cause: String(error.cause) });
      assert.ok(!everything.includes(wrongSecret) && !everything.includes(minio.accessKey), everything);
      return true;
    });
  });

  test('a missing bucket is S3_NO_SUCH_BUCKET; a closed port is retryable S3_UNREACHABLE', async () => {
    const missing = createS3Source(config({ locations: [{ name: 'events', bucket: 'no-such-bucket', prefix: '' }] }));
    await assert.rejects(listAll(missing), (error: unknown) => error instanceof SourceError && error.code === 'S3_NO_SUCH_BUCKET');

    const closed = createS3Source(config({ endpoint: `http://127.0.0.1:${await freePort()}`, maxAttempts: 1 }));
    await assert.rejects(listAll(closed), (error: unknown) => {
      assert.ok(error instanceof SourceError);
      assert.equal(error.code, 'S3_UNREACHABLE');
      assert.equal(error.retryable, true);
      return true;
    });
  });
});

/**
 * A TCP proxy in front of MinIO that, once armed, cuts the first connection after it has carried
 * `cutAfter` bytes from the server: a network failure in the middle of a response body.
 */
async function startCuttingProxy(
  targetPort: string,
  cutAfter: number,
): Promise<{ port: number; arm(): void; cuts(): number; close(): Promise<void> }> {
  let armed = false;
  let cuts = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: Number(targetPort) });
    sockets.add(client);
    sockets.add(upstream);
    let carried = 0;
    upstream.on('data', (chunk: Buffer) => {
      carried += chunk.length;
      if (armed && carried > cutAfter) {
        armed = false;
        cuts += 1;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return {
    port: address.port,
    arm: () => {
      armed = true;
    },
    cuts: () => cuts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
