/**
 * Erasure (`pds forget`, the console's `forgetLearner`): removes one learner everywhere pds put
 * their data — every relational table (by user id, username, e-mail and the keys derived from them:
 * `LEARNER_KEY_COLUMNS`), the event store (SQLite `events` or MongoDB, found by user id and by
 * username, including events whose only trace is `username`, `context.user_id`, `event.user_id` or
 * `event.target_username`), the designated event tables, the daily summaries (recounted), the
 * quarantine files and the exports under the home folder — and records the erasure in the ledger
 * (when, by whom, which stores, how many rows; the erased ids only as keyed hashes, which later
 * loads filter out). Idempotent; a dry run counts without changing anything.
 *
 * Events of other learners that name the erased learner (a vote on their post carries their
 * username in `event.target_username`) are removed too: the line itself holds the learner's name.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { EnvironmentConfig } from '../config/config-schema.js';
import type { EnvironmentPaths } from '../config/config-store.js';
import { encryptToKeys } from '../crypto/encrypt.js';
import type { SqlValue } from '../domain/records.js';
import { LEARNER_KEY_COLUMNS, LEARNER_KEY_COLUMN_NAMES, type LearnerKey } from '../domain/personal-data.js';
import { DESIGNATED_TABLES } from '../domain/tables.js';
import { ConfigError } from '../errors/index.js';
import { isEncryptedQuarantine, quarantineIndexPath, type QuarantineIndexHeader } from '../pipeline/quarantine.js';
import { readQuarantineLines } from '../pipeline/quarantine-reader.js';
import { environmentDecryptor, environmentKeySources } from './environment-keys.js';
import { chunks } from './departed-learners.js';
import { openErasureTargets, quoteIdent, type ErasureTargets, type MongoTarget, type SqlTarget } from './erasure-targets.js';
import { PrivacyLedger, learnerHash, privacySecret, type ErasureStoreCount, type LearnerKeyKind } from './privacy-ledger.js';

/** Who is erased: every key known for them. */
export interface LearnerIdentity {
  ids: number[];
  usernames: string[];
  emails: string[];
  /** Full names (for the report's own checks; never recorded). */
  names: string[];
  anonymousIds: string[];
  profileIds: number[];
  studentItemIds: number[];
}

export interface ForgetOptions {
  home: string;
  env: string;
  config: EnvironmentConfig;
  paths: EnvironmentPaths;
  /** A username, an e-mail address or a numeric user id. */
  user: string;
  dryRun?: boolean;
  /** `os:<user>` or `console:<session>`. */
  actor: string;
  /** Why: an operator's request, or edX having retired the learner. */
  reason?: 'request' | 'retired';
}

export interface ForgetResult {
  env: string;
  dryRun: boolean;
  /** How the learner was named (never the value). */
  matchedBy: 'id' | 'username' | 'email';
  /** True when the learner was already erased and nothing of theirs was left. */
  alreadyErased: boolean;
  /** What was (or, in a dry run, would be) removed. */
  stores: ErasureStoreCount[];
  totalRows: number;
  erasureId?: string;
}


const uniq = <T>(values: Iterable<T>): T[] => [...new Set(values)];

/** How the operator named the learner. */
export function learnerKeyKind(user: string): 'id' | 'username' | 'email' {
  if (/^\d+$/.test(user.trim())) return 'id';
  return user.includes('@') ? 'email' : 'username';
}

/** Rows of `table` where `column` is one of `values`. */
async function selectIn<T>(db: SqlTarget, table: string, columns: string, column: string, values: readonly SqlValue[]): Promise<T[]> {
  const out: T[] = [];
  for (const part of chunks(values)) {
    out.push(...(await db.all<T>(`SELECT ${columns} FROM ${quoteIdent(db.dialect, table)} WHERE ${quoteIdent(db.dialect, column)} IN (${part.map(() => '?').join(', ')})`, part)));
  }
  return out;
}

/** Every key of the learner, from the tables that link them (auth_user, email_opt_in, user_id_map, events). */
async function resolveIdentity(targets: ErasureTargets, user: string): Promise<LearnerIdentity> {
  const kind = learnerKeyKind(user);
  const id: LearnerIdentity = { ids: [], usernames: [], emails: [], names: [], anonymousIds: [], profileIds: [], studentItemIds: [] };
  const value = user.trim();
  if (kind === 'id') id.ids.push(Number(value));
  else if (kind === 'email') id.emails.push(value);
  else id.usernames.push(value);
  const db = targets.relational;
  const tables = new Set(await db.tables());
  const linkers: [table: string, idCol: string, userCol?: string, mailCol?: string][] = [
    ['auth_user', 'id', 'username', 'email'],
    ['email_opt_in', 'user_id', 'username', 'email'],
    ['user_id_map', 'user_id', 'username'],
  ];
  for (let pass = 0; pass < 3; pass++) {
    for (const [table, idCol, userCol, mailCol] of linkers) {
      if (!tables.has(table)) continue;
      const cols = [idCol, userCol, mailCol].filter((c): c is string => c !== undefined);
      const select = cols.map((c) => quoteIdent(db.dialect, c)).join(', ');
      const rows: Record<string, unknown>[] = [];
      rows.push(...(await selectIn<Record<string, unknown>>(db, table, select, idCol, id.ids)));
      if (userCol) rows.push(...(await selectIn<Record<string, unknown>>(db, table, select, userCol, id.usernames)));
      if (mailCol) {
        // E-mails compare case-insensitively.
        for (const e of id.emails) rows.push(...(await db.all<Record<string, unknown>>(`SELECT ${select} FROM ${quoteIdent(db.dialect, table)} WHERE LOWER(${quoteIdent(db.dialect, mailCol)}) = ?`, [e.toLowerCase()])));
      }
      for (const r of rows) {
        if (r[idCol] !== null && r[idCol] !== undefined && String(r[idCol]) !== '') id.ids.push(Number(r[idCol]));
        if (userCol && typeof r[userCol] === 'string' && r[userCol] !== '') id.usernames.push(r[userCol] as string);
        if (mailCol && typeof r[mailCol] === 'string' && r[mailCol] !== '') id.emails.push(r[mailCol] as string);
      }
      id.ids = uniq(id.ids.filter((n) => Number.isFinite(n)));
      id.usernames = uniq(id.usernames);
      id.emails = uniq(id.emails);
    }
    // Events tie a username to a user id too (a learner absent from the snapshots).
    if (targets.sqlEvents && (await targets.sqlEvents.tables()).includes('events')) {
      const ev = targets.sqlEvents;
      for (const r of await selectIn<{ user_id: unknown }>(ev, 'events', 'DISTINCT user_id', 'username', id.usernames)) if (r.user_id !== null) id.ids.push(Number(r.user_id));
      for (const r of await selectIn<{ username: unknown }>(ev, 'events', 'DISTINCT username', 'user_id', id.ids)) if (typeof r.username === 'string' && r.username !== '') id.usernames.push(r.username);
    }
    if (targets.mongo) {
      const events = targets.mongo.db.collection(targets.mongo.name('events'));
      if (id.usernames.length > 0) for (const u of await events.distinct('_user', { username: { $in: id.usernames } })) if (typeof u === 'number') id.ids.push(u);
      if (id.ids.length > 0) for (const u of await events.distinct('username', { _user: { $in: id.ids } })) if (typeof u === 'string' && u !== '') id.usernames.push(u);
    }
    id.ids = uniq(id.ids);
    id.usernames = uniq(id.usernames);
  }
  if (tables.has('auth_userprofile')) {
    for (const r of await selectIn<{ id: unknown; name: unknown }>(db, 'auth_userprofile', 'id, name', 'user_id', id.ids)) {
      if (r.id !== null) id.profileIds.push(Number(r.id));
      if (typeof r.name === 'string' && r.name !== '') id.names.push(r.name);
    }
  }
  if (tables.has('email_opt_in')) for (const r of await selectIn<{ full_name: unknown }>(db, 'email_opt_in', 'full_name', 'user_id', id.ids)) if (typeof r.full_name === 'string' && r.full_name !== '') id.names.push(r.full_name);
  if (tables.has('student_anonymoususerid')) {
    for (const r of await selectIn<{ a: unknown }>(db, 'student_anonymoususerid', 'anonymous_user_id AS a', 'user_id', id.ids)) if (typeof r.a === 'string') id.anonymousIds.push(r.a);
  }
  if (tables.has('submissions_studentitem')) {
    for (const r of await selectIn<{ id: unknown }>(db, 'submissions_studentitem', 'id', 'student_id', id.anonymousIds)) id.studentItemIds.push(Number(r.id));
  }
  id.names = uniq(id.names);
  id.anonymousIds = uniq(id.anonymousIds);
  id.profileIds = uniq(id.profileIds);
  id.studentItemIds = uniq(id.studentItemIds);
  return id;
}

function keyValues(identity: LearnerIdentity, key: LearnerKey): SqlValue[] {
  switch (key) {
    case 'id':
      return identity.ids;
    case 'username':
      return identity.usernames;
    case 'email':
      return identity.emails;
    case 'anonymous_id':
      return identity.anonymousIds;
    case 'profile_id':
      return identity.profileIds;
    case 'student_item_id':
      return identity.studentItemIds;
  }
}

/** The WHERE clause selecting the learner's rows of a table, or undefined when it has no learner key. */
function learnerWhere(db: SqlTarget, table: string, columns: readonly string[], identity: LearnerIdentity): { sql: string; params: SqlValue[] } | undefined {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  const keys: [string, LearnerKey][] = [];
  for (const c of columns) {
    const k = LEARNER_KEY_COLUMN_NAMES[c];
    if (k) keys.push([c, k]);
  }
  for (const [c, k] of LEARNER_KEY_COLUMNS[table] ?? []) if (columns.includes(c)) keys.push([c, k]);
  for (const [c, k] of keys) {
    const values = keyValues(identity, k);
    if (values.length === 0) continue;
    if (k === 'email') {
      parts.push(`LOWER(${quoteIdent(db.dialect, c)}) IN (${values.map(() => '?').join(', ')})`);
      params.push(...values.map((v) => String(v).toLowerCase()));
    } else {
      parts.push(`${quoteIdent(db.dialect, c)} IN (${values.map(() => '?').join(', ')})`);
      params.push(...(k === 'id' && table === 'forum_contents' ? values.map(String) : values));
    }
  }
  return parts.length === 0 ? undefined : { sql: parts.join(' OR '), params };
}

/** Tables erasure leaves to the event pass or never touches (bookkeeping, summaries). */
const EVENT_PASS = new Set<string>(['events', 'course_daily_activity', ...DESIGNATED_TABLES]);

/** One event being erased, with what it counted for in `course_daily_activity`. */
interface ErasedEvent {
  id: string;
  course: string | null;
  day: string | null;
  file: string | null;
  problemCheck: boolean;
}

/** True when a tracking-log line (parsed) names the learner in one of the fields that identify whose it is or whom it is about. */
function lineNamesLearner(line: Record<string, unknown>, identity: LearnerIdentity): boolean {
  const usernames = new Set(identity.usernames);
  const ids = new Set(identity.ids.map(String));
  const ctx = line.context as Record<string, unknown> | undefined;
  let ev: unknown = line.event;
  if (typeof ev === 'string') {
    try {
      ev = JSON.parse(ev);
    } catch {
      ev = undefined;
    }
  }
  const event = ev && typeof ev === 'object' ? (ev as Record<string, unknown>) : undefined;
  return (
    (typeof line.username === 'string' && usernames.has(line.username.trim())) ||
    (ctx?.user_id !== undefined && ctx.user_id !== null && ids.has(String(ctx.user_id))) ||
    (event?.user_id !== undefined && event.user_id !== null && ids.has(String(event.user_id))) ||
    (typeof event?.target_username === 'string' && usernames.has(event.target_username)) ||
    (typeof event?.username === 'string' && usernames.has(event.username))
  );
}

/** The learner's events in a SQL `events` table (by column, and by the raw line for mentions). */
async function sqlLearnerEvents(db: SqlTarget, identity: LearnerIdentity): Promise<ErasedEvent[]> {
  if (!(await db.tables()).includes('events')) return [];
  const cols = `event_id, course_id, ${db.dialect === 'sqlite' ? 'substr(time, 1, 10)' : 'DATE_FORMAT(time, \'%Y-%m-%d\')'} AS day, file_key, canonical_type, event_source, raw`;
  type Row = { event_id: string; course_id: string | null; day: string | null; file_key: string | null; canonical_type: string | null; event_source: string | null; raw: string };
  const rows = new Map<string, Row>();
  for (const r of await selectIn<Row>(db, 'events', cols, 'user_id', identity.ids)) rows.set(r.event_id, r);
  for (const r of await selectIn<Row>(db, 'events', cols, 'username', identity.usernames)) rows.set(r.event_id, r);
  // Lines that name the learner elsewhere (votes on their posts): found by the raw text, confirmed by parsing.
  for (const u of identity.usernames) {
    // `_` and `%` in a username only widen the LIKE; parsing the line decides.
    for (const r of await db.all<Row>(`SELECT ${cols} FROM events WHERE raw LIKE ?`, [`%${u}%`])) {
      if (rows.has(r.event_id)) continue;
      try {
        if (lineNamesLearner(JSON.parse(r.raw) as Record<string, unknown>, identity)) rows.set(r.event_id, r);
      } catch {
        // A repaired line (§7.2–7.3) that names the learner in its username column was found above.
      }
    }
  }
  return [...rows.values()].map((r) => ({
    id: r.event_id,
    course: r.course_id,
    day: r.day,
    file: r.file_key,
    problemCheck: r.canonical_type === 'problem_check' && r.event_source === 'server',
  }));
}

function mongoLearnerFilter(identity: LearnerIdentity): Record<string, unknown> {
  const ids: unknown[] = [...identity.ids, ...identity.ids.map(String)];
  return {
    $or: [
      { _user: { $in: identity.ids } },
      { username: { $in: identity.usernames } },
      { 'context.user_id': { $in: ids } },
      { 'event.user_id': { $in: ids } },
      { 'event.target_username': { $in: identity.usernames } },
      { 'event_parsed.user_id': { $in: ids } },
      { 'event_parsed.target_username': { $in: identity.usernames } },
    ],
  };
}

async function mongoLearnerEvents(mongo: MongoTarget, identity: LearnerIdentity): Promise<ErasedEvent[]> {
  const events = mongo.db.collection(mongo.name('events'));
  const out: ErasedEvent[] = [];
  const cursor = events.find(mongoLearnerFilter(identity), { projection: { _id: 1, _course: 1, time: 1, _time: 1, _file: 1, _type: 1, event_source: 1 } });
  for await (const d of cursor) {
    const time = d.time instanceof Date ? d.time.toISOString() : typeof d.time === 'string' ? d.time : null;
    out.push({
      id: String(d._id),
      course: (d._course as string | null) ?? null,
      day: time ? time.slice(0, 10) : null,
      file: (d._file as string | null) ?? null,
      problemCheck: d._type === 'problem_check' && d.event_source === 'server',
    });
  }
  return out;
}

/** Lines of a quarantine file, the index entries beside them, and which name the learner. */
function lineMentions(text: string, identity: LearnerIdentity, tsv: boolean): boolean {
  const bounded = (value: string): boolean => new RegExp(`(^|[^A-Za-z0-9_.@+-])${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9_.@+-])`, 'i').test(text);
  if ([...identity.usernames, ...identity.emails].some(bounded)) return true;
  if (identity.ids.some((i) => new RegExp(`"user_id"\\s*:\\s*"?${i}"?([^0-9]|$)`).test(text))) return true;
  if (tsv) {
    const fields = text.split('\t');
    return identity.ids.some((i) => fields.includes(String(i)));
  }
  return false;
}

async function forgetInQuarantine(opts: ForgetOptions, identity: LearnerIdentity, dryRun: boolean): Promise<ErasureStoreCount[]> {
  const dir = join(opts.paths.landing, 'quarantine');
  if (!existsSync(dir)) return [];
  const out: ErasureStoreCount[] = [];
  let decryptor: ReturnType<typeof environmentDecryptor> | undefined;
  const decrypt = () => (decryptor ??= environmentDecryptor(opts.home, opts.env, opts.config, opts.paths));
  for (const name of (await readdir(dir)).sort()) {
    if (name.endsWith('.lines')) continue;
    const path = join(dir, name);
    const lines = await readQuarantineLines(path, decrypt);
    const indexPath = quarantineIndexPath(path);
    const index = existsSync(indexPath) ? (await readFile(indexPath, 'utf8')).split('\n').filter((l) => l !== '') : [];
    const preamble = index.length > 0 ? (JSON.parse(index[0]!) as QuarantineIndexHeader).preambleLines : 0;
    const keep: Buffer[] = [];
    const keepIndex: string[] = index.length > 0 ? [index[0]!] : [];
    let removed = 0;
    lines.forEach((line, i) => {
      if (i < preamble) return void keep.push(line);
      if (lineMentions(line.toString('utf8'), identity, preamble > 0)) return void removed++;
      keep.push(line);
      const entry = index[i - preamble + 1];
      if (entry !== undefined) keepIndex.push(entry);
    });
    if (removed === 0) continue;
    out.push({ store: 'quarantine', target: relative(opts.home, path), rows: removed });
    if (dryRun) continue;
    if (keep.length <= preamble) {
      await rm(path, { force: true });
      await rm(indexPath, { force: true });
      continue;
    }
    const plain = Buffer.concat(keep.flatMap((l) => [l, Buffer.from('\n')]));
    const body = isEncryptedQuarantine(path)
      ? await encryptToKeys(new Uint8Array(plain), (await environmentKeySources(opts.home, opts.config, opts.paths)) as string[] | Uint8Array[], { compression: 'zlib', fileName: 'quarantine' })
      : plain;
    await writeFile(path, body, { mode: 0o600 });
    if (index.length > 0) await writeFile(indexPath, `${keepIndex.join('\n')}\n`, { mode: 0o600 });
  }
  return out;
}

/** Folders of the home that hold no exports (deliveries, keys, secrets, landing copies). */
function skipFolder(home: string, path: string): boolean {
  const rel = relative(home, path).split('/');
  return rel[0] === 'secrets' || rel[0] === 'demo' || (rel[0] === 'envs' && (rel[2] === 'landing' || rel[2] === 'keys'));
}

/** CSV, TSV and JSON-lines files under the home folder (report exports): lines naming the learner removed. */
async function forgetInExports(opts: ForgetOptions, identity: LearnerIdentity, dryRun: boolean): Promise<ErasureStoreCount[]> {
  const out: ErasureStoreCount[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!skipFolder(opts.home, path)) await walk(path);
        continue;
      }
      if (!/\.(csv|tsv|jsonl|ndjson)$/i.test(entry.name)) continue;
      const text = await readFile(path, 'utf8');
      const lines = text.split('\n');
      const tsv = /\.tsv$/i.test(entry.name);
      const mentions = (line: string): boolean => {
        if (lineMentions(line, identity, tsv)) return true;
        const fields = line.split(',').map((f) => f.trim().replace(/^"(.*)"$/, '$1'));
        return identity.ids.some((i) => fields.includes(String(i)));
      };
      const keep = lines.filter((l, i) => i === 0 || !mentions(l));
      const removed = lines.length - keep.length;
      if (removed === 0) continue;
      out.push({ store: 'export', target: relative(opts.home, path), rows: removed });
      if (!dryRun) await writeFile(path, keep.join('\n'));
    }
  };
  if (existsSync(opts.home)) await walk(opts.home);
  return out;
}

/**
 * Removes the learner's ids and usernames from a forum document of someone else's post: the voters
 * in `votes.up`/`votes.down`, the abuse flaggers, an endorsement's `user_id`. Returns a redacted
 * copy, or undefined when nothing named the learner (`names` says whether a value does).
 */
export function redactForumDocument(doc: Record<string, unknown>, names: (value: string) => boolean): Record<string, unknown> | undefined {
  const hit = (v: unknown): boolean => (typeof v === 'string' || typeof v === 'number') && names(String(v));
  let changed = false;
  const out: Record<string, unknown> = { ...doc };
  const pull = (list: unknown): unknown => {
    if (!Array.isArray(list) || !list.some(hit)) return list;
    changed = true;
    return list.filter((x) => !hit(x));
  };
  for (const f of ['abuse_flaggers', 'historical_abuse_flaggers']) if (f in out) out[f] = pull(out[f]);
  const votes = out.votes;
  if (votes && typeof votes === 'object' && !Array.isArray(votes)) {
    const v = { ...(votes as Record<string, unknown>) };
    v.up = pull(v.up);
    v.down = pull(v.down);
    out.votes = v;
  }
  const endorsement = out.endorsement;
  if (endorsement && typeof endorsement === 'object' && hit((endorsement as Record<string, unknown>).user_id)) {
    out.endorsement = { ...(endorsement as Record<string, unknown>), user_id: null };
    changed = true;
  }
  return changed ? out : undefined;
}

/** Other learners' forum posts that name the learner (votes, flags): redacted in place. */
async function redactForumContents(db: SqlTarget, identity: LearnerIdentity, dryRun: boolean): Promise<ErasureStoreCount[]> {
  const tables = await db.tables();
  if (!tables.includes('forum_contents')) return [];
  let rows = 0;
  for (const needle of [...identity.ids.map(String), ...identity.usernames]) {
    for (const r of await db.all<{ id: string; course_key: string; doc: string }>('SELECT id, course_key, doc FROM forum_contents WHERE doc LIKE ?', [`%${needle}%`])) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(r.doc);
      } catch {
        continue;
      }
      const names = new Set<string>([...identity.ids.map(String), ...identity.usernames]);
      const redacted = parsed && typeof parsed === 'object' ? redactForumDocument(parsed as Record<string, unknown>, (v) => names.has(v)) : undefined;
      if (redacted === undefined) continue;
      rows++;
      if (!dryRun) await db.run('UPDATE forum_contents SET doc = ? WHERE id = ? AND course_key = ? AND doc = ?', [JSON.stringify(redacted), r.id, r.course_key, r.doc]);
    }
  }
  return rows > 0 ? [{ store: db.label, target: 'forum_contents (others\' posts redacted)', rows }] : [];
}

/** Deletes (or counts) the learner's rows in every relational table but the event tables. */
async function forgetInTables(db: SqlTarget, identity: LearnerIdentity, dryRun: boolean, skip: ReadonlySet<string>): Promise<ErasureStoreCount[]> {
  const out: ErasureStoreCount[] = [];
  for (const table of (await db.tables()).sort()) {
    if (skip.has(table)) continue;
    const where = learnerWhere(db, table, await db.columns(table), identity);
    if (!where) continue;
    const t = quoteIdent(db.dialect, table);
    const rows = dryRun
      ? Number((await db.all<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${t} WHERE ${where.sql}`, where.params))[0]?.n ?? 0)
      : await db.run(`DELETE FROM ${t} WHERE ${where.sql}`, where.params);
    if (rows > 0) out.push({ store: db.label, target: table, rows });
  }
  return out;
}

/** Deletes (or counts) designated rows by event id and learner columns; returns per-table ids removed. */
async function forgetInDesignated(db: SqlTarget, identity: LearnerIdentity, eventIds: readonly string[], dryRun: boolean): Promise<{ counts: ErasureStoreCount[]; byTable: Map<string, Set<string>> }> {
  const counts: ErasureStoreCount[] = [];
  const byTable = new Map<string, Set<string>>();
  const tables = new Set(await db.tables());
  for (const table of DESIGNATED_TABLES) {
    if (!tables.has(table)) continue;
    const ids = new Set<string>();
    for (const r of await selectIn<{ event_id: string }>(db, table, 'event_id', 'event_id', eventIds)) ids.add(r.event_id);
    for (const r of await selectIn<{ event_id: string }>(db, table, 'event_id', 'user_id', identity.ids)) ids.add(r.event_id);
    for (const r of await selectIn<{ event_id: string }>(db, table, 'event_id', 'username', identity.usernames)) ids.add(r.event_id);
    byTable.set(table, ids);
    if (ids.size === 0) continue;
    if (!dryRun) for (const part of chunks([...ids])) await db.run(`DELETE FROM ${quoteIdent(db.dialect, table)} WHERE event_id IN (${part.map(() => '?').join(', ')})`, part);
    counts.push({ store: db.label, target: table, rows: ids.size });
  }
  return { counts, byTable };
}

/** Recounts `course_daily_activity` for the days the erased events counted in. */
async function recountDailyActivity(targets: ErasureTargets, erased: readonly ErasedEvent[], designated: Map<string, Set<string>>): Promise<number> {
  const db = targets.relational;
  if (!(await db.tables()).includes('course_daily_activity')) return 0;
  const groups = new Map<string, { course: string; day: string; file: string; events: number; video: number; problem: number; forum: number; enrollment: number }>();
  const has = (table: string, id: string): boolean => designated.get(table)?.has(id) ?? false;
  for (const e of erased) {
    if (!e.course || !e.day || !e.file) continue;
    const key = `${e.course}\u0000${e.day}\u0000${e.file}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { course: e.course, day: e.day, file: e.file, events: 0, video: 0, problem: 0, forum: 0, enrollment: 0 }));
    g.events++;
    if (has('video_events', e.id)) g.video++;
    if (has('forum_events', e.id)) g.forum++;
    if (has('enrollment_events', e.id)) g.enrollment++;
    if (e.problemCheck) g.problem++;
  }
  let changed = 0;
  for (const g of groups.values()) {
    const users = await activeUsers(targets, g.course, g.day, g.file);
    changed += await db.run(
      `UPDATE course_daily_activity SET events = events - ?, active_users = ?, video_events = video_events - ?, problem_checks = problem_checks - ?, forum_events = forum_events - ?, enrollment_events = enrollment_events - ?
       WHERE course_id = ? AND date = ? AND file_key = ?`,
      [g.events, users, g.video, g.problem, g.forum, g.enrollment, g.course, g.day, g.file],
    );
    await db.run('DELETE FROM course_daily_activity WHERE course_id = ? AND date = ? AND file_key = ? AND events <= 0', [g.course, g.day, g.file]);
  }
  return changed;
}

/** Distinct user ids left among one course's events of one day and file. */
async function activeUsers(targets: ErasureTargets, course: string, day: string, file: string): Promise<number> {
  if (targets.mongo) {
    const start = new Date(`${day}T00:00:00Z`);
    const end = new Date(start.getTime() + 86_400_000);
    const users = await targets.mongo.db.collection(targets.mongo.name('events')).distinct('_user', { _course: course, _file: file, time: { $gte: start, $lt: end }, _user: { $ne: null } });
    return users.length;
  }
  const db = targets.sqlEvents!;
  const dayExpr = db.dialect === 'sqlite' ? 'substr(time, 1, 10)' : "DATE_FORMAT(time, '%Y-%m-%d')";
  const rows = await db.all<{ n: unknown }>(`SELECT COUNT(DISTINCT user_id) AS n FROM events WHERE course_id = ? AND file_key = ? AND ${dayExpr} = ?`, [course, file, day]);
  return Number(rows[0]?.n ?? 0);
}

/** MongoDB forum snapshots: the learner's posts (by author id and username). */
async function forgetInMongoForum(mongo: MongoTarget, identity: LearnerIdentity, dryRun: boolean): Promise<ErasureStoreCount[]> {
  const out: ErasureStoreCount[] = [];
  const prefix = mongo.name('forum__');
  const filter = { $or: [{ author_id: { $in: identity.ids.map(String) } }, { author_username: { $in: identity.usernames } }] };
  for (const c of await mongo.db.listCollections({}, { nameOnly: true }).toArray()) {
    if (!c.name.startsWith(prefix)) continue;
    const coll = mongo.db.collection(c.name);
    const rows = dryRun ? await coll.countDocuments(filter) : (await coll.deleteMany(filter)).deletedCount;
    if (rows > 0) out.push({ store: mongo.label, target: c.name, rows });
    // Others' posts that name the learner (voters, flaggers): the names pulled out.
    const names = [...identity.ids.map(String), ...identity.usernames];
    const fields = ['votes.up', 'votes.down', 'abuse_flaggers', 'historical_abuse_flaggers'];
    const named = { $or: fields.map((f) => ({ [f]: { $in: names } })) };
    const redacted = dryRun ? await coll.countDocuments(named) : (await coll.updateMany(named, { $pull: Object.fromEntries(fields.map((f) => [f, { $in: names }])) as never })).modifiedCount;
    if (redacted > 0) out.push({ store: mongo.label, target: `${c.name} (others' posts redacted)`, rows: redacted });
  }
  return out;
}

/**
 * Erases one learner from the environment (see the module comment).
 * @throws ConfigError LEARNER_NOT_FOUND when nothing is known of the learner and they were never erased.
 */
export async function forgetLearner(opts: ForgetOptions): Promise<ForgetResult> {
  const dryRun = opts.dryRun === true;
  const matchedBy = learnerKeyKind(opts.user);
  const secret = await privacySecret(opts.home, opts.env, opts.config, opts.paths);
  const targets = await openErasureTargets(opts.home, opts.env, opts.config, opts.paths);
  const stores: ErasureStoreCount[] = [];
  let identity: LearnerIdentity = { ids: [], usernames: [], emails: [], names: [], anonymousIds: [], profileIds: [], studentItemIds: [] };
  try {
    if (targets) {
      identity = await resolveIdentity(targets, opts.user);
      const erased = targets.mongo ? await mongoLearnerEvents(targets.mongo, identity) : targets.sqlEvents ? await sqlLearnerEvents(targets.sqlEvents, identity) : [];
      const eventIds = erased.map((e) => e.id);
      if (targets.mongo) {
        // First, so that the recount below reads the events that are left.
        const events = targets.mongo.db.collection(targets.mongo.name('events'));
        const rows = dryRun ? eventIds.length : (await events.deleteMany({ _id: { $in: eventIds as never[] } })).deletedCount;
        if (rows > 0) stores.push({ store: targets.mongo.label, target: targets.mongo.name('events'), rows });
        stores.push(...(await forgetInMongoForum(targets.mongo, identity, dryRun)));
      }
      const run = async (): Promise<void> => {
        const designated = await forgetInDesignated(targets.relational, identity, eventIds, dryRun);
        stores.push(...designated.counts);
        if (targets.sqlEvents && !dryRun) {
          let n = 0;
          for (const part of chunks(eventIds)) n += await targets.sqlEvents.run(`DELETE FROM events WHERE event_id IN (${part.map(() => '?').join(', ')})`, part);
          if (n > 0) stores.push({ store: targets.sqlEvents.label, target: 'events', rows: n });
        } else if (targets.sqlEvents && eventIds.length > 0) stores.push({ store: targets.sqlEvents.label, target: 'events', rows: eventIds.length });
        if (!dryRun) {
          const recounted = await recountDailyActivity(targets, erased, designated.byTable);
          if (recounted > 0) stores.push({ store: targets.relational.label, target: 'course_daily_activity (recounted)', rows: recounted });
        }
        stores.push(...(await forgetInTables(targets.relational, identity, dryRun, EVENT_PASS)));
        stores.push(...(await redactForumContents(targets.relational, identity, dryRun)));
      };
      // One transaction for the relational store when events live there too: all or nothing.
      if (dryRun) await run();
      else await targets.relational.transaction(run);
    }
    stores.push(...(await forgetInQuarantine(opts, identity, dryRun)));
    stores.push(...(await forgetInExports(opts, identity, dryRun)));
    if (!dryRun && targets) {
      await targets.relational.scrub();
      if (targets.sqlEvents && targets.sqlEvents !== targets.relational) await targets.sqlEvents.scrub();
    }
  } finally {
    await targets?.close();
  }
  const hashes: { hash: string; kind: LearnerKeyKind }[] = [
    ...identity.ids.map((v) => ({ hash: learnerHash(secret, 'id', v), kind: 'id' as const })),
    ...identity.usernames.map((v) => ({ hash: learnerHash(secret, 'username', v), kind: 'username' as const })),
    ...identity.emails.map((v) => ({ hash: learnerHash(secret, 'email', v), kind: 'email' as const })),
    ...identity.anonymousIds.map((v) => ({ hash: learnerHash(secret, 'anonymous_id', v), kind: 'anonymous_id' as const })),
    ...identity.profileIds.map((v) => ({ hash: learnerHash(secret, 'profile_id', v), kind: 'profile_id' as const })),
    ...identity.studentItemIds.map((v) => ({ hash: learnerHash(secret, 'student_item_id', v), kind: 'student_item_id' as const })),
  ];
  const totalRows = stores.reduce((n, s) => n + s.rows, 0);
  const ledger = PrivacyLedger.open(opts.paths.ledger);
  try {
    const known = ledger.erasedHashes();
    const alreadyErased = known.has(learnerHash(secret, matchedBy, opts.user));
    if (totalRows === 0 && !alreadyErased && hashes.length <= 1) {
      throw new ConfigError(`No learner ${matchedBy === 'id' ? 'with that user id' : matchedBy === 'email' ? 'with that e-mail address' : 'with that username'} is held in environment ${opts.env}, and none was erased under it.`, {
        code: 'LEARNER_NOT_FOUND',
        hint: 'Check the spelling; a username, an e-mail address or a numeric user id are accepted (pds forget --env ENV --user VALUE).',
      });
    }
    if (dryRun || (totalRows === 0 && hashes.every((h) => known.has(h.hash)))) {
      return { env: opts.env, dryRun, matchedBy, alreadyErased: alreadyErased && totalRows === 0, stores, totalRows };
    }
    const record = ledger.recordErasure({ actor: opts.actor, reason: opts.reason ?? 'request', stores, hashes });
    return { env: opts.env, dryRun, matchedBy, alreadyErased: false, stores, totalRows, erasureId: record.id };
  } finally {
    ledger.close();
  }
}
