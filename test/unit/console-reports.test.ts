/**
 * Console reports (core/service/report-methods.ts): a run's files filtered and paged with totals
 * per status, one file's history across runs, its rejected lines read back from the quarantine
 * file with their text, and events per day in the data summary. Real SQLite files and ledgers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { environmentPaths } from '../../core/config/config-store.js';
import { CONSOLE_METHODS, ContractError } from '../../core/contract/methods.js';
import { PdsError } from '../../core/errors/index.js';
import { eventsPerDay } from '../../core/reports/events-per-day.js';
import { createConsoleHandlers, type ConsoleEngine } from '../../core/service/console-handlers.js';
import { SqliteStore } from '../../core/stores/sqlite/sqlite-store.js';
import { createConsoleHome, type ConsoleHome } from '../support/console-home.js';
import { recordEvents } from '../support/run-events.js';

let home: ConsoleHome;
let console: ConsoleEngine;
let firstRun: string;
let secondRun: string;
const LINES = 40;
/** File 1 has 7 lines that are not JSON; file 3 has 1. */
const BAD = { 1: 7, 3: 1 };

before(async () => {
  home = await createConsoleHome({ files: 4, linesPerFile: LINES, badLines: BAD });
  console = createConsoleHandlers({ home: home.home });
  const log = recordEvents(console);
  firstRun = (await console.startRun({ env: 'local', options: {} })).runId;
  await log.finished(firstRun);
  secondRun = (await console.startRun({ env: 'local', options: { retry: { keys: [home.keys[1]!] } } })).runId;
  await log.finished(secondRun);
  log.stop();
});

after(async () => {
  await console?.close();
  await home?.remove();
});

function codeOf(error: unknown): string | undefined {
  return error instanceof PdsError || error instanceof ContractError ? error.code : undefined;
}

describe('console reports', () => {
  test('getReport filters and pages a run’s files; counts are per status over the whole run', async () => {
    const all = await console.getReport({ env: 'local', runId: firstRun, filter: {}, offset: 0, limit: 100 });
    assert.equal(all.run.runId, firstRun);
    assert.equal(all.total, 4);
    assert.deepEqual(all.counts, { loaded: 2, partial: 2 });

    const partial = await console.getReport({ env: 'local', runId: firstRun, filter: { status: ['partial'] }, offset: 0, limit: 1 });
    assert.equal(partial.total, 2);
    assert.deepEqual(partial.counts, all.counts);
    assert.deepEqual(partial.files.map((f) => f.key), [home.keys[1]]);
    const next = await console.getReport({ env: 'local', runId: firstRun, filter: { status: ['partial'] }, offset: 1, limit: 1 });
    assert.deepEqual(next.files.map((f) => f.key), [home.keys[3]]);

    assert.equal((await console.getReport({ env: 'local', runId: firstRun, filter: { code: 'LINES_REJECTED', kind: ['event-log'] }, offset: 0, limit: 10 })).total, 2);
    assert.equal((await console.getReport({ env: 'local', runId: firstRun, filter: { kind: ['weekly-table'] }, offset: 0, limit: 10 })).total, 0);
    // The newest run by default.
    const newest = await console.getReport({ env: 'local', filter: {}, offset: 0, limit: 10 });
    assert.equal(newest.run.runId, secondRun);
    assert.deepEqual(newest.files.map((f) => f.key), [home.keys[1]]);
    await assert.rejects(console.getReport({ env: 'local', runId: 'nope', filter: {}, offset: 0, limit: 10 }), (e: unknown) => codeOf(e) === 'NO_SUCH_RUN');
  });

  test('getReport sorts the whole filtered run before paging, stably, in either direction', async () => {
    const pages = async (sort: { by: 'rejected' | 'key' | 'code'; dir: 'asc' | 'desc' }, filter = {}) => {
      const keys: string[] = [];
      for (let offset = 0; offset < 4; offset += 1) {
        const page = await console.getReport({ env: 'local', runId: firstRun, filter, sort, offset, limit: 1 });
        keys.push(...page.files.map((f) => f.key));
      }
      return keys;
    };
    const k = home.keys;
    // File 1 has 7 rejected lines, file 3 has 1: the first page holds the worst file of the whole run.
    assert.deepEqual(await pages({ by: 'rejected', dir: 'desc' }), [k[1], k[3], k[0], k[2]]);
    // Ties keep the order the run handled them in.
    assert.deepEqual(await pages({ by: 'rejected', dir: 'asc' }), [k[0], k[2], k[3], k[1]]);
    assert.deepEqual(await pages({ by: 'key', dir: 'desc' }), [...k].sort().reverse());
    // Files without a code come last whichever the direction.
    assert.deepEqual((await pages({ by: 'code', dir: 'desc' })).slice(2).sort(), [k[0], k[2]].sort());
    assert.deepEqual(await pages({ by: 'rejected', dir: 'asc' }, { status: ['partial'] }), [k[3], k[1]]);
    // Without a sort, the ledger's order; the direction defaults to ascending; unknown columns are refused.
    assert.deepEqual((await console.getReport({ env: 'local', runId: firstRun, filter: {}, offset: 0, limit: 10 })).files.map((f) => f.key), [k[0], k[1], k[2], k[3]]);
    assert.deepEqual(CONSOLE_METHODS.getReport.args.parse({ env: 'local', sort: { by: 'loaded' } }).sort, { by: 'loaded', dir: 'asc' });
    assert.equal(CONSOLE_METHODS.getReport.args.safeParse({ env: 'local', sort: { by: 'file' } }).success, false);
  });

  test('getFileHistory lists one file’s outcome in every run that touched it, newest first', async () => {
    const history = await console.getFileHistory({ env: 'local', key: home.keys[1]! });
    assert.deepEqual(history.entries.map((e) => e.runId), [secondRun, firstRun]);
    for (const e of history.entries) {
      assert.equal(e.result.status, 'partial');
      assert.equal(e.result.counts.rejected, BAD[1]);
    }
    assert.deepEqual((await console.getFileHistory({ env: 'local', key: home.keys[0]! })).entries.map((e) => e.runId), [firstRun]);
    await assert.rejects(console.getFileHistory({ env: 'local', key: 'never-seen.log' }), (e: unknown) => codeOf(e) === 'NO_SUCH_FILE');
  });

  test('getRejectedLines pages a file’s rejected lines with their number, code, reason and text', async () => {
    const key = home.keys[1]!;
    const page = await console.getRejectedLines({ env: 'local', key, offset: 2, limit: 3 });
    assert.equal(page.total, BAD[1]);
    // createConsoleHome puts bad line b at line 2b + 2 (1-based), text `not json b {`.
    assert.deepEqual(
      page.lines.map((l) => [l.line, l.code, l.text]),
      [2, 3, 4].map((b) => [2 * b + 2, 'JSON_INVALID', `not json ${b} {`]),
    );
    for (const l of page.lines) assert.ok(l.reason.length > 0);
    const last = await console.getRejectedLines({ env: 'local', key, offset: 6, limit: 100 });
    assert.deepEqual(last.lines.map((l) => l.text), ['not json 6 {']);
    assert.deepEqual(await console.getRejectedLines({ env: 'local', key: home.keys[0]!, offset: 0, limit: 10 }), { total: 0, lines: [] });
  });

  test('getDataSummary counts events per day and course over the days asked for', async () => {
    const summary = await console.getDataSummary({ env: 'local', days: 30 });
    assert.equal(summary.events.total, 4 * LINES);
    assert.deepEqual(
      summary.eventsPerDay,
      home.keys.map((_, i) => ({ day: `2026-01-0${i + 1}`, courseId: 'course-v1:OrgX+C1+2026', events: LINES })),
    );
    const lastTwo = await console.getDataSummary({ env: 'local', days: 2 });
    assert.deepEqual(lastTwo.eventsPerDay.map((d) => d.day), ['2026-01-03', '2026-01-04']);
  });

  test('every answer has the shape the contract declares', async () => {
    const env = 'local';
    const key = home.keys[1]!;
    const page = { offset: 0, limit: 10 };
    const answers = {
      getReport: await console.getReport({ env, filter: {}, ...page }),
      getFileHistory: await console.getFileHistory({ env, key }),
      getRejectedLines: await console.getRejectedLines({ env, key, ...page }),
      getStatus: await console.getStatus({ env }),
      getDataSummary: await console.getDataSummary({ env, days: 30 }),
      listRuns: await console.listRuns({ env, ...page }),
      listActiveRuns: await console.listActiveRuns({}),
      planRun: await console.planRun({ env, options: {} }),
    };
    for (const [name, value] of Object.entries(answers)) {
      const parsed = CONSOLE_METHODS[name as keyof typeof answers].result.safeParse(value);
      assert.ok(parsed.success, `${name}: ${parsed.success ? '' : parsed.error.message}`);
    }
  });

  test('events per day: a query that fails is an error naming the table, never 0 rows', async () => {
    // Opened first: opening reconciles the schema, and would put the column back.
    const store = new SqliteStore({ path: environmentPaths(home.home, 'local').sqlite });
    await store.init();
    const raw = new Database(store.path);
    try {
      raw.exec('ALTER TABLE course_daily_activity RENAME COLUMN events TO events_gone');
      await assert.rejects(eventsPerDay(store, 30), (e: unknown) => codeOf(e) === 'SUMMARY_QUERY_FAILED' && /course_daily_activity in the sqlite store/.test((e as Error).message));
    } finally {
      raw.exec('ALTER TABLE course_daily_activity RENAME COLUMN events_gone TO events');
      raw.close();
      await store.close();
    }
  });

  test('getStatus lists the files that need attention and the last run', async () => {
    const status = await console.getStatus({ env: 'local' });
    assert.deepEqual(status.files, { loaded: 2, partial: 2 });
    assert.deepEqual(status.flagged.map((f) => f.key).sort(), [home.keys[1], home.keys[3]].sort());
    assert.equal(status.lastRun?.runId, secondRun);
    assert.equal(status.lastRun?.origin, 'console');
  });
});
