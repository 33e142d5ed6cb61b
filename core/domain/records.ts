/**
 * Records that flow from the format readers to the stores. Pure: no Node API.
 */

/** A value as it lands in a store column. Datetimes are `YYYY-MM-DD HH:MM:SS[.ffffff]` strings (UTC). */
export type SqlValue = string | number | null;

/** One decoded line of an edX TSV file: values aligned with the header, `null` for literal `NULL`. */
export interface TsvRow {
  /** 1-based line number in the decrypted file (the header is line 1). */
  line: number;
  values: (string | null)[];
}

/** One line that could not be read, kept verbatim in quarantine. */
export interface RejectedLine {
  /** 1-based line number in the decoded file. */
  line: number;
  /** Stable machine code, e.g. `TSV_FIELD_COUNT`, `JSON_INVALID`. */
  code: string;
  /**
   * Plain-language reason naming the column or position, never the value, and not the line
   * number: that is `line`, which reports print before the reason (`line 31: not valid JSON …`).
   */
  reason: string;
  /** The line exactly as read (no terminator). */
  raw: Uint8Array | string;
}

/** A tracking-log event after the quirks of docs/edx-formats.md §5/§7 were handled. */
export interface EventRecord {
  /** Deterministic id: sha256 hex of the raw line bytes (re-loading a file adds nothing). */
  id: string;
  line: number;
  /** The line exactly as in the file (after syslog-prefix/escape repair the original is still this). */
  raw: string;
  /**
   * The line's bytes (without a trailing CR), when the reader has them: a store may copy these
   * instead of encoding `raw` again, if they are valid UTF-8. A view into the read buffer, valid
   * while its batch is handled; copy it to keep it.
   */
  rawBytes?: Uint8Array;
  /** The JSON object that was parsed (possibly after repair). */
  envelope: Record<string, unknown>;
  /** `time` normalised to ISO-8601 UTC with milliseconds or microseconds kept, or null when unusable. */
  time: string | null;
  eventType: string | null;
  name: string | null;
  /** `name ?? event_type` (§7.5). */
  canonicalType: string | null;
  eventSource: string | null;
  /** Trimmed username; null when blank. */
  username: string | null;
  /** `context.user_id` (or `event.user_id` fallback) as a number; null when blank. */
  userId: number | null;
  /** Course id by the §5.5 fallback chain, trimmed; null when none. */
  courseId: string | null;
  orgId: string | null;
  host: string | null;
  /** The `event` field as it came (object, string, list…). */
  event: unknown;
  /** `event` parsed when it was a JSON string; the object itself when it was an object; else undefined. */
  eventParsed: unknown;
  /** Repairs applied to read the line: `syslog-prefix`, `invalid-escape`. */
  repairs: string[];
}
