/**
 * Erasure of one learner from an environment loaded with the demo delivery, on SQLite: checked by
 * scanning every table, the bytes of the database and its WAL, the quarantine files (decrypted)
 * and an export under the home folder for their username, e-mail, name and user id — never by
 * asking the code that deleted them. Every other learner's rows stay as they were (counts and a
 * checksum), the daily summaries match a recount, running it again changes nothing, and loading
 * the same delivery again does not bring the learner back.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { environmentPaths, getEnvironment, loadConfig } from '../../core/config/config-store.js';
import { DEMO_ENV, runDemo } from '../../core/demo/run-demo.js';
import { Quarantine } from '../../core/pipeline/quarantine.js';
import { readQuarantineLines } from '../../core/pipeline/quarantine-reader.js';
import { environmentDecryptor, environmentKeySources } from '../../core/privacy/environment-keys.js';
import { PrivacyLedger } from '../../core/privacy/privacy-ledger.js';
import { osActor } from '../../core/ledger/actor.js';
import { createConsoleHandlers, type ConsoleEngine } from '../../core/service/console-handlers.js';
import { createConsoleService } from '../../core/service/console-service.js';

interface Learner {
  id: number;
  username: string;
  email: string;
  name: string;
}

let home: string;
let handlers: ConsoleEngine;
let learner: Learner;
const paths = () => environmentPaths(home, DEMO_ENV);

/** The learner's values as they could appear anywhere: the id only as a whole number. */
function mentions(text: string, l: Learner): boolean {
  return text.includes(l.username) || text.toLowerCase().includes(l.email.toLowerCase()) || text.includes(l.name) || new RegExp(`(?<![0-9])${l.id}(?![0-9])`).test(text);
}

function tables(db: Database.Database): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
}

/** Every row of every table as text, by table. */
function dump(): Map<string, string[]> {
  const db = new Database(paths().sqlite, { readonly: true });
  try {
    const out = new Map<string, string[]>();
    for (const t of tables(db)) {
      const rows = db.prepare(`SELECT * FROM "${t}"`).raw().all() as unknown[][];
      out.set(t, rows.map((r) => JSON.stringify(r.map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : v)))).sort());
    }
    return out;
  } finally {
    db.close();
  }
}

/** Keys of the learner's ORA rows (course-specific anonymous ids, student items), which name them only indirectly. */
let oraKeys: string[] = [];

/** True for a row that is the learner's or names them. */
function theirs(row: string, l: Learner): boolean {
  return mentions(row, l) || oraKeys.some((k) => row.includes(k));
}

/** Per table: the rows that are not the learner's and do not name them, with their count and a checksum. */
function othersChecksum(all: Map<string, string[]>, l: Learner, skip: ReadonlySet<string>): Map<string, { rows: number; sum: string; list: string[] }> {
  const out = new Map<string, { rows: number; sum: string; list: string[] }>();
  for (const [t, rows] of all) {
    if (skip.has(t)) continue;
    const others = rows.filter((r) => !theirs(r, l));
    out.set(t, { rows: others.length, sum: createHash('sha256').update(others.join('\n')).digest('hex'), list: others });
  }
  return out;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/** The bytes of the database and its WAL, read as latin-1 text (SQLite stores text as UTF-8). */
function databaseBytes(): string {
  const p = paths().sqlite;
  return [p, `${p}-wal`].filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('\n');
}

async function quarantineText(): Promise<string> {
  const { config } = await env();
  const dir = join(paths().landing, 'quarantine');
  const texts: string[] = [];
  for (const f of filesUnder(dir).filter((f) => !f.endsWith('.lines'))) {
    texts.push((await readQuarantineLines(f, () => environmentDecryptor(home, DEMO_ENV, config, paths()))).map((b) => b.toString('utf8')).join('\n'));
  }
  return texts.join('\n');
}

async function env() {
  return { config: getEnvironment(await loadConfig(home), DEMO_ENV) };
}

const EXPORT = () => join(home, 'exports', 'learners.csv');
const SKIP = new Set(['course_daily_activity']);

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'pds-forget-'));
  const service = createConsoleService({ home });
  const { result } = await runDemo(service);
  assert.notEqual(result.status, 'failed');
  handlers = createConsoleHandlers({ home, origin: 'cli' });
  // The learner with the most events who also wrote in the forum.
  const db = new Database(paths().sqlite, { readonly: true });
  const row = db
    .prepare(
      `SELECT u.id, u.username, u.email, p.name FROM auth_user u JOIN auth_userprofile p ON p.user_id = u.id
       WHERE u.username NOT LIKE 'retired%' AND u.id IN (SELECT CAST(author_id AS INTEGER) FROM forum_contents)
       ORDER BY (SELECT COUNT(*) FROM events e WHERE e.user_id = u.id) DESC LIMIT 1`,
    )
    .get() as Learner;
  const others = db.prepare(`SELECT id, username, email FROM auth_user WHERE id <> ? GROUP BY id LIMIT 5`).all(row.id) as { id: number; username: string; email: string }[];
  const anon = (db.prepare('SELECT anonymous_user_id AS a FROM student_anonymoususerid WHERE user_id = ?').all(row.id) as { a: string }[]).map((r) => r.a);
  const items = anon.length === 0 ? [] : (db.prepare(`SELECT id FROM submissions_studentitem WHERE student_id IN (${anon.map(() => '?').join(', ')})`).all(...anon) as { id: number }[]).map((r) => r.id);
  const subs = items.length === 0 ? [] : (db.prepare(`SELECT uuid FROM submissions_submission WHERE student_item_id IN (${items.map(() => '?').join(', ')})`).all(...items) as { uuid: string }[]).map((r) => r.uuid);
  oraKeys = [...anon.map((a) => `"${a}"`), ...subs.map((u) => `"${u}"`)];
  db.close();
  learner = row;
  // An export under the home folder naming them, and a quarantined line of theirs (encrypted).
  await mkdir(join(home, 'exports'), { recursive: true });
  await writeFile(EXPORT(), ['user_id,username,email', `${learner.id},${learner.username},${learner.email}`, ...others.map((o) => `${o.id},${o.username},${o.email}`)].join('\n'));
  const { config } = await env();
  const q = new Quarantine(join(paths().landing, 'quarantine'), 'edx-course-data/demox/edx/events/2026/demox-test-events.log.gz.gpg', undefined, () => environmentKeySources(home, config, paths()));
  await q.add([
    { line: 1, code: 'JSON_INVALID', reason: 'cut', raw: `{"username": "${learner.username}", "context": {"user_id": ${learner.id}` },
    { line: 2, code: 'JSON_INVALID', reason: 'cut', raw: `{"username": "${others[0]!.username}", "context": {"user_id": ${others[0]!.id}` },
  ]);
  await q.close();
});

after(async () => {
  await handlers?.close();
  await rm(home, { recursive: true, force: true });
});

describe('pds forget on SQLite (demo delivery)', () => {
  let before_: Map<string, { rows: number; sum: string; list: string[] }>;

  test('the learner is everywhere before: tables, database bytes, quarantine, export', async () => {
    const all = dump();
    assert.ok([...all.values()].flat().some((r) => mentions(r, learner)));
    for (const v of [learner.username, learner.email, learner.name]) assert.ok(databaseBytes().includes(v), v);
    assert.ok(mentions(await quarantineText(), learner));
    assert.ok(mentions(readFileSync(EXPORT(), 'utf8'), learner));
    before_ = othersChecksum(all, learner, SKIP);
  });

  test('a dry run counts and changes nothing', async () => {
    const all = dump();
    const r = await handlers.forgetLearner({ env: DEMO_ENV, user: learner.email, dryRun: true });
    assert.equal(r.dryRun, true);
    assert.equal(r.matchedBy, 'email');
    assert.ok(r.totalRows > 0);
    assert.ok(r.stores.some((s) => s.target === 'events' && s.rows > 0));
    assert.ok(r.stores.some((s) => s.store === 'quarantine'));
    assert.ok(r.stores.some((s) => s.store === 'export'));
    assert.deepEqual(dump(), all);
    assert.ok(mentions(readFileSync(EXPORT(), 'utf8'), learner));
  });

  test('erases them from every table, the database and WAL bytes, quarantine and export; others unchanged', async () => {
    const r = await handlers.forgetLearner({ env: DEMO_ENV, user: learner.username, dryRun: false });
    assert.ok(r.erasureId);
    assert.ok(r.totalRows > 0);
    const all = dump();
    for (const [t, rows] of all) for (const row of rows) assert.ok(!mentions(row, learner), `${t} still names the learner: ${row.slice(0, 200)}`);
    const bytes = databaseBytes();
    for (const v of [learner.username, learner.email, learner.name]) assert.ok(!bytes.includes(v), `the database file still holds ${v.length} bytes of the learner's values`);
    assert.ok(!new RegExp(`"user_id": ?${learner.id}[^0-9]`).test(bytes));
    assert.ok(!mentions(await quarantineText(), learner));
    assert.ok((await quarantineText()).includes('"context"'), 'the other learner\'s quarantined line is kept');
    const exported = readFileSync(EXPORT(), 'utf8');
    assert.ok(!mentions(exported, learner));
    assert.equal(exported.split('\n').length, 7 - 1);
    // Every other learner's row is still there, byte for byte; the only other rows that changed are
    // others' forum posts the learner had voted on or flagged (their id removed from the voters).
    const now = othersChecksum(all, learner, SKIP);
    const redacted = r.stores.filter((s) => s.target.startsWith('forum_contents (')).reduce((n, s) => n + s.rows, 0);
    for (const [t, b] of before_) {
      const a = now.get(t)!;
      if (t === 'forum_contents') {
        const kept = new Set(a.list);
        assert.ok(b.list.every((row) => kept.has(row)), 'forum posts of others that did not name the learner are unchanged');
        assert.equal(a.rows, b.rows + redacted);
      } else {
        assert.equal(a.rows, b.rows, t);
        assert.equal(a.sum, b.sum, t);
      }
    }
    // The ledger records the erasure without the values.
    const ledger = readFileSync(paths().ledger).toString('latin1') + (existsSync(`${paths().ledger}-wal`) ? readFileSync(`${paths().ledger}-wal`).toString('latin1') : '');
    for (const v of [learner.username, learner.email, learner.name]) assert.ok(!ledger.includes(v));
    const pl = PrivacyLedger.open(paths().ledger);
    try {
      const [rec] = pl.erasures();
      assert.equal(rec!.id, r.erasureId);
      assert.match(rec!.actor, /^os:/);
      assert.equal(rec!.totalRows, r.totalRows);
      assert.ok(pl.audit().some((a) => a.action === 'erasure'));
    } finally {
      pl.close();
    }
    assert.equal(statSync(paths().sqlite).mode & 0o777, 0o600);
  });

  test('the audit log lists runs, the erasure and a learner query, never the learner named', async () => {
    const [other] = dump().get('auth_user')!.map((r) => JSON.parse(r) as unknown[]).filter((r) => !mentions(JSON.stringify(r), learner));
    const username = other!.find((v) => typeof v === 'string' && /^[a-z]+_[a-z]+\d+$/.test(v)) as string;
    await handlers.queryLearner({ env: DEMO_ENV, learner: username });
    const log = await handlers.listAudit({ env: DEMO_ENV, limit: 100 });
    // A run names the account that ran it, as an erasure does: the demo's run came from the CLI's service.
    const run = log.find((e) => e.action === 'run');
    assert.equal(run?.actor, osActor());
    assert.equal(run?.detail.origin, 'cli');
    assert.ok(log.some((e) => e.action === 'erasure' && e.actor === osActor()));
    const query = log.find((e) => e.action === 'query');
    assert.deepEqual(query?.detail, { env: DEMO_ENV, method: 'queryLearner' });
    assert.ok(!JSON.stringify(log).includes(username));
    assert.deepEqual(log.map((e) => e.at), [...log.map((e) => e.at)].sort().reverse(), 'newest first');
  });

  test('the daily summaries match a recount of the events left', () => {
    const db = new Database(paths().sqlite, { readonly: true });
    try {
      const stored = db.prepare('SELECT course_id, date, file_key, events, active_users FROM course_daily_activity ORDER BY 1, 2, 3').all();
      const recount = db
        .prepare(
          `SELECT course_id, substr(time, 1, 10) AS date, file_key, COUNT(*) AS events, COUNT(DISTINCT user_id) AS active_users FROM events
           WHERE course_id IS NOT NULL AND time IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
        )
        .all();
      assert.deepEqual(stored, recount);
    } finally {
      db.close();
    }
  });

  test('running it again changes nothing', async () => {
    const all = dump();
    const r = await handlers.forgetLearner({ env: DEMO_ENV, user: String(learner.id), dryRun: false });
    assert.equal(r.alreadyErased, true);
    assert.equal(r.totalRows, 0);
    assert.deepEqual(dump(), all);
  });

  test('loading the same delivery again does not bring them back', async () => {
    const service = createConsoleService({ home });
    const files = filesUnder(join(home, 'demo', 'source'));
    // Two files of the delivery share a name (the weekly and the email opt-in zip): two loads.
    const optIn = files.filter((f) => f.includes('email-opt-in'));
    const results = [await service.load(DEMO_ENV, files.filter((f) => !optIn.includes(f)), {}), await service.load(DEMO_ENV, optIn, {})];
    const withheld = results.flatMap((r) => r.files).filter((f) => f.warnings.some((w) => w.code === 'ERASED_WITHHELD'));
    assert.ok(withheld.length > 0, 'the reload withheld the learner\'s lines');
    const all = dump();
    for (const [t, rows] of all) for (const row of rows) assert.ok(!mentions(row, learner), `${t} names the learner after a reload: ${row.slice(0, 200)}`);
    const after_ = othersChecksum(all, learner, new Set([...SKIP, 'forum_contents']));
    for (const [t, v] of after_) assert.equal(v.rows, before_.get(t)!.rows, t);
  });
});
