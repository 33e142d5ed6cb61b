/**
 * Recognises edX research-data file names (docs/edx-formats.md §1, §7.13). Pure: no Node API; paths are
 * split with string operations and may use `/` or `\`.
 *
 * The weekly member names come from edx-analytics-exporter (`exporter/tasks.py`):
 * - course tasks: `{course}-{task}-{envname}.{ext}` where `{course}` is `{org}-{course}-{run}`
 *   (CCX: `…-ccx-{n}`, code points > 128 replaced by `_`) and `{envname}` is the environment's
 *   configured name (`prod-analytics`, `prod-edge-analytics`, …);
 * - forum dumps: `{course}-{environment}.mongo` with the bare environment key (`prod`, `edge`);
 * - org tasks: `{org}-{task}-{envname}.{ext}` (the email opt-in CSV);
 * - ORA2 tables in the `ora/` sub-folder;
 * - a failed task leaves `{file}.failed` instead of `{file}`;
 * - every file then gets `.gpg`.
 *
 * Over-long names (`FilenameMixin.get_filename_template`): when the base name is 235 characters
 * or more (255 − 20), the exporter computes `md5(envname)` (of the environment name only, not of
 * the whole name), cuts `{course}-{task}-{envname}` to `255 − 32 − (len(ext) + 20)` characters
 * and writes `{cut}-{md5hex}.{ext}` (always 237 characters). The hash therefore identifies the
 * environment; the task name is always cut (see `splitTruncatedBase`) and is recovered only when
 * what is left of it is unambiguous. Otherwise the file is reported as `unknown` with `truncated`
 * and `env` set, rather than guessed.
 */

import type { FileKind, RecognizedFile } from './files.js';

/** Course-level weekly tables (docs/edx-formats.md §1.3, §4), named as the exporter's tasks name them. */
export const KNOWN_WEEKLY_TABLES = [
  'auth_user',
  'auth_userprofile',
  'student_courseenrollment',
  'certificates_generatedcertificate',
  'courseware_studentmodule',
  'user_id_map',
  'student_anonymoususerid',
  'student_languageproficiency',
  'student_courseaccessrole',
  'django_comment_client_role_users',
  'user_api_usercoursetag',
  'teams',
  'teams_membership',
  'grades_persistentcoursegrade',
  'grades_persistentsubsectiongrade',
  'credit_crediteligibility',
  'course_groups_cohortmembership',
  'wiki_article',
  'wiki_articlerevision',
  'verify_student_verificationstatus',
] as const;
export type KnownWeeklyTable = (typeof KNOWN_WEEKLY_TABLES)[number];

/** The 21 ORA2 tables of the `ora/` folder (docs/edx-formats.md §4.9). */
export const ORA_TABLES = [
  'submissions_studentitem',
  'submissions_submission',
  'submissions_score',
  'submissions_scoresummary',
  'assessment_rubric',
  'assessment_criterion',
  'assessment_criterionoption',
  'assessment_assessment',
  'assessment_assessmentpart',
  'assessment_assessmentfeedback',
  'assessment_assessmentfeedback_assessments',
  'assessment_assessmentfeedback_options',
  'assessment_assessmentfeedbackoption',
  'assessment_peerworkflow',
  'assessment_peerworkflowitem',
  'assessment_studenttrainingworkflow',
  'assessment_studenttrainingworkflowitem',
  'assessment_trainingexample',
  'assessment_trainingexample_options_selected',
  'workflow_assessmentworkflow',
  'workflow_assessmentworkflowstep',
] as const;
export type OraTable = (typeof ORA_TABLES)[number];

/**
 * Exporter environment names seen in real packages (§1.3, §7.13). Longest first, so that
 * `prod-edge-analytics` is tried before its suffix `edge-analytics`.
 */
export const KNOWN_EXPORT_ENVS = ['prod-edge-analytics', 'prod-edx-replica', 'prod-analytics', 'edge-analytics'] as const;

/**
 * `md5(envname)` → envname, for the md5 suffix of over-long names. Precomputed because this
 * module may not use Node's crypto.
 */
const ENV_BY_MD5: Readonly<Record<string, string>> = {
  b140b895e008fcc2eeff3c21479faba3: 'prod-analytics',
  b152db33fc6dfd0f1ef4d1f6be0f8eab: 'prod-edge-analytics',
  cff388c19391ee844a7b1e54dc94c3cc: 'prod-edx-replica',
  '7eeb155eaf6d2827edf5801a3e5b9ead': 'edge-analytics',
};

/** Names the documentation uses for tables the exporter exports under its task name (§1.3 GAPs). */
const TABLE_ALIASES: Readonly<Record<string, string>> = {
  teams_courseteam: 'teams',
  teams_courseteammembership: 'teams_membership',
};

/** Member extensions of course tasks, longest first (`.xml.tar.gz` before any `.gz`). */
const MEMBER_EXTENSIONS = ['.xml.tar.gz', '.json', '.sql'] as const;
type MemberExtension = (typeof MEMBER_EXTENSIONS)[number];

const KNOWN_TABLE_SET: ReadonlySet<string> = new Set<string>([...KNOWN_WEEKLY_TABLES, ...ORA_TABLES]);
const ORA_TABLE_SET: ReadonlySet<string> = new Set<string>(ORA_TABLES);
/** Known tables plus the two non-TSV course tasks, longest first for suffix matching. */
const TASKS_LONGEST_FIRST: readonly string[] = [...KNOWN_TABLE_SET, 'course_structure', 'course'].sort(
  (a, b) => b.length - a.length,
);

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const TABLE_NAME_RE = /^[a-z][a-z0-9_]*$/;
/** Environment names are hyphen-joined words (`prod-edge-analytics`); task names use `_` instead. */
const ENV_NAME_RE = /^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$/;
const MD5_SUFFIX_RE = /-([0-9a-f]{32})$/;
// `.log` without `.gz` is accepted too: a log a data czar has already gunzipped and loads by hand.
const EVENT_LOG_RE = /^(.+)-(edx|prod|edge)-events-(\d{4}-\d{2}-\d{2})\.log(?:\.gz)?$/i;
/** The early documented form without the word "events" (§1.1, `universityx-edge-2014-07-25.log.gz.gpg`). */
const EARLY_EVENT_LOG_RE = /^(.+)-(edx|prod|edge)-(\d{4}-\d{2}-\d{2})\.log(?:\.gz)?$/i;

function isRealDate(s: string): boolean {
  if (!DATE_RE.test(s)) return false;
  const y = Number(s.slice(0, 4));
  const m = Number(s.slice(5, 7));
  const d = Number(s.slice(8, 10));
  if (m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const max = m === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;
  return d <= max;
}

function endsWithIgnoreCase(s: string, suffix: string): boolean {
  return s.length >= suffix.length && s.slice(s.length - suffix.length).toLowerCase() === suffix;
}

/** `edge` when the environment names the edge site, `edx` when it names production, else undefined. */
function siteOfEnv(env: string): string | undefined {
  const tokens = env.toLowerCase().split('-');
  if (tokens.includes('edge')) return 'edge';
  if (tokens.includes('prod') || tokens.includes('edx')) return 'edx';
  return undefined;
}

function canonicalTable(table: string): string {
  return TABLE_ALIASES[table] ?? table;
}

/** Kind of a course-task member from its extension and task name; null when they do not fit. */
function memberKind(ext: MemberExtension, task: string): FileKind | null {
  switch (ext) {
    case '.json':
      return task === 'course_structure' ? 'course-structure' : null;
    case '.xml.tar.gz':
      return task === 'course' ? 'olx' : null;
    case '.sql':
      return TABLE_NAME_RE.test(task) ? 'weekly-table' : null;
  }
}

interface MemberParts {
  courseKey: string;
  task?: string;
  env?: string;
  truncated: boolean;
}

/** Splits `{course}-{task}-{env}` (no extension) into its parts. */
function splitMemberBase(base: string): MemberParts | null {
  // 1. A known environment suffix: the task is then the last hyphen-free token (task names
  //    contain `_` but never `-`; course and run may contain `-` and `.`, §1.2).
  for (const env of KNOWN_EXPORT_ENVS) {
    if (base.endsWith(`-${env}`)) {
      const rest = base.slice(0, base.length - env.length - 1);
      const cut = rest.lastIndexOf('-');
      if (cut <= 0 || cut === rest.length - 1) return null;
      return { courseKey: rest.slice(0, cut), task: rest.slice(cut + 1), env, truncated: false };
    }
  }
  // 2. An unfamiliar environment name after a known task name (rightmost occurrence, so a course
  //    number that happens to equal a task name does not win).
  let best: MemberParts | null = null;
  let bestAt = -1;
  for (const task of TASKS_LONGEST_FIRST) {
    const at = base.lastIndexOf(`-${task}-`);
    if (at > 0 && at > bestAt) {
      const env = base.slice(at + task.length + 2);
      if (ENV_NAME_RE.test(env)) {
        best = { courseKey: base.slice(0, at), task, env, truncated: false };
        bestAt = at;
      }
    }
  }
  return best;
}

/** Minimum length of a cut task name accepted as identifying its task (with a unique match). */
const MIN_PARTIAL_TASK = 4;

/**
 * Reads an md5-suffixed over-long member name (see the module comment). The md5 names the
 * environment; the prefix is `{course}-{task}-{env}` cut short. With the exporter's 255-character
 * limit the untruncated name is at least 235 characters and the cut keeps at most 200, so the cut
 * always falls inside `{course}-{task}`: the last hyphen-separated token of the prefix is then a
 * beginning of the task name. It is accepted when it has at least four characters and exactly one
 * task that fits the extension and folder begins with it (`-auth_user` could be `auth_userprofile`
 * cut short: not guessed). `tasks` lists the candidates for the member's extension and folder.
 */
function splitTruncatedBase(base: string, tasks: readonly string[]): MemberParts | null {
  const m = MD5_SUFFIX_RE.exec(base);
  if (m === null) return null;
  const env: string | undefined = ENV_BY_MD5[m[1]];
  const prefix = base.slice(0, base.length - 33);
  const opaque: MemberParts = { courseKey: prefix, truncated: true, ...(env === undefined ? {} : { env }) };
  // `.json` and `.xml.tar.gz` each come from one task only; the cut of these (199 and 193
  // characters kept) always falls in the course part, so the extension alone names the task and
  // the course key is the cut course part.
  if (tasks.length === 1) {
    const courseKey = prefix.endsWith('-') ? prefix.slice(0, -1) : prefix;
    return { ...opaque, courseKey, task: tasks[0] };
  }
  // With an unknown environment the md5 does not confirm the exporter's scheme: only the
  // opaque prefix is returned.
  if (env === undefined) return opaque;

  // A longer name limit would let the cut fall after the task: `-{task}-{env}` cut short.
  for (const task of tasks) {
    const at = prefix.lastIndexOf(`-${task}-`);
    if (at > 0 && `-${task}-${env}`.startsWith(prefix.slice(at))) {
      return { courseKey: prefix.slice(0, at), task, env, truncated: true };
    }
  }
  const dash = prefix.lastIndexOf('-');
  if (dash <= 0) return opaque;
  const partial = prefix.slice(dash + 1);
  if (partial.length < MIN_PARTIAL_TASK) return opaque;
  const candidates = tasks.filter((t) => t.startsWith(partial));
  if (candidates.length !== 1) return opaque;
  return { courseKey: prefix.slice(0, dash), task: candidates[0], env, truncated: true };
}

/** Task names a member with this extension in this folder can have. */
function tasksFor(ext: MemberExtension, folders: string[]): readonly string[] {
  if (ext === '.json') return ['course_structure'];
  if (ext === '.xml.tar.gz') return ['course'];
  if (folders.length === 0) return [...KNOWN_WEEKLY_TABLES, ...ORA_TABLES];
  return folders[folders.length - 1].toLowerCase() === 'ora' ? ORA_TABLES : KNOWN_WEEKLY_TABLES;
}

/** Base name (after the last `/` or `\`) and the folder names before it. */
function splitPath(pathOrName: string): { name: string; folders: string[] } {
  const parts = pathOrName.replace(/\\/g, '/').split('/');
  const name = parts.pop() ?? '';
  return { name, folders: parts.filter((p) => p !== '' && p !== '.') };
}

function recognizeInner(name: string, folders: string[], encrypted: boolean): RecognizedFile {
  const unknown: RecognizedFile = { kind: 'unknown', name, encrypted };
  // The name with `.gpg` removed: what the file will be called once decrypted.
  const plain = encrypted ? name.slice(0, -4) : name;
  if (plain === '') return unknown;

  // `{file}.failed`: recognise what the file would have been (§1.3, §7.12).
  if (endsWithIgnoreCase(plain, '.failed')) {
    const innerName = plain.slice(0, -7) + (encrypted ? name.slice(-4) : '');
    const inner = recognizeInner(innerName, folders, encrypted);
    if (inner.kind === 'unknown' || inner.kind === 'export-failed') return unknown;
    const { failedOf: _ignored, ...failedOf } = inner;
    return { ...failedOf, kind: 'export-failed', name, encrypted, failedOf };
  }

  // Weekly package `{org}-{YYYY-MM-DD}.zip`; the same name under `email-opt-in/` is the opt-in package.
  if (endsWithIgnoreCase(plain, '.zip')) {
    const stem = plain.slice(0, -4);
    const date = stem.slice(-10);
    const org = stem.slice(0, -11);
    if (stem.length > 11 && stem[stem.length - 11] === '-' && isRealDate(date)) {
      const kind: FileKind = folders.some((f) => f.toLowerCase() === 'email-opt-in') ? 'email-opt-in-package' : 'weekly-package';
      return { kind, name, encrypted, org, date };
    }
    return unknown;
  }

  // Daily event logs (§1.1): `{org}-{site}-events-{date}.log.gz`, and the early form without "events".
  const ev = EVENT_LOG_RE.exec(plain) ?? EARLY_EVENT_LOG_RE.exec(plain);
  if (ev !== null) {
    if (!isRealDate(ev[3])) return unknown;
    return { kind: 'event-log', name, encrypted, org: ev[1], site: ev[2].toLowerCase(), date: ev[3] };
  }

  // Forum dump `{course}-{prod|edge}.mongo` (§1.3: the bare environment, not `-analytics`).
  if (endsWithIgnoreCase(plain, '.mongo')) {
    const stem = plain.slice(0, -6);
    const fm = /^(.+)-(prod|edge)$/.exec(stem);
    if (fm !== null) {
      return { kind: 'forum', name, encrypted, courseKey: fm[1], env: fm[2], site: fm[2] === 'edge' ? 'edge' : 'edx' };
    }
    // The exporter's ForumsTask notes a legacy production form `{course}.mongo` without the
    // environment.
    if (stem !== '') return { kind: 'forum', name, encrypted, courseKey: stem, env: 'prod', site: 'edx' };
    return unknown;
  }

  // Email opt-in CSV `{org}-email_opt_in-{env}.csv` (org task).
  if (endsWithIgnoreCase(plain, '.csv')) {
    const stem = plain.slice(0, -4);
    const at = stem.lastIndexOf('-email_opt_in-');
    if (at > 0) {
      const env = stem.slice(at + '-email_opt_in-'.length);
      if (ENV_NAME_RE.test(env)) {
        return { kind: 'email-opt-in', name, encrypted, org: stem.slice(0, at), env, site: siteOfEnv(env) };
      }
    }
    return unknown;
  }

  // Course-task members `{course}-{task}-{env}.{sql|json|xml.tar.gz}` (also under `ora/`).
  const ext = MEMBER_EXTENSIONS.find((e) => endsWithIgnoreCase(plain, e));
  if (ext === undefined) return unknown;
  const base = plain.slice(0, plain.length - ext.length);
  // Environment names never look like 32 hex digits, so the suffix alone marks a cut name.
  const parts = splitTruncatedBase(base, tasksFor(ext, folders)) ?? splitMemberBase(base);
  if (parts === null || parts.courseKey === '') return unknown;

  const inOraFolder = folders.length > 0 && folders[folders.length - 1].toLowerCase() === 'ora';
  const table = parts.task === undefined ? undefined : canonicalTable(parts.task);
  const kind = table === undefined ? null : memberKind(ext, table);
  const site = parts.env === undefined ? undefined : siteOfEnv(parts.env);
  const common = {
    name,
    encrypted,
    courseKey: parts.courseKey,
    ...(parts.env === undefined ? {} : { env: parts.env }),
    ...(site === undefined ? {} : { site }),
    ...(parts.truncated ? { truncated: true } : {}),
  };
  if (kind === null) {
    // Cut inside the task name, or a task that does not fit the extension: say what is known.
    return parts.truncated ? { kind: 'unknown', ...common } : unknown;
  }
  if (kind === 'weekly-table') {
    return { kind, ...common, table, ora: inOraFolder || ORA_TABLE_SET.has(table as string) };
  }
  return { kind, ...common };
}

/**
 * Recognises a file from its path or name: S3 keys, local paths and weekly-zip member paths
 * (`{org}-{date}/ora/…`) alike. Never throws; anything unfamiliar is `{ kind: 'unknown' }`.
 *
 * - `encrypted` is true when the name ends in `.gpg`;
 * - weekly package vs email opt-in package is decided by an `email-opt-in` folder in the path;
 * - `courseKey` is the opaque `{org}-{course}-{run}` part (§1.2): it cannot be split reliably;
 * - an unknown `.sql` table with a recognisable environment suffix is still a `weekly-table`
 *   with its table name, so it can be kept as text;
 * - `{file}.failed(.gpg)` is `export-failed` with `failedOf` describing `{file}` (its fields are
 *   repeated at the top level so the failure can be attributed to a course and table).
 */
export function recognizeFileName(pathOrName: string): RecognizedFile {
  const { name, folders } = splitPath(pathOrName);
  const encrypted = endsWithIgnoreCase(name, '.gpg');
  return recognizeInner(name, folders, encrypted);
}

/** True when `table` is one of the known course-level or ORA weekly tables. */
export function isKnownWeeklyTable(table: string): boolean {
  return KNOWN_TABLE_SET.has(table);
}

/** How a file's content is packed, as its name promises once any `.gpg` is removed. */
export type NamedPacking = 'gzip' | 'zip' | 'tar.gz';

/**
 * What the name says the (decrypted) content must be: `gzip` for a `.log.gz` daily log, `zip` for a
 * weekly or email opt-in package, `tar.gz` for an OLX export; undefined for plain content
 * (`.log`, `.sql`, `.json`, `.mongo`, `.csv`). The content is checked against it; a file that
 * is not what its name says fails rather than being read as something else.
 */
export function namedPacking(file: RecognizedFile): NamedPacking | undefined {
  switch (file.kind) {
    case 'weekly-package':
    case 'email-opt-in-package':
      return 'zip';
    case 'olx':
      return 'tar.gz';
    case 'event-log': {
      const plain = file.encrypted ? file.name.slice(0, -4) : file.name;
      return endsWithIgnoreCase(plain, '.gz') ? 'gzip' : undefined;
    }
    default:
      return undefined;
  }
}
