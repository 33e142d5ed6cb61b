/**
 * Opens the MongoDB stores of one environment on one shared client: the event store (the
 * `EventStore` port), forum snapshots and course structures.
 */
import { MongoCourseStructureStore } from './course-structure-store.js';
import { MongoForumStore } from './forum-store.js';
import { MongoConnection, type MongoStoreOptions } from './mongo-connection.js';
import { MongoEventStore, type MongoCheckResult } from './mongodb-event-store.js';

/** The MongoDB stores of one environment. Closing it closes the shared client. */
export interface MongoStores {
  readonly connection: MongoConnection;
  readonly events: MongoEventStore;
  readonly forum: MongoForumStore;
  readonly courseStructure: MongoCourseStructureStore;
  /** Ping, write probe and indexes (`pds db check`). Never throws. */
  check(): Promise<MongoCheckResult>;
  close(): Promise<void>;
}

/**
 * Connects and prepares the collections (indexes), then returns the stores.
 *
 * @throws ConfigError for malformed options; LoadError `MONGO_UNREACHABLE` (retryable),
 *   `MONGO_AUTH_FAILED`, `MONGO_UNAUTHORIZED` when the server cannot be used.
 */
export async function openMongoStores(options: MongoStoreOptions): Promise<MongoStores> {
  const connection = new MongoConnection(options);
  const stores = createMongoStores(connection);
  try {
    await stores.events.init();
    await stores.forum.init();
    await stores.courseStructure.init();
  } catch (error) {
    await connection.close();
    throw error;
  }
  return stores;
}

/**
 * The stores on an existing connection, not yet connected (each connects on first use). For
 * `pds db check`, which must report an unreachable server instead of failing to open.
 */
export function createMongoStores(connection: MongoConnection): MongoStores {
  const events = new MongoEventStore(connection);
  return {
    connection,
    events,
    forum: new MongoForumStore(connection),
    courseStructure: new MongoCourseStructureStore(connection),
    check: () => events.check(),
    close: () => connection.close(),
  };
}
