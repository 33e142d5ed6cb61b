/**
 * `pds db pseudonymise` and `pds db grants`: the pseudonym map and views of an environment's
 * relational store, and the MariaDB roles that read them (core/privacy/pseudonyms.ts).
 */
import { environmentPaths, getEnvironment, loadConfig, resolveHome } from '../config/config-store.js';
import { ConfigError } from '../errors/index.js';
import { openErasureTargets } from './erasure-targets.js';
import { appendAuditEntry, privacySecret } from './privacy-ledger.js';
import { osActor } from '../ledger/actor.js';
import { grantStatements, refreshPseudonyms } from './pseudonyms.js';
import { existsSync } from 'node:fs';

export async function refreshEnvironmentPseudonyms(homeOption: string | undefined, env: string): Promise<{ learners: number; views: string[] }> {
  const home = resolveHome(homeOption);
  const config = getEnvironment(await loadConfig(home), env);
  const paths = environmentPaths(home, env);
  const targets = await openErasureTargets(home, env, config, paths);
  if (!targets) return { learners: 0, views: [] };
  try {
    const r = await refreshPseudonyms(targets.relational, await privacySecret(home, env, config, paths));
    if (existsSync(paths.ledger)) appendAuditEntry(paths.ledger, osActor(), 'config', { env, method: 'pseudonymise', learners: r.learners });
    return r;
  } finally {
    await targets.close();
  }
}

/** The GRANT statements for the environment's MariaDB database. */
export async function environmentGrants(homeOption: string | undefined, env: string): Promise<string[]> {
  const home = resolveHome(homeOption);
  const config = getEnvironment(await loadConfig(home), env);
  const r = config.targets.relational;
  if (r.type !== 'mariadb') {
    throw new ConfigError(`Environment ${env} keeps its tables in SQLite, which has no accounts: give analysts a copy with only the pseudo_* views, or move the tables to MariaDB.`, {
      code: 'GRANTS_NEED_MARIADB',
      hint: 'pds db grants prints GRANT statements for a MariaDB relational target (targets.relational.type: mariadb).',
    });
  }
  const database = r.database ?? (r.url && !r.url.startsWith('env:') && !r.url.startsWith('file:') ? decodeURIComponent(new URL(r.url).pathname.slice(1)) : undefined);
  if (!database) throw new ConfigError(`Environment ${env}: the database name is in a secret reference; name it with targets.relational.database.`, { code: 'CONFIG_INVALID' });
  // The views are (re)created first, so every GRANT names a view that exists.
  const { views } = await refreshEnvironmentPseudonyms(homeOption, env);
  return grantStatements(database, views);
}
