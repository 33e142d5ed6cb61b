/**
 * Reader for the forum dumps `{course}-{prod|edge}.mongo` (docs/edx-formats.md §4.11, §7.16):
 * `mongoexport` output, one MongoDB extended-JSON document per line.
 *
 * Documents are deserialised with the bson package's EJSON in relaxed mode, so `$oid` becomes an
 * `ObjectId` and `$date` a `Date` whichever way mongoexport wrote it (epoch number, ISO string or
 * `{ "$numberLong": … }`), and numbers stay plain numbers. The document can be inserted into
 * MongoDB as it is; `forumRow()` flattens it for the relational `forum_contents` table.
 */
import { EJSON, ObjectId } from 'bson';
import type { RejectedLine, SqlValue } from '../domain/records.js';
import { sqlDatetimeFromDate } from '../domain/datetime.js';
import type { Line } from './lines.js';

/** One forum document and where it came from. */
export interface ForumDoc {
  /** 1-based line number. */
  line: number;
  /** The document with BSON types (`ObjectId`, `Date`). */
  doc: Record<string, unknown>;
  /** The line as read (UTF-8, trailing CR removed). */
  raw: string;
}

export interface ForumBatch {
  docs: ForumDoc[];
  rejected: RejectedLine[];
}

export interface ReadForumOptions {
  /**
   * The file being read. Rejects carry only line numbers and codes; the caller attributes them
   * to this file in the ledger and quarantine.
   */
  fileName: string;
}

/** Columns of the relational `forum_contents` table, in order; `forumRow()` fills each. */
export const FORUM_ROW_COLUMNS = [
  'id',
  'type',
  'course_id',
  'author_id',
  'author_username',
  'thread_id',
  'parent_id',
  'title',
  'body',
  'commentable_id',
  'thread_type',
  'created_at',
  'updated_at',
  'anonymous',
  'votes_up',
  'votes_down',
  'comment_count',
  'endorsed',
  'doc',
] as const;
export type ForumRowColumn = (typeof FORUM_ROW_COLUMNS)[number];

/** A forum document flattened for a relational table (datetimes as SQL datetimes, UTC). */
export type ForumRow = Record<ForumRowColumn, SqlValue>;

function isBlank(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 32 && b !== 9 && b !== 13) return false;
  }
  return true;
}

/**
 * Reads forum documents from batches of lines (see `readLines`). Blank lines are skipped.
 * Rejects: `JSON_INVALID` (not JSON), `JSON_NOT_OBJECT`, `EJSON_INVALID` (JSON whose extended
 * types are malformed, e.g. an `$oid` that is not 24 hex digits). Reading goes on after a reject.
 */
export async function* readForum(lines: AsyncIterable<Line[]>, _options: ReadForumOptions): AsyncGenerator<ForumBatch> {
  for await (const batch of lines) {
    const docs: ForumDoc[] = [];
    const rejected: RejectedLine[] = [];
    for (const { line, bytes } of batch) {
      if (isBlank(bytes)) continue;
      const body = bytes[bytes.length - 1] === 13 ? bytes.subarray(0, bytes.length - 1) : bytes;
      const raw = body.toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        rejected.push({ line, code: 'JSON_INVALID', reason: 'not valid JSON (truncated or malformed document)', raw: Buffer.from(bytes) });
        continue;
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json)) {
        rejected.push({ line, code: 'JSON_NOT_OBJECT', reason: 'not a JSON object', raw: Buffer.from(bytes) });
        continue;
      }
      try {
        const doc = EJSON.deserialize(json as Record<string, unknown>, { relaxed: true }) as Record<string, unknown>;
        docs.push({ line, doc, raw });
      } catch {
        rejected.push({
          line,
          code: 'EJSON_INVALID',
          reason: 'a malformed extended-JSON value ($oid, $date or $numberLong)',
          raw: Buffer.from(bytes),
        });
      }
    }
    if (docs.length > 0 || rejected.length > 0) yield { docs, rejected };
  }
}

/** Hex of an ObjectId (or of `{ $oid }` left as is), a plain string, or null. */
function idText(v: unknown): string | null {
  if (v instanceof ObjectId) return v.toHexString();
  if (typeof v === 'string') return v === '' ? null : v;
  if (typeof v === 'object' && v !== null && typeof (v as { $oid?: unknown }).$oid === 'string') return (v as { $oid: string }).$oid;
  return null;
}

function text(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function datetime(v: unknown): string | null {
  if (v instanceof Date) return sqlDatetimeFromDate(v);
  if (typeof v === 'number' && Number.isFinite(v)) return sqlDatetimeFromDate(new Date(v));
  return null;
}

function flag(v: unknown): number | null {
  return typeof v === 'boolean' ? (v ? 1 : 0) : null;
}

function count(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Up/down vote counts: the `*_count` fields, else the length of the voter lists. */
function votes(v: unknown, which: 'up' | 'down'): number | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const n = count(o[`${which}_count`]);
  if (n !== null) return n;
  const list = o[which];
  return Array.isArray(list) ? list.length : null;
}

/**
 * Flattens a forum document (thread or comment, §4.11) for the `forum_contents` table. Ids are
 * ObjectId hex strings; `author_id` is kept as a string, as the comments service stores it.
 * `thread_id` is the thread a comment belongs to, and a thread's own id, so posts group by
 * thread with one column. Fields a document type does not have are null (comments have no
 * title). `doc` is the whole document as text: `raw` (the line as mongoexport wrote it) when
 * given, else the document as relaxed extended JSON.
 */
export function forumRow(doc: Record<string, unknown>, raw?: string): ForumRow {
  const authorId = doc.author_id;
  const id = idText(doc._id);
  const type = text(doc._type);
  return {
    id,
    type,
    course_id: typeof doc.course_id === 'string' ? doc.course_id.trim() || null : null,
    author_id: typeof authorId === 'number' ? String(authorId) : text(authorId),
    author_username: text(doc.author_username),
    thread_id: idText(doc.comment_thread_id) ?? (type === 'CommentThread' ? id : null),
    parent_id: idText(doc.parent_id),
    title: text(doc.title),
    body: text(doc.body),
    commentable_id: text(doc.commentable_id),
    thread_type: text(doc.thread_type),
    created_at: datetime(doc.created_at),
    updated_at: datetime(doc.updated_at),
    anonymous: flag(doc.anonymous),
    votes_up: votes(doc.votes, 'up'),
    votes_down: votes(doc.votes, 'down'),
    comment_count: count(doc.comment_count),
    endorsed: flag(doc.endorsed),
    doc: raw ?? EJSON.stringify(doc, { relaxed: true }),
  };
}
