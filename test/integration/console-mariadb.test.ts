/**
 * The console's data summary with a MariaDB relational target: events per day and course come
 * from course_daily_activity as they do in SQLite, and a count that fails is an error, never 0 rows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as mariadb from 'mariadb';
import { PdsError } from '../../core/errors/index.js';
import { eventsPerDay } from '../../core/reports/events-per-day.js';
import { createConsoleHandlers, type ConsoleEngine } from '../../core/service/console-handlers.js';
import { MariaDbStore } from '../../core/stores/mariadb/mariadb-store.js';
import { createConsoleHome, type ConsoleHome } from '../support/console-home.js';
import { mariaDbTargetLines, startMariaDb, type MariaDbServer } from '../support/mariadb.js';
import { recordEvents } from '../support/run-events.js';

const LINES = 30;
let db: MariaDbServer;
let home: ConsoleHome;
let console: ConsoleEngine;

describe('console data summary on MariaDB', { timeout: 300_000 }, () => {
  before(async () => {
    db = await startMariaDb();
    process.env.PDS_IT_CONSOLE_DB_PASSWORD = db.password;
    home = await createConsoleHome({
      files: 3,
      linesPerFile: LINES,
      targets: [...mariaDbTargetLines(db, 'PDS_IT_CONSOLE_DB_PASSWORD'), '      events: { type: sqlite }'],
    });
    console = createConsoleHandlers({ home: home.home });
    const log = recordEvents(console);
    const { runId } = await console.startRun({ env: 'local', options: {} });
    assert.equal((await log.finished(runId)).run.status, 'succeeded');
    log.stop();
  });

  after(async () => {
    await console?.close();
    await home?.remove();
    await db?.stop();
  });

  test('events per day and course, over the last days asked for', async () => {
    const summary = await console.getDataSummary({ env: 'local', days: 30 });
    assert.deepEqual(
      summary.eventsPerDay,
      home.keys.map((_, i) => ({ day: `2026-01-0${i + 1}`, courseId: 'course-v1:OrgX+C1+2026', events: LINES })),
    );
    assert.deepEqual((await console.getDataSummary({ env: 'local', days: 1 })).eventsPerDay.map((d) => d.day), ['2026-01-03']);
  });

  test('a count that fails is an error naming the table, not 0 rows', async () => {
    // Opened first: opening reconciles the schema, and would put the column back.
    const store = new MariaDbStore({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database });
    await store.init();
    const conn = await mariadb.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database });
    try {
      // A column the summary reads is gone: the query fails on an existing table.
      await conn.query('ALTER TABLE course_daily_activity RENAME COLUMN events TO events_gone');
      await assert.rejects(
        eventsPerDay(store, 30),
        (e: unknown) => e instanceof PdsError && e.code === 'SUMMARY_QUERY_FAILED' && /course_daily_activity in the mariadb store/.test(e.message),
      );
    } finally {
      await conn.query('ALTER TABLE course_daily_activity RENAME COLUMN events_gone TO events');
      await conn.end();
      await store.close();
    }
  });
});
