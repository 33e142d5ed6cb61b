/**
 * Child process of the events benchmark: the store's own limit, "what the rows cost to insert".
 *
 * Before the clock starts, it reads a daily log (gunzip → parse with the product's reader, as
 * built in `dist/`) and makes every row the store would get, with the product's own functions:
 * `eventRow` and the packed raw lines (`packLines`/`unpackLines`, so `raw` is bound as the line's
 * UTF-8 bytes, as the store thread binds it), `designateBatch` with `DailyActivity` for the designated
 * tables and `course_daily_activity`. The schema is made by `SqliteStore.init()` itself (same
 * DDL: STRICT tables, unique keys, indexes, WAL) and the inserts run on that store's own
 * connection, so page size, cache, synchronous and the checkpoint settings are the store thread's
 * (`autoCheckpoint: false`) and cannot drift.
 *
 * Timed: one `BEGIN IMMEDIATE`, the same `INSERT OR IGNORE` statements the store prepares (events
 * batch, then that batch's designated rows table by table, the daily summary last), `COMMIT`, then
 * the PASSIVE checkpoint the store thread runs after a commit. No thread, no messages, no
 * savepoints, no rowid tracking: what is left of a load when parsing costs nothing.
 *
 * Prints one JSON line: events read, events stored, rows, seconds (and the part of it spent
 * committing and checkpointing), the timed part's seconds on a CPU and waiting for a core (Linux),
 * peak RSS.
 *
 *   node bench/insert-child.mjs FILE.gz FILE_KEY DATABASE
 */
import { createReadStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream';
import { DailyActivity } from '../dist/core/domain/daily-activity.js';
import { designateBatch, eventRow } from '../dist/core/domain/designate.js';
import { getTableDef } from '../dist/core/domain/tables.js';
import { gunzipStream } from '../dist/core/formats/gunzip.js';
import { readLines } from '../dist/core/formats/lines.js';
import { readEvents } from '../dist/core/formats/tracking-log.js';
import { quoteIdent } from '../dist/core/stores/sqlite/sqlite-ddl.js';
import { packLines, unpackLines } from '../dist/core/stores/sqlite/packed-lines.js';
import { SqliteStore } from '../dist/core/stores/sqlite/sqlite-store.js';

const [file, fileKey, database] = process.argv.slice(2);
if (!file || !fileKey || !database) {
  process.stderr.write('usage: insert-child.mjs FILE.gz FILE_KEY DATABASE\n');
  process.exit(1);
}

// ---- Untimed: parse the log and build every row, batch by batch as the loader does.
const activity = new DailyActivity();
/** @type {{ table: string; rows: unknown[][] }[]} */
const writes = [];
let events = 0;
const gunzip = gunzipStream();
pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), gunzip, () => undefined);
for await (const batch of readEvents(readLines(gunzip), { fileName: fileKey })) {
  if (batch.events.length === 0) continue;
  events += batch.events.length;
  const byTable = designateBatch(batch.events, activity);
  const rows = batch.events.map((e) => eventRow(e, fileKey));
  writes.push({ table: 'events', rows: unpackLines(rows, packLines(batch.events, rows)) });
  for (const [table, tableRows] of byTable) writes.push({ table, rows: tableRows });
}
writes.push({ table: 'course_daily_activity', rows: activity.rows(fileKey) });

// ---- The schema and the connection: the store's own.
const store = new SqliteStore({ path: database, autoCheckpoint: false });
await store.init();
/** @type {import('better-sqlite3').Database | undefined} */
const db = store['db']; // the store's connection (private in TypeScript, reachable here on purpose)
if (!db?.open) throw new Error('insert-child: SqliteStore no longer keeps its connection in `db`; update bench/insert-child.mjs.');

const statements = new Map();
function insertFor(table) {
  let stmt = statements.get(table);
  if (!stmt) {
    // The store's statement (`insertStatement`): every defined column, INSERT OR IGNORE, and the
    // raw line cast to text from its bytes.
    const columns = getTableDef(table).columns.map((c) => c.name);
    const values = columns.map((c) => (table === 'events' && c === 'raw' ? 'CAST(? AS TEXT)' : '?'));
    stmt = db.prepare(`INSERT OR IGNORE INTO ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) VALUES (${values.join(', ')})`);
    statements.set(table, stmt);
  }
  return stmt;
}
for (const w of writes) insertFor(w.table);

/** This thread's seconds on a CPU and waiting for a core (Linux; undefined elsewhere). */
function threadTime() {
  try {
    const [run, wait] = readFileSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
    return { onCpu: run / 1e9, waiting: wait / 1e9 };
  } catch {
    return undefined;
  }
}

// ---- Timed: the inserts, the commit and the checkpoint.
let rowCount = 0;
const threadBefore = threadTime();
const started = process.hrtime.bigint();
db.exec('BEGIN IMMEDIATE');
for (const w of writes) {
  const stmt = insertFor(w.table);
  for (const row of w.rows) stmt.run(...row);
  rowCount += w.rows.length;
}
const inserted = process.hrtime.bigint();
db.exec('COMMIT');
db.pragma('wal_checkpoint(PASSIVE)');
const finished = process.hrtime.bigint();
const threadAfter = threadTime();
const timedThread = threadBefore && threadAfter ? { onCpu: threadAfter.onCpu - threadBefore.onCpu, waiting: threadAfter.waiting - threadBefore.waiting } : undefined;
const stored = db.prepare('SELECT COUNT(*) AS n FROM events').get().n;
await store.close();

const seconds = Number(finished - started) / 1e9;
const commitSeconds = Number(finished - inserted) / 1e9;
process.stdout.write(`${JSON.stringify({ events, stored, rows: rowCount, seconds, commitSeconds, timedThread, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
