/**
 * Files that are not what their name says, and files of which no line loads, fail with their own
 * code (never PARTIAL, never read as something else), through the real executor, ledger and
 * SQLite store (`pds load` of local files).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { environmentPaths, validateEnvironment } from '../../core/config/config-store.js';
import { tarGz } from '../../core/demo/tar-gz.js';
import type { FileResult, RunOptions } from '../../core/domain/results.js';
import { Ledger } from '../../core/ledger/ledger.js';
import type { PipelineContext } from '../../core/pipeline/context.js';
import { executeRun, planRun } from '../../core/pipeline/run.js';
import { memberIsRetryable } from '../../core/domain/selection.js';
import { createLocalSource } from '../../core/sources/local/local-source.js';
import { SqliteStore } from '../../core/stores/sqlite/sqlite-store.js';
import { formatReport, formatStatus } from '../../core/cli/format.js';
import { encryptToKeys } from '../../core/crypto/encrypt.js';
import { createOpenPgpDecryptor } from '../../core/crypto/openpgp-decryptor.js';
import * as openpgp from 'openpgp';
import { asLoadError } from '../../core/pipeline/load-content.js';

let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pds-named-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A fresh environment (ledger + SQLite); `load` runs `pds load` on the given files. */
async function environment(decryptor?: PipelineContext['decryptor']): Promise<{
  load(files: string[], options?: RunOptions): Promise<FileResult[]>;
  plan(files: string[]): Promise<string[]>;
  ledger: Ledger;
  store: SqliteStore;
  close(): Promise<void>;
}> {
  const home = await mkdtemp(join(work, 'home-'));
  const paths = environmentPaths(home, 'dev');
  const store = new SqliteStore({ path: paths.sqlite });
  await store.init();
  const ledger = Ledger.open(paths.ledger);
  const ctx = (files: string[]): PipelineContext => ({
    env: 'dev',
    config: validateEnvironment('dev', { source: { type: 'local', path: home } }),
    paths,
    source: createLocalSource({ files }),
    ledger,
    relational: store,
    events: store,
    decryptor: decryptor ?? (() => Promise.reject(new Error('no key needed: the test files are not encrypted'))),
    onProgress: () => undefined,
  });
  return {
    async load(files, options = {}) {
      const result = await executeRun(ctx(files), { ...options, files });
      return result.files;
    },
    async plan(files) {
      return (await planRun(ctx(files), { files })).tasks.map((t) => t.object.key);
    },
    ledger,
    store,
    async close() {
      ledger.close();
      await store.close();
    },
  };
}

async function file(name: string, content: Buffer | string): Promise<string> {
  const dir = await mkdtemp(join(work, 'files-'));
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

const LOG_GZ = 'orgx-edx-events-2026-01-01.log.gz';
const OLX = 'OrgX-Course1-2T2026-course-prod-analytics.xml.tar.gz';
const eventLine = (i: number): string =>
  JSON.stringify({ username: `u${i}`, event_type: 'play_video', event_source: 'browser', time: '2026-01-01T10:00:00+00:00', context: { user_id: i, course_id: 'course-v1:OrgX+Course1+2T2026', path: '/event' }, event: '{"id":"v1","currentTime":3}' });

async function count(store: SqliteStore, sql: string): Promise<number> {
  const [row] = await store.query<{ n: number }>(sql);
  return Number(row!.n);
}

describe('a file that is not what its name says fails with its own code', () => {
  test('.log.gz of random bytes: NOT_GZIP naming the file, never read as text', async () => {
    const env = await environment();
    try {
      // The first byte looks like the header of an OpenPGP data packet, as about one random byte in
      // five does: without .gpg in the name, that alone does not make the file a message to decrypt.
      const bytes = randomBytes(4096);
      bytes[0] = 0xc9;
      const [r] = await env.load([await file(LOG_GZ, bytes)]);
      assert.equal(r!.status, 'failed', r!.reason);
      assert.equal(r!.code, 'NOT_GZIP');
      assert.equal(r!.stage, 'decode');
      assert.equal(r!.reason, `${LOG_GZ} is named .gz but its content is not gzip data (it does not start with the gzip signature 1f 8b).`);
      assert.match(r!.hint ?? '', /Fetch the file again/);
      assert.equal(r!.counts.read, 0, 'no line was read');
      assert.equal(r!.rejectedLines?.length ?? 0, 0);
      assert.equal(await count(env.store, 'SELECT COUNT(*) AS n FROM events'), 0);
      // A content failure: not retried until the file changes.
      assert.equal(memberIsRetryable(env.ledger.getFile(LOG_GZ)!), false);
    } finally {
      await env.close();
    }
  });

  test('.log.gz.gpg whose decrypted content is not gzip: NOT_GZIP after decryption', async () => {
    const { privateKey, publicKey } = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ email: 'czar@example.edu' }], format: 'armored' });
    const decryptor = await createOpenPgpDecryptor({ armoredKeys: [privateKey] });
    const env = await environment(() => Promise.resolve(decryptor));
    try {
      const name = `${LOG_GZ}.gpg`;
      const [r] = await env.load([await file(name, Buffer.from(await encryptToKeys(randomBytes(4096), [publicKey])))]);
      assert.equal(r!.code, 'NOT_GZIP');
      assert.equal(r!.reason, `${name} is named .gz but its decrypted content is not gzip data (it does not start with the gzip signature 1f 8b).`);
      const [good] = await env.load([await file(name, Buffer.from(await encryptToKeys(gzipSync(eventLine(1)), [publicKey])))]);
      assert.equal(good!.status, 'loaded', good!.reason);
    } finally {
      await env.close();
    }
  });

  test('.log.gz cut inside the gzip header, or cut in its data: GZIP_TRUNCATED', async () => {
    const env = await environment();
    try {
      const gz = gzipSync(Array.from({ length: 50 }, (_, i) => eventLine(i)).join('\n'));
      const [oneByte] = await env.load([await file(LOG_GZ, gz.subarray(0, 1))]);
      assert.equal(oneByte!.code, 'GZIP_TRUNCATED');
      assert.equal(oneByte!.reason, `${LOG_GZ}: its content ends after 1 byte(s), before the gzip header; the file is truncated.`);
      const [half] = await env.load([await file(LOG_GZ, gz.subarray(0, gz.length >> 1))]);
      assert.equal(half!.code, 'GZIP_TRUNCATED');
    } finally {
      await env.close();
    }
  });

  test('a plain .log stays plain text and loads', async () => {
    const env = await environment();
    try {
      const [r] = await env.load([await file('orgx-edx-events-2026-01-01.log', Array.from({ length: 5 }, (_, i) => eventLine(i)).join('\n'))]);
      assert.equal(r!.status, 'loaded', r!.reason);
      assert.equal(r!.counts.loaded, 5);
    } finally {
      await env.close();
    }
  });

  test('an OLX .tar.gz is checked before it is called kept: random bytes, gzip of non-tar data, truncated', async () => {
    const env = await environment();
    try {
      const real = tarGz([{ path: 'course/', content: null }, { path: 'course/course.xml', content: '<course url_name="2T2026" org="OrgX" course="Course1"/>' }], new Date('2026-01-01T00:00:00Z'));
      const [kept] = await env.load([await file(OLX, real)]);
      assert.equal(kept!.status, 'skipped');
      assert.equal(kept!.code, 'OLX_KEPT');

      const [random] = await env.load([await file(OLX, Buffer.concat([Buffer.from([0xc9]), randomBytes(2047)]))]);
      assert.equal(random!.status, 'failed');
      assert.equal(random!.code, 'NOT_TAR_GZ');
      assert.equal(random!.reason, `${OLX} is named .tar.gz but its content is not gzip data (it does not start with the gzip signature 1f 8b).`);

      const [notTar] = await env.load([await file(OLX, gzipSync(Buffer.from('<course/>\n'.repeat(100))))]);
      assert.equal(notTar!.code, 'NOT_TAR_GZ');
      assert.equal(notTar!.reason, `${OLX} is named .tar.gz and is gzip data, but it decompresses to data that does not start with a tar header (no "ustar" at offset 257).`);

      const [tiny] = await env.load([await file(OLX, gzipSync(Buffer.from('<course/>')))]);
      assert.equal(tiny!.code, 'NOT_TAR_GZ');
      assert.match(tiny!.reason ?? '', /decompresses to 9 byte\(s\), less than one tar header/);

      const [cut] = await env.load([await file(OLX, real.subarray(0, real.length - 10))]);
      assert.equal(cut!.code, 'GZIP_TRUNCATED');
    } finally {
      await env.close();
    }
  });

  test('a weekly .zip that is not a zip: NOT_ZIP naming the package', async () => {
    const env = await environment();
    try {
      const [r] = await env.load([await file('orgx-2026-01-04.zip', randomBytes(1000))]);
      assert.equal(r!.status, 'failed');
      assert.equal(r!.code, 'NOT_ZIP');
      assert.equal(r!.reason, 'orgx-2026-01-04.zip is named .zip but is not a zip archive (it does not start with the zip signature PK).');
    } finally {
      await env.close();
    }
  });
});

describe('a file of which no line loads is FAILED, never PARTIAL', () => {
  test('an event log whose every line is rejected: NO_LINE_READABLE, lines quarantined and listed, not retried', async () => {
    const env = await environment();
    try {
      const name = 'orgx-edx-events-2026-01-02.log';
      const bad = Array.from({ length: 19 }, (_, i) => `{"username": "u${i}", "event": "cut`).join('\n');
      const path = await file(name, bad);
      const [r] = await env.load([path]);
      assert.equal(r!.status, 'failed');
      assert.equal(r!.code, 'NO_LINE_READABLE');
      assert.equal(r!.stage, 'parse');
      assert.equal(r!.reason, `No line of ${name} loaded: all 19 lines were rejected (see the line numbers).`);
      assert.doesNotMatch(`${r!.reason} ${r!.hint}`, /other lines/);
      assert.equal(r!.counts.rejected, 19);
      assert.deepEqual(r!.rejectedLines?.slice(0, 2), [
        { line: 1, code: 'JSON_INVALID', reason: 'not valid JSON at character 33 (truncated or malformed event)' },
        { line: 2, code: 'JSON_INVALID', reason: 'not valid JSON at character 33 (truncated or malformed event)' },
      ]);
      assert.equal(r!.hint, `The rejected lines are kept verbatim in ${r!.quarantine}.`);
      assert.equal((await readFile(r!.quarantine!, 'utf8')).split('\n').filter((l) => l.includes('"cut')).length, 19);
      assert.equal(memberIsRetryable(env.ledger.getFile(name)!), false, 'a content failure waits for the file to change');
      assert.deepEqual(await env.plan([path]), [], 'the next run does not take it again');

      // The report prints each fact once: the reason, the hint, then `line N: reason`.
      const report = formatReport({ runId: 'r', env: 'dev', status: 'flagged', startedAt: 't', finishedAt: null, totals: null, options: {}, error: null }, [r!]);
      assert.match(report, /\n {8}line 1: not valid JSON at character 33 \(truncated or malformed event\)\n/);
      assert.doesNotMatch(report, /line (\d+): line \1/);
    } finally {
      await env.close();
    }
  });

  test('a weekly table whose every row is rejected fails and keeps the previous snapshot', async () => {
    const env = await environment();
    try {
      const name = 'OrgX-Course1-2T2026-student_courseenrollment-prod-analytics.sql';
      const header = 'id\tuser_id\tcourse_id\tcreated\tis_active\tmode';
      const good = await file(name, `${header}\n1\t5\tcourse-v1:OrgX+Course1+2T2026\tNULL\t1\tverified\n2\t6\tcourse-v1:OrgX+Course1+2T2026\tNULL\t1\taudit\n`);
      assert.equal((await env.load([good], { snapshotDate: '2026-01-04' }))[0]!.status, 'loaded');
      const bad = await file(name, `${header}\n1\t5\n2\t6\tx\n`);
      const [r] = await env.load([bad], { snapshotDate: '2026-01-11' });
      assert.equal(r!.status, 'failed');
      assert.equal(r!.code, 'NO_LINE_READABLE');
      assert.equal(
        r!.reason,
        `No line of ${name} loaded: all 2 lines were rejected (see the line numbers). The previous snapshot of student_courseenrollment for OrgX-Course1-2T2026 is kept.`,
      );
      assert.deepEqual(r!.rejectedLines?.map((l) => [l.line, l.code]), [[2, 'TSV_FIELD_COUNT'], [3, 'TSV_FIELD_COUNT']]);
      assert.equal(await count(env.store, `SELECT COUNT(*) AS n FROM student_courseenrollment WHERE snapshot_date = '2026-01-04'`), 2);
      assert.equal(await count(env.store, `SELECT COUNT(*) AS n FROM student_courseenrollment WHERE snapshot_date = '2026-01-11'`), 0);
    } finally {
      await env.close();
    }
  });

  test('a forum dump whose every document is rejected fails too', async () => {
    const env = await environment();
    try {
      const name = 'OrgX-Course1-2T2026-prod.mongo';
      const [r] = await env.load([await file(name, '{"_id": {"$oid": "5"\n[1, 2]\n')], { snapshotDate: '2026-01-04' });
      assert.equal(r!.status, 'failed');
      assert.equal(r!.code, 'NO_LINE_READABLE');
      assert.deepEqual(r!.rejectedLines?.map((l) => [l.line, l.code]), [[1, 'JSON_INVALID'], [2, 'JSON_NOT_OBJECT']]);
      assert.equal(await count(env.store, 'SELECT COUNT(*) AS n FROM forum_contents'), 0);
    } finally {
      await env.close();
    }
  });

  test('some lines rejected is PARTIAL, said once; an empty table and an all-duplicate log are LOADED', async () => {
    const env = await environment();
    try {
      const name = 'orgx-edx-events-2026-01-03.log';
      const path = await file(name, [eventLine(1), '{"cut', eventLine(2)].join('\n'));
      const [partial] = await env.load([path]);
      assert.equal(partial!.status, 'partial');
      assert.equal(partial!.code, 'LINES_REJECTED');
      assert.equal(partial!.reason, `1 of 3 lines of ${name} could not be loaded (see the line numbers); the other 2 were loaded.`);

      // The same lines again under another day's name: every line is already present.
      const again = await file('orgx-edx-events-2026-01-04.log', [eventLine(1), eventLine(2)].join('\n'));
      const [dup] = await env.load([again]);
      assert.equal(dup!.status, 'loaded');
      assert.equal(dup!.counts.duplicates, 2);

      const empty = await file('OrgX-Course1-2T2026-auth_user-prod-analytics.sql', 'id\tusername\n');
      const [table] = await env.load([empty], { snapshotDate: '2026-01-04' });
      assert.equal(table!.status, 'loaded');
      assert.equal(table!.counts.read, 0);
    } finally {
      await env.close();
    }
  });
});

/**
 * Sentences and clauses of a printed block, normalised, that occur more than once (rejected-line
 * lines aside: two lines may share a reason).
 */
function repeated(text: string): string[] {
  const parts = text
    .split('\n')
    .filter((l) => !/^\s*line \d+: /.test(l))
    .join('\n')
    .split(/[.;:→\n]+\s*/)
    .map((p) => p.trim().toLowerCase().replace(/\s+/g, ' '))
    .filter((p) => p.split(' ').length >= 3);
  return parts.filter((p, i) => parts.indexOf(p) !== i);
}

describe('each fact is said once', () => {
  test('report lines: reason, hint and rejected lines never repeat one another', async () => {
    const env = await environment();
    try {
      const results = [
        ...(await env.load([await file(LOG_GZ, randomBytes(100))])),
        ...(await env.load([await file('orgx-edx-events-2026-01-05.log', ['{"cut', '[1]', eventLine(1)].join('\n'))])),
        ...(await env.load([await file('orgx-edx-events-2026-01-06.log', '{"cut\n{"cut\n')])),
      ];
      const view = { runId: 'r', env: 'dev', status: 'flagged' as const, startedAt: 't', finishedAt: null, totals: null, options: {}, error: null };
      for (const r of results) {
        const text = formatReport(view, [r]);
        assert.deepEqual(repeated(text), [], text);
        assert.doesNotMatch(text, /line (\d+): line \1/, text);
        assert.ok(r.reason && r.hint && !r.hint.includes(r.reason) && !r.reason.includes(r.hint), `${r.reason} / ${r.hint}`);
      }
    } finally {
      await env.close();
    }
  });

  test('status: a failure the next run retries says so once (the hint does not promise it too)', () => {
    const e = asLoadError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'orgx-edx-events-2026-01-01.log.gz');
    const text = formatStatus({
      env: 'dev',
      files: { failed: 1 },
      lastRun: null,
      flagged: [{ key: 'orgx-edx-events-2026-01-01.log.gz', parentKey: null, kind: 'event-log', status: 'failed', stage: e.stage, code: e.code, reason: e.message, hint: e.hint ?? null, retriedNextRun: true, runId: 'r1', updatedAt: 't' }],
    });
    assert.equal(text.match(/next run/gi)?.length, 1, text);
    assert.deepEqual(repeated(text), [], text);
  });
});
