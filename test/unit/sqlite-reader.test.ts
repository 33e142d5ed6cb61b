/**
 * The reports' read-only SQLite access (`SqliteReader`): a WAL reader beside a load — it reads the
 * last committed state while a unit of work is open, neither waits for the other, it refuses
 * writes, and a file that does not exist is "nothing loaded", never created.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { designate } from '../../core/domain/designate.js';
import { getTableDef } from '../../core/domain/tables.js';
import { LoadError } from '../../core/errors/index.js';
import { SqliteReader } from '../../core/stores/sqlite/sqlite-reader.js';
import { SqliteStore } from '../../core/stores/sqlite/sqlite-store.js';
import { contractEvent } from '../support/store-contract.js';
import { temporarySqliteFiles } from '../support/sqlite-files.js';

const { newPath } = temporarySqliteFiles('pds-sqlite-reader-');

describe('SqliteReader', () => {
  test('reads the committed state while a load holds its transaction open, without blocking it', async () => {
    const path = newPath();
    const store = new SqliteStore({ path, busyTimeoutMs: 100 });
    await store.init();
    const video = getTableDef('video_events')!;
    const origin = { fileKey: 'x-edx-events-2024-03-01.log.gz', loadId: 'l1' };
    const first = await store.beginKeyed(origin);
    await first.write(video, designate(contractEvent(1, 'course-v1:R+1+1', 'play_video')).map((d) => d.row));
    await first.commit();

    const reader = SqliteReader.open(path, { busyTimeoutMs: 100 });
    const count = async () => Number((await reader.query<{ n: number }>('SELECT COUNT(*) AS n FROM video_events'))[0]!.n);
    assert.equal(await count(), 1);
    // A load in progress: its rows are invisible to the report, and the report does not wait.
    const second = await store.beginKeyed({ ...origin, loadId: 'l2' });
    await second.write(video, designate(contractEvent(2, 'course-v1:R+1+1', 'play_video')).map((d) => d.row));
    assert.equal(await count(), 1);
    // The load commits while the reader's connection stays open (and has just read).
    await second.commit();
    assert.equal(await count(), 2);
    assert.equal(reader.dialect, 'sqlite');
    assert.ok((await reader.tableNames()).includes('weekly_course_activity'));
    await reader.close();
    await store.close();
  });

  test('refuses anything but a read, and a missing file is NOTHING_LOADED without creating it', async () => {
    const path = newPath();
    const store = new SqliteStore({ path });
    await store.init();
    await store.close();
    const reader = SqliteReader.open(path);
    await assert.rejects(reader.query('DELETE FROM video_events'), (e: unknown) => e instanceof LoadError);
    await reader.close();
    const missing = newPath();
    assert.throws(() => SqliteReader.open(missing), (e: unknown) => e instanceof LoadError && e.code === 'NOTHING_LOADED' && e.message.includes(missing));
    assert.equal(existsSync(missing), false);
  });
});
