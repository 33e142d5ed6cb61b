/**
 * Course structure (docs/edx-formats.md §4.10) kept as documents beside the relational `course_blocks`
 * table: collection `course_structure`, one document per course key holding the newest snapshot
 * `{ _id: courseKey, snapshotDate, courseId, blocks: [...], file, loadId, loadedAt }`.
 *
 * A snapshot replaces the course's document in one conditional upsert (atomic; readers see the
 * old or the new outline, never a mix) unless a newer snapshot is already stored (`stale`).
 * Block metadata keys are escaped like event keys (`key-escaping.ts`): discussion topic names
 * are free text and may contain dots.
 */
import { BSON, type Collection } from 'mongodb';
import { LoadError } from '../../errors/index.js';
import type { LoadOrigin } from '../ports.js';
import { defineKey, escapeKeys, isPlainObject, unescapeKeys } from './key-escaping.js';
import { MongoStoreBase } from './mongo-connection.js';
import { isDuplicateKeyCode, serverCode, toMongoLoadError } from './mongo-errors.js';

/** Base name of the collection (before `collectionPrefix`). */
export const COURSE_STRUCTURE_COLLECTION = 'course_structure';

/** Largest document MongoDB stores. */
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/** One course outline to store. */
export interface CourseStructureSpec {
  /** `{org}-{course}-{run}` from the file name. */
  courseKey: string;
  /** `YYYY-MM-DD` of the weekly package. */
  snapshotDate: string;
  /** Course id derived from the root block (`readCourseStructure().courseId`), when known. */
  courseId?: string | null;
  /** The blocks, e.g. `courseStructureBlocks(JSON.parse(text))`. */
  blocks: readonly Record<string, unknown>[];
  origin: LoadOrigin;
}

/** The stored document. */
export interface CourseStructureDocument {
  _id: string;
  snapshotDate: string;
  courseId: string | null;
  blocks: Record<string, unknown>[];
  file: string;
  loadId: string;
  loadedAt: Date;
}

/** Outcome of `replaceCourseStructure`. */
export interface CourseStructureResult {
  /** Blocks now stored for the course (the newer snapshot's count when `stale`). */
  blocks: number;
  /** True when a newer snapshot was already stored and nothing changed. */
  stale: boolean;
}

/**
 * Turns the §4.10 object keyed by usage id into the stored blocks array, in file order:
 * `{ block_id, category, children, metadata, … }` per block.
 */
export function courseStructureBlocks(structure: Record<string, unknown>): Record<string, unknown>[] {
  const blocks: Record<string, unknown>[] = [];
  for (const [blockId, value] of Object.entries(structure)) {
    const block: Record<string, unknown> = { block_id: blockId };
    if (isPlainObject(value)) {
      // The usage id is the key in the file; a field of the same name inside the block loses.
      for (const key of Object.keys(value)) if (key !== 'block_id') defineKey(block, key, value[key]);
    } else {
      block.value = value;
    }
    blocks.push(block);
  }
  return blocks;
}

/** Course outlines as documents. */
export class MongoCourseStructureStore extends MongoStoreBase {
  private async collection(): Promise<Collection<CourseStructureDocument>> {
    return this.connection.collection<CourseStructureDocument>(COURSE_STRUCTURE_COLLECTION);
  }

  /** Connects. Idempotent. */
  async init(): Promise<void> {
    try {
      await this.connection.db();
    } catch (error) {
      throw toMongoLoadError(error, { action: 'connect for course structures', database: this.connection.database, timeouts: this.connection.timeouts });
    }
  }

  /**
   * Stores a course's outline, replacing the previous snapshot of the course unless a newer one
   * is stored.
   *
   * @throws LoadError `COURSE_STRUCTURE_TOO_LARGE` when the outline exceeds MongoDB's 16 MB
   *   document limit; the usual `MONGO_*` errors otherwise.
   */
  async replaceCourseStructure(spec: CourseStructureSpec): Promise<CourseStructureResult> {
    const file = spec.origin.fileKey;
    const ctx = { action: 'store the course structure', database: this.connection.database, file, timeouts: this.connection.timeouts };
    const doc: CourseStructureDocument = {
      _id: spec.courseKey,
      snapshotDate: spec.snapshotDate,
      courseId: spec.courseId ?? null,
      blocks: spec.blocks.map((b) => escapeKeys(b)),
      file,
      loadId: spec.origin.loadId,
      loadedAt: new Date(),
    };
    if (BSON.calculateObjectSize(doc) > MAX_DOCUMENT_BYTES) {
      throw new LoadError(`The course structure in ${file} is larger than MongoDB's 16 MB document limit; it was not stored in MongoDB.`, {
        code: 'COURSE_STRUCTURE_TOO_LARGE',
        file,
        retryable: false,
        hint: 'The outline is still loaded into the relational course_blocks table; use that for this course.',
      });
    }
    try {
      const collection = await this.collection();
      try {
        // Matches only when the stored snapshot is not newer; with none stored, the upsert inserts.
        await collection.replaceOne({ _id: spec.courseKey, snapshotDate: { $lte: spec.snapshotDate } }, doc, { upsert: true });
        return { blocks: doc.blocks.length, stale: false };
      } catch (error) {
        if (!isDuplicateKeyCode(serverCode(error))) throw error;
        const current = await collection.findOne({ _id: spec.courseKey }, { projection: { blocks: 1 } });
        return { blocks: current?.blocks.length ?? 0, stale: true };
      }
    } catch (error) {
      throw toMongoLoadError(error, ctx);
    }
  }

  /** The stored outline of a course with its original keys, or null. */
  async getCourseStructure(courseKey: string): Promise<CourseStructureDocument | null> {
    try {
      const collection = await this.collection();
      const doc = await collection.findOne({ _id: courseKey });
      return doc === null ? null : { ...doc, blocks: doc.blocks.map((b) => unescapeKeys(b)) };
    } catch (error) {
      throw toMongoLoadError(error, { action: 'read the course structure', database: this.connection.database, timeouts: this.connection.timeouts });
    }
  }
}
