/**
 * The raw clickstream in MongoDB: one document per tracking-log line (`event-document.ts`),
 * implementing the `EventStore` port with the semantics of the SQLite reference store.
 *
 * Loading. Each file is one load (`LoadOrigin.loadId`) recorded in the small `loads` collection
 * `{ _id: loadId, file, committed }`. Batches go in with unordered `insertMany`, so one bad
 * document never stops the others:
 * - duplicate-key errors (11000) are events already stored: re-running a file adds nothing and
 *   counts its lines as duplicates (docs/edx-formats.md §7.9);
 * - other per-document errors are returned per line with a reason (`failed`), the rest of the
 *   batch is kept;
 * - an unreachable server, missing rights or a failed write concern raise a `LoadError`.
 * MongoDB has no transaction spanning a whole file here (FerretDB v1 and standalone servers have
 * none, and a day of events would exceed transaction limits anyway), so "commit" and "abort" are
 * bookkeeping: `commit()` marks the load committed; `abort()` deletes exactly the documents
 * whose `_load` is this load. A load that neither committed nor aborted (killed process, server
 * gone) is cleaned up when the same file is loaded next (`beginEvents`), and its documents are
 * left out of `countByCourseAndType()` until then, so reports see committed loads only, as with
 * SQLite.
 *
 * Streaming: a writer keeps counters only; memory does not grow with the file.
 */
import { randomUUID } from 'node:crypto';
import { BSON, MongoBulkWriteError, type Collection, type Db, type Document } from 'mongodb';
import type { EventRecord, RejectedLine } from '../../domain/records.js';
import { LoadError, PdsError } from '../../errors/index.js';
import type { EventStore, EventWriter, KeyedWriteResult, LoadOrigin } from '../ports.js';
import { toEventDocument, type EventDocument } from './event-document.js';
import { MongoStoreBase } from './mongo-connection.js';
import { MONGO_CODES, documentErrorReason, isDuplicateKeyCode, isNamespaceNotFound, toMongoLoadError, type MongoErrorContext } from './mongo-errors.js';

/** Base names of the collections this store uses (before `collectionPrefix`). */
export const EVENT_COLLECTIONS = { events: 'events', loads: 'loads' } as const;

/** The secondary indexes of `events`: the access paths of reports and analysts. */
export const EVENT_INDEXES = [
  { name: 'course_time', key: { _course: 1, time: 1 } },
  { name: 'user_time', key: { _user: 1, time: 1 } },
  { name: 'type_time', key: { _type: 1, time: 1 } },
  // abort() and the clean-up of abandoned loads delete by load id.
  { name: 'load', key: { _load: 1 } },
] as const;

const LOAD_INDEXES = [{ name: 'file_committed', key: { file: 1, committed: 1 } }] as const;

/** Largest document MongoDB stores (BSON `maxBsonObjectSize`). */
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;
/**
 * Lines shorter than this (UTF-16 units) cannot make a document over the limit, so they are not
 * sized: a document holds the line's content at most about three times (values, `event` string
 * plus `event_parsed`, `_raw`) at up to 3 UTF-8 bytes per unit. edX caps lines at 50,000
 * characters (docs/edx-formats.md §6), so sizing is the rare exception.
 */
const SIZE_CHECK_FROM_CHARS = 1024 * 1024;

/** Bookkeeping of one load in the `loads` collection. */
export interface LoadDocument {
  _id: string;
  /** Ledger key of the file. */
  file: string;
  committed: boolean;
  startedAt: Date;
  committedAt?: Date;
  inserted?: number;
  duplicates?: number;
  failed?: number;
}

/** `KeyedWriteResult` plus the lines the server refused for reasons other than a duplicate. */
export interface MongoEventWriteResult extends KeyedWriteResult {
  /**
   * Lines not stored, with a code and plain reason (no values), shaped for the quarantine;
   * absent when every line was stored or already present. `inserted + duplicates +
   * (failed?.length ?? 0)` equals the number of events written.
   */
  failed?: RejectedLine[];
}

/** An `EventWriter` whose `write()` also reports refused lines. */
export interface MongoEventWriter extends EventWriter {
  write(events: EventRecord[]): Promise<MongoEventWriteResult>;
  /** The load id this writer records in `_load`. */
  readonly loadId: string;
}

/** Outcome of `check()` for `pds db check`. */
export interface MongoCheckResult {
  ok: boolean;
  /** One line: server, latency, write probe, indexes; or what failed and what to do. */
  detail: string;
}

/** Outcome of `probe()`: what the server and database hold, read without changing anything. */
export interface MongoProbeResult {
  connected: boolean;
  database: string;
  /** `MongoDB 7.0.1 (FerretDB 1.24.0), ping 3 ms`. */
  server?: string;
  /** The authenticated user and its roles (`readWrite@pds`); undefined when the server does not say. */
  user?: string;
  roles?: string[];
  /** The pds collections that exist (prefixed names). */
  collections?: string[];
  /** Indexes of `events` that are missing (undefined when `events` does not exist yet). */
  missingIndexes?: string[];
  /** Why the probe could not finish. */
  failure?: { code: string; message: string; hint?: string };
}

type LoadState = 'open' | 'committed' | 'aborted';

/** The MongoDB event store. `init()` it (or let the first `beginEvents` do it) before use. */
export class MongoEventStore extends MongoStoreBase implements EventStore {
  readonly engine = 'mongodb';
  /** The client; shared with the forum and course-structure stores by `openMongoStores`. */
  private ready: Promise<void> | undefined;

  private get database(): string {
    return this.connection.database;
  }

  private ctx(action: string, file?: string, batch?: number): MongoErrorContext {
    return { action, database: this.database, file, batch, timeouts: this.connection.timeouts };
  }

  /** Connects and creates the collections' indexes. Idempotent. */
  async init(): Promise<void> {
    this.ready ??= this.createIndexes().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private async createIndexes(): Promise<void> {
    try {
      const events = await this.events();
      const loads = await this.loads();
      await ensureIndexes(events, EVENT_INDEXES);
      await ensureIndexes(loads, LOAD_INDEXES);
    } catch (error) {
      throw toMongoLoadError(error, this.ctx('create the indexes of the events collections'));
    }
  }

  private events(): Promise<Collection<EventDocument>> {
    return this.connection.collection<EventDocument>(EVENT_COLLECTIONS.events);
  }

  private loads(): Promise<Collection<LoadDocument>> {
    return this.connection.collection<LoadDocument>(EVENT_COLLECTIONS.loads);
  }

  /**
   * Starts loading one file: first deletes what earlier attempts at the same file left behind
   * without committing, then records this load as open.
   */
  async beginEvents(origin: LoadOrigin): Promise<MongoEventWriter> {
    await this.init();
    const file = origin.fileKey;
    try {
      const events = await this.events();
      const loads = await this.loads();
      const leftovers = await loads.find({ file, committed: false }, { projection: { _id: 1 } }).toArray();
      for (const { _id } of leftovers) {
        if (_id === origin.loadId) continue;
        await events.deleteMany({ _load: _id });
        await loads.deleteOne({ _id, committed: false });
      }
      await loads.insertOne({ _id: origin.loadId, file, committed: false, startedAt: new Date() });
      // Loads of other files that were open when this one began and never finished: documents
      // they left may be duplicates of our lines (one line can sit in several files, §7.9).
      const open = await loads.find({ committed: false, _id: { $ne: origin.loadId } }, { projection: { _id: 1 } }).toArray();
      return new MongoEventLoad(this, origin, new Set(open.map((l) => l._id)), events, loads);
    } catch (error) {
      throw toMongoLoadError(error, this.ctx('start loading events', file));
    }
  }

  /**
   * Event counts by course and canonical type, over committed loads (documents of loads still
   * open or abandoned are left out). Sorted by course then type, nulls first (as SQLite sorts).
   */
  async countByCourseAndType(): Promise<{ courseId: string | null; type: string | null; count: number }[]> {
    try {
      const events = await this.events();
      const loads = await this.loads();
      const pending = (await loads.find({ committed: false }, { projection: { _id: 1 } }).toArray()).map((l) => l._id);
      const pipeline: Document[] = [];
      if (pending.length > 0) pipeline.push({ $match: { _load: { $nin: pending } } });
      pipeline.push({ $group: { _id: { c: '$_course', t: '$_type' }, count: { $sum: 1 } } });
      const rows = await events.aggregate<{ _id: { c?: string | null; t?: string | null }; count: number }>(pipeline).toArray();
      return rows
        .map((r) => ({ courseId: r._id.c ?? null, type: r._id.t ?? null, count: Number(r.count) }))
        .sort((a, b) => compareNullsFirst(a.courseId, b.courseId) || compareNullsFirst(a.type, b.type));
    } catch (error) {
      throw toMongoLoadError(error, this.ctx('count events by course and type'));
    }
  }

  /**
   * For `pds db check`: the server answers a ping, a document can be written and deleted with
   * the configured write concern, and the indexes of `events` exist. Never throws.
   */
  async check(): Promise<MongoCheckResult> {
    const parts: string[] = [];
    try {
      const { server, ms } = await pingServer(await this.connection.db());
      parts.push(`${server}, database "${this.database}": ping ${ms} ms`);
    } catch (error) {
      return { ok: false, detail: describe(toMongoLoadError(error, this.ctx('connect'))) };
    }
    try {
      const loads = await this.loads();
      const probe = `check-${randomUUID()}`;
      // committed: true keeps the probe out of every "open load" query while it exists.
      await loads.insertOne({ _id: probe, file: '', committed: true, startedAt: new Date() });
      await loads.deleteOne({ _id: probe });
      const w = this.connection.writeConcern?.w;
      parts.push(`write probe ok${w === undefined ? '' : ` (w: ${String(w)})`}`);
    } catch (error) {
      parts.push(`write probe failed: ${describe(toMongoLoadError(error, this.ctx('write a probe document')))}`);
      return { ok: false, detail: parts.join('; ') };
    }
    try {
      const events = await this.events();
      const present = new Set((await events.listIndexes().toArray()).map((i) => String(i.name)));
      const missing = EVENT_INDEXES.filter((i) => !present.has(i.name)).map((i) => i.name);
      if (missing.length > 0) {
        parts.push(`indexes missing on ${this.connection.name(EVENT_COLLECTIONS.events)}: ${missing.join(', ')} (the next load creates them)`);
        return { ok: false, detail: parts.join('; ') };
      }
      parts.push(`indexes ok (${EVENT_INDEXES.map((i) => i.name).join(', ')})`);
    } catch (error) {
      if (!isNamespaceNotFound(error)) {
        parts.push(`indexes could not be listed: ${describe(toMongoLoadError(error, this.ctx('list indexes')))}`);
        return { ok: false, detail: parts.join('; ') };
      }
      parts.push('no events loaded yet (the first load creates the collection and its indexes)');
    }
    return { ok: true, detail: parts.join('; ') };
  }

  /**
   * The console's "test connection": what `check()` reads, changing nothing (no probe document,
   * no collection or index created): the server answers a ping; the account's roles; which pds
   * collections exist; the indexes of `events` missing (the next load creates them). Never throws.
   */
  async probe(): Promise<MongoProbeResult> {
    let db;
    let server: string;
    try {
      db = await this.connection.db();
      const ping = await pingServer(db);
      server = `${ping.server}, ping ${ping.ms} ms`;
    } catch (error) {
      const e = toMongoLoadError(error, this.ctx('connect'));
      return { connected: false, database: this.database, failure: { code: e.code, message: e.message, hint: e.hint } };
    }
    const result: MongoProbeResult = { connected: true, database: this.database, server };
    const status = await db.command({ connectionStatus: 1 }).catch(() => undefined);
    const authInfo = status?.authInfo as { authenticatedUsers?: { user: string; db: string }[]; authenticatedUserRoles?: { role: string; db: string }[] } | undefined;
    if (authInfo) {
      result.user = authInfo.authenticatedUsers?.[0]?.user;
      result.roles = (authInfo.authenticatedUserRoles ?? []).map((r) => `${r.role}@${r.db}`);
    }
    try {
      const names = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => String(c.name)));
      const ours = Object.values(EVENT_COLLECTIONS).map((base) => this.connection.name(base));
      result.collections = ours.filter((name) => names.has(name));
      if (names.has(this.connection.name(EVENT_COLLECTIONS.events))) {
        const present = new Set((await (await this.events()).listIndexes().toArray()).map((i) => String(i.name)));
        result.missingIndexes = EVENT_INDEXES.filter((i) => !present.has(i.name)).map((i) => i.name);
      }
    } catch (error) {
      const e = toMongoLoadError(error, this.ctx('list the collections'));
      result.failure = { code: e.code, message: e.message, hint: e.hint };
    }
    return result;
  }

  /** @internal used by the writer for error contexts. */
  errorContext(action: string, file?: string, batch?: number): MongoErrorContext {
    return this.ctx(action, file, batch);
  }
}

/**
 * Creates the indexes that are missing, one call each. Existing ones are left alone: that needs
 * no index privilege on later runs, and FerretDB v1.24 drops the connection when one
 * `createIndexes` call names several indexes that all exist already.
 */
/** Pings the server (timed) and names it: `MongoDB 7.0.5`, with FerretDB's version when it is one. */
async function pingServer(db: Db): Promise<{ server: string; ms: number }> {
  const started = performance.now();
  await db.command({ ping: 1 });
  const ms = Math.round(performance.now() - started);
  const info = await db.admin().command({ buildInfo: 1 }).catch(() => undefined);
  const version = typeof info?.version === 'string' ? ` ${info.version}` : '';
  const ferret = typeof info?.ferretdbVersion === 'string' ? ` (FerretDB ${info.ferretdbVersion})` : '';
  return { server: `MongoDB${version}${ferret}`, ms };
}

async function ensureIndexes<T extends Document>(collection: Collection<T>, specs: readonly { name: string; key: Readonly<Record<string, 1>> }[]): Promise<void> {
  let present: Set<string>;
  try {
    present = new Set((await collection.listIndexes().toArray()).map((i) => String(i.name)));
  } catch (error) {
    if (!isNamespaceNotFound(error)) throw error;
    present = new Set();
  }
  for (const spec of specs) {
    if (!present.has(spec.name)) await collection.createIndex({ ...spec.key }, { name: spec.name });
  }
}

function compareNullsFirst(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

function describe(error: PdsError): string {
  return error.hint === undefined ? error.message : `${error.message} ${error.hint}`;
}

/** One file's load: the `EventWriter` handed to the pipeline. */
class MongoEventLoad implements MongoEventWriter {
  private state: LoadState = 'open';
  private batch = 0;
  private inserted = 0;
  private duplicates = 0;
  private failed = 0;

  constructor(
    private readonly store: MongoEventStore,
    private readonly origin: LoadOrigin,
    /** Open loads of other files, found at begin: their documents may be adopted (see `adopt`). */
    private readonly orphans: Set<string>,
    private readonly events: Collection<EventDocument>,
    private readonly loads: Collection<LoadDocument>,
  ) {}

  get loadId(): string {
    return this.origin.loadId;
  }

  private assertOpen(what: string): void {
    if (this.state !== 'open') {
      throw new LoadError(`Cannot ${what}: this load of ${this.origin.fileKey} was already ${this.state}.`, {
        code: 'UNIT_FINISHED',
        file: this.origin.fileKey,
      });
    }
  }

  async write(records: EventRecord[]): Promise<MongoEventWriteResult> {
    this.assertOpen('write events');
    const size = this.store.connection.batchSize;
    const keepRaw = this.store.connection.keepRawLines;
    const result: MongoEventWriteResult = { inserted: 0, duplicates: 0 };
    const failed: RejectedLine[] = [];
    for (let start = 0; start < records.length; start += size) {
      const chunk = records.length <= size ? records : records.slice(start, start + size);
      this.batch++;
      const docs: EventDocument[] = [];
      const lines: EventRecord[] = [];
      for (const record of chunk) {
        const doc = toEventDocument(record, this.origin, { keepRawLine: keepRaw });
        if (record.raw.length >= SIZE_CHECK_FROM_CHARS && BSON.calculateObjectSize(doc) > MAX_DOCUMENT_BYTES) {
          const { code, reason } = documentErrorReason(MONGO_CODES.BSONObjectTooLarge);
          failed.push({ line: record.line, code, reason, raw: record.raw });
          continue;
        }
        docs.push(doc);
        lines.push(record);
      }
      if (docs.length > 0) await this.insert(docs, lines, result, failed);
    }
    if (failed.length > 0) result.failed = failed;
    this.inserted += result.inserted;
    this.duplicates += result.duplicates;
    this.failed += failed.length;
    return result;
  }

  /** One unordered `insertMany`; adds its outcome to `result` and `failed`. */
  private async insert(docs: EventDocument[], lines: EventRecord[], result: MongoEventWriteResult, failed: RejectedLine[]): Promise<void> {
    const file = this.origin.fileKey;
    let inserted: number;
    const duplicateIds: string[] = [];
    let refused = 0;
    try {
      inserted = (await this.events.insertMany(docs, { ordered: false })).insertedCount;
    } catch (error) {
      const writeErrors = error instanceof MongoBulkWriteError ? [error.writeErrors].flat() : [];
      if (!(error instanceof MongoBulkWriteError) || writeErrors.length === 0 || error.result.getWriteConcernError() !== undefined) {
        throw toMongoLoadError(error, this.store.errorContext('write events', file, this.batch));
      }
      inserted = error.insertedCount;
      for (const we of writeErrors) {
        const record = lines[we.index];
        if (record === undefined) continue;
        if (isDuplicateKeyCode(we.code)) {
          duplicateIds.push(docs[we.index]._id);
        } else {
          const { code, reason } = documentErrorReason(we.code);
          failed.push({ line: record.line, code, reason, raw: record.raw });
          refused++;
        }
      }
      if (inserted + duplicateIds.length + refused !== docs.length) {
        throw new LoadError(`MongoDB acknowledged only part of batch ${this.batch} of ${file}; the load is incomplete.`, {
          code: 'MONGO_PARTIAL_BATCH',
          file,
          batch: this.batch,
          retryable: true,
          cause: error,
          hint: 'Run pds again: events already stored count as duplicates.',
        });
      }
    }
    const adopted = duplicateIds.length > 0 && this.orphans.size > 0 ? await this.adopt(duplicateIds, docs) : 0;
    result.inserted += inserted + adopted;
    result.duplicates += duplicateIds.length - adopted;
  }

  /**
   * Takes over documents that an abandoned load of another file inserted and never committed
   * (the same line can be in several files, §7.9). Without this, cleaning up that abandoned
   * load later would delete events this load counted as "already stored". Loads run one file at
   * a time, so a load still open when this one began is a dead one.
   *
   * Delete-then-insert rather than a conditional replace per document: two statements per batch
   * whatever its size (FerretDB scans the collection for each non-`_id` filter). Between the two,
   * the documents are missing, but they belonged to an uncommitted load that no count includes.
   * Returns how many documents were taken over.
   */
  private async adopt(ids: string[], docs: EventDocument[]): Promise<number> {
    try {
      const removed = await this.events.deleteMany({ _id: { $in: ids }, _load: { $in: [...this.orphans] } });
      if (removed.deletedCount === 0) return 0;
      const wanted = new Set(ids);
      const mine = docs.filter((d) => wanted.has(d._id));
      try {
        return (await this.events.insertMany(mine, { ordered: false })).insertedCount;
      } catch (error) {
        const writeErrors = error instanceof MongoBulkWriteError ? [error.writeErrors].flat() : [];
        // The ids still owned by committed loads (or repeated in this batch) are duplicates again.
        if (writeErrors.length > 0 && writeErrors.every((we) => isDuplicateKeyCode(we.code)) && error instanceof MongoBulkWriteError) return error.insertedCount;
        throw error;
      }
    } catch (error) {
      throw toMongoLoadError(error, this.store.errorContext('take over events of an abandoned load', this.origin.fileKey, this.batch));
    }
  }

  async commit(): Promise<void> {
    this.assertOpen('commit');
    const file = this.origin.fileKey;
    let matched: number;
    try {
      const r = await this.loads.updateOne(
        { _id: this.origin.loadId },
        { $set: { committed: true, committedAt: new Date(), inserted: this.inserted, duplicates: this.duplicates, failed: this.failed } },
      );
      matched = r.matchedCount;
    } catch (error) {
      throw toMongoLoadError(error, this.store.errorContext('commit the events', file));
    }
    if (matched === 0) {
      this.state = 'aborted';
      throw new LoadError(`This load of ${file} was removed as abandoned by another run while it was loading; its events were deleted.`, {
        code: 'MONGO_LOAD_SUPERSEDED',
        file,
        retryable: true,
        hint: 'Make sure only one pds run loads an environment at a time.',
      });
    }
    this.state = 'committed';
  }

  /**
   * Deletes exactly the documents this load inserted (`_load`), then its bookkeeping. Never
   * throws (it runs on error paths): if the server is gone, the next load of the same file
   * removes the leftovers.
   */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    try {
      await this.events.deleteMany({ _load: this.origin.loadId });
      await this.loads.deleteOne({ _id: this.origin.loadId, committed: false });
    } catch {
      // Left for the clean-up in beginEvents: the load stays `committed: false`.
    }
  }
}
