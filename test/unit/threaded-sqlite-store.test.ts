/**
 * The SQLite store on its own thread: the store contract unchanged, plus what only the thread
 * adds: errors crossing the boundary intact, a dead thread failing every call retryably with
 * nothing half-written kept, and the write-ahead log copied into the file once a load is done.
 */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { eventRow } from '../../core/domain/designate.js';
import type { EventRecord } from '../../core/domain/records.js';
import { getTableDef } from '../../core/domain/tables.js';
import { LoadError } from '../../core/errors/index.js';
import { parseEventLine } from '../../core/formats/tracking-log.js';
import { packLines, unpackLines } from '../../core/stores/sqlite/packed-lines.js';
import { SqliteStore } from '../../core/stores/sqlite/sqlite-store.js';
import { ThreadedSqliteStore } from '../../core/stores/sqlite/threaded-sqlite-store.js';
import { contractEvent, describeEventStoreContract, describeRelationalStoreContract } from '../support/store-contract.js';
import { temporarySqliteFiles } from '../support/sqlite-files.js';

const { newPath, sharedFile } = temporarySqliteFiles('pds-sqlite-thread-');
const threaded = (path: string) => new ThreadedSqliteStore({ path });

describeRelationalStoreContract('sqlite on its own thread', sharedFile(threaded));
describeEventStoreContract('sqlite on its own thread', sharedFile(threaded));

async function openThreaded(path = newPath()): Promise<ThreadedSqliteStore> {
  const store = new ThreadedSqliteStore({ path });
  await store.init();
  return store;
}

const origin = (tag: string) => ({ fileKey: `thread/${tag}.log.gz`, loadId: `load-${tag}` });

/** Runs a query on its own in-thread connection to the file. */
async function readFile<T>(path: string, sql: string, params: (string | number)[] = []): Promise<T[]> {
  const reader = new SqliteStore({ path });
  await reader.init();
  try {
    return await reader.query<T>(sql, params);
  } finally {
    await reader.close();
  }
}

async function eventCount(path: string, fileKey: string): Promise<number> {
  const [row] = await readFile<{ n: number }>(path, 'SELECT COUNT(*) AS n FROM events WHERE file_key = ?', [fileKey]);
  return row.n;
}

describe('ThreadedSqliteStore specifics', () => {
  test('an error raised in the thread arrives as the same LoadError, code, hint and database code', async () => {
    const store = await openThreaded();
    try {
      const keyed = await store.beginKeyed(origin('width'));
      const video = getTableDef('video_events')!;
      await assert.rejects(keyed.write(video, [['too', 'few']]), (error: unknown) => {
        assert.ok(error instanceof LoadError);
        assert.equal(error.code, 'ROW_WIDTH');
        assert.match(error.message, /video_events has 2 values/);
        return true;
      });
      await keyed.abort();
      // A value SQLite's STRICT table refuses: the driver code crosses too, never the value.
      const events = await store.beginKeyed(origin('strict'));
      const row = video.columns.map(() => null as string | number | null);
      row[video.columns.findIndex((c) => c.name === 'event_id')] = 'e-strict';
      row[video.columns.findIndex((c) => c.name === 'user_id')] = 'not a number';
      await assert.rejects(events.write(video, [row]), (error: unknown) => {
        assert.ok(error instanceof LoadError);
        assert.equal(error.code, 'LOAD_FAILED');
        assert.match(String(error.dbCode), /^SQLITE_CONSTRAINT/);
        assert.ok(error.hint);
        assert.doesNotMatch(error.message, /not a number/);
        return true;
      });
      await events.abort();
    } finally {
      await store.close();
    }
  });

  test('a thread that dies fails every call retryably, and its open load is not in the file', async () => {
    const path = newPath();
    const store = await openThreaded(path);
    const writer = await store.beginEvents(origin('dies'));
    await writer.write([contractEvent(1, 'course-v1:T+D+1', 'play_video'), contractEvent(2, 'course-v1:T+D+1', 'seq_goto')]);
    await (store as unknown as { worker: Worker }).worker.terminate();
    for (const call of [writer.write([contractEvent(3, 'course-v1:T+D+1', 'play_video')]), writer.commit(), store.query('SELECT 1 AS one')]) {
      await assert.rejects(call, (error: unknown) => {
        assert.ok(error instanceof LoadError);
        assert.equal(error.code, 'STORE_THREAD_FAILED');
        assert.equal(error.retryable, true);
        return true;
      });
    }
    await writer.abort(); // safe after a failure, as the ports require
    await store.close();
    assert.equal(await eventCount(path, origin('dies').fileKey), 0);
  });

  test('commits are visible to other connections at once, and close leaves everything in the database file', async () => {
    const path = newPath();
    const store = await openThreaded(path);
    const writer = await store.beginEvents(origin('visible'));
    const written = await writer.write([1, 2, 3].map((n) => contractEvent(n, 'course-v1:T+V+1', 'play_video')));
    assert.deepEqual(written, { inserted: 3, duplicates: 0 });
    assert.equal(await eventCount(path, origin('visible').fileKey), 0, 'not visible before commit');
    await writer.commit();
    assert.equal(await eventCount(path, origin('visible').fileKey), 3);
    await store.close();
    await store.close(); // idempotent
    assert.ok(!existsSync(`${path}-wal`) || statSync(`${path}-wal`).size === 0, 'the write-ahead log was copied into the file');
    assert.equal(await eventCount(path, origin('visible').fileKey), 3);
    await assert.rejects(store.query('SELECT 1'), (error: unknown) => error instanceof LoadError && error.code === 'STORE_CLOSED');
  });

  test('calls made without waiting run in the order made', async () => {
    const path = newPath();
    const store = await openThreaded(path);
    try {
      const writer = await store.beginEvents(origin('order'));
      const event = contractEvent(9, 'course-v1:T+O+1', 'play_video');
      // The same event twice without waiting: the first inserts it, the second finds it.
      const [first, second] = await Promise.all([writer.write([event]), writer.write([event])]);
      assert.deepEqual([first, second], [
        { inserted: 1, duplicates: 0 },
        { inserted: 0, duplicates: 1 },
      ]);
      await writer.commit();
    } finally {
      await store.close();
    }
  });
});

describe('ThreadedSqliteStore units begun in the background', () => {
  test('a unit that cannot begin fails its first write and its commit with the reason, and aborts quietly', async () => {
    const store = await openThreaded();
    try {
      const table = { ...getTableDef('video_events')!, name: 'pds_not_allowed' };
      const writer = await store.beginSnapshot({ table, courseKey: 'c', snapshotDate: '2026-01-01', columns: [], origin: origin('bad-name') });
      const isWrongKind = (error: unknown) => error instanceof LoadError && error.code === 'WRONG_TABLE_KIND';
      await assert.rejects(writer.write([]), isWrongKind);
      await assert.rejects(writer.commit(), isWrongKind);
      await writer.abort();
      // The store goes on: the next unit works.
      const events = await store.beginEvents(origin('after'));
      assert.deepEqual(await events.write([contractEvent(4, 'course-v1:T+B+1', 'play_video')]), { inserted: 1, duplicates: 0 });
      await events.commit();
    } finally {
      await store.close();
    }
  });
});

describe('ThreadedSqliteStore raw lines sent as bytes', () => {
  const lines = [
    '{"event_type":"play_video","time":"2026-06-01T10:00:00+00:00","username":"ascii"}',
    '{"event_type":"page_close","time":"2026-06-01T10:00:01+00:00","username":"Zoë","page":"https://x.edu/d\u00e9j\u00e0-vu 😀"}',
    '{"event_type":"page_close","time":"2026-06-01T10:00:02+00:00","username":"nul\\u0000ok"}',
  ];

  test('packLines moves only the lines whose bytes are known, unpackLines puts them back', () => {
    const events = lines.map((l, i) => parsed(Buffer.from(l), i + 1));
    const invalid = invalidLine([0xc3, 0x28]);
    const all = [...events, invalid];
    const rows = all.map((e) => eventRow(e, 'f'));
    const packed = packLines(all, rows)!;
    assert.deepEqual([...packed.ends].map((end) => end >= 0), [true, true, true, false], 'a line with an invalid UTF-8 sequence is not sent as bytes');
    const raw = getTableDef('events')!.columns.findIndex((c) => c.name === 'raw');
    assert.deepEqual(rows.map((r) => r[raw]), [null, null, null, invalid.raw]);
    const back = unpackLines(rows, packed);
    assert.deepEqual(back.map((r) => (typeof r[raw] === 'string' ? r[raw] : Buffer.from(r[raw] as Uint8Array).toString('utf8'))), all.map((e) => e.raw));
  });

  test('lines sent as bytes are stored as the same text, and lines with invalid UTF-8 as their decoded text', async () => {
    const path = newPath();
    const store = await openThreaded(path);
    const events = lines.map((l, i) => parsed(Buffer.from(l), i + 1));
    const invalid = invalidLine([0xff]);
    try {
      const writer = await store.beginEvents(origin('bytes'));
      assert.deepEqual(await writer.write([...events, invalid]), { inserted: 4, duplicates: 0 });
      await writer.commit();
    } finally {
      await store.close();
    }
    const rows = await readFile<{ line: number; raw: string; kind: string }>(path, 'SELECT line, raw, typeof(raw) AS kind FROM events ORDER BY line');
    assert.deepEqual(rows.map((r) => r.kind), ['text', 'text', 'text', 'text']);
    assert.deepEqual(rows.map((r) => r.raw), [...events, invalid].map((e) => e.raw));
    assert.match(rows[3].raw, /\uFFFD/);
  });
});

/** Line 4: an event whose username holds bytes that are not valid UTF-8. */
function invalidLine(bytes: number[]): EventRecord {
  return parsed(Buffer.concat([Buffer.from('{"event_type":"x","time":"2026-06-01T10:00:03Z","u":"'), Buffer.from(bytes), Buffer.from('"}')]), 4);
}

function parsed(bytes: Buffer, line: number): EventRecord {
  const result = parseEventLine(bytes, line);
  assert.ok(result.ok);
  return result.event;
}
