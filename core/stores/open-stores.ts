/**
 * Opens the targets an environment names: the relational store and the event store. With no
 * server configured both are one embedded SQLite file.
 */
import { readFile } from 'node:fs/promises';
import { isSecretRef, timeoutsOf, type EnvironmentConfig } from '../config/config-schema.js';
import { resolvePath, type EnvironmentPaths } from '../config/config-store.js';
import { ConfigError } from '../errors/index.js';
import type { MariaDbStore } from './mariadb/mariadb-store.js';
import type { MongoStores } from './mongodb/open-mongo-stores.js';
import type { DocumentStore, EventStore, RelationalStore } from './ports.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { ThreadedSqliteStore } from './sqlite/threaded-sqlite-store.js';

export interface OpenStores {
  relational: RelationalStore;
  events: EventStore;
  /** Set when the events target is a document database (forum dumps, course structures). */
  documents?: DocumentStore;
  close(): Promise<void>;
}

async function documentStoreOf(mongo: MongoStores): Promise<DocumentStore> {
  const { courseStructureBlocks } = await import('./mongodb/course-structure-store.js');
  return {
    beginForumSnapshot: (spec) => mongo.forum.beginForumSnapshot(spec),
    replaceCourseStructure: ({ structure, ...spec }) => mongo.courseStructure.replaceCourseStructure({ ...spec, blocks: courseStructureBlocks(structure) }),
  };
}

/** Resolves a secret reference (`env:NAME`, `file:PATH`) named by its config path. */
export type SecretResolver = (ref: string, fieldPath: string) => Promise<string>;

export type MariaDbSettings = Extract<EnvironmentConfig['targets']['relational'], { type: 'mariadb' }>;

/** The parts of a `mariadb://user:password@host:port/database?ssl=true` URL (`mysql://` too). */
export function mariaDbUrlParts(url: string): { host?: string; port?: number; user?: string; password?: string; database?: string; ssl?: boolean } {
  const u = new URL(url);
  if (u.protocol !== 'mariadb:' && u.protocol !== 'mysql:') throw new TypeError('not a mariadb:// URL');
  const ssl = u.searchParams.get('ssl');
  return {
    host: u.hostname || undefined,
    port: u.port ? Number(u.port) : undefined,
    user: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : undefined,
    ssl: ssl === null ? undefined : ssl === 'true' || ssl === '1',
  };
}

/** The MariaDB store's options for a relational target: URL parts, secrets resolved, TLS files read, waits bounded. */
export async function mariaDbOptions(env: string, t: MariaDbSettings, home: string, secrets: SecretResolver, config: EnvironmentConfig): Promise<ConstructorParameters<typeof MariaDbStore>[0]> {
  const base = `environments.${env}.targets.relational`;
  let fromUrl: ReturnType<typeof mariaDbUrlParts> = {};
  if (t.url) {
    const url = isSecretRef(t.url) ? await secrets(t.url, `${base}.url`) : t.url;
    try {
      fromUrl = mariaDbUrlParts(url);
    } catch (error) {
      // The message must not echo the URL: it may hold a password.
      throw new ConfigError(`${base}.url is not a valid mariadb:// URL.`, { code: 'CONFIG_INVALID', path: `${base}.url`, cause: error, hint: 'Example: mariadb://pds@db1.example.edu:3306/edx?ssl=true' });
    }
  }
  const user = t.user ?? fromUrl.user;
  const database = t.database ?? fromUrl.database;
  if (!user || !database) {
    throw new ConfigError(`${base}: the URL names no ${!user ? 'user' : 'database'}; add it to the URL or as a field.`, { code: 'CONFIG_INVALID', path: base });
  }
  const read = async (path: string | undefined, field: string): Promise<string | undefined> => {
    if (!path) return undefined;
    try {
      return await readFile(resolvePath(home, path), 'utf8');
    } catch (error) {
      throw new ConfigError(`${base}.ssl.${field}: cannot read ${resolvePath(home, path)}.`, { code: 'CONFIG_TLS_FILE', path: `${base}.ssl.${field}`, cause: error });
    }
  };
  const ssl =
    t.ssl === undefined || typeof t.ssl === 'boolean'
      ? (t.ssl ?? fromUrl.ssl)
      : { ca: await read(t.ssl.ca, 'ca'), cert: await read(t.ssl.cert, 'cert'), key: await read(t.ssl.key, 'key'), rejectUnauthorized: t.ssl.rejectUnauthorized, servername: t.ssl.servername };
  return {
    host: t.host ?? fromUrl.host ?? '127.0.0.1',
    port: t.port ?? fromUrl.port ?? 3306,
    user,
    password: t.password ? await secrets(t.password, `${base}.password`) : fromUrl.password,
    database,
    socketPath: t.socketPath,
    ssl,
    connectionLimit: t.connectionLimit,
    bulkMethod: t.bulkMethod,
    sessionVariables: t.sessionVariables,
    // Every wait is bounded (README "Timeouts"): a server that stops answering fails the unit.
    connectTimeoutMs: timeoutsOf(config).connectSeconds * 1000,
    queryTimeoutMs: timeoutsOf(config).querySeconds * 1000,
  };
}

export interface OpenStoresOptions {
  /**
   * Run SQLite on its own thread (`ThreadedSqliteStore`), for loads: its work then overlaps the
   * decrypting and parsing. Reads (status, reports) stay on the caller's thread.
   */
  threaded?: boolean;
}

/**
 * Opens (and initialises) the stores of an environment. `home` resolves relative paths in the
 * config (TLS files); the embedded file defaults to the environment's `data.sqlite`.
 */
export async function openStores(
  env: string,
  config: EnvironmentConfig,
  paths: EnvironmentPaths,
  secrets: SecretResolver,
  home: string,
  options: OpenStoresOptions = {},
): Promise<OpenStores> {
  const opened: { close(): Promise<void> }[] = [];
  const sqlite = new Map<string, SqliteStore | ThreadedSqliteStore>();
  const openSqlite = async (path: string | undefined): Promise<SqliteStore | ThreadedSqliteStore> => {
    const full = path ? resolvePath(paths.root, path) : paths.sqlite;
    let store = sqlite.get(full);
    if (!store) {
      store = options.threaded ? new ThreadedSqliteStore({ path: full }) : new SqliteStore({ path: full });
      opened.push(store);
      await store.init();
      sqlite.set(full, store);
    }
    return store;
  };
  const closeAll = async (): Promise<void> => {
    for (const s of opened.reverse()) await s.close().catch(() => undefined);
  };

  try {
    const r = config.targets.relational;
    let relational: RelationalStore;
    if (r.type === 'sqlite') relational = await openSqlite(r.path);
    else {
      // Server drivers load only when an environment uses them: the embedded default starts fast.
      const { MariaDbStore } = await import('./mariadb/mariadb-store.js');
      const store = new MariaDbStore(await mariaDbOptions(env, r, home, secrets, config));
      opened.push(store);
      await store.init();
      relational = store;
    }

    const e = config.targets.events;
    if (e.type === 'sqlite') return { relational, events: await openSqlite(e.path), close: closeAll };
    // The URI may carry credentials: then it is a secret reference.
    const uri = isSecretRef(e.uri) ? await secrets(e.uri, `environments.${env}.targets.events.uri`) : e.uri;
    const { openMongoStores } = await import('./mongodb/open-mongo-stores.js');
    const mongo = await openMongoStores({
      uri,
      database: e.database,
      writeConcern: e.writeConcern,
      collectionPrefix: e.collectionPrefix,
      batchSize: e.batchSize,
      keepRawLines: e.keepRawLines,
      timeouts: timeoutsOf(config),
    });
    opened.push(mongo);
    return { relational, events: mongo.events, documents: await documentStoreOf(mongo), close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
