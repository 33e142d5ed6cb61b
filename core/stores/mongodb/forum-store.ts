/**
 * Forum dumps (docs/edx-formats.md §4.11) in MongoDB: one collection per course snapshot, switched in
 * by a pointer document so that readers never see neither or both snapshots.
 *
 * A load writes into a new collection `forum__{hash}__{loadId}` (hash: 16 hex digits of the
 * sha256 of the course key, which keeps names short and free of awkward characters), then
 * switches the course's pointer in `forum_snapshots` `{ _id: courseKey, collection,
 * snapshotDate, rows, … }` with one single-document update (atomic on every MongoDB and on
 * FerretDB, no transaction needed), and only then drops the collection the pointer named before.
 * A snapshot older than the one in place is not switched in (`stale`), its collection is
 * dropped. Collections of loads that never switched (killed runs) are dropped when the course's
 * next snapshot begins.
 *
 * Readers resolve the pointer, read that collection, and re-check the pointer afterwards:
 * `readForumSnapshot()` does this and retries when a switch happened meanwhile, so what it
 * returns always comes from exactly one complete snapshot.
 *
 * Documents are stored as `readForum` yields them (ObjectId `_id`, real Dates), with field names
 * escaped like event documents (`key-escaping.ts`; real dumps come from MongoDB and never need it).
 */
import { createHash } from 'node:crypto';
import { MongoBulkWriteError, type Collection, type Db, type Document } from 'mongodb';
import { LoadError } from '../../errors/index.js';
import type { LoadOrigin } from '../ports.js';
import { escapeKeys } from './key-escaping.js';
import { MongoStoreBase } from './mongo-connection.js';
import { isDuplicateKeyCode, isNamespaceNotFound, serverCode, toMongoLoadError, type MongoErrorContext } from './mongo-errors.js';

/** Base name of the pointer collection (before `collectionPrefix`). */
export const FORUM_POINTERS_COLLECTION = 'forum_snapshots';

/** Which course snapshot a forum load replaces. */
export interface ForumSnapshotSpec {
  /** `{org}-{course}-{run}` from the file name. */
  courseKey: string;
  /** `YYYY-MM-DD` of the weekly package. */
  snapshotDate: string;
  origin: LoadOrigin;
}

/** Outcome of switching a forum snapshot in. */
export interface ForumCommitResult {
  /** Documents now visible for the course (the older snapshot's count when `stale`). */
  rows: number;
  /** True when a newer snapshot was already in place and nothing changed. */
  stale: boolean;
}

/** A forum snapshot being written; invisible to readers until `commit()`. */
export interface ForumSnapshotWriter {
  /** Adds documents (as `readForum` yields them). A repeated `_id` is kept once. */
  write(docs: Record<string, unknown>[]): Promise<void>;
  /** Switches the course's pointer to the new snapshot and drops the previous collection. */
  commit(): Promise<ForumCommitResult>;
  /** Drops what was written; the previous snapshot stays. Never throws. */
  abort(): Promise<void>;
}

/** The pointer document of one course in `forum_snapshots`. */
export interface ForumSnapshotPointer {
  _id: string;
  /** Full collection name holding the course's current snapshot. */
  collection: string;
  snapshotDate: string;
  rows: number;
  file: string;
  loadId: string;
  switchedAt: Date;
}

/** Codes a read gets when the collection it reads is dropped under it. */
const DROPPED_WHILE_READING = new Set([26, 43, 175, 237]);
const MAX_READ_ATTEMPTS = 5;

/** 16 hex digits of sha256(courseKey): the course part of its snapshot collections' names. */
export function forumCourseHash(courseKey: string): string {
  return createHash('sha256').update(courseKey, 'utf8').digest('hex').slice(0, 16);
}

/** Forum snapshots of every course. `init()` it before use (the first begin does it too). */
export class MongoForumStore extends MongoStoreBase {
  private ready: Promise<void> | undefined;

  private ctx(action: string, file?: string): MongoErrorContext {
    return { action, database: this.connection.database, file, timeouts: this.connection.timeouts };
  }

  /** Connects (pointer documents need no index beyond `_id`). Idempotent. */
  async init(): Promise<void> {
    this.ready ??= this.connection
      .db()
      .then(() => undefined)
      .catch((error: unknown) => {
        this.ready = undefined;
        throw toMongoLoadError(error, this.ctx('connect for forum snapshots'));
      });
    return this.ready;
  }

  private pointers(db: Db): Collection<ForumSnapshotPointer> {
    return db.collection<ForumSnapshotPointer>(this.connection.name(FORUM_POINTERS_COLLECTION));
  }

  /** Name prefix of every snapshot collection of a course. */
  private collectionStem(courseKey: string): string {
    return this.connection.name(`forum__${forumCourseHash(courseKey)}__`);
  }

  /**
   * Starts a new snapshot of one course's forum: drops collections that earlier loads of the
   * course left unswitched, then creates the new, empty collection.
   */
  async beginForumSnapshot(spec: ForumSnapshotSpec): Promise<ForumSnapshotWriter> {
    await this.init();
    const file = spec.origin.fileKey;
    const name = this.collectionStem(spec.courseKey) + spec.origin.loadId;
    try {
      const db = await this.connection.db();
      const current = await this.pointers(db).findOne({ _id: spec.courseKey });
      const stem = this.collectionStem(spec.courseKey);
      const existing = await db.listCollections({}, { nameOnly: true }).toArray();
      for (const { name: other } of existing) {
        if (other.startsWith(stem) && other !== current?.collection && other !== name) await dropIfExists(db, other);
      }
      await db.createCollection(name);
      // Thread pages and per-author queries are the common reads of a forum dump.
      await db.collection(name).createIndexes([
        { name: 'thread', key: { comment_thread_id: 1 } },
        { name: 'author', key: { author_id: 1 } },
      ]);
      return new ForumSnapshotLoad(db, this.pointers(db), name, spec, (action, error) => toMongoLoadError(error, this.ctx(action, file)));
    } catch (error) {
      throw toMongoLoadError(error, this.ctx('start a forum snapshot', file));
    }
  }

  /** The course's current snapshot pointer, or null when none was loaded. */
  async currentForumSnapshot(courseKey: string): Promise<ForumSnapshotPointer | null> {
    try {
      const db = await this.connection.db();
      return await this.pointers(db).findOne({ _id: courseKey });
    } catch (error) {
      throw toMongoLoadError(error, this.ctx('read the forum snapshot pointer'));
    }
  }

  /**
   * Runs `read` on the course's current snapshot collection and returns its result, or null
   * when the course has no snapshot. If a new snapshot was switched in while `read` ran, the read
   * is repeated on the new one, so the result always comes from exactly one whole snapshot.
   */
  async readForumSnapshot<T>(courseKey: string, read: (collection: Collection<Document>, pointer: ForumSnapshotPointer) => Promise<T>): Promise<T | null> {
    for (let attempt = 0; attempt < MAX_READ_ATTEMPTS; attempt++) {
      const pointer = await this.currentForumSnapshot(courseKey);
      if (pointer === null) return null;
      const db = await this.connection.db();
      let value: T;
      try {
        value = await read(db.collection(pointer.collection), pointer);
      } catch (error) {
        const code = serverCode(error);
        if (code === undefined || !DROPPED_WHILE_READING.has(code)) throw error;
        continue;
      }
      const after = await this.currentForumSnapshot(courseKey);
      if (after?.collection === pointer.collection) return value;
    }
    throw new LoadError(`The forum snapshot of ${courseKey} kept changing while it was read.`, {
      code: 'FORUM_SNAPSHOT_BUSY',
      retryable: true,
      hint: 'A load is replacing it right now; read again when it has finished.',
    });
  }
}

async function dropIfExists(db: Db, name: string): Promise<void> {
  try {
    await db.dropCollection(name);
  } catch (error) {
    if (!isNamespaceNotFound(error)) throw error;
  }
}

type Wrap = (action: string, error: unknown) => Error;

class ForumSnapshotLoad implements ForumSnapshotWriter {
  private state: 'open' | 'committed' | 'aborted' = 'open';
  private rows = 0;

  constructor(
    private readonly db: Db,
    private readonly pointers: Collection<ForumSnapshotPointer>,
    private readonly name: string,
    private readonly spec: ForumSnapshotSpec,
    private readonly wrap: Wrap,
  ) {}

  private assertOpen(what: string): void {
    if (this.state !== 'open') {
      throw new LoadError(`Cannot ${what}: this forum snapshot of ${this.spec.courseKey} was already ${this.state}.`, {
        code: 'UNIT_FINISHED',
        file: this.spec.origin.fileKey,
      });
    }
  }

  async write(docs: Record<string, unknown>[]): Promise<void> {
    this.assertOpen('write forum documents');
    if (docs.length === 0) return;
    const prepared = docs.map((d) => escapeKeys(d));
    try {
      this.rows += (await this.db.collection(this.name).insertMany(prepared, { ordered: false })).insertedCount;
    } catch (error) {
      const writeErrors = error instanceof MongoBulkWriteError ? [error.writeErrors].flat() : [];
      const onlyDuplicates = writeErrors.length > 0 && writeErrors.every((we) => isDuplicateKeyCode(we.code));
      if (!(error instanceof MongoBulkWriteError) || !onlyDuplicates || error.result.getWriteConcernError() !== undefined) {
        throw this.wrap('write forum documents', error);
      }
      // mongoexport wrote a document twice: keep one, as the comments service had one.
      this.rows += error.insertedCount;
    }
  }

  async commit(): Promise<ForumCommitResult> {
    this.assertOpen('commit the forum snapshot');
    const { courseKey, snapshotDate, origin } = this.spec;
    let previous: ForumSnapshotPointer | null;
    try {
      // One atomic document update: matched only when the snapshot in place is not newer; with
      // no pointer yet, the upsert creates it. A newer pointer makes the upsert collide on _id.
      previous = await this.pointers.findOneAndUpdate(
        { _id: courseKey, snapshotDate: { $lte: snapshotDate } },
        { $set: { collection: this.name, snapshotDate, rows: this.rows, file: origin.fileKey, loadId: origin.loadId, switchedAt: new Date() } },
        { upsert: true, returnDocument: 'before' },
      );
    } catch (error) {
      if (!isDuplicateKeyCode(serverCode(error))) throw this.wrap('switch the forum snapshot', error);
      this.state = 'committed';
      const current = await this.pointers.findOne({ _id: courseKey }).catch(() => null);
      await dropIfExists(this.db, this.name).catch(() => undefined);
      return { rows: current?.rows ?? 0, stale: true };
    }
    this.state = 'committed';
    if (previous !== null && previous.collection !== this.name) {
      // Readers that resolved the old pointer notice the switch (readForumSnapshot re-checks).
      // A failure here leaves an unreferenced collection that the next begin drops.
      await dropIfExists(this.db, previous.collection).catch(() => undefined);
    }
    return { rows: this.rows, stale: false };
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await dropIfExists(this.db, this.name).catch(() => undefined);
  }
}
