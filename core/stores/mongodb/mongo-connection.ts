/**
 * One MongoDB client for the stores of this folder (events, forum snapshots, course structure).
 * The connection string is used as given: replica sets (`replicaSet=`), `mongodb+srv://`, TLS
 * (`tls=true&tlsCAFile=…`) and read/write options all come from the URI (README.md). Waits are
 * bounded by the environment's `timeouts` (`mongoTimeoutOptions`), unless the URI sets them.
 * The caller resolves secret references before passing the URI; nothing here logs or repeats it.
 */
import { MongoClient, type Collection, type Db, type Document, type MongoClientOptions, type WriteConcernSettings } from 'mongodb';
import { ConfigError, LoadError } from '../../errors/index.js';
import { toMongoLoadError } from './mongo-errors.js';

/** How to reach the MongoDB target (`targets.events` of type `mongodb`). */
export interface MongoStoreOptions {
  /** A MongoDB connection string (`mongodb://…` or `mongodb+srv://…`), secrets already resolved. */
  uri: string;
  /** Database holding the pds collections. */
  database: string;
  /**
   * Write concern `w` for every write: a number of members (≥ 1) or `majority`. Default: the
   * URI's `w`, else the deployment's default (majority on replica sets since MongoDB 5.0).
   */
  writeConcern?: number | 'majority';
  /** Prefix for every collection name, e.g. `pds_` (lets pds share a database). Default none. */
  collectionPrefix?: string;
  /** Events per `insertMany` call. Default 1000. */
  batchSize?: number;
  /** Keep every raw line in `_raw` (repaired lines always keep it). Default false (README.md). */
  keepRawLines?: boolean;
  /**
   * Bounded waits, in seconds (`timeouts` of the environment): opening a connection and finding a
   * usable server; one command or batch. Defaults 15 and 300.
   */
  timeouts?: MongoTimeouts;
}

/** The waits of `MongoStoreOptions.timeouts`, in seconds. */
export interface MongoTimeouts {
  connectSeconds?: number;
  querySeconds?: number;
}

const DEFAULT_CONNECT_SECONDS = 15;
const DEFAULT_QUERY_SECONDS = 300;

/**
 * The driver options bounding every wait, so a server that accepts connections but never answers
 * fails the load instead of holding it: connecting (`connectTimeoutMS`), finding a usable server
 * (`serverSelectionTimeoutMS`), an answer on the socket (`socketTimeoutMS`) and a free pooled
 * connection (`waitQueueTimeoutMS`). An option the URI sets itself is left to the URI.
 */
export function mongoTimeoutOptions(uri: string, timeouts: MongoTimeouts = {}): MongoClientOptions {
  const connectMs = (timeouts.connectSeconds ?? DEFAULT_CONNECT_SECONDS) * 1000;
  const queryMs = (timeouts.querySeconds ?? DEFAULT_QUERY_SECONDS) * 1000;
  const query = uri.includes('?') ? uri.slice(uri.indexOf('?')) : '';
  const inUri = (name: string): boolean => new RegExp(`[?&]${name}=`, 'i').test(query);
  const options: MongoClientOptions = {};
  if (!inUri('connectTimeoutMS')) options.connectTimeoutMS = connectMs;
  if (!inUri('serverSelectionTimeoutMS')) options.serverSelectionTimeoutMS = connectMs;
  if (!inUri('socketTimeoutMS')) options.socketTimeoutMS = queryMs;
  if (!inUri('waitQueueTimeoutMS')) options.waitQueueTimeoutMS = queryMs;
  return options;
}

/** Characters MongoDB does not allow in database names (any platform). */
const BAD_DB_NAME_RE = /[/\\. "$*<>:|?\u0000]/;

function validate(options: MongoStoreOptions): void {
  const at = (field: string): string => `targets.events.${field}`;
  if (typeof options.uri !== 'string' || !/^mongodb(\+srv)?:\/\//.test(options.uri)) {
    throw new ConfigError('The MongoDB URI must start with mongodb:// or mongodb+srv://.', {
      code: 'MONGO_URI_INVALID',
      path: at('uri'),
      hint: 'Example: mongodb://user@db1.example.org:27017,db2.example.org:27017/?replicaSet=rs0&tls=true (password by secret reference).',
    });
  }
  if (options.database === '' || BAD_DB_NAME_RE.test(options.database) || new TextEncoder().encode(options.database).length > 63) {
    throw new ConfigError(`"${options.database}" is not a valid MongoDB database name.`, {
      code: 'MONGO_DATABASE_INVALID',
      path: at('database'),
      hint: 'Use letters, digits, "_" and "-" (at most 63 bytes).',
    });
  }
  const prefix = options.collectionPrefix ?? '';
  if (prefix.includes('$') || prefix.includes('\u0000') || prefix.startsWith('system.')) {
    throw new ConfigError('The MongoDB collection prefix may not contain "$" or NUL or start with "system.".', {
      code: 'MONGO_PREFIX_INVALID',
      path: at('collectionPrefix'),
    });
  }
  const w = options.writeConcern;
  if (w !== undefined && w !== 'majority' && !(Number.isInteger(w) && w >= 1)) {
    // w: 0 is unacknowledged: the server would not say which events were inserted or duplicates.
    throw new ConfigError('The MongoDB write concern must be a number of members (1 or more) or "majority".', {
      code: 'MONGO_WRITE_CONCERN_INVALID',
      path: at('writeConcern'),
      hint: 'Use 1 for a standalone server, "majority" for a replica set.',
    });
  }
  if (options.batchSize !== undefined && !(Number.isInteger(options.batchSize) && options.batchSize >= 1 && options.batchSize <= 100_000)) {
    throw new ConfigError('The MongoDB batch size must be an integer from 1 to 100000.', { code: 'MONGO_BATCH_INVALID', path: at('batchSize') });
  }
}

/**
 * A lazily connected client plus the naming rules of the pds collections. Share one between the
 * stores of one environment (`openMongoStores`); the owner closes it.
 */
export class MongoConnection {
  readonly database: string;
  readonly prefix: string;
  readonly writeConcern: WriteConcernSettings | undefined;
  readonly batchSize: number;
  readonly keepRawLines: boolean;
  /** The bounded waits in effect, in seconds, for messages ("did not answer within …"). */
  readonly timeouts: Required<MongoTimeouts>;
  private readonly uri: string;
  private client: MongoClient | undefined;
  private connecting: Promise<Db> | undefined;
  private closed = false;

  /** @throws ConfigError for a malformed URI, database name, prefix or write concern. */
  constructor(options: MongoStoreOptions) {
    validate(options);
    this.uri = options.uri;
    this.database = options.database;
    this.prefix = options.collectionPrefix ?? '';
    this.writeConcern = options.writeConcern === undefined ? undefined : { w: options.writeConcern };
    this.batchSize = options.batchSize ?? 1000;
    this.keepRawLines = options.keepRawLines ?? false;
    this.timeouts = {
      connectSeconds: options.timeouts?.connectSeconds ?? DEFAULT_CONNECT_SECONDS,
      querySeconds: options.timeouts?.querySeconds ?? DEFAULT_QUERY_SECONDS,
    };
  }

  /** The full name of a pds collection (`prefix + base`). */
  name(base: string): string {
    return this.prefix + base;
  }

  /**
   * The database handle, connecting on first use.
   *
   * @throws LoadError `MONGO_UNREACHABLE` (retryable), `MONGO_AUTH_FAILED`; ConfigError
   *   `MONGO_URI_INVALID`.
   */
  async db(): Promise<Db> {
    if (this.closed) {
      throw this.closedError();
    }
    this.connecting ??= this.connect().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  /** A pds collection by base name, with the configured write concern. */
  async collection<T extends Document = Document>(base: string): Promise<Collection<T>> {
    const db = await this.db();
    return db.collection<T>(this.name(base));
  }

  private async connect(): Promise<Db> {
    let client: MongoClient;
    try {
      // Retryable writes are the driver default (retryWrites=true); a URI may turn them off for
      // servers that lack them (e.g. Amazon DocumentDB), so the option is not forced here.
      client = new MongoClient(this.uri, { appName: 'pds', ...mongoTimeoutOptions(this.uri, this.timeouts) });
    } catch (error) {
      throw toMongoLoadError(error, { action: 'connect', database: this.database, timeouts: this.timeouts });
    }
    try {
      await client.connect();
    } catch (error) {
      await client.close().catch(() => undefined);
      throw toMongoLoadError(error, { action: 'connect', database: this.database, timeouts: this.timeouts });
    }
    if (this.closed) {
      await client.close().catch(() => undefined);
      throw this.closedError();
    }
    this.client = client;
    return client.db(this.database, this.writeConcern === undefined ? {} : { writeConcern: this.writeConcern });
  }

  private closedError(): LoadError {
    return new LoadError(`The MongoDB connection to database "${this.database}" was already closed.`, {
      code: 'MONGO_CLOSED',
      hint: 'This is a bug in the caller: open the stores again for a new run.',
    });
  }

  /** Closes the client. Idempotent; later calls to `db()` fail. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = this.connecting;
    this.connecting = undefined;
    await pending?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    await client?.close().catch(() => undefined);
  }
}

/**
 * What the MongoDB stores share: a connection they either own (built from options, closed with
 * the store) or borrow (shared through `openMongoStores`, closed by its owner).
 */
export abstract class MongoStoreBase {
  readonly connection: MongoConnection;
  private readonly ownsConnection: boolean;

  /**
   * @param target connection options (the store then owns its client) or a shared connection.
   * @throws ConfigError for malformed options.
   */
  constructor(target: MongoStoreOptions | MongoConnection) {
    this.ownsConnection = !(target instanceof MongoConnection);
    this.connection = target instanceof MongoConnection ? target : new MongoConnection(target);
  }

  /** Closes the client when this store owns it. */
  async close(): Promise<void> {
    if (this.ownsConnection) await this.connection.close();
  }
}
