/**
 * Learners who left the weekly snapshot while their events stayed: edX deleted them (a retirement
 * that removed the account rather than renaming it `retired__user_…`), yet the tracking logs pds
 * already loaded still carry them. A full snapshot replaces the previous one of its course
 * (docs/architecture.md), so nothing in the relational tables remembers that they were there; a
 * bookkeeping table does: `pds_snapshot_learners (user_id, departed_at, needs_review)`, the learners of the
 * snapshot as of the last check (in `auth_user`, enrolled or with a profile, in any course), in the
 * relational store beside the tables it summarises.
 *
 * After each run the ids recorded there but held by none of those tables any more are departed
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

/** The bookkeeping table of the learners last seen in the snapshot. */
export const SNAPSHOT_LEARNERS_TABLE = 'pds_snapshot_learners';

/**
 * The snapshot tables a learner is looked for in: one learner edX deleted is gone from all three,
 * while a learner whose `auth_user` line was rejected (a partial load) is still enrolled.
 */
const LEARNER_TABLES: readonly (readonly [table: string, column: string])[] = [
  ['auth_user', 'id'],
  ['student_courseenrollment', 'user_id'],
  ['auth_userprofile', 'user_id'],
];

/**
 * More departures than this at once (and more than 2% of the learners recorded) look like a
 * broken delivery rather than learners edX removed: they are reported, never erased automatically.
 */
export const DEPARTURES_AT_ONCE = 20;

export function chunks<T>(values: readonly T[], size = 400): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
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

/** The learners of the snapshot: in `auth_user`, enrolled, or with a profile, in any course. */
async function snapshotIds(db: SqlTarget, tables: ReadonlySet<string>): Promise<Set<number>> {
  const out = new Set<number>();
  for (const [table, column] of LEARNER_TABLES) {
    if (!tables.has(table)) continue;
    for (const id of ids(await db.all<{ id: unknown }>(`SELECT DISTINCT ${quoteIdent(db.dialect, column)} AS id FROM ${quoteIdent(db.dialect, table)}`))) out.add(id);
  }
  return out;
}

async function createRecord(db: SqlTarget): Promise<void> {
  await db.run(
    db.dialect === 'sqlite'
      ? `CREATE TABLE IF NOT EXISTS ${quoteIdent(db.dialect, SNAPSHOT_LEARNERS_TABLE)} (user_id INTEGER PRIMARY KEY, departed_at TEXT, needs_review INTEGER NOT NULL DEFAULT 0)`
      : `CREATE TABLE IF NOT EXISTS ${quoteIdent(db.dialect, SNAPSHOT_LEARNERS_TABLE)} (user_id BIGINT PRIMARY KEY, departed_at CHAR(24) NULL, needs_review TINYINT NOT NULL DEFAULT 0) CHARACTER SET ascii`,
  );
}

/** The user ids among `candidates` that one table holds: by chunks of ids, or one pass when they are many. */
async function heldIn(db: SqlTarget, table: string, candidates: readonly number[]): Promise<Set<number>> {
  const t = quoteIdent(db.dialect, table);
  if (candidates.length > 2000) {
    // One pass over the table rather than a scan per chunk (the raw events have no user_id index).
    const wanted = new Set(candidates);
    return new Set([...ids(await db.all<{ id: unknown }>(`SELECT DISTINCT user_id AS id FROM ${t} WHERE user_id IS NOT NULL`))].filter((id) => wanted.has(id)));
  }
  const found = new Set<number>();
  for (const part of chunks(candidates)) for (const id of ids(await db.all<{ id: unknown }>(`SELECT DISTINCT user_id AS id FROM ${t} WHERE ${inList(db, 'user_id', part)}`, part))) found.add(id);
  return found;
}

/** Of `candidates`, those the event store or a designated event table still has rows of. */
async function withEvents(targets: ErasureTargets, candidates: readonly number[]): Promise<Set<number>> {
  const found = new Set<number>();
  const rel = targets.relational;
  const tables = new Set(await rel.tables());
  const left = (): number[] => candidates.filter((id) => !found.has(id));
  for (const table of DESIGNATED_TABLES) {
    if (tables.has(table) && left().length > 0) for (const id of await heldIn(rel, table, left())) found.add(id);
  }
  if (left().length > 0 && targets.sqlEvents && (await targets.sqlEvents.tables()).includes('events')) {
    for (const id of await heldIn(targets.sqlEvents, 'events', left())) found.add(id);
  }
  if (left().length > 0 && targets.mongo) {
    const events = targets.mongo.db.collection(targets.mongo.name('events'));
    for (const part of chunks(left())) for (const id of await events.distinct('_user', { _user: { $in: part } })) if (typeof id === 'number') found.add(id);
  }
  return found;
}

/** What the check found: the departed learners, how many of them left since the last check, and which wait for the operator. */
export interface Departures {
  /** User ids of every learner recorded as departed whose data remains. */
  ids: number[];
  /** Of them, found gone by this check. */
  newly: number;
  /**
   * Of them, those who left with more than `DEPARTURES_AT_ONCE` others (and 2% of the learners):
   * a broken delivery rather than retirements, so never erased automatically, only by
   * `pds forget --retired`.
   */
  review: number[];
}

/**
 * The learners who left the snapshot while their events remain, and the record brought up to date
 * (see the module comment); a dry run changes nothing. The first check only records: nothing is
 * known of earlier snapshots. No `auth_user` table yet: nothing to compare, nothing recorded.
 */
export async function departedLearners(targets: ErasureTargets, options: { dryRun?: boolean; now?: Date } = {}): Promise<Departures> {
  const none: Departures = { ids: [], newly: 0, review: [] };
  const db = targets.relational;
  const tables = new Set(await db.tables());
  if (!tables.has('auth_user')) return none;
  const current = await snapshotIds(db, tables);
  const first = !tables.has(SNAPSHOT_LEARNERS_TABLE);
  if (first && options.dryRun) return none;
  if (first) await createRecord(db);
  const t = quoteIdent(db.dialect, SNAPSHOT_LEARNERS_TABLE);
  const rows = first ? [] : await db.all<{ id: unknown; departed_at: unknown; needs_review: unknown }>(`SELECT user_id AS id, departed_at, needs_review FROM ${t}`);
  const recorded = ids(rows);
  const known = ids(rows.filter((r) => r.departed_at !== null));
  const reviewed = ids(rows.filter((r) => r.departed_at !== null && Number(r.needs_review) === 1));
  // Gone since the last check: their events are looked for once.
  const gone = [...recorded].filter((id) => !current.has(id) && !known.has(id));
  const departed = gone.length > 0 ? await withEvents(targets, gone) : new Set<number>();
  const tooMany = departed.size > Math.max(DEPARTURES_AT_ONCE, recorded.size * 0.02);
  if (!options.dryRun) {
    const returned = [...known].filter((id) => current.has(id));
    const at = (options.now ?? new Date()).toISOString();
    const insert = db.dialect === 'sqlite' ? 'INSERT OR IGNORE' : 'INSERT IGNORE';
    await db.transaction(async () => {
      for (const part of chunks(gone.filter((id) => !departed.has(id)))) await db.run(`DELETE FROM ${t} WHERE ${inList(db, 'user_id', part)}`, part);
      for (const part of chunks([...departed])) await db.run(`UPDATE ${t} SET departed_at = ?, needs_review = ? WHERE ${inList(db, 'user_id', part)}`, [at, tooMany ? 1 : 0, ...part]);
      for (const part of chunks(returned)) await db.run(`UPDATE ${t} SET departed_at = NULL, needs_review = 0 WHERE ${inList(db, 'user_id', part)}`, part);
      for (const part of chunks([...current].filter((id) => !recorded.has(id)))) await db.run(`${insert} INTO ${t} (user_id) VALUES ${part.map(() => '(?)').join(', ')}`, part);
    });
  }
  const stillGone = (id: number): boolean => !current.has(id);
  const all = [...departed, ...[...known].filter(stillGone)].sort((a, b) => a - b);
  const review = [...(tooMany ? [...departed] : []), ...[...reviewed].filter(stillGone)].sort((a, b) => a - b);
  return { ids: all, newly: departed.size, review };
}

/** For a purge of old snapshot rows: the user ids of the learners' rows about to be removed. */
export async function purgedSnapshotCandidates(db: SqlTarget, before: string): Promise<number[]> {
  const tables = new Set(await db.tables());
  const out = new Set<number>();
  for (const [table, column] of LEARNER_TABLES) {
    if (!tables.has(table)) continue;
    for (const id of ids(await db.all<{ id: unknown }>(`SELECT DISTINCT ${quoteIdent(db.dialect, column)} AS id FROM ${quoteIdent(db.dialect, table)} WHERE snapshot_date < ?`, [before]))) out.add(id);
  }
  return [...out];
}

/** After that purge: those of `candidates` the snapshot no longer holds leave the record (a purge is not a departure). */
export async function forgetPurgedSnapshotLearners(db: SqlTarget, candidates: readonly number[]): Promise<void> {
  if (candidates.length === 0 || !(await db.tables()).includes(SNAPSHOT_LEARNERS_TABLE)) return;
  const current = await snapshotIds(db, new Set(await db.tables()));
  const purged = candidates.filter((id) => !current.has(id));
  const t = quoteIdent(db.dialect, SNAPSHOT_LEARNERS_TABLE);
  for (const part of chunks(purged)) await db.run(`DELETE FROM ${t} WHERE ${inList(db, 'user_id', part)}`, part);
}
