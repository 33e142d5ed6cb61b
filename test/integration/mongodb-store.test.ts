/**
 * The MongoDB stores (core/stores/mongodb) against a real MongoDB-wire server: FerretDB v1 with
 * its SQLite backend (test/support/ferretdb.ts), through the official driver.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MongoClient, ObjectId } from 'mongodb';
import { generateEventLines } from '../../core/demo/generate-event-lines.js';
import type { EventRecord } from '../../core/domain/records.js';
import { LoadError } from '../../core/errors/index.js';
import { parseEventLine } from '../../core/formats/tracking-log.js';
import { courseStructureBlocks } from '../../core/stores/mongodb/course-structure-store.js';
import { lineFromDocument } from '../../core/stores/mongodb/event-document.js';
import { MongoEventStore } from '../../core/stores/mongodb/mongodb-event-store.js';
import { openMongoStores, type MongoStores } from '../../core/stores/mongodb/open-mongo-stores.js';
import type { LoadOrigin } from '../../core/stores/ports.js';
import { startFerretDb, type FerretDbServer } from '../support/ferretdb.js';
import { freePort } from '../support/free-port.js';
import { describeEventStoreContract } from '../support/store-contract.js';

/** Fail fast when the server is down (the default server-selection wait is 30 s). */
function uriOf(server: FerretDbServer): string {
  return `${server.uri}?serverSelectionTimeoutMS=1500&connectTimeoutMS=1500`;
}

const COURSES = ['course-v1:OrgX+CS101+2024_T1', 'OrgX/HIST2/2013_Fall', 'course-v1:OrgX+DS3+2024_T1'];
const USERS = Array.from({ length: 25 }, (_, i) => ({ id: 100 + i, username: `learner${i}` }));

/** `count` realistic lines (docs/edx-formats.md §5) parsed into records, lines numbered from 1. */
function records(count: number, seed = 1, date = '2024-03-01'): EventRecord[] {
  return [...generateEventLines({ count, seed, date, courseIds: COURSES, users: USERS })].map((line, i) => parse(line, i + 1));
}

function parse(line: string, n: number): EventRecord {
  const r = parseEventLine(Buffer.from(line, 'utf8'), n);
  assert.ok(r.ok, `line ${n} parses`);
  return r.event;
}

let loadCounter = 0;
function origin(fileKey: string): LoadOrigin {
  return { fileKey, loadId: `load-${++loadCounter}-${new ObjectId().toHexString()}` };
}

/** Expected `course → type → count` for a set of records. */
function expectedCounts(list: EventRecord[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of list) {
    const k = `${r.courseId}\u0001${r.canonicalType}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

async function countsOf(store: MongoEventStore, courses = COURSES): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const r of await store.countByCourseAndType()) if (r.courseId !== null && courses.includes(r.courseId)) m.set(`${r.courseId}\u0001${r.type}`, r.count);
  return m;
}

/** Loads `list` as one committed file; returns the summed write results. */
async function loadFile(store: MongoEventStore, fileKey: string, list: EventRecord[], batch = 100): Promise<{ inserted: number; duplicates: number }> {
  const w = await store.beginEvents(origin(fileKey));
  let inserted = 0;
  let duplicates = 0;
  for (let i = 0; i < list.length; i += batch) {
    const r = await w.write(list.slice(i, i + batch));
    assert.equal(r.failed, undefined);
    inserted += r.inserted;
    duplicates += r.duplicates;
  }
  await w.commit();
  return { inserted, duplicates };
}

/** The pid of the FerretDB process listening on `port` (found by its exact command line). */
describe('MongoDB store on FerretDB', () => {
  let server: FerretDbServer;
  let admin: MongoClient;
  let dbCounter = 0;
  const newDatabase = (): string => `pds_it_${process.pid}_${++dbCounter}`;

  before(async () => {
    server = await startFerretDb();
    admin = new MongoClient(uriOf(server));
    await admin.connect();
  });

  after(async () => {
    await admin?.close();
    await server?.stop();
  });

  describe('contract', () => {
    const database = 'pds_contract';
    describeEventStoreContract('mongodb', async () =>
      Object.assign(new MongoEventStore({ uri: uriOf(server), database }), {
        drop: async () => {
          await admin.db(database).dropDatabase();
        },
      }),
    );
  });

  describe('events', () => {
    let store: MongoEventStore;
    let database: string;

    before(async () => {
      database = newDatabase();
      store = new MongoEventStore({ uri: uriOf(server), database, writeConcern: 'majority' });
      await store.init();
    });

    after(async () => {
      await store?.close();
    });

    test('creates the indexes on (course, time), (user, time), (type, time) and passes check()', async () => {
      const indexes = await admin.db(database).collection('events').listIndexes().toArray();
      const keys = Object.fromEntries(indexes.map((i) => [i.name, i.key]));
      assert.deepEqual(keys.course_time, { _course: 1, time: 1 });
      assert.deepEqual(keys.user_time, { _user: 1, time: 1 });
      assert.deepEqual(keys.type_time, { _type: 1, time: 1 });
      const check = await store.check();
      assert.equal(check.ok, true, check.detail);
      assert.match(check.detail, /FerretDB/);
      assert.match(check.detail, /write probe ok \(w: majority\)/);
      assert.match(check.detail, /indexes ok/);
    });

    test('a file loads with exact counts, and loading it again adds nothing (duplicates)', async () => {
      const list = records(600, 11);
      assert.deepEqual(await loadFile(store, 'day-1.log.gz.gpg', list), { inserted: 600, duplicates: 0 });
      assert.deepEqual(await countsOf(store), expectedCounts(list));
      assert.deepEqual(await loadFile(store, 'day-1.log.gz.gpg', list, 250), { inserted: 0, duplicates: 600 });
      assert.deepEqual(await countsOf(store), expectedCounts(list));
      assert.equal(await admin.db(database).collection('events').countDocuments({ _file: 'day-1.log.gz.gpg' }), 600);
    });

    test('abort removes exactly the documents of its own load, never those of earlier loads', async () => {
      const all = records(300, 12, '2024-03-02');
      const committed = all.slice(0, 200);
      await loadFile(store, 'day-2a.log', committed);
      const w = await store.beginEvents(origin('day-2b.log'));
      const r = await w.write(all.slice(100, 300));
      assert.deepEqual(r, { inserted: 100, duplicates: 100 });
      await w.abort();
      const ids = (await admin.db(database).collection('events').find({ _id: { $in: all.map((e) => e.id) } as never }, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id));
      assert.deepEqual(new Set(ids), new Set(committed.map((e) => e.id)));
      assert.equal(await admin.db(database).collection('loads').countDocuments({ file: 'day-2b.log' }), 0);
    });

    test('an attempt that never committed is invisible to counts and removed when the file is loaded again', async () => {
      const list = records(400, 13, '2024-03-03');
      const countsBefore = await countsOf(store);
      const crashed = new MongoEventStore({ uri: uriOf(server), database });
      const w = await crashed.beginEvents(origin('day-3.log'));
      await w.write(list.slice(0, 250));
      await crashed.close(); // the process "dies": no commit, no abort
      assert.deepEqual(await countsOf(store), countsBefore, 'counts leave the uncommitted attempt out');
      const stored = await admin.db(database).collection('events').countDocuments({ _file: 'day-3.log' });
      assert.equal(stored, 250, 'the attempt left its documents behind');

      const result = await loadFile(store, 'day-3.log', list);
      assert.deepEqual(result, { inserted: 400, duplicates: 0 }, 'leftovers removed first: every line counts as new');
      assert.equal(await admin.db(database).collection('events').countDocuments({ _file: 'day-3.log' }), 400);
      assert.equal(await admin.db(database).collection('loads').countDocuments({ file: 'day-3.log', committed: false }), 0);
    });

    test('counts leave out a load that is still open', async () => {
      const list = records(50, 14, '2024-03-04');
      const w = await store.beginEvents(origin('day-4.log'));
      const before4 = await countsOf(store);
      await w.write(list);
      assert.deepEqual(await countsOf(store), before4);
      await w.commit();
      const after4 = await countsOf(store);
      const added = [...after4.values()].reduce((a, b) => a + b, 0) - [...before4.values()].reduce((a, b) => a + b, 0);
      assert.equal(added, 50);
    });

    test('a line shared with an abandoned load of another file is taken over, so no later clean-up loses it', async () => {
      const list = records(120, 15, '2024-03-05');
      const crashed = new MongoEventStore({ uri: uriOf(server), database });
      const w = await crashed.beginEvents(origin('alias-x.log'));
      await w.write(list.slice(0, 60));
      await crashed.close();
      // Another org's file holds lines 31–120 (aliases, §7.9).
      assert.deepEqual(await loadFile(store, 'alias-y.log', list.slice(30)), { inserted: 90, duplicates: 0 });
      // File X is loaded again: its leftovers (lines 1–30) go, lines 31–60 now belong to Y.
      assert.deepEqual(await loadFile(store, 'alias-x.log', list.slice(0, 60)), { inserted: 30, duplicates: 30 });
      const events = admin.db(database).collection('events');
      assert.equal(await events.countDocuments({ _id: { $in: list.map((e) => e.id) } as never }), 120);
    });

    test('a document the server refuses is reported per line with a reason; the rest of the batch is stored', async () => {
      let deep = '1';
      for (let i = 0; i < 200; i++) deep = `[${deep}]`;
      const good = records(20, 16, '2024-03-06');
      const bad = parse(`{"event_type": "deep", "event": ${deep}, "time": "2024-03-06T00:00:00+00:00"}`, 21);
      const w = await store.beginEvents(origin('day-6.log'));
      const r = await w.write([...good, bad]);
      assert.equal(r.inserted, 20);
      assert.equal(r.duplicates, 0);
      assert.equal(r.failed?.length, 1);
      assert.equal(r.failed?.[0].line, 21);
      assert.match(r.failed?.[0].code ?? '', /^MONGO_/);
      // The line number travels in `line`; reports print it before the reason, so the reason does not repeat it.
      assert.ok((r.failed?.[0].reason ?? '').length > 0);
      assert.doesNotMatch(r.failed?.[0].reason ?? '', /line 21/);
      await w.commit();
    });

    test('an event whose document would exceed 16 MB is refused per line before sending', async () => {
      // 2.9 M three-byte characters, stored twice (the `event` string and `event_parsed`): 17 MB.
      const text = '€'.repeat(2_900_000);
      const big = parse(JSON.stringify({ event_type: 'big', event: JSON.stringify({ t: text }), time: '2024-03-06T00:00:00+00:00' }), 2);
      const w = await store.beginEvents(origin('day-6-big.log'));
      const r = await w.write([records(1, 19, '2024-03-06')[0], big]);
      assert.deepEqual({ inserted: r.inserted, duplicates: r.duplicates }, { inserted: 1, duplicates: 0 });
      assert.deepEqual(r.failed?.map((f) => [f.line, f.code]), [[2, 'MONGO_TOO_LARGE']]);
      await w.commit();
    });

    test('every original line can be reconstructed from its stored document', async () => {
      const tricky = [
        '{"username": "ünï", "event_type": "problem_check", "event_source": "server", "context": {"course_user_tags": {"xblock.partition_service.partition_0": "1"}, "user_id": 5, "course_id": "course-v1:OrgX+CS101+2024_T1"}, "event": {"$answer.x": {"a.b": [1, {"%": null}]}}, "time": "2024-03-07T01:02:03.456789+00:00"}',
        'Sep  9 00:00:48 localhost {"username": "old", "event_type": "seq_goto", "event": "{\\"old\\": 1, \\"new\\": 2}", "time": "2012-09-09T00:00:48+00:00"}',
      ];
      const generated = [...generateEventLines({ count: 300, seed: 17, date: '2024-03-07', courseIds: COURSES, users: USERS })];
      const lines = [...generated, ...tricky];
      const list = lines.map((l, i) => parse(l, i + 1));
      await loadFile(store, 'day-7.log', list);
      const docs = await admin.db(database).collection('events').find({ _file: 'day-7.log' }).toArray();
      assert.equal(docs.length, lines.length);
      for (const doc of docs) {
        const original = lines[Number(doc._line) - 1];
        const back = lineFromDocument(doc);
        if (doc._raw !== undefined) assert.equal(back, original, `line ${doc._line} byte for byte`);
        else assert.equal(back, JSON.stringify(JSON.parse(original)), `line ${doc._line}`);
      }
    });
  });

  describe('errors', () => {
    test('an unreachable server is a retryable LoadError; check() reports it without throwing', async () => {
      const port = await freePort();
      const store = new MongoEventStore({ uri: `mongodb://127.0.0.1:${port}/?serverSelectionTimeoutMS=300`, database: 'nowhere' });
      try {
        await assert.rejects(store.init(), (error: unknown) => error instanceof LoadError && error.code === 'MONGO_UNREACHABLE' && error.retryable);
        const check = await store.check();
        assert.equal(check.ok, false);
        assert.match(check.detail, /could not be reached/);
      } finally {
        await store.close();
      }
    });

    test('malformed options are configuration errors naming the field', () => {
      assert.throws(() => new MongoEventStore({ uri: 'http://example.org', database: 'x' }), { code: 'MONGO_URI_INVALID' });
      assert.throws(() => new MongoEventStore({ uri: 'mongodb://h/', database: 'a.b' }), { code: 'MONGO_DATABASE_INVALID' });
      assert.throws(() => new MongoEventStore({ uri: 'mongodb://h/', database: 'x', writeConcern: 0 }), { code: 'MONGO_WRITE_CONCERN_INVALID' });
    });
  });

  describe('forum snapshots and course structure', () => {
    let stores: MongoStores;
    let database: string;
    const courseKey = 'OrgX-CS101-2024_T1';

    before(async () => {
      database = newDatabase();
      stores = await openMongoStores({ uri: uriOf(server), database, collectionPrefix: 'pds_' });
    });

    after(async () => {
      await stores?.close();
    });

    function forumDocs(tag: string, n: number): Record<string, unknown>[] {
      return Array.from({ length: n }, (_, i) => ({
        _id: new ObjectId(),
        _type: i % 4 === 0 ? 'CommentThread' : 'Comment',
        course_id: 'course-v1:OrgX+CS101+2024_T1',
        author_id: String(100 + (i % 7)),
        body: `snapshot ${tag}`,
        created_at: new Date(Date.UTC(2024, 0, 1, 0, i)),
        votes: { up: [], down: [], up_count: 0, down_count: 0, count: 0, point: 0 },
      }));
    }

    async function readSnapshot(): Promise<{ tags: string[]; count: number } | null> {
      return stores.forum.readForumSnapshot(courseKey, async (c) => {
        const docs = await c.find({}, { projection: { body: 1 } }).toArray();
        return { tags: [...new Set(docs.map((d) => String(d.body)))], count: docs.length };
      });
    }

    async function loadSnapshot(tag: string, date: string, n: number) {
      const w = await stores.forum.beginForumSnapshot({ courseKey, snapshotDate: date, origin: origin(`${tag}.mongo`) });
      await w.write(forumDocs(tag, n));
      return w.commit();
    }

    async function forumCollections(): Promise<string[]> {
      return (await admin.db(database).listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => n.startsWith('pds_forum__'));
    }

    test('readers see the old snapshot until the switch, then the new one, never a mix; the old collection is dropped', async () => {
      assert.equal(await readSnapshot(), null);
      assert.deepEqual(await loadSnapshot('A', '2024-01-07', 200), { rows: 200, stale: false });
      const w = await stores.forum.beginForumSnapshot({ courseKey, snapshotDate: '2024-01-14', origin: origin('B.mongo') });
      const docsB = forumDocs('B', 200);
      await w.write(docsB.slice(0, 100));
      assert.deepEqual(await readSnapshot(), { tags: ['snapshot A'], count: 200 });
      await w.write([...docsB.slice(100), docsB[0]]); // a repeated document is kept once
      const seen: { tags: string[]; count: number }[] = [];
      let committed = false;
      const readers = (async () => {
        while (!committed) seen.push((await readSnapshot())!);
        seen.push((await readSnapshot())!);
      })();
      const result = await w.commit();
      committed = true;
      await readers;
      assert.deepEqual(result, { rows: 200, stale: false });
      for (const s of seen) assert.ok((s.tags[0] === 'snapshot A' || s.tags[0] === 'snapshot B') && s.tags.length === 1 && s.count === 200, JSON.stringify(s));
      assert.deepEqual(seen.at(-1), { tags: ['snapshot B'], count: 200 });
      const pointer = await stores.forum.currentForumSnapshot(courseKey);
      assert.deepEqual(await forumCollections(), [pointer!.collection]);
    });

    test('an older snapshot is stale: nothing switches and its collection is dropped', async () => {
      const before5 = await stores.forum.currentForumSnapshot(courseKey);
      assert.deepEqual(await loadSnapshot('old', '2023-12-31', 50), { rows: 200, stale: true });
      assert.equal((await stores.forum.currentForumSnapshot(courseKey))?.collection, before5?.collection);
      assert.deepEqual(await forumCollections(), [before5!.collection]);
    });

    test('a snapshot load that never switched is dropped when the next one begins; abort keeps the current one', async () => {
      const crashed = await stores.forum.beginForumSnapshot({ courseKey, snapshotDate: '2024-01-21', origin: origin('C.mongo') });
      await crashed.write(forumDocs('C', 30));
      assert.equal((await forumCollections()).length, 2);
      const aborted = await stores.forum.beginForumSnapshot({ courseKey, snapshotDate: '2024-01-21', origin: origin('D.mongo') });
      assert.equal((await forumCollections()).length, 2, 'the unswitched C collection is gone, D exists');
      await aborted.write(forumDocs('D', 10));
      await aborted.abort();
      assert.deepEqual(await readSnapshot(), { tags: ['snapshot B'], count: 200 });
      assert.equal((await forumCollections()).length, 1);
    });

    test('course structure: one document per course, replaced by newer snapshots, stale ones refused, keys read back', async () => {
      const structure = {
        'block-v1:OrgX+CS101+2024_T1+type@course+block@course': {
          category: 'course',
          children: ['block-v1:OrgX+CS101+2024_T1+type@chapter+block@c1'],
          metadata: { display_name: 'CS101', discussion_topics: { 'General. Q&A': { id: 'course' } } },
        },
        'block-v1:OrgX+CS101+2024_T1+type@chapter+block@c1': { category: 'chapter', children: [], metadata: { display_name: 'Week 1' } },
      };
      const blocks = courseStructureBlocks(structure);
      const cs = stores.courseStructure;
      const spec = { courseKey, courseId: 'course-v1:OrgX+CS101+2024_T1', blocks, origin: origin('cs.json') };
      assert.deepEqual(await cs.replaceCourseStructure({ ...spec, snapshotDate: '2024-01-14' }), { blocks: 2, stale: false });
      assert.deepEqual(await cs.replaceCourseStructure({ ...spec, snapshotDate: '2024-01-07', blocks: blocks.slice(0, 1) }), { blocks: 2, stale: true });
      assert.deepEqual(await cs.replaceCourseStructure({ ...spec, snapshotDate: '2024-01-21', blocks: blocks.slice(0, 1) }), { blocks: 1, stale: false });
      const stored = await cs.getCourseStructure(courseKey);
      assert.equal(stored?.snapshotDate, '2024-01-21');
      assert.deepEqual(stored?.blocks, blocks.slice(0, 1));
      assert.equal(await admin.db(database).collection('pds_course_structure').countDocuments({}), 1);
    });
  });

  describe('server stopped in the middle of a load', () => {
    let own: FerretDbServer;

    before(async () => {
      own = await startFerretDb();
    });

    after(async () => {
      await own?.stop();
    });

    test('the write fails with a retryable LoadError; after a restart the next load completes with exact counts', async () => {
      const database = 'pds_crash';
      const list = records(500, 18, '2024-03-08');
      const store = new MongoEventStore({ uri: uriOf(own), database });
      try {
        await store.init();
        const w = await store.beginEvents(origin('crash-day.log'));
        assert.deepEqual(await w.write(list.slice(0, 200)), { inserted: 200, duplicates: 0 });

        await own.kill();

        await assert.rejects(w.write(list.slice(200, 400)), (error: unknown) => {
          assert.ok(error instanceof LoadError);
          const cause = error.cause as { constructor: { name: string }; errorLabels?: string[]; errorResponse?: unknown; code?: unknown };
          assert.equal(error.code, 'MONGO_UNREACHABLE', `${cause?.constructor.name} ${String(cause?.code)} ${JSON.stringify(cause?.errorLabels)} ${(cause?.errorResponse as object | undefined)?.constructor.name}`);
          assert.equal(error.retryable, true);
          assert.equal(error.file, 'crash-day.log');
          return true;
        });
        await w.abort(); // the server is gone: must not throw
      } finally {
        await store.close();
      }

      // Same binary, same arguments, same data folder.
      await own.restart();

      const again = new MongoEventStore({ uri: uriOf(own), database });
      try {
        await again.init();
        assert.deepEqual(await loadFile(again, 'crash-day.log', list), { inserted: 500, duplicates: 0 });
        assert.deepEqual(await countsOf(again), expectedCounts(list));
        const client = new MongoClient(uriOf(own));
        try {
          assert.equal(await client.db(database).collection('events').countDocuments({}), 500);
        } finally {
          await client.close();
        }
      } finally {
        await again.close();
      }
    });
  });
});
