/**
 * The store contract against SQLite files, plus what only SQLite has: WAL settings, the schema
 * version table, migrations, the summary views, the bookkeeping table and query guards.
 */
import { DailyActivity } from '../../core/domain/daily-activity.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { designate, eventRow } from '../../core/domain/designate.js';
import type { SqlValue } from '../../core/domain/records.js';
import { EVENT_TABLES, SUMMARY_VIEWS, WEEKLY_TABLES, getTableDef } from '../../core/domain/tables.js';
import { LoadError } from '../../core/errors/index.js';
import { SQLITE_SCHEMA_VERSION, SqliteStore } from '../../core/stores/sqlite/sqlite-store.js';
import { createTableSql } from '../../core/stores/sqlite/sqlite-ddl.js';
import { SCHEMA_VERSION_TABLE, SNAPSHOTS_TABLE } from '../../core/stores/sql-schema.js';
import { contractEvent, describeEventStoreContract, describeRelationalStoreContract } from '../support/store-contract.js';
import { temporarySqliteFiles } from '../support/sqlite-files.js';

const { newPath, sharedFile } = temporarySqliteFiles('pds-sqlite-');

describeRelationalStoreContract('sqlite', sharedFile((path) => new SqliteStore({ path })));
describeEventStoreContract('sqlite', sharedFile((path) => new SqliteStore({ path })));

async function openStore(path = newPath()): Promise<SqliteStore> {
  const store = new SqliteStore({ path });
  await store.init();
  return store;
}

describe('SqliteStore specifics', () => {
  test('the file is in WAL mode with synchronous=NORMAL and a busy timeout', async () => {
    const path = newPath();
    const store = await openStore(path);
    // journal_mode persists in the file; the other two are per connection, so ask the store's own.
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    raw.close();
    assert.deepEqual(await store.query('SELECT * FROM pragma_synchronous'), [{ synchronous: 1 }]);
    assert.ok(Number((await store.query<{ timeout: number }>('SELECT * FROM pragma_busy_timeout'))[0].timeout) >= 1000);
    await store.close();
    await store.close(); // idempotent
  });

  test('init creates every defined table and view, records the schema version, and is repeatable', async () => {
    const path = newPath();
    const store = await openStore(path);
    await store.init();
    const objects = await store.query<{ name: string; type: string }>("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')");
    const names = new Set(objects.map((o) => o.name));
    for (const def of [...WEEKLY_TABLES, ...EVENT_TABLES, ...SUMMARY_VIEWS]) assert.ok(names.has(def.name), def.name);
    const versions = await store.query<{ version: number }>(`SELECT version FROM ${SCHEMA_VERSION_TABLE}`);
    assert.deepEqual(versions.map((v) => v.version), Array.from({ length: SQLITE_SCHEMA_VERSION }, (_, i) => i + 1));
    await store.close();
  });

  test('snapshot tables start with course_key, snapshot_date, load_id; event tables are unique by (event day, event_id)', async () => {
    const store = await openStore();
    const info = await store.query<{ name: string; pk: number }>("SELECT name, pk FROM pragma_table_info('auth_user')");
    assert.deepEqual(info.slice(0, 4).map((c) => c.name), ['course_key', 'snapshot_date', 'load_id', 'id']);
    for (const def of EVENT_TABLES) {
      const columns = await store.query<{ name: string; pk: number; notnull: number }>(`SELECT name, pk, "notnull" FROM pragma_table_info('${def.name}')`);
      assert.deepEqual(columns.filter((c) => c.pk > 0), [], `${def.name} has no primary key`);
      assert.equal(columns.find((c) => c.name === 'event_id')?.notnull, 1);
      const [unique] = await store.query<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql LIKE 'CREATE UNIQUE%'", [def.name]);
      assert.match(unique.sql, /\(ifnull\(substr\("time", 1, 10\), ''\), "event_id"\)/, def.name);
    }
    await store.close();
    // The documented lookup of one event uses that index.
    const raw = new Database(store.path, { readonly: true });
    const plan = raw.prepare("EXPLAIN QUERY PLAN SELECT raw FROM events WHERE ifnull(substr(time, 1, 10), '') = ? AND event_id = ?").all('2024-03-01', 'x') as { detail: string }[];
    raw.close();
    assert.ok(plan.some((p) => /USING INDEX ix_events__event_day_event_id/.test(p.detail)), JSON.stringify(plan));
  });

  test('an event without a time is still loaded once', async () => {
    const store = await openStore();
    const e = { ...contractEvent(1, 'course-v1:T+NoTime+1', 'page_close'), time: null };
    for (const expected of [{ inserted: 1, duplicates: 0 }, { inserted: 0, duplicates: 1 }]) {
      const writer = await store.beginEvents({ fileKey: 'notime.log', loadId: `l-${expected.inserted}` });
      assert.deepEqual(await writer.write([e]), expected);
      await writer.commit();
    }
    await store.close();
  });

  test('migration 2 rebuilds event tables keyed by event_id alone, keeping their rows', async () => {
    const path = newPath();
    const store = await openStore(path);
    const writer = await store.beginEvents({ fileKey: 'old.log', loadId: 'l-old' });
    const events = [1, 2, 3].map((n) => contractEvent(n, 'course-v1:T+Old+1', 'play_video'));
    await writer.write(events);
    await writer.commit();
    await store.close();
    // Make the file as version 1 left it: events with a primary key on event_id.
    const raw = new Database(path);
    raw.exec('DROP VIEW events_detail');
    raw.exec(createTableSql({ ...getTableDef('events')!, name: 'events_v1' }).replace(/\n\) STRICT$/, ',\n  PRIMARY KEY ("event_id")\n) STRICT'));
    raw.exec('INSERT INTO events_v1 SELECT * FROM events; DROP TABLE events; ALTER TABLE events_v1 RENAME TO events');
    raw.prepare(`DELETE FROM ${SCHEMA_VERSION_TABLE} WHERE version = 2`).run();
    raw.close();

    const again = await openStore(path);
    const columns = await again.query<{ pk: number }>("SELECT pk FROM pragma_table_info('events')");
    assert.ok(columns.every((c) => c.pk === 0));
    assert.deepEqual(
      (await again.query<{ event_id: string }>('SELECT event_id FROM events ORDER BY line')).map((r) => r.event_id),
      events.map((e) => e.id),
    );
    const reload = await again.beginEvents({ fileKey: 'old.log', loadId: 'l-again' });
    assert.deepEqual(await reload.write(events), { inserted: 0, duplicates: 3 });
    await reload.commit();
    assert.equal((await again.query('SELECT * FROM events_detail')).length, 3, 'the views are back');
    const versions = await again.query<{ version: number }>(`SELECT version FROM ${SCHEMA_VERSION_TABLE} ORDER BY version`);
    assert.deepEqual(versions.map((v) => v.version), [1, 2]);
    await again.close();
  });

  test('migration 1 applies to an empty file, and a file from a newer version is refused', async () => {
    const path = newPath();
    const store = await openStore(path);
    await store.close();
    const raw = new Database(path);
    assert.ok(raw.prepare(`SELECT 1 FROM sqlite_master WHERE name = ?`).get(SNAPSHOTS_TABLE));
    raw.prepare(`INSERT INTO ${SCHEMA_VERSION_TABLE} (version, name, applied_at) VALUES (?, 'future', 'now')`).run(SQLITE_SCHEMA_VERSION + 1);
    raw.close();
    const newer = new SqliteStore({ path });
    await assert.rejects(newer.init(), (e: unknown) => e instanceof LoadError && e.code === 'SCHEMA_TOO_NEW');
    await newer.close();
  });

  test('a column added to a definition later is added to an existing table on init', async () => {
    const path = newPath();
    const store = await openStore(path);
    await store.close();
    const raw = new Database(path);
    // Simulate a file made by an older version that lacked `mode`.
    raw.exec('DROP VIEW course_enrollment_summary');
    raw.exec('DROP VIEW course_enrollments_by_mode');
    raw.exec('ALTER TABLE student_courseenrollment DROP COLUMN mode');
    raw.close();
    const again = await openStore(path);
    const cols = await again.query<{ name: string }>("SELECT name FROM pragma_table_info('student_courseenrollment')");
    assert.ok(cols.some((c) => c.name === 'mode'));
    assert.equal((await again.query("SELECT name FROM sqlite_master WHERE type = 'view' AND name = 'course_enrollment_summary'")).length, 1);
    await again.close();
  });

  test('the events and designated-rows units of one file become visible together, from another connection', async () => {
    const path = newPath();
    const store = await openStore(path);
    const other = await openStore(path);
    const video = getTableDef('video_events')!;
    const countOther = async () => {
      const [e] = await other.query<{ n: number }>('SELECT COUNT(*) AS n FROM events');
      const [v] = await other.query<{ n: number }>('SELECT COUNT(*) AS n FROM video_events');
      return [e.n, v.n];
    };
    // As the pipeline does: events writer first, keyed writer inside it, batches interleaved.
    const origin = { fileKey: 'x-edx-events-2024-03-01.log.gz', loadId: 'l1' };
    const events = await store.beginEvents(origin);
    const keyed = await store.beginKeyed(origin);
    for (let batch = 0; batch < 3; batch++) {
      const e = contractEvent(batch + 1, 'course-v1:P+1+1', 'play_video');
      await events.write([e]);
      await keyed.write(video, designate(e).map((d) => d.row));
    }
    await keyed.commit();
    assert.deepEqual(await countOther(), [0, 0], 'nothing visible while the events unit is open');
    await events.commit();
    assert.deepEqual(await countOther(), [3, 3]);

    // A failed file: both units abort, nothing of the attempt stays, the earlier load does.
    const events2 = await store.beginEvents({ ...origin, loadId: 'l2' });
    const keyed2 = await store.beginKeyed({ ...origin, loadId: 'l2' });
    const e4 = contractEvent(4, 'course-v1:P+1+1', 'play_video');
    await events2.write([e4]);
    await keyed2.write(video, designate(e4).map((d) => d.row));
    await keyed2.abort();
    await events2.abort();
    assert.deepEqual(await countOther(), [3, 3]);
    assert.equal((await store.query('SELECT COUNT(*) AS n FROM events'))[0].n, 3);
    await store.close();
    await other.close();
  });

  test('the snapshots table records each course and table with its date, rows and file', async () => {
    const store = await openStore();
    const def = getTableDef('student_courseenrollment')!;
    const w = await store.beginSnapshot({
      table: def,
      courseKey: 'X-C-R',
      snapshotDate: '2024-05-05',
      columns: def.columns.map((c) => c.name),
      origin: { fileKey: 'x-2024-05-05.zip!X-C-R-student_courseenrollment-prod-analytics.sql', loadId: 'load-1' },
    });
    await w.write([[1, 2, 'course-v1:X+C+R', null, 1, 'audit']]);
    await w.commit();
    const rows = await store.query(`SELECT table_name, course_key, snapshot_date, row_count, file_key, load_id FROM ${SNAPSHOTS_TABLE}`);
    assert.deepEqual(rows, [
      {
        table_name: 'student_courseenrollment',
        course_key: 'X-C-R',
        snapshot_date: '2024-05-05',
        row_count: 1,
        file_key: 'x-2024-05-05.zip!X-C-R-student_courseenrollment-prod-analytics.sql',
        load_id: 'load-1',
      },
    ]);
    await store.close();
  });

  test('course_enrollment_summary counts enrollments, active ones and active ones by mode', async () => {
    const store = await openStore();
    const def = getTableDef('student_courseenrollment')!;
    const rows: SqlValue[][] = [
      [1, 1, 'course-v1:S+1+1', null, 1, 'audit'],
      [2, 2, 'course-v1:S+1+1', null, 1, 'verified'],
      [3, 3, 'course-v1:S+1+1', null, 0, 'verified'],
      [4, 4, 'course-v1:S+1+1', null, 1, 'no-id-professional'],
      [5, 5, 'course-v1:S+1+1', null, 1, 'executive-education'],
    ];
    const w = await store.beginSnapshot({ table: def, courseKey: 'S-1-1', snapshotDate: '2024-01-01', columns: def.columns.map((c) => c.name), origin: { fileKey: 'f', loadId: 'l' } });
    await w.write(rows);
    await w.commit();
    const [summary] = await store.query('SELECT * FROM course_enrollment_summary WHERE course_id = ?', ['course-v1:S+1+1']);
    assert.deepEqual(summary, { course_id: 'course-v1:S+1+1', enrolled: 5, active: 4, audit: 1, honor: 0, verified: 1, professional: 1, credit: 0, masters: 0, other_modes: 1 });
    await store.close();
  });

  test('daily_course_activity sums the per-file counts of course_daily_activity, and re-loading a file adds nothing', async () => {
    const store = await openStore();
    const def = getTableDef('course_daily_activity')!;
    const day1 = new DailyActivity();
    for (const [i, user] of [[1, 1], [2, 1], [3, 2]] as const) {
      const e = contractEvent(i, 'course-v1:D+1+1', 'play_video', user);
      day1.add(e, designate(e));
    }
    const late = new DailyActivity();
    const e = contractEvent(4, 'course-v1:D+1+1', 'play_video', 3);
    late.add(e, designate(e));
    for (const [file, activity] of [['day1.log', day1], ['day2.log', late], ['day1.log', day1]] as const) {
      const w = await store.beginKeyed({ fileKey: file, loadId: `l-${file}` });
      await w.write(def, activity.rows(file));
      await w.commit();
    }
    const rows = await store.query('SELECT course_id, date, events, active_users, video_events FROM daily_course_activity WHERE course_id = ?', ['course-v1:D+1+1']);
    assert.deepEqual(rows, [{ course_id: 'course-v1:D+1+1', date: '2024-03-01', events: 4, active_users: 3, video_events: 4 }]);
    await store.close();
  });

  test('the summary views have the columns their definitions document', async () => {
    const store = await openStore();
    for (const view of SUMMARY_VIEWS) {
      const cols = await store.query<{ name: string }>(`SELECT name FROM pragma_table_info('${view.name}')`);
      assert.deepEqual(cols.map((c) => c.name), view.columns.map((c) => c.name), view.name);
    }
    await store.close();
  });

  test('events keep the raw line and the envelope fields', async () => {
    const store = await openStore();
    const e = contractEvent(9, 'course-v1:R+1+1', 'play_video', 5);
    const w = await store.beginEvents({ fileKey: 'x-edx-events-2024-03-01.log.gz', loadId: 'l' });
    await w.write([e]);
    await w.commit();
    const [row] = await store.query('SELECT * FROM events WHERE event_id = ?', [e.id]);
    const def = getTableDef('events')!;
    const expected = eventRow(e, 'x-edx-events-2024-03-01.log.gz');
    assert.deepEqual(def.columns.map((c) => row[c.name]), expected);
    assert.equal(row.raw, e.raw);
    assert.equal(row.time, '2024-03-01 10:00:09.123456');
    await store.close();
  });

  test('bigints beyond 2^53 are stored and read back exactly', async () => {
    const store = await openStore();
    const def = getTableDef('courseware_studentmodule')!;
    const w = await store.beginSnapshot({ table: def, courseKey: 'B-1-1', snapshotDate: '2024-01-01', columns: ['id', 'module_id'], origin: { fileKey: 'f', loadId: 'l' } });
    await w.write([['9223372036854775807', 'm']]);
    await w.commit();
    const [row] = await store.query('SELECT id FROM courseware_studentmodule WHERE course_key = ?', ['B-1-1']);
    assert.equal(row.id, '9223372036854775807');
    await store.close();
  });

  test('query() refuses statements that write', async () => {
    const store = await openStore();
    await assert.rejects(store.query('DELETE FROM events'), (e: unknown) => e instanceof LoadError && e.code === 'QUERY_NOT_READ_ONLY');
    await store.close();
  });

  test('table names that would reach the store\'s own tables are refused', async () => {
    const store = await openStore();
    const bad = { name: 'pds_snapshots', group: 'weekly' as const, doc: '', columns: [{ name: 'a', type: 'longtext' as const }] };
    await assert.rejects(
      store.beginSnapshot({ table: bad, courseKey: 'k', snapshotDate: '2024-01-01', columns: ['a'], origin: { fileKey: 'f', loadId: 'l' } }),
      (e: unknown) => e instanceof LoadError && e.code === 'TABLE_NAME_INVALID',
    );
    await store.close();
  });

  test('a write after commit is refused; a value of the wrong type fails as a LoadError without the value', async () => {
    const store = await openStore();
    const def = getTableDef('student_courseenrollment')!;
    const spec = { table: def, courseKey: 'W-1-1', snapshotDate: '2024-01-01', columns: def.columns.map((c) => c.name), origin: { fileKey: 'f.sql', loadId: 'l' } };
    const w = await store.beginSnapshot(spec);
    await w.commit();
    await assert.rejects(w.write([[1, 1, 'c', null, 1, 'audit']]), (e: unknown) => e instanceof LoadError && e.code === 'UNIT_FINISHED');

    const w2 = await store.beginSnapshot(spec);
    await assert.rejects(w2.write([['secret-value', 1, 'c', null, 1, 'audit']]), (e: unknown) => {
      assert.ok(e instanceof LoadError);
      assert.equal(e.dbCode, 'SQLITE_CONSTRAINT_DATATYPE');
      assert.equal(e.file, 'f.sql');
      assert.ok(!e.message.includes('secret-value'));
      return true;
    });
    await w2.abort();
    await store.close();
  });

  test('writes on a closed store fail clearly and leave the previous snapshot', async () => {
    const path = newPath();
    const store = await openStore(path);
    const def = getTableDef('student_courseenrollment')!;
    const spec = { table: def, courseKey: 'Z-1-1', snapshotDate: '2024-01-01', columns: def.columns.map((c) => c.name), origin: { fileKey: 'f', loadId: 'l' } };
    const w = await store.beginSnapshot(spec);
    await w.write([[1, 1, 'c', null, 1, 'audit']]);
    await store.close();
    await assert.rejects(w.commit(), (e: unknown) => e instanceof LoadError);
    await w.abort(); // still safe
    const reopened = await openStore(path);
    assert.equal((await reopened.query('SELECT * FROM student_courseenrollment WHERE course_key = ?', ['Z-1-1'])).length, 0);
    await reopened.close();
  });
});
