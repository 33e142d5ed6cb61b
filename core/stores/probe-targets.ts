/**
 * Probes each target of an environment without changing anything (the console's "test
 * connection" and `pds db check`): nothing is opened with `init()`, so no database, table,
 * collection or index is created or migrated. Each target is probed on its own and reports its
 * own failure: a MariaDB that refuses the login does not hide the state of the MongoDB target.
 */
import { isSecretRef, timeoutsOf, type EnvironmentConfig } from '../config/config-schema.js';
import { resolvePath, type EnvironmentPaths } from '../config/config-store.js';
import { PdsError } from '../errors/index.js';
import { REQUIRED_PRIVILEGES } from './mariadb/mariadb-errors.js';
import { MARIADB_SCHEMA_VERSION } from './mariadb/mariadb-schema.js';
import { mariaDbOptions, type MariaDbSettings, type SecretResolver } from './open-stores.js';
import type { ProbeStep, TargetProbe } from './probe.js';
import { probeSqliteFile } from './sqlite/sqlite-probe.js';

type MongoSettings = Extract<EnvironmentConfig['targets']['events'], { type: 'mongodb' }>;

function sentence(error: unknown): { detail: string; fix?: string } {
  if (error instanceof PdsError) return { detail: error.message, ...(error.hint ? { fix: error.hint } : {}) };
  return { detail: error instanceof Error ? error.message : String(error) };
}

function probeOf(target: TargetProbe['target'], engine: string, steps: ProbeStep[], okSummary: string): TargetProbe {
  const failed = steps.find((s) => !s.ok);
  return { target, engine, ok: failed === undefined, summary: failed ? `${engine}: ${failed.name} failed. ${failed.detail}` : okSummary, steps };
}

async function probeSqlite(target: TargetProbe['target'], path: string | undefined, paths: EnvironmentPaths): Promise<TargetProbe> {
  const file = path ? resolvePath(paths.root, path) : paths.sqlite;
  const steps = await probeSqliteFile(file);
  return probeOf(target, 'sqlite', steps, `SQLite: ${steps.at(-1)!.detail}`);
}

async function probeMariaDb(env: string, t: MariaDbSettings, config: EnvironmentConfig, home: string, secrets: SecretResolver): Promise<TargetProbe> {
  let options;
  try {
    options = await mariaDbOptions(env, t, home, secrets, config);
  } catch (error) {
    return probeOf('relational', 'mariadb', [{ name: 'settings and secrets', ok: false, ...sentence(error) }], '');
  }
  const { MariaDbStore } = await import('./mariadb/mariadb-store.js');
  // Not init()-ed: check() opens its own connection and only reads.
  const store = new MariaDbStore(options);
  try {
    const c = await store.check();
    const steps: ProbeStep[] = [];
    if (!c.connected || c.failure) {
      steps.push({ name: 'connects', ok: false, detail: c.failure?.message ?? c.detail, ...(c.failure?.hint ? { fix: c.failure.hint } : {}) });
      return probeOf('relational', 'mariadb', steps, '');
    }
    const where = store.describeTarget();
    steps.push({ name: 'connects', ok: true, detail: `Connected to MariaDB ${c.version ?? ''} at ${where} as ${c.account ?? options.user}.`.replace('  ', ' ') });
    if (c.readOnly) steps.push({ name: 'writable server', ok: false, detail: 'The server is read-only (read_only = ON): it is a replica.', fix: 'Point this environment at the primary server.' });
    if (c.createDatabase) {
      steps.push({ name: 'database', ok: false, detail: `The database ${options.database} does not exist and ${c.account} may not create it.`, fix: `The DBA must run: ${c.createDatabase}` });
    } else {
      steps.push({ name: 'database', ok: true, detail: c.databaseExists ? `The database ${options.database} exists.` : `The database ${options.database} does not exist yet: the first load creates it.` });
    }
    const missing = c.missingPrivileges ?? [];
    steps.push(
      missing.length === 0
        ? { name: 'privileges', ok: true, detail: `${c.account} holds ${REQUIRED_PRIVILEGES.join(', ')} on ${options.database}.` }
        : { name: 'privileges', ok: false, detail: `${c.account} lacks ${missing.join(', ')} on ${options.database}.`, fix: `The DBA must run: ${c.grant}` },
    );
    const v = c.schemaVersion ?? 0;
    steps.push(
      v > MARIADB_SCHEMA_VERSION
        ? { name: 'schema version', ok: false, detail: `Schema ${v} is newer than this pds knows (${MARIADB_SCHEMA_VERSION}).`, fix: 'Upgrade pds.' }
        : {
            name: 'schema version',
            ok: true,
            detail: v === 0 ? 'No pds schema yet: the first load creates the tables.' : v < MARIADB_SCHEMA_VERSION ? `Schema ${v}, older than this pds's ${MARIADB_SCHEMA_VERSION}: it will be migrated at the next load.` : `Schema ${v}: up to date.`,
          },
    );
    for (const warning of c.warnings ?? []) steps.push({ name: 'server settings', ok: true, detail: warning });
    return probeOf('relational', 'mariadb', steps, `MariaDB ${where}: connects, privileges complete, ${steps.find((s) => s.name === 'schema version')!.detail}`);
  } finally {
    await store.close();
  }
}

/** Roles that let an account load (write, create collections and indexes) in a database. */
const WRITING_ROLES = new Set(['readWrite', 'dbOwner', 'root', 'readWriteAnyDatabase', 'dbAdminAnyDatabase', '__system']);

async function probeMongo(env: string, e: MongoSettings, config: EnvironmentConfig, secrets: SecretResolver): Promise<TargetProbe> {
  let uri: string;
  try {
    uri = isSecretRef(e.uri) ? await secrets(e.uri, `environments.${env}.targets.events.uri`) : e.uri;
  } catch (error) {
    return probeOf('events', 'mongodb', [{ name: 'settings and secrets', ok: false, ...sentence(error) }], '');
  }
  const { MongoConnection } = await import('./mongodb/mongo-connection.js');
  const { MongoEventStore } = await import('./mongodb/mongodb-event-store.js');
  let connection;
  try {
    connection = new MongoConnection({ uri, database: e.database, writeConcern: e.writeConcern, collectionPrefix: e.collectionPrefix, timeouts: timeoutsOf(config) });
  } catch (error) {
    return probeOf('events', 'mongodb', [{ name: 'settings and secrets', ok: false, ...sentence(error) }], '');
  }
  try {
    const p = await new MongoEventStore(connection).probe();
    const steps: ProbeStep[] = [];
    if (!p.connected) {
      steps.push({ name: 'connects', ok: false, detail: p.failure?.message ?? 'The server could not be reached.', ...(p.failure?.hint ? { fix: p.failure.hint } : {}) });
      return probeOf('events', 'mongodb', steps, '');
    }
    steps.push({ name: 'connects', ok: true, detail: `${p.server}; database "${p.database}".` });
    if (p.roles !== undefined) {
      const writing = p.roles.filter((r) => {
        const [role, db] = r.split('@');
        return WRITING_ROLES.has(role!) && (db === p.database || db === 'admin');
      });
      if (p.user === undefined) steps.push({ name: 'rights', ok: true, detail: 'The server asks for no login: any client may write.' });
      else if (writing.length > 0) steps.push({ name: 'rights', ok: true, detail: `${p.user} holds ${writing.join(', ')}.` });
      else {
        steps.push({
          name: 'rights',
          ok: false,
          detail: `${p.user} holds ${p.roles.length > 0 ? p.roles.join(', ') : 'no role'}, none of which allows writing to "${p.database}".`,
          fix: `An administrator must run: db.getSiblingDB("admin").grantRolesToUser("${p.user}", [{ role: "readWrite", db: "${p.database}" }])`,
        });
      }
    }
    if (p.failure) {
      steps.push({ name: 'collections', ok: false, detail: p.failure.message, ...(p.failure.hint ? { fix: p.failure.hint } : {}) });
    } else if ((p.collections ?? []).length === 0) {
      steps.push({ name: 'collections', ok: true, detail: 'No pds collections yet: the first load creates them and their indexes.' });
    } else {
      const missing = p.missingIndexes ?? [];
      steps.push({
        name: 'collections',
        ok: true,
        detail: `Collections ${p.collections!.join(', ')}; ${missing.length === 0 ? 'indexes up to date' : `indexes ${missing.join(', ')} missing: the next load creates them`}.`,
      });
    }
    return probeOf('events', 'mongodb', steps, `MongoDB "${p.database}": ${steps.at(-1)!.detail}`);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Probes the relational and the events target of an environment, each on its own. Never throws for a target's failure. */
export async function probeTargets(env: string, config: EnvironmentConfig, paths: EnvironmentPaths, secrets: SecretResolver, home: string): Promise<TargetProbe[]> {
  const r = config.targets.relational;
  const e = config.targets.events;
  return Promise.all([
    r.type === 'sqlite' ? probeSqlite('relational', r.path, paths) : probeMariaDb(env, r, config, home, secrets),
    e.type === 'sqlite' ? probeSqlite('events', e.path, paths) : probeMongo(env, e, config, secrets),
  ]);
}

/** A probe as one paragraph (`pds db check`): the summary, then each failed step with its fix. */
export function probeDetail(probe: TargetProbe): string {
  const failed = probe.steps.filter((s) => !s.ok);
  if (failed.length === 0) return [probe.summary, ...probe.steps.filter((s) => s.name === 'server settings').map((s) => s.detail)].join(' ');
  return failed.map((s) => `${s.name}: ${s.detail}${s.fix ? ` ${s.fix}` : ''}`).join(' ');
}
