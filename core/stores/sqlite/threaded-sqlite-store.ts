/**
 * The embedded store run on its own thread (`store-thread.ts`): the same `SqliteStore`, behind the
 * same ports, with every call sent to a worker thread and answered in order. Loads use it so that
 * SQLite's work overlaps the decrypting and parsing of the next batch (2 cores: about the sum
 * becomes about the larger of the two). Rows cross the thread boundary as plain arrays; event
 * records are turned into `events` rows on the caller's side.
 *
 * Semantics are the in-thread store's: units of work, savepoints, snapshot swaps and errors are
 * the same (a `LoadError` thrown in the thread arrives here with its code, hint and database
 * code). If the thread itself dies, every pending and later call fails with a retryable
 * `STORE_THREAD_FAILED`: SQLite rolled back the open transaction, so nothing half-done is kept.
 */
import { Worker } from 'node:worker_threads';
import { eventRow } from '../../domain/designate.js';
import type { EventRecord, SqlValue } from '../../domain/records.js';
import type { TableDef } from '../../domain/schema-types.js';
import { getTableDef } from '../../domain/tables.js';
import { LoadError, type Stage } from '../../errors/index.js';
import type {
  EventStore,
  EventWriter,
  KeyedRowsWriter,
  KeyedWriteResult,
  LoadOrigin,
  RelationalStore,
  SnapshotCommitResult,
  SnapshotSpec,
  SnapshotWriter,
} from '../ports.js';
import { packLines, type PackedLines } from './packed-lines.js';
import { TABLE_NAMES_SQL } from './sqlite-ddl.js';
import type { SqliteStoreOptions } from './sqlite-store.js';

/** A call to the store thread. */
export type StoreCall = { id: number } & (
  | { op: 'init' | 'close' | 'countByCourseAndType' }
  | { op: 'query'; sql: string; params: SqlValue[] }
  | { op: 'beginSnapshot'; handle: number; spec: SnapshotSpec }
  | { op: 'beginKeyed' | 'beginEvents'; handle: number; origin: LoadOrigin }
  | { op: 'writeSnapshot'; handle: number; rows: SqlValue[][] }
  | { op: 'writeEvents'; handle: number; rows: SqlValue[][]; lines?: PackedLines }
  | { op: 'writeKeyed'; handle: number; table: string | TableDef; rows: SqlValue[][] }
  | { op: 'commit' | 'abort'; handle: number }
);

/** A `LoadError` as it crosses the thread boundary. */
export interface WireError {
  message: string;
  code: string;
  stage: Stage;
  retryable: boolean;
  file?: string;
  line?: number;
  hint?: string;
  dbCode?: string | number;
  batch?: number;
}

export type StoreReply = { id: number; value: unknown; error?: undefined } | { id: number; error: WireError };

type CallBody = StoreCall extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

// Under tsx (tests, benchmarks) the sources are .ts and the thread needs tsx too; built, they are .js.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const THREAD_URL = new URL(FROM_SOURCE ? './store-thread.ts' : './store-thread.js', import.meta.url);

/** The defined table travels by name; a drifted definition travels whole. */
function tableRef(table: TableDef): string | TableDef {
  return getTableDef(table.name) === table ? table.name : table;
}

export class ThreadedSqliteStore implements RelationalStore, EventStore {
  readonly engine = 'sqlite';
  /** The thread runs calls one at a time, in the order they arrive. */
  readonly queuesWrites = true;
  readonly path: string;
  private readonly options: SqliteStoreOptions;
  private worker: Worker | undefined;
  private failure: LoadError | undefined;
  private closed = false;
  private seq = 0;
  private handles = 0;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();

  constructor(options: SqliteStoreOptions) {
    this.options = options;
    this.path = options.path;
  }

  async init(): Promise<void> {
    if (!this.worker && !this.closed) this.start();
    await this.call({ op: 'init' });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.worker && !this.failure) await this.call({ op: 'close' });
    } finally {
      this.closed = true;
      await this.worker?.terminate();
      this.worker = undefined;
    }
  }

  private start(): void {
    const worker = FROM_SOURCE
      ? // tsx's hooks do not reach a worker's entry module: register them first, then import it.
        new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(THREAD_URL.href)}); });`, {
          eval: true,
          workerData: this.options,
        })
      : new Worker(THREAD_URL, { workerData: this.options });
    worker.unref();
    worker.on('message', (reply: StoreReply) => this.settle(reply));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', () => this.fail());
    this.worker = worker;
  }

  private settle(reply: StoreReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (reply.error) {
      const { message, ...options } = reply.error;
      waiting.reject(new LoadError(message, options));
    } else {
      waiting.resolve(reply.value);
    }
  }

  /** The thread ended: whatever was pending can no longer happen. */
  private fail(cause?: Error): void {
    if (this.closed) return;
    this.failure ??= new LoadError(`The SQLite thread for ${this.path} stopped; a load it had open was rolled back.`, {
      code: 'STORE_THREAD_FAILED',
      cause,
      file: this.path,
      retryable: true,
      hint: 'If this repeats, check the disk and memory, and the log.',
    });
    for (const { reject } of this.pending.values()) reject(this.failure);
    this.pending.clear();
  }

  private call<T = void>(body: CallBody, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.closed) return Promise.reject(new LoadError(`The SQLite store for ${this.path} is closed.`, { code: 'STORE_CLOSED', file: this.path }));
    if (this.failure) return Promise.reject(this.failure);
    const worker = this.worker;
    if (!worker) return Promise.reject(new LoadError(`The SQLite store for ${this.path} was used before init().`, { code: 'STORE_NOT_READY', file: this.path }));
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ ...body, id } as StoreCall, transfer);
    });
  }

  /** Ports: abort is safe after a failed write and never throws. */
  private abortOf(handle: number): () => Promise<void> {
    return () => this.call({ op: 'abort', handle }).catch(() => undefined);
  }

  /**
   * Starts a unit without waiting for the thread, which may still be copying the previous file's
   * log: the caller starts reading meanwhile. The caller names the unit, so its writes can follow
   * at once; if the unit cannot begin, its first write or commit fails with the reason.
   */
  private begin(body: CallBody): void {
    this.call(body).catch(() => undefined);
  }

  async beginSnapshot(spec: SnapshotSpec): Promise<SnapshotWriter> {
    const handle = ++this.handles;
    this.begin({ op: 'beginSnapshot', handle, spec });
    return {
      write: (rows) => this.call({ op: 'writeSnapshot', handle, rows }),
      commit: () => this.call<SnapshotCommitResult>({ op: 'commit', handle }),
      abort: this.abortOf(handle),
    };
  }

  async beginKeyed(origin: LoadOrigin): Promise<KeyedRowsWriter> {
    const handle = ++this.handles;
    this.begin({ op: 'beginKeyed', handle, origin });
    return {
      write: (table, rows) => this.call<KeyedWriteResult>({ op: 'writeKeyed', handle, table: tableRef(table), rows }),
      commit: () => this.call({ op: 'commit', handle }),
      abort: this.abortOf(handle),
    };
  }

  async beginEvents(origin: LoadOrigin): Promise<EventWriter> {
    const handle = ++this.handles;
    this.begin({ op: 'beginEvents', handle, origin });
    return {
      write: (events: EventRecord[]) => {
        const rows = events.map((e) => eventRow(e, origin.fileKey));
        const lines = packLines(events, rows);
        return this.call<KeyedWriteResult>({ op: 'writeEvents', handle, rows, lines }, lines ? [lines.bytes.buffer as ArrayBuffer] : []);
      },
      commit: () => this.call({ op: 'commit', handle }),
      abort: this.abortOf(handle),
    };
  }

  query<T = Record<string, unknown>>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return this.call<T[]>({ op: 'query', sql, params });
  }

  async tableNames(): Promise<string[]> {
    return (await this.query<{ name: string }>(TABLE_NAMES_SQL)).map((r) => r.name);
  }

  countByCourseAndType(): Promise<{ courseId: string | null; type: string | null; count: number }[]> {
    return this.call({ op: 'countByCourseAndType' });
  }
}
