/**
 * The MongoDB document of one tracking-log line, and the way back to the line.
 *
 * Layout (`events` collection):
 * - `_id`: the event id, sha256 hex of the raw line bytes (re-loading a line adds nothing, §7.9);
 * - every envelope field of docs/edx-formats.md §5.2 under its original name and with its original
 *   value, in the line's key order, with two exceptions: `time` holds a real `Date` when the
 *   timestamp could be read (the original string moves to `_time`, microseconds included), and
 *   field names are escaped where MongoDB cannot store them (`key-escaping.ts`, §7.10);
 * - `event` exactly as it came (object, JSON string, URL-encoded string, `""`, list; §5.3), plus
 *   `event_parsed` when it was a string holding JSON, so browser and mobile payloads can be
 *   queried too;
 * - derived fields, all starting with `_`: `_type` (canonical type, `name ?? event_type`, §7.5),
 *   `_course` (course id by the §5.5 fallback chain, trimmed), `_user` (user id as a number),
 *   and the bookkeeping `_file` (ledger key of the file), `_load` (load id), `_line` (1-based).
 *   Repaired lines (§7.2 syslog prefix, §7.3 invalid escapes) also keep `_repairs` and `_raw`.
 *
 * Top-level names starting with `_` and the name `event_parsed` are reserved for the fields
 * above: an envelope key of that form (none is known in edX data) is stored with its first
 * character escaped (`_x` → `%5Fx`), so it can neither collide nor be lost.
 *
 * Reading back: `envelopeFromDocument` undoes all of that and `lineFromDocument` gives a line
 * whose `JSON.parse` equals the original's: same keys, values and key order (as far as
 * `JSON.parse` itself keeps order: integer-like keys come first in any JavaScript object; BSON
 * stores an integer `-0` as `0`, which is the same JSON text). Whitespace, number spelling
 * (`1.0`) and `\u` escapes of the original are not kept; the
 * repaired lines, whose JSON alone does not say what the file held, are returned from `_raw`.
 */
import type { EventRecord } from '../../domain/records.js';
import type { LoadOrigin } from '../ports.js';
import { defineKey, escapeKey, escapeKeys, unescapeKey, unescapeKeys } from './key-escaping.js';

/** One stored event. Envelope fields sit beside the fixed fields under their (escaped) names. */
export interface EventDocument {
  _id: string;
  /** A `Date` when the timestamp was readable, else the value as it came (or absent). */
  time?: unknown;
  /** `event` parsed, when it was a string holding JSON (§5.3). Keys escaped. */
  event_parsed?: unknown;
  /** Canonical type `name ?? event_type` (§7.5). */
  _type: string | null;
  /** Course id by the §5.5 fallback chain, trimmed. */
  _course: string | null;
  /** `context.user_id` (or `event.user_id`, §5.5) as a number. */
  _user: number | null;
  /** The original `time` string when `time` holds a `Date`. */
  _time?: string;
  /** Ledger key of the file the line came from. */
  _file: string;
  /** The load that inserted the document. */
  _load: string;
  /** 1-based line number in the decoded file. */
  _line: number;
  /** Repairs applied to read the line (`syslog-prefix`, `invalid-escape`). */
  _repairs?: string[];
  /** The line as in the file: kept for repaired lines, or for all with `keepRawLines`. */
  _raw?: string;
  [field: string]: unknown;
}

/** Options for `toEventDocument`. */
export interface EventDocumentOptions {
  /** Keep `_raw` for every line, not only repaired ones. Default false. */
  keepRawLine?: boolean;
}

const UNDERSCORE = 95;
const PARSED_FIELD = 'event_parsed';

/** Escapes a top-level envelope key, keeping the reserved names free. */
function escapeTopKey(key: string): string {
  if (key.charCodeAt(0) === UNDERSCORE || key === PARSED_FIELD) return escapeKey(key, true);
  return escapeKey(key);
}

/** True for the fields this module adds (not part of the envelope). */
function isAddedField(key: string): boolean {
  return key.charCodeAt(0) === UNDERSCORE || key === PARSED_FIELD;
}

/** The time of an event as a `Date`, or null when the record has no usable time. */
function eventDate(record: EventRecord): Date | null {
  if (record.time === null) return null;
  const d = new Date(record.time);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Builds the document stored for one event (see the module comment for the layout). */
export function toEventDocument(record: EventRecord, origin: LoadOrigin, options: EventDocumentOptions = {}): EventDocument {
  const doc: Record<string, unknown> = { _id: record.id };
  const env = record.envelope;
  const date = eventDate(record);
  for (const key of Object.keys(env)) {
    if (key === 'time' && date !== null) {
      doc.time = date;
      continue;
    }
    defineKey(doc, escapeTopKey(key), escapeKeys(env[key]));
  }
  // §5.3: a parsed copy only when `event` was a string; an object is already queryable as it is.
  if (typeof record.event === 'string' && record.eventParsed !== undefined) doc.event_parsed = escapeKeys(record.eventParsed);
  doc._type = record.canonicalType;
  doc._course = record.courseId;
  doc._user = record.userId;
  if (date !== null) doc._time = env.time as string;
  doc._file = origin.fileKey;
  doc._load = origin.loadId;
  doc._line = record.line;
  if (record.repairs.length > 0) doc._repairs = record.repairs;
  if (record.repairs.length > 0 || options.keepRawLine === true) doc._raw = record.raw;
  return doc as EventDocument;
}

/**
 * The envelope an event document was made from: original field names, original values, original
 * key order, `time` as the original string.
 */
export function envelopeFromDocument(doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const originalTime = doc._time;
  for (const key of Object.keys(doc)) {
    if (isAddedField(key)) continue;
    if (key === 'time' && typeof originalTime === 'string') {
      out.time = originalTime;
      continue;
    }
    defineKey(out, unescapeKey(key), unescapeKeys(doc[key]));
  }
  return out;
}

/**
 * The tracking-log line of an event document: `_raw` when it was kept (repaired lines, or
 * `keepRawLines`), else the envelope as compact JSON, which `JSON.parse`s to the same value as
 * the original line.
 */
export function lineFromDocument(doc: Record<string, unknown>): string {
  if (typeof doc._raw === 'string') return doc._raw;
  return JSON.stringify(envelopeFromDocument(doc));
}
