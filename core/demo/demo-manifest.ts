/**
 * What `generateDemoData` wrote and what a correct load of it must find. Tests and `pds demo`
 * compare loaded counts against these numbers. Plain data: no Node API, so front ends may import
 * the type.
 */
import type { FileKind } from '../domain/files.js';

/** One course of the demo package. */
export interface DemoCourseInfo {
  courseId: string;
  /** `{org}-{course}-{run}`: the course part of member names (docs/edx-formats.md §1.2). */
  courseKey: string;
  site: 'edx' | 'edge';
  /** Exporter environment in the member names (`prod-analytics`, `prod-edge-analytics`). */
  env: string;
  /** Rows in student_courseenrollment (= rows in auth_user and auth_userprofile). */
  enrollments: number;
  activeEnrollments: number;
}

/** One member of the weekly zip (directories are not listed). */
export interface DemoMemberInfo {
  /** Full path inside the zip, e.g. `DemoX-2026-06-07/ora/DemoX-Data101-2T2026-submissions_submission-prod-analytics.sql.gpg`. */
  name: string;
  /** What the file is once decrypted. */
  kind: FileKind;
  courseKey: string;
  /** Table name for `weekly-table` members (and for the `.failed` stand-in, the table it replaces). */
  table?: string;
  ora: boolean;
  /** Data rows (TSV, header excluded), documents (forum) or blocks (course structure); absent for OLX and `.failed`. */
  records?: number;
  encrypted: boolean;
  /** Size of the member as stored (encrypted size when encrypted). */
  bytes: number;
}

/** Why each extra line of a day's log is there (docs/edx-formats.md §7). Counts per day. */
export interface DemoEventQuirks {
  /** Lines cut short (§7.1): invalid JSON; bad lines. */
  truncated: number;
  /** Lines starting with a syslog prefix (§7.2): repairable, good. */
  syslogPrefix: number;
  /** Lines with `\d` inside a JSON string (§7.3): repairable, good. */
  invalidEscape: number;
  /** `username` ending in a newline inside the JSON string (`"bob\n"`, §7.7). */
  usernameNewline: number;
  /** `username` `""` and `context.user_id` `""` (§7.7). */
  blankUser: number;
  /** `context.course_id` `""` (§7.7). */
  courseIdEmpty: number;
  /** `context.course_id` `null` (§7.7); the course is still in `page`. */
  courseIdNull: number;
  /** `context.course_id` ending in a newline (§5.5, §7.7). */
  courseIdNewline: number;
  /** An exact copy of an earlier line (§7.9): counted in `lines`, not in `goodEvents`. */
  duplicate: number;
  /** `course_user_tags` keys with dots (§7.10), on a line of its own (many ordinary lines have them too). */
  dottedKeys: number;
  /** `time` without fraction, and without fraction and offset (§7.8). */
  timeWithoutFraction: number;
  timeWithoutOffset: number;
  /** An implicit event whose `event_type` path holds non-ASCII and a zero-width space (§7.6). */
  unicodeEventType: number;
  /** A mobile event whose `time` is two days older than its `context.received_at` (§7.8). */
  mobileLate: number;
}

/** One daily event log. */
export interface DemoEventDay {
  /** UTC day `YYYY-MM-DD`. */
  date: string;
  /** Object key relative to the output folder (`edx-course-data/…`). */
  key: string;
  /** Lines in the decompressed log (each ends in LF). */
  lines: number;
  /** Distinct lines that parse as JSON objects, after the syslog-prefix and invalid-escape repairs. */
  goodEvents: number;
  /** Lines that cannot be parsed even after repair (the truncated ones). */
  badLines: number;
  /** Good lines that needed a repair (syslog prefix, invalid escape). */
  repairedLines: number;
  quirks: DemoEventQuirks;
  /** True for the deliberately corrupt file: a correct load rejects it whole and loads none of its lines. */
  corrupt: boolean;
  bytes: number;
}

/** The whole delivery. */
export interface DemoManifest {
  org: string;
  /** Weekly package date `YYYY-MM-DD`. */
  packageDate: string;
  seed: number;
  /** True when every member and log was encrypted through `encryptTo`. */
  encrypted: boolean;
  /** Number of armored public keys passed in `encryptTo` (0 when plain). */
  recipients: number;
  courses: DemoCourseInfo[];
  weekly: {
    /** Object key of the zip (`course-data/{org-lc}-{date}.zip`). */
    key: string;
    /** The top-level folder inside the zip (`{org}-{date}`). */
    folder: string;
    members: DemoMemberInfo[];
    bytes: number;
  };
  /** Data rows per weekly table (ORA tables included) and course key. Empty tables appear with 0. */
  tables: Record<string, Record<string, number>>;
  /** Forum documents per course key. */
  forumDocuments: Record<string, number>;
  /** Course structure blocks per course key. */
  courseStructureBlocks: Record<string, number>;
  /** Members that are `.failed` stand-ins (the export task failed; a Python traceback inside). */
  failedMembers: string[];
  emailOptIn: {
    key: string;
    member: string;
    /** Data rows (one per enrollment on the edx site), repeated headers excluded. */
    rows: number;
    /** Header lines in the file, the first included (the header repeats per chunk of courses, §3). */
    headerLines: number;
    bytes: number;
  };
  events: DemoEventDay[];
  /** The one deliberately corrupt file. */
  corrupt: {
    key: string;
    /** `ciphertext-truncated` when encrypting (decryption must fail), `gzip-truncated` when plain (gunzip must fail). */
    how: 'ciphertext-truncated' | 'gzip-truncated';
    keptBytes: number;
    originalBytes: number;
  };
  /** Distinct auth_user ids over all courses (the service account of user_id_map is not one). */
  totalUsers: number;
  /** Every object written, relative to the output folder, `/`-separated, sorted. */
  files: string[];
}
