/**
 * Erasure of one learner from an environment loaded with the demo delivery into MariaDB (tables)
 * and MongoDB (events, forum snapshots; FerretDB): afterwards no table or collection holds their
 * username, e-mail, name or user id — found by scanning every row and document, not by asking the
 * code that deleted them — while every other learner's rows and documents are unchanged; running
 * it again changes nothing, and loading the same delivery again does not bring them back. The
 * pseudonymised views on MariaDB carry the same pseudonyms as SQLite under one secret, hold no
 * direct identifier, and the analyst role of `pds db grants` reads them but not the tables.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as mariadb from 'mariadb';
import { EJSON } from 'bson';
import { MongoClient } from 'mongodb';
import { environmentPaths, loadConfig, saveConfig } from '../../core/config/config-store.js';
import { departedLearners } from '../../core/privacy/departed-learners.js';
import { openErasureTargets } from '../../core/privacy/erasure-targets.js';
import { forgetLearner } from '../../core/privacy/forget.js';
import { environmentSchema } from '../../core/config/config-schema.js';
import { runDemo } from '../../core/demo/run-demo.js';
import { createConsoleHandlers, type ConsoleEngine } from '../../core/service/console-handlers.js';
import { environmentGrants, refreshEnvironmentPseudonyms } from '../../core/privacy/pseudonym-commands.js';
import { pseudonymOf } from '../../core/privacy/pseudonyms.js';
import Database from 'better-sqlite3';
import { createConsoleService } from '../../core/service/console-service.js';
import { startFerretDb, type FerretDbServer } from '../support/ferretdb.js';
import { startMariaDb, type MariaDbServer } from '../support/mariadb.js';

interface Learner {
  id: number;
  username: string;
  email: string;
  name: string;
}

const ENV = 'servers';
const MONGO_DB = 'pds_forget';
let db: MariaDbServer;
let mongo: FerretDbServer;
let home: string;
let handlers: ConsoleEngine;
let learner: Learner;
let oraKeys: string[] = [];
/** The learner's rows that carry only a derived key (their profile id). */
const theirRows = new Set<string>();

function mentions(text: string, l: Learner): boolean {
  return text.includes(l.username) || text.toLowerCase().includes(l.email.toLowerCase()) || text.includes(l.name) || new RegExp(`(?<![0-9])${l.id}(?![0-9])`).test(text);
}

async function sql<T>(query: string, params: unknown[] = []): Promise<T[]> {
  const conn = await mariadb.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database, dateStrings: true, bigIntAsNumber: true, decimalAsNumber: true });
  try {
    return (await conn.query(query, params)) as T[];
  } finally {
    await conn.end();
  }
}

/** Every row of every MariaDB table and every MongoDB document, as text, by table or collection. */
async function dump(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const { t } of await sql<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'")) {
    const rows = await sql<Record<string, unknown>>(`SELECT * FROM \`${t}\``);
    out.set(`mariadb:${t}`, rows.map((r) => JSON.stringify(Object.values(r).map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : v)))).sort());
  }
  const client = await MongoClient.connect(mongo.uri);
  try {
    const d = client.db(MONGO_DB);
    for (const c of await d.listCollections({}, { nameOnly: true }).toArray()) {
      const docs = await d.collection(c.name).find({}).toArray();
      out.set(`mongodb:${c.name}`, docs.map((x) => EJSON.stringify(x, { relaxed: true })).sort());
    }
  } finally {
    await client.close();
  }
  return out;
}

function theirs(row: string): boolean {
  return mentions(row, learner) || theirRows.has(row) || oraKeys.some((k) => row.includes(k));
}

/** Rows that are not the learner's and do not name them: count and checksum per table or collection. */
function others(all: Map<string, string[]>): Map<string, { rows: number; sum: string; list: string[] }> {
  const out = new Map<string, { rows: number; sum: string; list: string[] }>();
  for (const [t, rows] of all) {
    if (t === 'mariadb:course_daily_activity') continue;
    const list = rows.filter((r) => !theirs(r));
    out.set(t, { rows: list.length, sum: createHash('sha256').update(list.join('\n')).digest('hex'), list });
  }
  return out;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('pds forget on MariaDB + MongoDB (demo delivery)', { timeout: 600_000 }, () => {
  let before_: Map<string, { rows: number; sum: string; list: string[] }>;

  before(async () => {
    [db, mongo] = await Promise.all([startMariaDb(), startFerretDb()]);
    process.env.PDS_IT_FORGET_DB_PASSWORD = db.password;
    home = await mkdtemp(join(tmpdir(), 'pds-forget-servers-'));
    const service = createConsoleService({ home });
    // The demo makes the delivery and its key; a second environment loads it into the servers.
    await runDemo(service);
    const config = await loadConfig(home);
    const keyFiles = readdirSync(join(home, 'envs', 'demo', 'keys')).map((f) => `envs/demo/keys/${f}`);
    // One privacy secret for both environments: a learner has the same pseudonym in SQLite and MariaDB.
    await writeFile(join(home, 'privacy-shared'), 'shared privacy secret of the test', { mode: 0o600 });
    config.environments.demo!.privacy = { secret: 'file:privacy-shared', eraseRetired: false };
    config.environments[ENV] = environmentSchema.parse({
      privacy: { secret: 'file:privacy-shared' },
      source: { type: 'local', path: 'demo/source' },
      key: { files: keyFiles, passphrase: 'file:demo/passphrase' },
      targets: {
        relational: { type: 'mariadb', host: db.host, port: db.port, user: db.user, password: 'env:PDS_IT_FORGET_DB_PASSWORD', database: db.database },
        events: { type: 'mongodb', uri: mongo.uri, database: MONGO_DB },
      },
    });
    await saveConfig(home, config);
    const result = await service.run(ENV, {});
    assert.notEqual(result.status, 'failed', JSON.stringify(result.files.filter((f) => f.status === 'failed').map((f) => f.reason)));
    handlers = createConsoleHandlers({ home, origin: 'cli' });
    const [row] = await sql<Learner>(
      `SELECT u.id, u.username, u.email, p.name FROM auth_user u JOIN auth_userprofile p ON p.user_id = u.id
       WHERE u.username NOT LIKE 'retired%' AND u.id IN (SELECT CAST(author_id AS UNSIGNED) FROM forum_contents) GROUP BY u.id, u.username, u.email, p.name ORDER BY u.id LIMIT 1`,
    );
    learner = { ...row!, id: Number(row!.id) };
    const anon = (await sql<{ a: string }>('SELECT anonymous_user_id AS a FROM student_anonymoususerid WHERE user_id = ?', [learner.id])).map((r) => r.a);
    const items = anon.length === 0 ? [] : (await sql<{ id: number }>(`SELECT id FROM submissions_studentitem WHERE student_id IN (?)`, [anon])).map((r) => r.id);
    const subs = items.length === 0 ? [] : (await sql<{ uuid: string }>(`SELECT uuid FROM submissions_submission WHERE student_item_id IN (?)`, [items])).map((r) => r.uuid);
    oraKeys = [...anon.map((a) => `"${a}"`), ...subs.map((u) => `"${u}"`)];
    const languages = await sql<Record<string, unknown>>('SELECT * FROM student_languageproficiency WHERE user_profile_id IN (SELECT id FROM auth_userprofile WHERE user_id = ?)', [learner.id]);
    for (const r of languages) theirRows.add(JSON.stringify(Object.values(r).map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : v))));
  });

  after(async () => {
    await handlers?.close();
    if (home) await rm(home, { recursive: true, force: true });
    await Promise.all([db?.stop(), mongo?.stop()]);
  });

  test('pseudonymised views on MariaDB: the same pseudonyms as SQLite, no direct identifier, and the analyst role reads only them', async () => {
    await refreshEnvironmentPseudonyms(home, 'demo');
    const sqlite = new Database(join(home, 'envs', 'demo', 'data.sqlite'), { readonly: true });
    const inSqlite = new Map((sqlite.prepare('SELECT user_id, pseudonym FROM pds_pseudonyms').all() as { user_id: number; pseudonym: string }[]).map((r) => [Number(r.user_id), r.pseudonym]));
    const identifiers = (sqlite.prepare('SELECT username AS v FROM auth_user UNION SELECT email FROM auth_user UNION SELECT name FROM auth_userprofile').all() as { v: string }[]).map((r) => r.v).filter((v) => v && v.length >= 4);
    sqlite.close();
    const inMariaDb = await sql<{ user_id: number; pseudonym: string }>('SELECT user_id, pseudonym FROM pds_pseudonyms');
    assert.ok(inMariaDb.length > 10);
    for (const r of inMariaDb) {
      assert.equal(r.pseudonym, pseudonymOf('shared privacy secret of the test', r.user_id));
      if (inSqlite.has(Number(r.user_id))) assert.equal(inSqlite.get(Number(r.user_id)), r.pseudonym);
    }
    const views = (await sql<{ t: string }>("SELECT table_name AS t FROM information_schema.views WHERE table_schema = DATABASE() AND table_name LIKE 'pseudo\\_%'")).map((r) => r.t);
    assert.ok(views.includes('pseudo_auth_user') && views.includes('pseudo_video_events'), views.join(', '));
    for (const v of views) {
      const text = JSON.stringify(await sql(`SELECT * FROM \`${v}\``));
      for (const id of identifiers) assert.ok(!text.includes(id), `${v} holds a direct identifier`);
    }
    const [joined] = await sql<{ n: number }>('SELECT COUNT(*) AS n FROM pseudo_student_courseenrollment e JOIN pseudo_video_events v ON v.user_pseudonym = e.user_pseudonym');
    const [plain] = await sql<{ n: number }>('SELECT COUNT(*) AS n FROM student_courseenrollment e JOIN video_events v ON v.user_id = e.user_id');
    assert.equal(Number(joined!.n), Number(plain!.n));
    // The statements of pds db grants, run as root: an analyst reads the views, not the tables.
    const root = await mariadb.createConnection({ socketPath: db.socket, user: 'root' });
    try {
      for (const stmt of (await environmentGrants(home, ENV)).filter((l) => l !== '' && !l.startsWith('--'))) await root.query(stmt);
      await root.query("CREATE USER IF NOT EXISTS 'analyst'@'%' IDENTIFIED BY 'analyst-pw'");
      await root.query("GRANT pds_analyst TO 'analyst'@'%'");
      await root.query("SET DEFAULT ROLE pds_analyst FOR 'analyst'@'%'");
    } finally {
      await root.end();
    }
    const analyst = await mariadb.createConnection({ host: db.host, port: db.port, user: 'analyst', password: 'analyst-pw', database: db.database });
    try {
      assert.ok(((await analyst.query('SELECT COUNT(*) AS n FROM pseudo_auth_user')) as { n: unknown }[])[0]!.n !== undefined);
      await assert.rejects(analyst.query('SELECT username FROM auth_user LIMIT 1'), /denied/i);
      await assert.rejects(analyst.query('SELECT * FROM pds_pseudonyms LIMIT 1'), /denied/i);
    } finally {
      await analyst.end();
    }
  });

  test('the learner is in the tables and the collections before', async () => {
    const all = await dump();
    assert.ok([...all].some(([t, rows]) => t.startsWith('mariadb:') && rows.some((r) => mentions(r, learner))));
    assert.ok([...all].some(([t, rows]) => t.startsWith('mongodb:') && rows.some((r) => mentions(r, learner))));
    before_ = others(all);
  });

  test('erases them from every table and collection; every other row and document is unchanged', async () => {
    const dry = await handlers.forgetLearner({ env: ENV, user: String(learner.id), dryRun: true });
    assert.ok(dry.stores.some((s) => s.store.startsWith('MongoDB') && s.rows > 0));
    const r = await handlers.forgetLearner({ env: ENV, user: learner.username, dryRun: false });
    assert.ok(r.erasureId);
    const all = await dump();
    for (const [t, rows] of all) for (const row of rows) assert.ok(!mentions(row, learner), `${t} still names the learner: ${row.slice(0, 200)}`);
    const now = others(all);
    const redacted = r.stores.filter((s) => s.target.includes("others' posts redacted")).reduce((n, s) => n + s.rows, 0);
    let grown = 0;
    for (const [t, b] of before_) {
      const a = now.get(t);
      if (!a) continue;
      if (t === 'mariadb:forum_contents' || t.startsWith('mongodb:forum__')) {
        const kept = new Set(a.list);
        assert.ok(b.list.every((row) => kept.has(row)), `${t}: posts that did not name the learner are unchanged`);
        grown += a.rows - b.rows;
      } else {
        assert.equal(a.rows, b.rows, t);
        assert.equal(a.sum, b.sum, t);
      }
    }
    assert.equal(grown, redacted, 'the only other rows that changed are the posts the learner had voted on');
  });

  test('the daily summaries match the events left in MongoDB', async () => {
    const client = await MongoClient.connect(mongo.uri);
    try {
      const stored = await sql<{ course_id: string; date: string; file_key: string; events: number }>('SELECT course_id, DATE_FORMAT(date, \'%Y-%m-%d\') AS date, file_key, events FROM course_daily_activity ORDER BY 1, 2, 3');
      const events = client.db(MONGO_DB).collection('events');
      for (const s of stored) {
        const start = new Date(`${s.date}T00:00:00Z`);
        const n = await events.countDocuments({ _course: s.course_id, _file: s.file_key, time: { $gte: start, $lt: new Date(start.getTime() + 86_400_000) } });
        assert.equal(Number(s.events), n, `${s.course_id} ${s.date}`);
      }
    } finally {
      await client.close();
    }
  });

  test('running it again changes nothing; loading the delivery again does not bring them back', async () => {
    const all = await dump();
    const again = await handlers.forgetLearner({ env: ENV, user: learner.email, dryRun: false });
    assert.equal(again.alreadyErased, true);
    assert.deepEqual(await dump(), all);
    const service = createConsoleService({ home });
    const files = filesUnder(join(home, 'demo', 'source'));
    const optIn = files.filter((f) => f.includes('email-opt-in'));
    await service.load(ENV, files.filter((f) => !optIn.includes(f)), {});
    await service.load(ENV, optIn, {});
    for (const [t, rows] of await dump()) for (const row of rows) assert.ok(!mentions(row, learner), `${t} names the learner after a reload: ${row.slice(0, 200)}`);
  });

  test('a learner gone from the MariaDB snapshot while their MongoDB events remain is found as retired and erased', async () => {
    const client = await MongoClient.connect(mongo.uri);
    try {
      const events = client.db(MONGO_DB).collection('events');
      const withEvents = new Set((await events.distinct('_user', {})).filter((n): n is number => typeof n === 'number'));
      const recorded = await sql<{ id: number }>("SELECT s.user_id AS id FROM pds_snapshot_learners s JOIN auth_user u ON u.id = s.user_id WHERE u.username NOT LIKE 'retired%' GROUP BY s.user_id ORDER BY s.user_id");
      const gone = recorded.map((r) => Number(r.id)).find((id) => withEvents.has(id));
      assert.ok(gone !== undefined, 'a recorded learner with events in MongoDB');
      // The checks after each run worked on MariaDB: no notice says they could not.
      const ledger = new Database(environmentPaths(home, ENV).ledger, { readonly: true });
      const said = (ledger.prepare("SELECT data FROM run_events WHERE type = 'notice'").all() as { data: string }[]).map((n) => n.data);
      ledger.close();
      assert.ok(said.some((n) => /edX has retired/.test(n)) && !said.some((n) => /could not/.test(n)), said.join('\n'));
      // What a newer snapshot without them does to the tables (the SQLite tests load a real one).
      await sql('DELETE FROM auth_user WHERE id = ?', [gone]);
      await sql('DELETE FROM student_courseenrollment WHERE user_id = ?', [gone]);
      await sql('DELETE FROM auth_userprofile WHERE user_id = ?', [gone]);
      const config = (await loadConfig(home)).environments[ENV]!;
      const paths = environmentPaths(home, ENV);
      const check = async (): Promise<Awaited<ReturnType<typeof departedLearners>>> => {
        const targets = (await openErasureTargets(home, ENV, config, paths))!;
        try {
          return await departedLearners(targets);
        } finally {
          await targets.close();
        }
      };
      const found = await check();
      assert.deepEqual(found.ids, [gone]);
      assert.equal(found.newly, 1);
      const erased = await forgetLearner({ home, env: ENV, config, paths, user: String(gone), actor: 'os:test', reason: 'retired' });
      assert.ok(erased.stores.some((st) => st.store.startsWith('MongoDB') && st.rows > 0));
      assert.equal(await events.countDocuments({ _user: gone }), 0);
      assert.equal((await sql('SELECT user_id FROM pds_snapshot_learners WHERE user_id = ?', [gone])).length, 0);
      assert.deepEqual((await check()).ids, [], 'nobody who left is held any more');
    } finally {
      await client.close();
    }
  });
});
