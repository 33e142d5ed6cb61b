/**
 * Learners who left the weekly snapshot while their events stayed: edX deleted them (a retirement
 * that removed the account rather than renaming it `retired__user_…`), yet the tracking logs pds
 * already loaded still carry them. A full snapshot replaces the previous one of its course
 * (docs/architecture.md), so nothing in the relational tables remembers that they were there; a
 * bookkeeping table does: `pds_snapshot_learners (user_id)`, the user ids of `auth_user` as of the
 * last check, in the relational store beside the tables it summarises.
 *
 * After each run the ids recorded there but held by no course's `auth_user` any more are departed
 * when the event store or a designated event table still has rows of theirs; the others (nothing
 * left of them) leave the record. That look at the events happens once per learner, the run that
 * finds them gone (the raw `events` table of SQLite has no index on `user_id`: a scan): the
 * record marks them departed (`departed_at`), and they are reported after every run until they
 * are erased (erasure removes their row like any other row naming them) or come back in a later
 * snapshot. A purge of old snapshot rows (`pds purge`) is not a departure: the learners whose last
 * `auth_user` rows a purge removed leave the record with them.
 */
import { DESIGNATED_TABLES } from '../domain/tables.js';
import type { SqlValue } from '../domain/records.js';
import { quoteIdent, type ErasureTargets, type SqlTarget } from './erasure-targets.js';

/** The bookkeeping table of the learners last seen in `auth_user`. */
export const SNAPSHOT_LEARNERS_TABLE = 'pds_snapshot_learners';

const CHUNK = 500;

function chunks<T>(values: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += CHUNK) out.push(values.slice(i, i + CHUNK));
  return out;
}

function ids(rows: readonly { id: unknown }[]): Set<number> {
  const out = new Set<number>();
  for (const r of rows) {
    const n = Number(r.id);
    if (r.id !== null && Number.isSafeInteger(n)) out.add(n);
  }
  return out;
}

/** `col IN (?, ?, …)` over one chunk. */
function inList(db: SqlTarget, column: string, values: readonly SqlValue[]): string {
  return `${quoteIdent(db.dialect, column)} IN (${values.map(() => '?').join(', ')})`;
}

async function snapshotIds(db: SqlTarget): Promise<Set<number>> {
  return ids(await db.all<{ id: unknown }>(`SELECT DISTINCT id FROM ${quoteIdent(db.dialect, 'auth_user')}`));
}

async function createRecord(db: SqlTarget): Promise<void> {
  await db.run(
    db.dialect === 'sqlite'
      ? `CREATE TABLE IF NOT EXISTS ${quoteIdent(db.dialect, SNAPSHOT_LEARNERS_TABLE)} (user_id INTEGER PRIMARY KEY, departed_at TEXT)`
      : `CREATE TABLE IF NOT EXISTS ${quoteIdent(db.dialect, SNAPSHOT_LEARNERS_TABLE)} (user_id BIGINT PRIMARY KEY, departed_at CHAR(24) NULL) CHARACTER SET ascii`,
  );
}

/** Of `candidates`, those the event store or a designated event table still has rows of. */
async function withEvents(targets: ErasureTargets, candidates: readonly number[]): Promise<Set<number>> {
  const found = new Set<number>();
  const rel = targets.relational;
  const tables = new Set(await rel.tables());
  const left = (): number[] => candidates.filter((id) => !found.has(id));
  for (const table of DESIGNATED_TABLES) {
    if (!tables.has(table) || left().length === 0) continue;
    for (const part of chunks(left())) {
      for (const id of ids(await rel.all<{ id: unknown }>(`SELECT DISTINCT user_id AS id FROM ${quoteIdent(rel.dialect, table)} WHERE ${inList(rel, 'user_id', part)}`, part))) found.add(id);
    }
  }
  if (left().length > 0 && targets.sqlEvents && (await targets.sqlEvents.tables()).includes('events')) {
    const ev = targets.sqlEvents;
    for (const part of chunks(left())) for (const id of ids(await ev.all<{ id: unknown }>(`SELECT DISTINCT user_id AS id FROM events WHERE ${inList(ev, 'user_id', part)}`, part))) found.add(id);
  }
  if (left().length > 0 && targets.mongo) {
    const events = targets.mongo.db.collection(targets.mongo.name('events'));
    for (const part of chunks(left())) for (const id of await events.distinct('_user', { _user: { $in: part } })) if (typeof id === 'number') found.add(id);
  }
  return found;
}

/**
 * The user ids of the learners who left every course's `auth_user` while their events remain, and
 * the record brought up to date (see the module comment). The first check only records: nothing is
 * known of earlier snapshots. No `auth_user` table yet: nothing to compare, nothing recorded.
 */
export async function departedLearners(targets: ErasureTargets, now = new Date()): Promise<number[]> {
  const db = targets.relational;
  const tables = new Set(await db.tables());
  if (!tables.has('auth_user')) return [];
  const current = await snapshotIds(db);
  const first = !tables.has(SNAPSHOT_LEARNERS_TABLE);
  if (first) await createRecord(db);
  const t = quoteIdent(db.dialect, SNAPSHOT_LEARNERS_TABLE);
  const rows = first ? [] : await db.all<{ id: unknown; departed_at: unknown }>(`SELECT user_id AS id, departed_at FROM ${t}`);
  const recorded = ids(rows);
  const known = ids(rows.filter((r) => r.departed_at !== null));
  // Gone since the last run: their events are looked for once.
  const gone = [...recorded].filter((id) => !current.has(id) && !known.has(id));
  const departed = gone.length > 0 ? await withEvents(targets, gone) : new Set<number>();
  const returned = [...known].filter((id) => current.has(id));
  await db.transaction(async () => {
    for (const part of chunks(gone.filter((id) => !departed.has(id)))) await db.run(`DELETE FROM ${t} WHERE ${inList(db, 'user_id', part)}`, part);
    for (const part of chunks([...departed])) await db.run(`UPDATE ${t} SET departed_at = ? WHERE ${inList(db, 'user_id', part)}`, [now.toISOString(), ...part]);
    for (const part of chunks(returned)) await db.run(`UPDATE ${t} SET departed_at = NULL WHERE ${inList(db, 'user_id', part)}`, part);
    for (const part of chunks([...current].filter((id) => !recorded.has(id)))) await db.run(`INSERT INTO ${t} (user_id) VALUES ${part.map(() => '(?)').join(', ')}`, part);
  });
  return [...departed, ...[...known].filter((id) => !current.has(id))].sort((a, b) => a - b);
}

/** For a purge of old snapshot rows: the user ids of the `auth_user` rows about to be removed. */
export async function purgedSnapshotCandidates(db: SqlTarget, before: string): Promise<number[]> {
  if (!(await db.tables()).includes('auth_user')) return [];
  return [...ids(await db.all<{ id: unknown }>(`SELECT DISTINCT id FROM ${quoteIdent(db.dialect, 'auth_user')} WHERE snapshot_date < ?`, [before]))];
}

/** After that purge: those of `candidates` no `auth_user` row holds any more leave the record (a purge is not a departure). */
export async function forgetPurgedSnapshotLearners(db: SqlTarget, candidates: readonly number[]): Promise<void> {
  if (candidates.length === 0 || !(await db.tables()).includes(SNAPSHOT_LEARNERS_TABLE)) return;
  const current = await snapshotIds(db);
  const purged = candidates.filter((id) => !current.has(id));
  const t = quoteIdent(db.dialect, SNAPSHOT_LEARNERS_TABLE);
  for (const part of chunks(purged)) await db.run(`DELETE FROM ${t} WHERE ${inList(db, 'user_id', part)}`, part);
}
