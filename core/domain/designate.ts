/**
 * Designated events: the tracking-log families analysts query most (docs/edx-formats.md §5.4) copied
 * into narrow relational tables, with the fields of each family pulled out of the `event`
 * payload. Also the row of the raw `events` table. Pure: no Node API.
 *
 * Values that cannot fit their column (a "video id" of 300 characters, a number sent as prose)
 * become NULL here rather than failing the file: the raw line is always kept in `events.raw`.
 */
import { normalizeSqlDatetime } from './datetime.js';
import type { EventRecord, SqlValue } from './records.js';
import type { ColumnDef, TableDef } from './schema-types.js';
import { getTableDef, type DesignatedTable } from './tables.js';

/** One row for a designated table, aligned with that table's `TableDef.columns`. */
export interface DesignatedRow {
  table: DesignatedTable;
  row: SqlValue[];
}

type Payload = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Value fitting: unknown JSON value → the column's type, or null.

const INT_RE = /^-?\d+$/;
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const TEXT_MAX_UNITS = 65535 / 3; // below this many UTF-16 units a string is surely ≤ 65,535 UTF-8 bytes

function fitInt(v: unknown): SqlValue {
  const n = typeof v === 'number' ? v : typeof v === 'string' && INT_RE.test(v.trim()) ? Number(v.trim()) : NaN;
  return Number.isInteger(n) && n >= -2147483648 && n <= 2147483647 ? n : null;
}

function fitDouble(v: unknown): SqlValue {
  const n = typeof v === 'number' ? v : typeof v === 'string' && NUMBER_RE.test(v.trim()) ? Number(v.trim()) : NaN;
  return Number.isFinite(n) ? n : null;
}

function asText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return null;
}

function fitVarchar(v: unknown, length: number): SqlValue {
  const s = asText(v);
  if (s === null) return null;
  // Characters, not UTF-16 units, count against varchar(n); only long strings need counting.
  return s.length <= length || [...s].length <= length ? s : null;
}

function fitText(v: unknown): SqlValue {
  const s = asText(v);
  if (s === null) return null;
  return s.length <= TEXT_MAX_UNITS || new TextEncoder().encode(s).length <= 65535 ? s : null;
}

function fitBool(v: unknown): SqlValue {
  if (v === true || v === 1 || v === 'true' || v === 'True' || v === '1') return 1;
  if (v === false || v === 0 || v === 'false' || v === 'False' || v === '0') return 0;
  return null;
}

function fitDatetime(v: unknown): SqlValue {
  return typeof v === 'string' ? normalizeSqlDatetime(v) : null;
}

function fitter(c: ColumnDef): (v: unknown) => SqlValue {
  switch (c.type) {
    case 'int':
    case 'bigint':
      return fitInt;
    case 'double':
      return fitDouble;
    case 'bool':
      return fitBool;
    case 'varchar': {
      const length = c.length ?? 255;
      return (v) => fitVarchar(v, length);
    }
    case 'text':
      return fitText;
    case 'longtext':
      return asText;
    case 'datetime':
      return fitDatetime;
    case 'date':
      return (v) => (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : null);
  }
}

/** Builds rows for one table from name → value maps, fitting each value to its column. */
function rowBuilder(def: TableDef): (values: Record<string, unknown>) => SqlValue[] {
  const fits = def.columns.map((c) => ({ name: c.name, fit: fitter(c) }));
  return (values) => fits.map(({ name, fit }) => (values[name] === undefined || values[name] === null ? null : fit(values[name])));
}

function def(name: string): TableDef {
  const d = getTableDef(name);
  if (d === undefined) throw new Error(`designate: table ${name} is not defined in tables.ts`);
  return d;
}

const build = {
  events: rowBuilder(def('events')),
  video_events: rowBuilder(def('video_events')),
  problem_events: rowBuilder(def('problem_events')),
  navigation_events: rowBuilder(def('navigation_events')),
  enrollment_events: rowBuilder(def('enrollment_events')),
  forum_events: rowBuilder(def('forum_events')),
  certificate_events: rowBuilder(def('certificate_events')),
} as const;

// ---------------------------------------------------------------------------------------------
// Payload access.

function isObject(v: unknown): v is Payload {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The decoded `event` payload as an object, or an empty one (string/list/absent payloads, §5.3). */
function payloadOf(e: EventRecord): Payload {
  return isObject(e.eventParsed) ? e.eventParsed : {};
}

function first(...values: unknown[]): unknown {
  for (const v of values) if (v !== undefined && v !== null && v !== '') return v;
  return undefined;
}

/** A JSON-encoded string (`"…"`) decoded; any other text as it is. */
function unquote(text: string): string {
  if (!text.startsWith('"')) return text;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'string' ? v : text;
  } catch {
    return text;
  }
}

/** JSON text of a value; undefined stays absent. */
function json(v: unknown): string | undefined {
  return v === undefined ? undefined : JSON.stringify(v);
}

/** Columns every designated table shares. */
function common(e: EventRecord, eventType: string | null, p: Payload = {}): Record<string, unknown> {
  return {
    event_id: e.id,
    time: e.time,
    course_id: e.courseId ?? first(p.course_id),
    user_id: e.userId ?? first(p.user_id),
    username: e.username,
    event_type: eventType,
    event_source: e.eventSource,
  };
}

// ---------------------------------------------------------------------------------------------
// Families (docs/edx-formats.md §5.4).

/** Legacy video event names (browser and mobile `event_type`). */
const VIDEO_LEGACY = new Set([
  'load_video',
  'play_video',
  'pause_video',
  'seek_video',
  'stop_video',
  'speed_change_video',
  'show_transcript',
  'hide_transcript',
  'video_show_cc_menu',
  'video_hide_cc_menu',
]);

/** Mobile `name` → legacy name, so every row of a kind carries one type whatever the client. */
const VIDEO_NAME_TO_LEGACY: Record<string, string> = {
  'edx.video.loaded': 'load_video',
  'edx.video.played': 'play_video',
  'edx.video.paused': 'pause_video',
  'edx.video.position.changed': 'seek_video',
  'edx.video.stopped': 'stop_video',
  'edx.video.transcript.shown': 'show_transcript',
  'edx.video.transcript.hidden': 'hide_transcript',
  'edx.video.language_menu.shown': 'video_show_cc_menu',
  'edx.video.language_menu.hidden': 'video_hide_cc_menu',
};

function videoType(e: EventRecord): string | null {
  if (e.eventType !== null && VIDEO_LEGACY.has(e.eventType)) return e.eventType;
  for (const n of [e.name, e.eventType, e.canonicalType]) {
    if (n !== null && n.startsWith('edx.video.')) return VIDEO_NAME_TO_LEGACY[n] ?? n;
  }
  return null;
}

function videoRow(e: EventRecord, type: string): SqlValue[] {
  const p = payloadOf(e);
  const seek = type === 'seek_video';
  return build.video_events({
    ...common(e, type),
    video_id: p.id,
    code: p.code,
    current_position: first(p.currentTime, p.current_time),
    old_time: p.old_time,
    new_time: p.new_time,
    seek_type: seek ? p.type : undefined,
    old_speed: p.old_speed,
    new_speed: p.new_speed,
  });
}

const PROBLEM_TYPES = new Set([
  'problem_check',
  'save_problem_check', // server problem_check before 15 Oct 2013
  'problem_check_fail',
  'problem_graded',
  'problem_rescore',
  'showanswer',
  'show_answer', // old logs
  'edx.grades.problem.submitted',
]);

function problemRow(e: EventRecord, type: string): SqlValue[] {
  const parsed = e.eventParsed;
  const p = payloadOf(e);
  let answers: unknown;
  if (type === 'problem_graded' && Array.isArray(parsed)) {
    // Browser problem_graded: a list [answers, contents_html] (§5.3); the HTML is not copied.
    answers = parsed[0];
  } else if (typeof parsed === 'string') {
    answers = parsed;
  } else if (parsed === undefined && typeof e.event === 'string' && e.event !== '') {
    // Browser problem_check: the URL-encoded form inside a JSON-encoded string (§5.3), kept as
    // a JSON string.
    answers = unquote(e.event);
  } else {
    answers = p.answers;
  }
  const graded = type === 'edx.grades.problem.submitted';
  const rescore = type === 'problem_rescore';
  return build.problem_events({
    ...common(e, type),
    problem_id: p.problem_id,
    attempts: p.attempts,
    grade: graded ? p.weighted_earned : rescore ? p.new_score : p.grade,
    max_grade: graded ? p.weighted_possible : rescore ? p.new_total : p.max_grade,
    success: p.success,
    answers: json(answers),
  });
}

const SEQUENCE_NAME_TO_LEGACY: Record<string, string> = {
  'edx.ui.lms.sequence.tab_selected': 'seq_goto',
  'edx.ui.lms.sequence.next_selected': 'seq_next',
  'edx.ui.lms.sequence.previous_selected': 'seq_prev',
};
const SEQUENCE_LEGACY = new Set(['seq_goto', 'seq_next', 'seq_prev']);

function navigationType(e: EventRecord): string | null {
  if (e.eventType !== null && SEQUENCE_LEGACY.has(e.eventType)) return e.eventType;
  const c = e.canonicalType;
  if (c !== null && c.startsWith('edx.ui.lms.')) return SEQUENCE_NAME_TO_LEGACY[c] ?? c;
  return null;
}

function navigationRow(e: EventRecord, type: string): SqlValue[] {
  const p = payloadOf(e);
  const sequence = SEQUENCE_LEGACY.has(type);
  return build.navigation_events({
    ...common(e, type),
    sequence_id: sequence ? p.id : undefined,
    old_tab: first(p.old, p.current_tab),
    new_tab: p.new,
    target_tab: p.target_tab,
    current_url: p.current_url,
    target_url: p.target_url,
  });
}

function enrollmentRow(e: EventRecord, type: string): SqlValue[] {
  const p = payloadOf(e);
  // An external enrollment tool leaves context.course_id null and sets event.course_id (§5.4).
  return build.enrollment_events({ ...common(e, type, p), mode: p.mode });
}

function forumRow(e: EventRecord, type: string): SqlValue[] {
  const p = payloadOf(e);
  const discussion = isObject(p.discussion) ? p.discussion : {};
  return build.forum_events({
    ...common(e, type),
    post_id: p.id,
    thread_id: type.startsWith('edx.forum.thread.') ? p.id : discussion.id,
    commentable_id: p.commentable_id,
    title: p.title,
    category_id: p.category_id,
    category_name: p.category_name,
    target_username: p.target_username,
  });
}

function certificateRow(e: EventRecord, type: string): SqlValue[] {
  const p = payloadOf(e);
  return build.certificate_events({
    ...common(e, type, p),
    certificate_id: p.certificate_id,
    enrollment_mode: p.enrollment_mode,
    generation_mode: p.generation_mode,
  });
}

/**
 * The designated rows of a batch of events, grouped by table in the order the tables first
 * appear. Each event and its rows are also handed to `activity` (the daily summary), so a batch
 * is designated once for both.
 */
export function designateBatch(events: EventRecord[], activity: { add(e: EventRecord, designated: DesignatedRow[]): void }): Map<string, SqlValue[][]> {
  const byTable = new Map<string, SqlValue[][]>();
  for (const e of events) {
    const designated = designate(e);
    activity.add(e, designated);
    for (const d of designated) {
      let rows = byTable.get(d.table);
      if (!rows) byTable.set(d.table, (rows = []));
      rows.push(d.row);
    }
  }
  return byTable;
}

/**
 * The designated-table rows for one event: none for most events, one for the families of
 * docs/edx-formats.md §5.4 (video, problem, navigation, enrollment, forum, certificate).
 *
 * Both the browser and the server `problem_check` of one click are stored; `event_source`
 * tells them apart, and attempts should be counted from server rows only (§7.9).
 */
export function designate(e: EventRecord): DesignatedRow[] {
  const canonical = e.canonicalType;
  if (canonical === null) return [];

  const video = videoType(e);
  if (video !== null) return [{ table: 'video_events', row: videoRow(e, video) }];

  const problem = [canonical, e.eventType].find((t): t is string => t !== null && PROBLEM_TYPES.has(t));
  if (problem !== undefined) return [{ table: 'problem_events', row: problemRow(e, problem) }];

  const navigation = navigationType(e);
  if (navigation !== null) return [{ table: 'navigation_events', row: navigationRow(e, navigation) }];

  if (canonical.startsWith('edx.course.enrollment.')) return [{ table: 'enrollment_events', row: enrollmentRow(e, canonical) }];
  if (canonical.startsWith('edx.forum.')) return [{ table: 'forum_events', row: forumRow(e, canonical) }];
  if (canonical.startsWith('edx.certificate.')) return [{ table: 'certificate_events', row: certificateRow(e, canonical) }];
  return [];
}

/**
 * The `events` table row for one event, aligned with its `TableDef.columns`. `event` holds the
 * payload as JSON text: the decoded value when edX wrote it as a JSON-encoded string, so JSON
 * functions reach its fields; the line itself is kept verbatim in `raw`.
 */
export function eventRow(e: EventRecord, fileKey: string): SqlValue[] {
  const env = e.envelope;
  return build.events({
    event_id: e.id,
    time: e.time,
    event_type: e.eventType,
    name: e.name,
    canonical_type: e.canonicalType,
    event_source: e.eventSource,
    username: e.username,
    user_id: e.userId,
    course_id: e.courseId,
    org_id: e.orgId,
    host: e.host,
    session: first(env.session),
    raw: e.raw,
    file_key: fileKey,
    line: e.line,
  });
}
