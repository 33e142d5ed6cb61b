/**
 * `pds db check` for MariaDB (the console's "test connection"): connects, then reads the
 * account's privileges on the database, the schema version and the settings loads depend on,
 * without changing anything. Problems come back as one plain-language paragraph with the remedy.
 */
import type { Connection } from 'mariadb';
import { SCHEMA_VERSION_TABLE } from '../sql-schema.js';
import { CHARSET, COLLATION, quoteIdent } from './mariadb-ddl.js';
import { REQUIRED_PRIVILEGES, grantStatement, toMariaDbLoadError, type MariaDbErrorContext } from './mariadb-errors.js';
import { readFacts } from './mariadb-connection.js';
import type { MariaDbBulkMethod } from './mariadb-load-data.js';
import { MARIADB_SCHEMA_VERSION } from './mariadb-schema.js';

/** Outcome of `check()` (`pds db check`, the console's "test connection"). */
export interface MariaDbCheckResult {
  ok: boolean;
  /** One plain-language paragraph: what was checked and what is wrong, with the remedy. */
  detail: string;
  /** Server version, e.g. `10.11.6-MariaDB`. */
  version?: string;
  /** Schema version found in the database (0: not initialised yet). */
  schemaVersion?: number;
  /** Privileges the account holds on the database (MariaDB names, e.g. `CREATE VIEW`). */
  privileges?: string[];
  /** Things that work but deserve attention (fallbacks, cluster settings). */
  warnings?: string[];
  /** The bulk method loads would use. */
  bulkMethod?: MariaDbBulkMethod;
  /** Whether a connection was made (false: `detail` says why not). */
  connected?: boolean;
  /** The account as the server names it (`'pds'@'%'`). */
  account?: string;
  /** Whether the database exists (the first load creates it when the account may). */
  databaseExists?: boolean;
  /** Required privileges the account lacks on the database, and the exact statement that grants them. */
  missingPrivileges?: string[];
  grant?: string;
  /** The statements the DBA must run when the database is absent and the account may not create it. */
  createDatabase?: string;
  /** The server is read-only (a replica). */
  readOnly?: boolean;
  /** Why the check could not finish (no connection, refused login…), as an engine error's parts. */
  failure?: { code: string; message: string; hint?: string };
}

/** What the check needs: how to connect (without a database) and what was configured. */
export interface MariaDbCheckOptions {
  connect(): Promise<Connection>;
  database: string;
  /** The configured bulk method. */
  bulkMethod: MariaDbBulkMethod;
  /** Context for messages (the account is replaced by the one the server reports). */
  context: MariaDbErrorContext;
}

/**
 * Checks connectivity, the database, the account's privileges on it, the schema version and
 * the bulk path, without changing anything. Never throws: problems are in `detail`.
 */
export async function checkMariaDb(options: MariaDbCheckOptions): Promise<MariaDbCheckResult> {
  const ctx = options.context;
  let conn: Connection | undefined;
  try {
    conn = await options.connect();
    const facts = await readFacts(conn);
    const account = facts.account;
    const db = options.database;
    const warnings: string[] = [];
    const problems: string[] = [];
    const grantCtx: MariaDbErrorContext = { ...ctx, account };

    const exists = ((await conn.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [db])) as unknown[]).length > 0;
    const privileges = await readPrivileges(conn, account, db);
    const missing = REQUIRED_PRIVILEGES.filter((p) => !privileges.includes(p));
    let schemaVersion = 0;
    if (exists) {
      const t = (await conn.query('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db, SCHEMA_VERSION_TABLE])) as unknown[];
      if (t.length > 0) {
        const rows = (await conn.query(`SELECT MAX(version) AS v FROM ${quoteIdent(db)}.${SCHEMA_VERSION_TABLE}`)) as { v: number | null }[];
        schemaVersion = Number(rows[0]?.v ?? 0);
      }
    } else if (!privileges.includes('CREATE')) {
      problems.push(
        `The database ${db} does not exist and ${account} may not create it: the DBA must run CREATE DATABASE ${quoteIdent(db)} CHARACTER SET ${CHARSET} COLLATE ${COLLATION}; ${grantStatement(grantCtx, REQUIRED_PRIVILEGES)}`,
      );
    }
    if (missing.length > 0) problems.push(`${account} lacks ${missing.join(', ')} on ${db}: the DBA must run ${grantStatement(grantCtx, missing)}`);
    if (schemaVersion > MARIADB_SCHEMA_VERSION) problems.push(`The schema (version ${schemaVersion}) is newer than this pds knows (${MARIADB_SCHEMA_VERSION}): upgrade pds.`);
    if (facts.readOnly) problems.push(`The server is read-only (read_only = ON): point this environment at the primary, not a replica.`);

    let bulkMethod = options.bulkMethod;
    if (bulkMethod === 'load-data' && !facts.localInfile) {
      warnings.push('local_infile is OFF on the server: loads fall back from LOAD DATA LOCAL INFILE to batch() INSERTs. To use LOAD DATA the DBA must run SET GLOBAL local_infile = ON.');
      bulkMethod = 'batch';
    }
    if (facts.binlogFormat.toUpperCase() === 'STATEMENT') {
      warnings.push('binlog_format is STATEMENT: loads run at REPEATABLE READ (more lock waits between concurrent loads). ROW or MIXED is recommended.');
    }
    if (facts.galera) {
      warnings.push('Galera cluster: each snapshot replace is one write set, which must stay below wsrep_max_ws_size (at most 2 GB): for larger table files add wsrep_trx_fragment_unit: bytes and wsrep_trx_fragment_size: 67108864 to the relational target\'s sessionVariables; add wsrep_sync_wait: 1 for reads that must see the latest load.');
    }
    if (facts.maxAllowedPacket < 16 * 1024 * 1024) {
      warnings.push(`max_allowed_packet is ${facts.maxAllowedPacket} bytes: rows larger than that cannot be loaded (16 MB or more is recommended).`);
    }

    const state =
      schemaVersion === 0 ? 'not initialised yet (init creates it)' : schemaVersion === MARIADB_SCHEMA_VERSION ? `schema version ${schemaVersion} (current)` : `schema version ${schemaVersion}`;
    const head = `Connected to MariaDB ${facts.version} at ${ctx.server} as ${account}; database ${db}: ${exists ? state : 'absent'}; bulk load: ${bulkMethod === 'load-data' ? 'LOAD DATA LOCAL INFILE' : 'batched INSERT'}.`;
    return {
      ok: problems.length === 0,
      detail: [head, ...problems].join(' '),
      version: facts.version,
      schemaVersion,
      privileges,
      warnings,
      bulkMethod,
      connected: true,
      account,
      databaseExists: exists,
      missingPrivileges: missing,
      ...(missing.length > 0 ? { grant: grantStatement(grantCtx, missing) } : {}),
      ...(!exists && !privileges.includes('CREATE')
        ? { createDatabase: `CREATE DATABASE ${quoteIdent(db)} CHARACTER SET ${CHARSET} COLLATE ${COLLATION}; ${grantStatement(grantCtx, REQUIRED_PRIVILEGES)}` }
        : {}),
      readOnly: facts.readOnly,
    };
  } catch (error) {
    const e = toMariaDbLoadError(error, { what: 'connect', privileges: [] }, ctx);
    return { ok: false, detail: `${e.message}${e.hint ? ` ${e.hint}` : ''}`, connected: conn !== undefined, failure: { code: e.code, message: e.message, hint: e.hint } };
  } finally {
    await conn?.end().catch(() => undefined);
  }
}

/**
 * Privileges of `account` that apply to database `db`: global ones and database-level ones
 * (grant patterns such as `pds\_%` included). Role grants are not expanded.
 */
async function readPrivileges(conn: Connection, account: string, db: string): Promise<string[]> {
  const rows = (await conn.query(
    `SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?
     UNION SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ? AND ? LIKE TABLE_SCHEMA`,
    [account, account, db],
  )) as { p: string }[];
  return [...new Set(rows.map((r) => r.p))].sort();
}
