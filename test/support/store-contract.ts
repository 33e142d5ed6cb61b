/**
 * One behaviour suite for every store engine (docs/architecture.md §5: "one suite run unchanged
 * against every store engine"). `test/unit/sqlite-store.test.ts` runs it against SQLite
 * files; the integration tests run it against MariaDB and MongoDB servers.
 *
 * `makeStore()` must return a NEW, not yet initialised store instance connected to ONE target
 * shared by the whole suite (the same file, database or MongoDB database each call): the suite
 * opens a second instance to read while the first one is loading. Tests use course keys and ids
 * unique to the run, so a target that already holds data is fine. `drop()`, when given, removes
 * the target's data at the end; it is called once, on one instance.
 *
 * What the suite requires of `RelationalStore.query()` (engine-neutral SQL is used: unquoted
 * non-reserved names, `?` placeholders): datetimes come back as `YYYY-MM-DD HH:MM:SS[.ffffff]`
 * strings (a zero fraction may be spelled out), dates as `YYYY-MM-DD` strings or Dates,
 * integers as numbers, bigints as numbers, bigint or strings with every digit kept.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { EventRecord, SqlValue } from '../../core/domain/records.js';
import type { ColumnType, TableDef } from '../../core/domain/schema-types.js';
import { getTableDef, textTableDef } from '../../core/domain/tables.js';
import type { EventStore, LoadOrigin, RelationalStore, SnapshotSpec } from '../../core/stores/ports.js';

/** A store under test with an optional way to remove the target's data afterwards. */
export type Droppable<T> = T & { drop?(): Promise<void> };

/** Short random tag so that course keys and ids are unique to one run of the suite. */
function runTag(): string {
  return randomBytes(4).toString('hex');
}

function origin(tag: string): LoadOrigin {
  return { fileKey: `contract/${tag}.sql`, loadId: `load-${tag}-${randomBytes(4).toString('hex')}` };
}

// ---------------------------------------------------------------------------------------------
// Value comparison across engines.

function canonDatetime(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString().replace('T', ' ').replace('Z', '').replace(/\.000$/, '');
  const s = String(v);
  return s.replace(/\.0{6}$/, '');
}

function canonDate(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  // A driver that returns DATE as a Date builds it at local midnight: read the local fields.
  if (v instanceof Date) return `${v.getFullYear()}-${String(v.getMonth() + 1).padStart(2, '0')}-${String(v.getDate()).padStart(2, '0')}`;
  return String(v).slice(0, 10);
}

/** A read value in a form equal across engines for the given logical type. */
function canon(type: ColumnType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'int':
    case 'bigint':
    case 'bool':
      return String(v);
    case 'double':
      return Number(v);
    case 'datetime':
      return canonDatetime(v);
    case 'date':
      return canonDate(v);
    default:
      return typeof v === 'string' ? v : String(v);
  }
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

/** A table holding one column of every logical type (created by the store on first load). */
const VALUES_TABLE: TableDef = {
  name: 'contract_values',
  group: 'weekly',
  doc: 'Store contract: one column of every type.',
  columns: [
    { name: 'id', type: 'int' },
    { name: 'big_value', type: 'bigint' },
    { name: 'ratio', type: 'double' },
    { name: 'flag', type: 'bool' },
    { name: 'label', type: 'varchar', length: 20 },
    { name: 'note', type: 'text' },
    { name: 'body', type: 'longtext' },
    { name: 'at_time', type: 'datetime' },
    { name: 'day_date', type: 'date' },
  ],
  indexes: [['id']],
};

/** About 300 KB of JSON text with escapes and 4-byte characters. */
function bigJson(): string {
  const items = Array.from({ length: 3000 }, (_, i) => ({ i, text: `line ${i}\t"quoted" \\ back\nslash 😀`, ok: i % 2 === 0 }));
  return JSON.stringify({ items });
}

function valueRows(): SqlValue[][] {
  return [
    [1, 42, 0.84, 1, 'plain', 'short text', '{"a": 1}', '2014-05-16 18:52:20.302431', '2014-05-16'],
    [2, '9007199254740993', -1.5e-7, 0, '', '', '', '2013-03-19 17:21:07', '1999-12-31'],
    [3, null, null, null, null, null, null, null, null],
    [4, -9007199254740991, 3, 1, '𝔘𝔫𝔦😀𠜎 ünï', 'emoji 😀 and CJK ext B 𠜎', bigJson(), '2024-02-29 23:59:59.000001', '2024-02-29'],
  ];
}

function snapshotSpec(table: TableDef, courseKey: string, snapshotDate: string, columns = table.columns.map((c) => c.name)): SnapshotSpec {
  return { table, courseKey, snapshotDate, columns, origin: origin(courseKey) };
}

/** Rows of `student_courseenrollment` for a course: `n` learners, ids from `firstId`. */
function enrollmentRows(courseId: string, n: number, firstId: number): SqlValue[][] {
  return Array.from({ length: n }, (_, i) => [firstId + i, 1000 + firstId + i, courseId, '2024-01-02 03:04:05', 1, i % 2 === 0 ? 'audit' : 'verified']);
}

function videoRow(eventId: string, courseId: string, userId: number): SqlValue[] {
  const def = getTableDef('video_events')!;
  const values: Record<string, SqlValue> = {
    event_id: eventId,
    time: '2024-03-01 10:00:00.5',
    course_id: courseId,
    user_id: userId,
    username: `learner${userId}`,
    event_type: 'play_video',
    video_id: 'block-v1:X+Y+Z+type@video+block@abc',
    code: 'html5',
    current_position: 12.5,
    event_source: 'browser',
  };
  return def.columns.map((c) => values[c.name] ?? null);
}

/** A tracking-log event built the way the parser builds one (id = sha256 of the raw line). */
export function contractEvent(line: number, courseId: string, type: string, userId = 7): EventRecord {
  const envelope = {
    username: `learner${userId}`,
    event_type: type,
    event_source: 'server',
    time: `2024-03-01T10:00:${String(line % 60).padStart(2, '0')}.123456+00:00`,
    context: { course_id: courseId, user_id: userId, org_id: 'X' },
    event: { line, text: 'héllo 😀' },
    host: 'courses.edx.org',
  };
  const raw = JSON.stringify(envelope);
  return {
    id: createHash('sha256').update(raw).digest('hex'),
    line,
    raw,
    envelope,
    time: `2024-03-01T10:00:${String(line % 60).padStart(2, '0')}.123456Z`,
    eventType: type,
    name: null,
    canonicalType: type,
    eventSource: 'server',
    username: `learner${userId}`,
    userId,
    courseId,
    orgId: 'X',
    host: 'courses.edx.org',
    event: envelope.event,
    eventParsed: envelope.event,
    repairs: [],
  };
}

/** Closes every store a suite opened, then removes the target's data through one of them. */
async function closeAndDrop(opened: Droppable<{ close(): Promise<void> }>[]): Promise<void> {
  const dropper = opened.find((s) => typeof s.drop === 'function');
  for (const s of opened) await s.close();
  if (dropper?.drop) await dropper.drop();
}

// ---------------------------------------------------------------------------------------------
// Relational store contract.

/** Behaviour every `RelationalStore` must show (weekly snapshots, keyed rows, reads). */
export function describeRelationalStoreContract(name: string, makeStore: () => Promise<Droppable<RelationalStore>>): void {
  describe(`RelationalStore contract: ${name}`, () => {
    const opened: Droppable<RelationalStore>[] = [];
    let store: Droppable<RelationalStore>;
    let reader: Droppable<RelationalStore>;
    const tag = runTag();
    const enrollment = getTableDef('student_courseenrollment')!;

    async function open(): Promise<Droppable<RelationalStore>> {
      const s = await makeStore();
      opened.push(s);
      await s.init();
      return s;
    }

    async function courseRows(courseKey: string, table = 'student_courseenrollment'): Promise<Record<string, unknown>[]> {
      return reader.query(`SELECT * FROM ${table} WHERE course_key = ? ORDER BY id`, [courseKey]);
    }

    async function loadEnrollment(courseKey: string, date: string, rows: SqlValue[][]) {
      const w = await store.beginSnapshot(snapshotSpec(enrollment, courseKey, date));
      await w.write(rows);
      return w.commit();
    }

    before(async () => {
      store = await open();
      reader = await open();
    });

    after(() => closeAndDrop(opened));

    test('init() is idempotent', async () => {
      await store.init();
      await store.init();
    });

    test('loads a snapshot whose values round-trip (NULL vs empty, 4-byte unicode, microseconds, bigints, big JSON text)', async () => {
      const courseKey = `${tag}-values`;
      const rows = valueRows();
      const w = await store.beginSnapshot(snapshotSpec(VALUES_TABLE, courseKey, '2024-03-03'));
      await w.write(rows.slice(0, 2));
      await w.write(rows.slice(2));
      const result = await w.commit();
      assert.deepEqual(result, { rows: rows.length, replacedRows: 0, stale: false });

      const read = await courseRows(courseKey, VALUES_TABLE.name);
      assert.equal(read.length, rows.length);
      read.forEach((r, i) => {
        VALUES_TABLE.columns.forEach((c, j) => {
          assert.deepEqual(canon(c.type, r[c.name]), canon(c.type, rows[i][j]), `row ${i + 1}, column ${c.name}`);
        });
        assert.equal(canonDate(r.snapshot_date), '2024-03-03');
        assert.equal(r.course_key, courseKey);
      });
      // NULL and '' stay distinct.
      assert.equal(read[1].label, '');
      assert.equal(read[2].label, null);
      assert.equal(read[3].body, rows[3][6]);
    });

    test('an aborted load leaves the previous snapshot in place', async () => {
      const courseKey = `${tag}-abort`;
      await loadEnrollment(courseKey, '2024-01-07', enrollmentRows('course-v1:A+abort+1', 2, 1));
      const w = await store.beginSnapshot(snapshotSpec(enrollment, courseKey, '2024-01-14'));
      await w.write(enrollmentRows('course-v1:A+abort+1', 5, 100));
      await w.abort();
      await w.abort(); // safe to repeat
      const read = await courseRows(courseKey);
      assert.deepEqual(read.map((r) => Number(r.id)), [1, 2]);
      assert.deepEqual(read.map((r) => canonDate(r.snapshot_date)), ['2024-01-07', '2024-01-07']);
    });

    test('replacing one course\'s snapshot leaves other courses untouched', async () => {
      const a = `${tag}-repl-a`;
      const b = `${tag}-repl-b`;
      await loadEnrollment(a, '2024-01-07', enrollmentRows('course-v1:A+a+1', 3, 1));
      await loadEnrollment(b, '2024-01-07', enrollmentRows('course-v1:A+b+1', 2, 1));
      const result = await loadEnrollment(a, '2024-01-14', enrollmentRows('course-v1:A+a+1', 4, 10));
      assert.deepEqual(result, { rows: 4, replacedRows: 3, stale: false });
      assert.deepEqual((await courseRows(a)).map((r) => Number(r.id)), [10, 11, 12, 13]);
      assert.deepEqual((await courseRows(b)).map((r) => Number(r.id)), [1, 2]);
    });

    test('an older snapshot is refused as stale and changes nothing', async () => {
      const courseKey = `${tag}-stale`;
      await loadEnrollment(courseKey, '2024-02-01', enrollmentRows('course-v1:A+s+1', 2, 1));
      const result = await loadEnrollment(courseKey, '2024-01-01', enrollmentRows('course-v1:A+s+1', 5, 50));
      assert.equal(result.stale, true);
      assert.equal(result.rows, 2);
      const read = await courseRows(courseKey);
      assert.deepEqual(read.map((r) => Number(r.id)), [1, 2]);
      assert.equal(canonDate(read[0].snapshot_date), '2024-02-01');
    });

    test('re-loading the same snapshot is idempotent (same rows, not doubled)', async () => {
      const courseKey = `${tag}-rerun`;
      const rows = enrollmentRows('course-v1:A+r+1', 3, 1);
      await loadEnrollment(courseKey, '2024-01-07', rows);
      const again = await loadEnrollment(courseKey, '2024-01-07', rows);
      assert.deepEqual(again, { rows: 3, replacedRows: 3, stale: false });
      assert.deepEqual((await courseRows(courseKey)).map((r) => Number(r.id)), [1, 2, 3]);
    });

    test('an empty snapshot replaces the previous rows with none', async () => {
      const courseKey = `${tag}-empty`;
      await loadEnrollment(courseKey, '2024-01-07', enrollmentRows('course-v1:A+e+1', 2, 1));
      const w = await store.beginSnapshot(snapshotSpec(enrollment, courseKey, '2024-01-14'));
      assert.deepEqual(await w.commit(), { rows: 0, replacedRows: 2, stale: false });
      assert.equal((await courseRows(courseKey)).length, 0);
    });

    test('a reader on another instance sees the old snapshot until commit, then the new one', async () => {
      const courseKey = `${tag}-swap`;
      await loadEnrollment(courseKey, '2024-01-07', enrollmentRows('course-v1:A+w+1', 2, 1));
      const w = await store.beginSnapshot(snapshotSpec(enrollment, courseKey, '2024-01-14'));
      await w.write(enrollmentRows('course-v1:A+w+1', 3, 20));
      const during = await courseRows(courseKey);
      assert.deepEqual(during.map((r) => Number(r.id)), [1, 2], 'old rows, never a mix');
      await w.commit();
      assert.deepEqual((await courseRows(courseKey)).map((r) => Number(r.id)), [20, 21, 22]);
    });

    test('columns not in the definition (drift) are kept and readable', async () => {
      const courseKey = `${tag}-drift`;
      const columns = [...enrollment.columns.map((c) => c.name), 'added_later_col'];
      const w = await store.beginSnapshot(snapshotSpec(enrollment, courseKey, '2024-01-07', columns));
      await w.write(enrollmentRows('course-v1:A+d+1', 2, 1).map((r, i) => [...r, i === 0 ? 'extra 😀' : null]));
      await w.commit();
      const read = await reader.query('SELECT id, added_later_col FROM student_courseenrollment WHERE course_key = ? ORDER BY id', [courseKey]);
      assert.deepEqual(read.map((r) => r.added_later_col), ['extra 😀', null]);
    });

    test('a table the schema does not document is created with text columns', async () => {
      const courseKey = `${tag}-newtable`;
      const def = textTableDef('contract_new_table', ['id', 'some_value']);
      const w = await store.beginSnapshot(snapshotSpec(def, courseKey, '2024-01-07'));
      await w.write([['1', 'a'], ['2', null]]);
      await w.commit();
      const read = await reader.query('SELECT id, some_value FROM contract_new_table WHERE course_key = ? ORDER BY id', [courseKey]);
      assert.deepEqual(read.map((r) => [String(r.id), r.some_value]), [['1', 'a'], ['2', null]]);
    });

    test('keyed rows are idempotent: a second load inserts nothing and counts duplicates', async () => {
      const video = getTableDef('video_events')!;
      const course = `course-v1:K+${tag}+1`;
      const rows = [1, 2, 3].map((i) => videoRow(`${tag}-k${i}`, course, i));
      const first = await store.beginKeyed(origin(`${tag}-keyed`));
      assert.deepEqual(await first.write(video, rows), { inserted: 3, duplicates: 0 });
      await first.commit();
      const second = await store.beginKeyed(origin(`${tag}-keyed`));
      assert.deepEqual(await second.write(video, [...rows, videoRow(`${tag}-k4`, course, 4), videoRow(`${tag}-k4`, course, 4)]), { inserted: 1, duplicates: 4 });
      await second.commit();
      const read = await reader.query('SELECT event_id, current_position, user_id FROM video_events WHERE course_id = ? ORDER BY event_id', [course]);
      assert.equal(read.length, 4);
      assert.equal(Number(read[0].current_position), 12.5);
    });

    test('an aborted keyed unit leaves none of its rows', async () => {
      const video = getTableDef('video_events')!;
      const course = `course-v1:KA+${tag}+1`;
      const w = await store.beginKeyed(origin(`${tag}-keyed-abort`));
      await w.write(video, [videoRow(`${tag}-ka1`, course, 1), videoRow(`${tag}-ka2`, course, 2)]);
      await w.abort();
      const read = await reader.query('SELECT event_id FROM video_events WHERE course_id = ?', [course]);
      assert.equal(read.length, 0);
    });

    test('units open at the same time are independent: aborting one keeps the other', async () => {
      const video = getTableDef('video_events')!;
      const courseKey = `${tag}-units`;
      const course = `course-v1:U+${tag}+1`;
      await loadEnrollment(courseKey, '2024-01-07', enrollmentRows(course, 1, 1));

      // Snapshot committed, interleaved keyed unit aborted.
      const keyed = await store.beginKeyed(origin(`${tag}-u1`));
      const snap = await store.beginSnapshot(snapshotSpec(enrollment, courseKey, '2024-01-14'));
      await keyed.write(video, [videoRow(`${tag}-u1`, course, 1)]);
      await snap.write(enrollmentRows(course, 2, 10));
      await keyed.write(video, [videoRow(`${tag}-u2`, course, 2)]);
      await snap.write(enrollmentRows(course, 1, 12));
      await keyed.abort();
      await snap.commit();
      assert.deepEqual((await courseRows(courseKey)).map((r) => Number(r.id)), [10, 11, 12]);
      assert.equal((await reader.query('SELECT event_id FROM video_events WHERE course_id = ?', [course])).length, 0);

      // Keyed unit committed, interleaved snapshot aborted (opened in the other order).
      const snap2 = await store.beginSnapshot(snapshotSpec(enrollment, courseKey, '2024-01-21'));
      const keyed2 = await store.beginKeyed(origin(`${tag}-u2`));
      await snap2.write(enrollmentRows(course, 2, 30));
      await keyed2.write(video, [videoRow(`${tag}-u3`, course, 3)]);
      await snap2.write(enrollmentRows(course, 1, 40));
      await keyed2.commit();
      await snap2.abort();
      assert.deepEqual((await courseRows(courseKey)).map((r) => Number(r.id)), [10, 11, 12]);
      const events = await reader.query('SELECT event_id FROM video_events WHERE course_id = ?', [course]);
      assert.deepEqual(events.map((r) => r.event_id), [`${tag}-u3`]);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Event store contract.

/** Behaviour every `EventStore` must show (idempotent, all-or-nothing loads of event files). */
export function describeEventStoreContract(name: string, makeStore: () => Promise<Droppable<EventStore>>): void {
  describe(`EventStore contract: ${name}`, () => {
    const opened: Droppable<EventStore>[] = [];
    let store: Droppable<EventStore>;
    const tag = runTag();

    async function open(): Promise<Droppable<EventStore>> {
      const s = await makeStore();
      opened.push(s);
      await s.init();
      return s;
    }

    /** Counts for the given course, as `type → count`. */
    async function counts(courseId: string): Promise<Record<string, number>> {
      const out: Record<string, number> = {};
      for (const r of await store.countByCourseAndType()) {
        if (r.courseId === courseId) out[r.type ?? '(none)'] = Number(r.count);
      }
      return out;
    }

    before(async () => {
      store = await open();
    });

    after(() => closeAndDrop(opened));

    test('init() is idempotent', async () => {
      await store.init();
    });

    test('loads events and counts them by course and canonical type', async () => {
      const course = `course-v1:E+${tag}+load`;
      const events = [1, 2, 3].map((i) => contractEvent(i, course, 'play_video')).concat([contractEvent(4, course, 'problem_check')]);
      const w = await store.beginEvents(origin(`${tag}-load`));
      assert.deepEqual(await w.write(events), { inserted: 4, duplicates: 0 });
      await w.commit();
      assert.deepEqual(await counts(course), { play_video: 3, problem_check: 1 });
    });

    test('a second load of the same events inserts nothing and counts duplicates', async () => {
      const course = `course-v1:E+${tag}+rerun`;
      const events = [1, 2, 3, 4, 5].map((i) => contractEvent(i, course, 'seq_goto'));
      const w1 = await store.beginEvents(origin(`${tag}-rerun`));
      await w1.write(events);
      await w1.commit();
      const w2 = await store.beginEvents(origin(`${tag}-rerun`));
      assert.deepEqual(await w2.write(events.slice(0, 2)), { inserted: 0, duplicates: 2 });
      assert.deepEqual(await w2.write(events.slice(2)), { inserted: 0, duplicates: 3 });
      await w2.commit();
      assert.deepEqual(await counts(course), { seq_goto: 5 });
    });

    test('a line repeated inside one file is stored once', async () => {
      const course = `course-v1:E+${tag}+dup`;
      const e = contractEvent(1, course, 'page_close');
      const w = await store.beginEvents(origin(`${tag}-dup`));
      assert.deepEqual(await w.write([e, e, contractEvent(2, course, 'page_close')]), { inserted: 2, duplicates: 1 });
      await w.commit();
      assert.deepEqual(await counts(course), { page_close: 2 });
    });

    test('an aborted writer leaves nothing of its attempt while earlier loads stay', async () => {
      const course = `course-v1:E+${tag}+abort`;
      const earlier = [1, 2].map((i) => contractEvent(i, course, 'load_video'));
      const w1 = await store.beginEvents(origin(`${tag}-abort-1`));
      await w1.write(earlier);
      await w1.commit();

      const w2 = await store.beginEvents(origin(`${tag}-abort-2`));
      const result = await w2.write([...earlier, contractEvent(3, course, 'load_video'), contractEvent(4, course, 'pause_video')]);
      assert.deepEqual(result, { inserted: 2, duplicates: 2 });
      await w2.abort();
      await w2.abort(); // safe to repeat
      assert.deepEqual(await counts(course), { load_video: 2 });
    });
  });
}
