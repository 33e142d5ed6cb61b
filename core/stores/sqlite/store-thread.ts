/**
 * The SQLite store thread: hosts one `SqliteStore` in a worker thread, so that SQLite's work
 * (B-tree inserts, the write-ahead log, checkpoints) runs on one core while the pipeline decrypts
 * and parses the next batch on another. `ThreadedSqliteStore` is its only client.
 *
 * Calls are handled strictly in the order they arrive, one at a time, exactly as the in-thread
 * store would run them. After a reply that ends a transaction, the thread copies the write-ahead
 * log into the database file (a PASSIVE checkpoint) before it takes the next call: the caller
 * goes on reading its next file meanwhile, and `close` waits for the copy.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { getTableDef } from '../../domain/tables.js';
import type { TableDef } from '../../domain/schema-types.js';
import { LoadError, PdsError } from '../../errors/index.js';
import type { KeyedRowsWriter, LoadOrigin, SnapshotSpec, SnapshotWriter } from '../ports.js';
import { SqliteStore, type EventRowsWriter, type SqliteStoreOptions } from './sqlite-store.js';
import { unpackLines } from './packed-lines.js';
import type { StoreCall, StoreReply, WireError } from './threaded-sqlite-store.js';

type Writer = SnapshotWriter | KeyedRowsWriter | EventRowsWriter;

const port = parentPort;
if (!port) throw new Error('store-thread.ts runs as a worker thread only.');

const store = new SqliteStore({ ...(workerData as SqliteStoreOptions), autoCheckpoint: false });
/** Open units by the handle the caller chose; units that failed to begin keep their error. */
const writers = new Map<number, Writer>();
const failedBegins = new Map<number, unknown>();

async function begin(handle: number, open: () => Promise<Writer>): Promise<void> {
  try {
    writers.set(handle, await open());
  } catch (error) {
    // The caller does not wait for a begin: its next call on this unit reports why it failed.
    failedBegins.set(handle, error);
  }
}

function writer<T extends Writer>(handle: number): T {
  const w = writers.get(handle);
  if (w) return w as T;
  if (failedBegins.has(handle)) throw failedBegins.get(handle);
  throw new LoadError(`The SQLite thread has no open load #${handle}.`, { code: 'UNIT_FINISHED', file: store.path });
}

/** A table travels by name when it is one of the defined tables, whole otherwise (drifted). */
function tableOf(table: string | TableDef): TableDef {
  if (typeof table !== 'string') return table;
  const def = getTableDef(table);
  if (!def) throw new LoadError(`The SQLite thread does not know table ${table}.`, { code: 'TABLE_UNKNOWN', file: store.path });
  return def;
}

async function run(call: StoreCall): Promise<unknown> {
  switch (call.op) {
    case 'init':
      return store.init();
    case 'close':
      return store.close();
    case 'query':
      return store.query(call.sql, call.params);
    case 'countByCourseAndType':
      return store.countByCourseAndType();
    case 'beginSnapshot':
      return begin(call.handle, () => store.beginSnapshot(call.spec as SnapshotSpec));
    case 'beginKeyed':
      return begin(call.handle, () => store.beginKeyed(call.origin as LoadOrigin));
    case 'beginEvents':
      return begin(call.handle, () => store.beginEventRows(call.origin as LoadOrigin));
    case 'writeSnapshot':
      return writer<SnapshotWriter>(call.handle).write(call.rows);
    case 'writeKeyed':
      return writer<KeyedRowsWriter>(call.handle).write(tableOf(call.table), call.rows);
    case 'writeEvents':
      return writer<EventRowsWriter>(call.handle).write(unpackLines(call.rows, call.lines));
    case 'commit': {
      const result = await writer(call.handle).commit();
      writers.delete(call.handle);
      return result;
    }
    case 'abort': {
      const w = writers.get(call.handle);
      writers.delete(call.handle);
      failedBegins.delete(call.handle);
      return w?.abort();
    }
  }
}

function toWire(error: unknown): WireError {
  if (error instanceof PdsError) {
    const dbCode = error instanceof LoadError ? error.dbCode : undefined;
    const batch = error instanceof LoadError ? error.batch : undefined;
    return { message: error.message, code: error.code, stage: error.stage, retryable: error.retryable, file: error.file, line: error.line, hint: error.hint, dbCode, batch };
  }
  // The store wraps every driver error; anything else is a bug, reported without its detail.
  return { message: `The SQLite thread failed unexpectedly on ${store.path}.`, code: 'INTERNAL', stage: 'load', retryable: false, hint: 'This looks like a bug in pds; please report it with the log.' };
}

let queue: Promise<void> = Promise.resolve();

port.on('message', (call: StoreCall) => {
  queue = queue.then(async () => {
    let reply: StoreReply;
    try {
      reply = { id: call.id, value: await run(call) };
    } catch (error) {
      reply = { id: call.id, error: toWire(error) };
    }
    port.postMessage(reply);
    if ((call.op === 'commit' || call.op === 'abort') && !store.inTransaction) {
      try {
        store.checkpoint();
      } catch {
        // A checkpoint that cannot run now (a reader holds the log) runs after a later commit.
      }
    }
  });
});
