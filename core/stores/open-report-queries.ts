/**
 * Opens read-only report access (`ReportQueries`) to an environment's relational target: the
 * SQLite file read-only (a WAL reader beside any load), or the MariaDB database through a store
 * that is never initialised (no DDL; each query in a READ ONLY transaction).
 */
import type { EnvironmentConfig } from '../config/config-schema.js';
import { resolvePath, type EnvironmentPaths } from '../config/config-store.js';
import type { ReportQueries } from './ports.js';
import { mariaDbOptions, type SecretResolver } from './open-stores.js';
import { SqliteReader } from './sqlite/sqlite-reader.js';

export async function openReportQueries(env: string, config: EnvironmentConfig, paths: EnvironmentPaths, secrets: SecretResolver, home: string): Promise<ReportQueries> {
  const r = config.targets.relational;
  if (r.type === 'sqlite') return SqliteReader.open(r.path ? resolvePath(paths.root, r.path) : paths.sqlite);
  const { MariaDbStore } = await import('./mariadb/mariadb-store.js');
  const store = new MariaDbStore(await mariaDbOptions(env, r, home, secrets, config));
  return {
    dialect: 'mariadb',
    target: store.describeTarget(),
    query: (sql, params) => store.query(sql, params),
    tableNames: () => store.tableNames(),
    close: () => store.close(),
  };
}
