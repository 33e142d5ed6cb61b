import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { getTableDef } from '../../core/domain/tables.js';
import { LoadError } from '../../core/errors/index.js';
import { dataSummary } from '../../core/reports/data-summary.js';
import { SqliteStore } from '../../core/stores/sqlite/sqlite-store.js';

/** A store with one course of auth_user loaded; `damage` then changes the file behind its back. */
async function withLoadedStore(damage: (db: Database.Database) => void, check: (store: SqliteStore) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pds-summary-'));
  const path = join(dir, 'data.sqlite');
  const store = new SqliteStore({ path });
  try {
    await store.init();
    const def = getTableDef('auth_user')!;
    const enrollment = getTableDef('student_courseenrollment')!;
    for (const [table, columns, row] of [
      [def, ['id', 'username'], [1, 'amy']],
      [enrollment, ['id', 'user_id', 'course_id', 'is_active', 'mode'], [1, 1, 'course-v1:X+Y+Z', 1, 'audit']],
    ] as const) {
      const w = await store.beginSnapshot({ table, columns: [...columns], courseKey: 'X-Y-Z', snapshotDate: '2026-06-01', origin: { fileKey: `${table.name}.sql`, loadId: 'l1' } });
      await w.write([[...row]]);
      await w.commit();
    }
    const raw = new Database(path);
    try {
      damage(raw);
    } finally {
      raw.close();
    }
    await check(store);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('a table the store never created reads as nothing loaded; the other tables are counted', async () => {
  await withLoadedStore(
    (db) => db.exec('DROP TABLE auth_user'),
    async (store) => {
      const summary = await dataSummary(store, store);
      assert.equal(summary.tables.some((t) => t.table === 'auth_user'), false);
      assert.deepEqual(summary.tables.find((t) => t.table === 'student_courseenrollment'), { table: 'student_courseenrollment', group: 'weekly', rows: 1, courses: 1 });
    },
  );
});

test('a table that cannot be counted is reported with a code, the table and a hint, never as 0 rows', async () => {
  await withLoadedStore(
    // Changed by hand: the table is there, but without the columns pds counts by.
    (db) => db.exec('DROP TABLE auth_user; CREATE TABLE auth_user (x INTEGER)'),
    async (store) => {
      await assert.rejects(dataSummary(store, store), (error: unknown) => {
        assert.ok(error instanceof LoadError);
        assert.equal(error.code, 'SUMMARY_QUERY_FAILED');
        assert.match(error.message, /could not count the rows of auth_user in the sqlite store/);
        assert.equal(error.dbCode, 'SQLITE_ERROR');
        assert.ok(error.hint && error.hint.length > 0);
        return true;
      });
    },
  );
});
