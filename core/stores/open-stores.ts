/**
 * Opens the targets an environment names: the relational store and the event store. With no
 * server configured both are one embedded SQLite file.
 */
import type { EnvironmentConfig } from '../config/config-schema.js';
import { resolvePath, type EnvironmentPaths } from '../config/config-store.js';
import { ConfigError } from '../errors/index.js';
import type { EventStore, RelationalStore } from './ports.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

export interface OpenStores {
  relational: RelationalStore;
  events: EventStore;
  close(): Promise<void>;
}

/** Resolves secrets for store settings (passwords, URIs). */
export type SecretResolver = (ref: string, fieldPath: string) => Promise<string>;

export async function openStores(env: string, config: EnvironmentConfig, paths: EnvironmentPaths, _secrets: SecretResolver): Promise<OpenStores> {
  const sqlite = new Map<string, SqliteStore>();
  const openSqlite = async (path: string | undefined): Promise<SqliteStore> => {
    const full = path ? resolvePath(paths.root, path) : paths.sqlite;
    let store = sqlite.get(full);
    if (!store) {
      store = new SqliteStore({ path: full });
      await store.init();
      sqlite.set(full, store);
    }
    return store;
  };

  const r = config.targets.relational;
  const e = config.targets.events;
  let relational: RelationalStore;
  let events: EventStore;
  if (r.type === 'sqlite') relational = await openSqlite(r.path);
  else throw new ConfigError(`environments.${env}.targets.relational: the ${r.type} target is not available in this version.`, { code: 'TARGET_UNAVAILABLE', path: `environments.${env}.targets.relational` });
  if (e.type === 'sqlite') events = await openSqlite(e.path);
  else throw new ConfigError(`environments.${env}.targets.events: the ${e.type} target is not available in this version.`, { code: 'TARGET_UNAVAILABLE', path: `environments.${env}.targets.events` });

  return {
    relational,
    events,
    async close() {
      const all = new Set<{ close(): Promise<void> }>([relational, events]);
      for (const s of all) await s.close();
    },
  };
}
