/**
 * Pseudonymised analytics: each learner's pseudonym is the HMAC-SHA-256 of their user id under
 * the environment's privacy secret (`privacy.secret`), so it is the same across runs, tables and
 * stores, and different under another environment's secret.
 *
 * How the views get it, on SQLite and MariaDB alike: the pseudonyms are computed in pds and kept in
 * a map table `pds_pseudonyms (user_id, pseudonym)`, refreshed after each run (and by `pds db
 * pseudonymise`); the `pseudo_*` views join it. A SQL function would have to be registered on every
 * connection that reads the views (a reader outside pds could not), and MariaDB has no HMAC: a map
 * table works for every reader of both stores. The map itself links pseudonyms to user ids, so an
 * analyst is granted the views only (`pds db grants`), never the map or the tables.
 *
 * A view keeps the columns the inventory classes as not personal or quasi-identifiers, replaces
 * the learner's user id by `<name>_pseudonym`, and leaves out direct identifiers, other ids and
 * free text (`personal-data.ts`).
 */
import { createHmac } from 'node:crypto';
import type { ColumnDef, TableDef } from '../domain/schema-types.js';
import { SNAPSHOT_COLUMNS } from '../domain/schema-types.js';
import { EVENT_TABLES, WEEKLY_TABLES } from '../domain/tables.js';
import { quoteIdent, type SqlTarget } from './erasure-targets.js';

/** The map table the views join. */
export const PSEUDONYM_TABLE = 'pds_pseudonyms';
/** Prefix of the pseudonymised views. */
export const PSEUDO_PREFIX = 'pseudo_';

/** A learner's pseudonym: 32 hex characters of HMAC-SHA-256(secret, `pseudonym:` + user id). */
export function pseudonymOf(secret: string, userId: number | string): string {
  return createHmac('sha256', secret).update(`pseudonym:${String(userId).trim()}`).digest('hex').slice(0, 32);
}

/** The column holding a learner's user id in a table, and the name of its pseudonym column. */
const USER_KEY: Readonly<Record<string, readonly [column: string, pseudonym: string]>> = {
  auth_user: ['id', 'user_pseudonym'],
  courseware_studentmodule: ['student_id', 'student_pseudonym'],
  wiki_article: ['owner_id', 'owner_pseudonym'],
  forum_contents: ['author_id', 'author_pseudonym'],
};

function userKeyOf(def: TableDef): readonly [string, string] | undefined {
  if (USER_KEY[def.name]) return USER_KEY[def.name];
  return def.columns.some((c) => c.name === 'user_id') ? ['user_id', 'user_pseudonym'] : undefined;
}

/** Columns a pseudonymised view keeps: not personal, or quasi-identifiers. */
function kept(c: ColumnDef): boolean {
  return c.personal === 'not-personal' || c.personal === 'quasi-identifier';
}

export interface PseudoView {
  name: string;
  table: string;
  /** The columns of the view, in order. */
  columns: string[];
  sql(dialect: SqlTarget['dialect']): string;
}

/** The pseudonymised views: one per stored table that carries a learner's user id. */
export function pseudoViews(): PseudoView[] {
  const out: PseudoView[] = [];
  for (const def of [...WEEKLY_TABLES, ...EVENT_TABLES]) {
    const key = userKeyOf(def);
    if (!key) continue;
    const [idCol, pseudoCol] = key;
    const snapshot = def.group === 'weekly' || def.group === 'ora';
    const cols = [...(snapshot ? SNAPSHOT_COLUMNS.map((c) => c.name) : []), ...def.columns.filter((c) => c.name !== idCol && kept(c)).map((c) => c.name)];
    const name = `${PSEUDO_PREFIX}${def.name}`;
    out.push({
      name,
      table: def.name,
      columns: [pseudoCol, ...cols],
      sql: (d) => {
        const q = (n: string): string => quoteIdent(d, n);
        const id = def.name === 'forum_contents' ? `CAST(t.${q(idCol)} AS ${d === 'sqlite' ? 'INTEGER' : 'SIGNED'})` : `t.${q(idCol)}`;
        return `CREATE VIEW ${q(name)} AS SELECT p.pseudonym AS ${q(pseudoCol)}, ${cols.map((c) => `t.${q(c)}`).join(', ')} FROM ${q(def.name)} t LEFT JOIN ${q(PSEUDONYM_TABLE)} p ON p.user_id = ${id}`;
      },
    });
  }
  return out;
}

/**
 * Every user id the store holds, from the snapshot tables and the designated event tables (which
 * index `user_id`). The raw `events` table is not scanned: it has no such index and is the largest
 * table; a learner seen only there gets a pseudonym once a snapshot or designated row names them.
 */
async function userIds(db: SqlTarget, tables: Set<string>): Promise<Set<number>> {
  const ids = new Set<number>();
  for (const v of pseudoViews()) {
    if (!tables.has(v.table) || v.table === 'events') continue;
    const [idCol] = userKeyOf([...WEEKLY_TABLES, ...EVENT_TABLES].find((t) => t.name === v.table)!)!;
    for (const r of await db.all<{ id: unknown }>(`SELECT DISTINCT ${quoteIdent(db.dialect, idCol)} AS id FROM ${quoteIdent(db.dialect, v.table)} WHERE ${quoteIdent(db.dialect, idCol)} IS NOT NULL`)) {
      const n = Number(r.id);
      if (Number.isSafeInteger(n)) ids.add(n);
    }
  }
  return ids;
}

/**
 * Creates or refreshes the map table and the views in one SQL store: adds the pseudonyms of user
 * ids not mapped yet, removes those no table holds any more (an erased learner), and (re)creates
 * the views of the tables that exist. Returns the number of learners mapped.
 */
export async function refreshPseudonyms(db: SqlTarget, secret: string): Promise<{ learners: number; views: string[] }> {
  const q = (n: string): string => quoteIdent(db.dialect, n);
  await db.run(
    db.dialect === 'sqlite'
      ? `CREATE TABLE IF NOT EXISTS ${q(PSEUDONYM_TABLE)} (user_id INTEGER PRIMARY KEY, pseudonym TEXT NOT NULL)`
      : `CREATE TABLE IF NOT EXISTS ${q(PSEUDONYM_TABLE)} (user_id BIGINT PRIMARY KEY, pseudonym CHAR(32) NOT NULL) CHARACTER SET ascii`,
  );
  const tables = new Set(await db.tables());
  const ids = await userIds(db, tables);
  const mapped = new Map<number, string>((await db.all<{ user_id: unknown; pseudonym: string }>(`SELECT user_id, pseudonym FROM ${q(PSEUDONYM_TABLE)}`)).map((r) => [Number(r.user_id), r.pseudonym]));
  await db.transaction(async () => {
    for (const id of ids) {
      const p = pseudonymOf(secret, id);
      if (mapped.get(id) === p) continue;
      await db.run(`DELETE FROM ${q(PSEUDONYM_TABLE)} WHERE user_id = ?`, [id]);
      await db.run(`INSERT INTO ${q(PSEUDONYM_TABLE)} (user_id, pseudonym) VALUES (?, ?)`, [id, p]);
    }
    for (const id of mapped.keys()) if (!ids.has(id)) await db.run(`DELETE FROM ${q(PSEUDONYM_TABLE)} WHERE user_id = ?`, [id]);
  });
  const views: string[] = [];
  for (const v of pseudoViews()) {
    await db.run(`DROP VIEW IF EXISTS ${q(v.name)}`);
    if (!tables.has(v.table)) continue;
    await db.run(v.sql(db.dialect));
    views.push(v.name);
  }
  return { learners: ids.size, views };
}

/** Views analysts may read besides the pseudonymised ones: per-course counts only. */
export const AGGREGATE_VIEWS = ['course_enrollment_summary', 'daily_course_activity', 'course_enrollments_by_mode', 'course_certificates_by_status', 'weekly_course_activity'] as const;

/**
 * The MariaDB statements for two roles: `pds_analyst` reads the pseudonymised and aggregate views
 * only (MariaDB views run with their definer's rights, so no table is granted), `pds_data_czar`
 * reads and manages everything in the database.
 */
export function grantStatements(database: string, views: readonly string[] = pseudoViews().map((v) => v.name)): string[] {
  const db = `\`${database.replace(/`/g, '``')}\``;
  return [
    '-- Read-only analyst: the pseudonymised views and the per-course summaries, nothing else.',
    'CREATE ROLE IF NOT EXISTS pds_analyst;',
    ...[...views, ...AGGREGATE_VIEWS].map((v) => `GRANT SELECT ON ${db}.\`${v}\` TO pds_analyst;`),
    '',
    '-- Data czar: every table, view and the pseudonym map, and erasure (DELETE).',
    'CREATE ROLE IF NOT EXISTS pds_data_czar;',
    `GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, CREATE VIEW, SHOW VIEW ON ${db}.* TO pds_data_czar;`,
    '',
    '-- Give a role to an account, and make it active at login:',
    "-- GRANT pds_analyst TO 'alice'@'%';  SET DEFAULT ROLE pds_analyst FOR 'alice'@'%';",
  ];
}

/** A table of rows and columns (the reports' `ReportTable`). */
interface CellTable {
  columns: string[];
  rows: (string | number | boolean | null)[][];
}

/** Columns an export drops when pseudonymised (direct identifiers). */
const EXPORT_DROPPED = new Set(['username', 'email', 'name', 'full_name', 'first_name', 'last_name']);

/**
 * A report table with `user_id` replaced by `user_pseudonym` (the same pseudonym as in the
 * `pseudo_*` views) and usernames, e-mails and names left out.
 */
export function pseudonymiseTable(table: CellTable, secret: string): CellTable {
  const keep = table.columns.map((c, i) => [c, i] as const).filter(([c]) => !EXPORT_DROPPED.has(c));
  return {
    columns: keep.map(([c]) => (c === 'user_id' ? 'user_pseudonym' : c)),
    rows: table.rows.map((r) => keep.map(([c, i]) => (c === 'user_id' && r[i] !== null ? pseudonymOf(secret, r[i] as number) : r[i]!))),
  };
}

/** The environment's privacy secret, for commands that pseudonymise (the CLI). */
export async function environmentPseudonymSecret(home: string | undefined, env: string): Promise<string> {
  const { resolveHome, loadConfig, getEnvironment, environmentPaths } = await import('../config/config-store.js');
  const { privacySecret } = await import('./privacy-ledger.js');
  const h = resolveHome(home);
  return privacySecret(h, env, getEnvironment(await loadConfig(h), env), environmentPaths(h, env));
}
