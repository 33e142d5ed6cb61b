/**
 * Reader for the daily tracking logs: one JSON object per line (docs/edx-formats.md §5, §7).
 *
 * The fast path is one `JSON.parse` per line plus a sha256 of the line; the repairs below run
 * only for lines that do not parse:
 * - §7.2 leading cruft (2012 syslog prefixes): the pipeline's `^.*?(\{.*\})\s*$` recovery;
 * - §7.3 invalid JSON escapes (`\d'Orsay`): the offending backslashes are doubled;
 * - §7.1 truncated or malformed lines are rejected (`JSON_INVALID`) and reading goes on.
 */
import { hash } from 'node:crypto';
import type { EventRecord, RejectedLine } from '../domain/records.js';
import { normalizeEventTime } from '../domain/datetime.js';
import type { Line } from './lines.js';

export type ParseEventResult = { ok: true; event: EventRecord } | { ok: false; reject: RejectedLine };

export interface ReadEventsOptions {
  /**
   * The file being read. Rejects carry only line numbers and codes; the caller attributes them
   * to this file in the ledger and quarantine.
   */
  fileName: string;
}

/** One input batch of lines, read. */
export interface EventBatch {
  events: EventRecord[];
  rejected: RejectedLine[];
  /** Empty or whitespace-only lines (not errors, not events). */
  skippedBlank: number;
}

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmptyString(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function trimmedOrNull(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const t = v.trim();
  return t === '' ? null : t;
}

/** A user id as a number: integers, or strings of digits (§7.7: `''` and junk are null). */
function userIdOf(v: unknown): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : null;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t !== '' && t.length <= 15 && /^\d+$/.test(t)) return Number(t);
  }
  return null;
}

/** One part of a course key (opaque-keys allows word characters, `.`, `-`, `~` and `:`). */
const KEY_PART = String.raw`[\p{L}\p{N}_.~:-]+`;
/** A `course-v1:{org}+{course}+{run}` course key anywhere in a URL (LMS and Studio paths). */
const COURSE_KEY_IN_URL_RE = new RegExp(String.raw`(?<![\p{L}\p{N}_-])course-v1:(${KEY_PART})\+(${KEY_PART})\+(${KEY_PART})`, 'u');
/**
 * A `block-v1:{org}+{course}+{run}+type@…` usage key anywhere in a URL: LMS handler URLs
 * (`/courses/…/xblock/block-v1:…/handler/…`) and Studio pages (`/xblock/outline/block-v1:…`,
 * `/xblock/container/block-v1:…`). Not `lib-block-v1:` (a library, no course) nor
 * `ccx-block-v1:` (its course is a CCX key, not named this way).
 */
const BLOCK_KEY_IN_URL_RE = new RegExp(String.raw`(?<![\p{L}\p{N}_-])block-v1:(${KEY_PART})\+(${KEY_PART})\+(${KEY_PART})\+type@`, 'u');
/** §5.5: the old `{org}/{course}/{run}` course id in a `/courses/{org}/{course}/{run}/…` path. */
const OLD_COURSE_URL_RE = /\/courses\/([^/+?#&\s]+\/[^/+?#&\s]+\/[^/?#&\s]+)/;
/** A new-style usage key; its course part is the course id. Old `i4x://` keys lack the run. */
const BLOCK_KEY_RE = /^block-v1:([^/+]+)\+([^/+]+)\+([^/+]+)\+type@/;

function courseInText(url: string): string | null {
  const course = COURSE_KEY_IN_URL_RE.exec(url) ?? BLOCK_KEY_IN_URL_RE.exec(url);
  if (course !== null) return `course-v1:${course[1]}+${course[2]}+${course[3]}`;
  if (url.includes('/courses/')) {
    const old = OLD_COURSE_URL_RE.exec(url);
    if (old !== null && !old[1].startsWith('course-v1:')) return trimmedOrNull(old[1]);
  }
  return null;
}

/**
 * The course id named in a URL or request path (`page`, `event_type` of implicit events,
 * `context.path`), docs/edx-formats.md §5.5: a `course-v1:` key, the course of a `block-v1:`
 * usage key, or the old `Org/Course/Run` of a `/courses/Org/Course/Run/…` path. Keys written
 * URL-encoded (`course-v1%3AOrg%2BCourse%2BRun`, as in a `?next=` parameter) are read too.
 */
function courseFromUrl(url: unknown): string | null {
  if (typeof url !== 'string' || url === '') return null;
  const found = courseInText(url);
  if (found !== null || !url.includes('%')) return found;
  let decoded: string;
  try {
    decoded = decodeURIComponent(url);
  } catch {
    return null;
  }
  return courseInText(decoded);
}

function courseFromUsageKey(key: unknown): string | null {
  if (typeof key !== 'string') return null;
  const m = BLOCK_KEY_RE.exec(key.trim());
  return m === null ? null : `course-v1:${m[1]}+${m[2]}+${m[3]}`;
}

/** The course id by the §5.5 fallback chain, trimmed (§7.7: may end in a newline), or null. */
function courseIdOf(env: JsonObject, context: JsonObject | undefined, event: unknown): string | null {
  const fromContext = trimmedOrNull(context?.course_id);
  if (fromContext !== null) return fromContext;
  const ev = isObject(event) ? event : undefined;
  // Enrollment and certificate events (an external tool enrolling leaves context.course_id null).
  const fromEvent = trimmedOrNull(ev?.course_id);
  if (fromEvent !== null) return fromEvent;
  // Browser events: the page URL.
  const fromPage = courseFromUrl(env.page);
  if (fromPage !== null) return fromPage;
  // Implicit server events and Studio requests: the request path is the event_type.
  const fromType = courseFromUrl(env.event_type);
  if (fromType !== null) return fromType;
  // Handler and Studio requests: the request path in the context.
  const fromPath = courseFromUrl(context?.path);
  if (fromPath !== null) return fromPath;
  // Problem events: the course part of a block-v1 usage key.
  const module = isObject(context?.module) ? (context.module as JsonObject) : undefined;
  return courseFromUsageKey(ev?.problem_id) ?? courseFromUsageKey(module?.usage_key);
}

/** §5.3: `event` parsed when it is a string holding a JSON object or list. */
function parseEventField(event: unknown): unknown {
  if (typeof event !== 'string') return isObject(event) || Array.isArray(event) ? event : undefined;
  // Only strings that look like JSON containers: a URL-encoded form (browser problem_check) or
  // a quoted JSON string stays a string.
  let i = 0;
  while (i < event.length && (event.charCodeAt(i) === 32 || event.charCodeAt(i) === 9)) i++;
  const c = event.charCodeAt(i);
  if (c !== 123 /* { */ && c !== 91 /* [ */) return undefined;
  try {
    return JSON.parse(event) as unknown;
  } catch {
    // Implicit events are cut at 512 characters by the tracking middleware (§5.3): not JSON.
    return undefined;
  }
}

const VALID_ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const HEX4_RE = /^[0-9a-fA-F]{4}$/;

/** §7.3: doubles every backslash that does not start a valid JSON escape. Null when none. */
function repairEscapes(text: string): string | null {
  let out = '';
  let segStart = 0;
  let changed = false;
  for (let i = text.indexOf('\\'); i !== -1; ) {
    const next = text[i + 1];
    if (next !== undefined && (VALID_ESCAPES.has(next) || (next === 'u' && HEX4_RE.test(text.slice(i + 2, i + 6))))) {
      // A valid escape (including `\\`): skip both characters, copy them later with the segment.
      i = text.indexOf('\\', i + 2);
      continue;
    }
    out += text.slice(segStart, i) + '\\\\';
    segStart = i + 1;
    changed = true;
    i = text.indexOf('\\', i + 1);
  }
  return changed ? out + text.slice(segStart) : null;
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false; position: number | null } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    // Keep only the position: V8's message quotes the text, which may hold learner data.
    const m = error instanceof Error ? /position (\d+)/.exec(error.message) : null;
    return { ok: false, position: m === null ? null : Number(m[1]) };
  }
}

/** §7.2: the JSON object inside a line with leading cruft, or null when there is none. */
function stripLeadingCruft(text: string): string | null {
  const open = text.indexOf('{');
  const close = text.lastIndexOf('}');
  if (open <= 0 || close < open) return null;
  if (text.slice(close + 1).trim() !== '') return null;
  return text.slice(open, close + 1);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

/**
 * Reads one tracking-log line (without its LF). A trailing CR is dropped; `raw` is the rest
 * decoded as UTF-8 and `id` the sha256 of those bytes, so equal lines get equal ids.
 *
 * Rejects (code, line, plain reason without content): `JSON_INVALID` (truncated or malformed,
 * with the character position when known), `JSON_NOT_OBJECT` (valid JSON that is not an object).
 * An unusable `time` is not a reject: the event keeps `time: null`.
 */
export function parseEventLine(bytes: Buffer, line: number): ParseEventResult {
  const body = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.subarray(0, bytes.length - 1) : bytes;
  const raw = body.toString('utf8');
  const repairs: string[] = [];

  let parsed = tryParse(raw);
  if (!parsed.ok) {
    const firstFailure = parsed.position;
    let text = raw;
    const inner = stripLeadingCruft(raw);
    if (inner !== null) {
      text = inner;
      parsed = tryParse(text);
      if (parsed.ok) repairs.push('syslog-prefix');
    }
    if (!parsed.ok) {
      const repaired = repairEscapes(text);
      if (repaired !== null) {
        const again = tryParse(repaired);
        if (again.ok) {
          parsed = again;
          if (inner !== null) repairs.push('syslog-prefix');
          repairs.push('invalid-escape');
        }
      }
    }
    if (!parsed.ok) {
      const at = firstFailure === null ? '' : ` at character ${firstFailure + 1}`;
      return {
        ok: false,
        reject: {
          line,
          code: 'JSON_INVALID',
          reason: `not valid JSON${at} (truncated or malformed event)`,
          raw: Buffer.from(bytes),
        },
      };
    }
  }

  const envelope = parsed.value;
  if (!isObject(envelope)) {
    return {
      ok: false,
      reject: {
        line,
        code: 'JSON_NOT_OBJECT',
        reason: `${describe(envelope)}, not an event object`,
        raw: Buffer.from(bytes),
      },
    };
  }

  const context = isObject(envelope.context) ? envelope.context : undefined;
  const event = envelope.event;
  const eventParsed = parseEventField(event);
  const eventType = nonEmptyString(envelope.event_type);
  const name = nonEmptyString(envelope.name);
  const canonicalType = name ?? eventType;

  let userId = userIdOf(context?.user_id);
  // §5.5: enrollment and certificate events also carry event.user_id.
  if (userId === null && canonicalType !== null && isObject(eventParsed)) {
    if (canonicalType.startsWith('edx.course.enrollment.') || canonicalType.startsWith('edx.certificate.')) {
      userId = userIdOf(eventParsed.user_id);
    }
  }

  const record: EventRecord = {
    id: hash('sha256', body, 'hex'),
    line,
    raw,
    rawBytes: body,
    envelope,
    time: typeof envelope.time === 'string' ? normalizeEventTime(envelope.time) : null,
    eventType,
    name,
    canonicalType,
    eventSource: nonEmptyString(envelope.event_source),
    username: trimmedOrNull(envelope.username),
    userId,
    courseId: courseIdOf(envelope, context, eventParsed),
    orgId: trimmedOrNull(context?.org_id),
    host: nonEmptyString(envelope.host),
    event,
    eventParsed,
    repairs,
  };
  return { ok: true, event: record };
}

/** True for an empty or whitespace-only line (CR, spaces, tabs). */
function isBlank(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 32 && b !== 9 && b !== 13 && b !== 10) return false;
  }
  return true;
}

/**
 * Reads tracking-log events from batches of lines (see `readLines`): one `EventBatch` per input
 * batch. Bad lines are rejected and reading goes on (§7.1).
 */
export async function* readEvents(lines: AsyncIterable<Line[]>, _options: ReadEventsOptions): AsyncGenerator<EventBatch> {
  for await (const batch of lines) {
    const events: EventRecord[] = [];
    const rejected: RejectedLine[] = [];
    let skippedBlank = 0;
    for (const { line, bytes } of batch) {
      // Blank lines are cheap to spot: the first byte of an event is `{` (or cruft).
      if (bytes.length === 0 || (bytes[0] !== 123 && isBlank(bytes))) {
        skippedBlank++;
        continue;
      }
      const result = parseEventLine(bytes, line);
      if (result.ok) events.push(result.event);
      else rejected.push(result.reject);
    }
    yield { events, rejected, skippedBlank };
  }
}
