/**
 * The console contract: every method a front end can call, with a zod schema for its named
 * arguments and one for its result. The HTTP routes (`pds serve`), the renderer's client and the
 * Electron preload and IPC handlers are all derived from `CONSOLE_METHODS`, so no transport can
 * miss a method (a type-level test checks each one).
 *
 * Results cross every transport as data: `{ ok: true, value }` or `{ ok: false, error }`, and the
 * client turns an error back into a `ContractError` with the same code. Secrets never cross: the
 * console sees whether a secret is set, never its value, and `setSecret` is write-only.
 *
 * Pure: zod only, no Node API (the renderer imports this file).
 */
import { CONSOLE_METHOD_NAMES, type ConsoleMethodName } from './method-names.js';
import { z } from 'zod';
import { FILE_KINDS } from '../domain/files.js';
import { FILE_STATUSES, RUN_STATUSES } from '../domain/results.js';
import { ROSTER_STATUSES, activityReportSchema, learnerExportSchema, learnerReportSchema, programReportSchema, programSummarySchema, rosterReportSchema } from './report-schemas.js';
import { auditEntrySchema, forgetResultSchema, privacyInventorySchema } from './privacy-schemas.js';

// ---------------------------------------------------------------------------------------------
// Errors and envelopes

/**
 * What the console can offer as the next step of an error (a button beside the message). `none`
 * when the message says everything. Hints are written for a person, never as a CLI command.
 */
export const ERROR_ACTIONS = [
  'none',
  'import-key',
  'edit-environment',
  'set-secret',
  'check-connection',
  'retry-file',
  'start-run',
  'reload',
] as const;
export type ErrorAction = (typeof ERROR_ACTIONS)[number];

export const contractErrorSchema = z.object({
  /** Stable machine code (`CONFIG_INVALID`, `DECRYPT_NO_KEY`, `RUN_IN_PROGRESS`…). */
  code: z.string(),
  /** A sentence for a person: what happened, naming the file, line or field. */
  message: z.string(),
  /** What the person can do about it. */
  hint: z.string().optional(),
  action: z.enum(ERROR_ACTIONS).default('none'),
  /** The field the error is about (a config path such as `source.org`), for forms. */
  field: z.string().optional(),
  /** Whether trying again later may help (network, lock, database down). */
  retryable: z.boolean().default(false),
});
export type ContractErrorData = z.output<typeof contractErrorSchema>;

/** The error half of an envelope, thrown back on the client side with the same code. */
export class ContractError extends Error {
  readonly code: string;
  readonly hint?: string;
  readonly action: ErrorAction;
  readonly field?: string;
  readonly retryable: boolean;
  constructor(data: z.input<typeof contractErrorSchema>) {
    super(data.message);
    this.name = 'ContractError';
    this.code = data.code;
    this.hint = data.hint;
    this.action = data.action ?? 'none';
    this.field = data.field;
    this.retryable = data.retryable ?? false;
  }

  toData(): ContractErrorData {
    return { code: this.code, message: this.message, hint: this.hint, action: this.action, field: this.field, retryable: this.retryable };
  }
}

export type Envelope<T> = { ok: true; value: T } | { ok: false; error: ContractErrorData };

// ---------------------------------------------------------------------------------------------
// Shared shapes

/** Environment names as the config file allows them. */
export const envName = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, { message: 'environment names are lower-case words like dev, test, live' });
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date like 2026-01-31' });
/** ISO 8601 instants in UTC (`2026-01-31T02:00:00.000Z`); the console shows them in the operator's zone. */
const instant = z.string();
const page = { offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(1000).default(100) };

export const runOptionsSchema = z.object({
  only: z.enum(['weekly', 'events']).optional(),
  from: isoDate.optional(),
  to: isoDate.optional(),
  dryRun: z.boolean().optional(),
  /** Retry from the console: exactly these files (ledger keys), or every file flagged with `code`. */
  retry: z.object({ keys: z.array(z.string()).optional(), code: z.string().optional() }).optional(),
});
export type RunOptionsArg = z.input<typeof runOptionsSchema>;

const countsSchema = z.object({ bytes: z.number(), read: z.number(), loaded: z.number(), rejected: z.number(), duplicates: z.number() });

export const fileResultSchema = z.object({
  key: z.string(),
  parentKey: z.string().optional(),
  kind: z.enum(FILE_KINDS),
  status: z.enum(FILE_STATUSES),
  stage: z.string().optional(),
  code: z.string().optional(),
  reason: z.string().optional(),
  hint: z.string().optional(),
  courseKey: z.string().optional(),
  table: z.string().optional(),
  snapshotDate: z.string().optional(),
  counts: countsSchema,
  warnings: z.array(z.object({ code: z.string(), message: z.string() })),
  rejectedLines: z.array(z.object({ line: z.number(), code: z.string(), reason: z.string() })).optional(),
  quarantine: z.string().optional(),
  durationMs: z.number(),
});
export type FileResultView = z.output<typeof fileResultSchema>;

export const plannedFileSchema = z.object({
  key: z.string(),
  location: z.string(),
  kind: z.enum(FILE_KINDS),
  size: z.number(),
  why: z.enum(['new', 'changed', 'retry', 'incomplete']),
});

const runErrorSchema = z.object({ code: z.string(), message: z.string(), hint: z.string().optional() });

export const runSummarySchema = z.object({
  runId: z.string(),
  env: z.string(),
  status: z.enum(RUN_STATUSES),
  startedAt: instant,
  finishedAt: instant.nullable(),
  totals: z.record(z.string(), z.number()).nullable(),
  options: runOptionsSchema,
  error: runErrorSchema.nullable(),
  /** Who started it: the console, the CLI, the scheduler. */
  origin: z.string().optional(),
});
export type RunSummaryData = z.output<typeof runSummarySchema>;

export const keySummarySchema = z.object({
  keyId: z.string(),
  fingerprint: z.string(),
  userIds: z.array(z.string()),
  algorithm: z.string(),
  created: instant,
  expires: instant.nullable(),
  /** True when the key is passphrase-protected. */
  protected: z.boolean(),
});

/** The config fields that hold secret references. */
export const SECRET_FIELDS = [
  'key.passphrase',
  'source.accessKeyId',
  'source.secretAccessKey',
  'targets.relational.password',
  'targets.relational.url',
  'targets.events.uri',
  'alerts.email.password',
  'alerts.webhook.secret',
  'privacy.secret',
] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];

/** A secret as the console sees it: whether it is set and where it comes from, never its value. */
export const secretStateSchema = z.object({
  field: z.enum(SECRET_FIELDS),
  state: z.enum(['set', 'not set']),
  /** `env`: an environment variable (its name is shown); `file`: a file under the home folder; `keychain`: the desktop app's keychain. */
  via: z.enum(['env', 'file', 'keychain']),
  /** The variable name or file path the reference names (not secret in itself). */
  name: z.string(),
});

export const environmentSummarySchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  source: z.string(),
  relational: z.string(),
  events: z.string(),
  keys: z.number(),
  secrets: z.record(z.string(), z.enum(['set', 'not set'])),
  lastRun: z.object({ runId: z.string(), status: z.enum(RUN_STATUSES), startedAt: instant, finishedAt: instant.nullable() }).optional(),
});

/**
 * One environment for the edit form. `settings` is the environment's block of the config file
 * with every secret-reference field left out (their state is in `secrets`); `revision` identifies
 * the file's content, so a save over a hand edit made since the form was opened is refused.
 */
export const environmentViewSchema = z.object({
  name: z.string(),
  revision: z.string(),
  settings: z.record(z.string(), z.unknown()),
  secrets: z.array(secretStateSchema),
});

export const validationIssueSchema = z.object({
  /** Dotted path within the environment, e.g. `source.org`. */
  path: z.string(),
  message: z.string(),
  example: z.string().optional(),
});

export const connectionCheckSchema = z.object({
  target: z.enum(['source', 'key', 'relational', 'events']),
  engine: z.string(),
  ok: z.boolean(),
  /** One line for a person. */
  summary: z.string(),
  /** Each step checked, in order. */
  steps: z.array(
    z.object({
      name: z.string(),
      ok: z.boolean(),
      detail: z.string(),
      fix: z.string().optional(),
      /** A step that passed but deserves attention (a key expiring within 30 days). */
      warning: z.boolean().optional(),
    }),
  ),
});

export const flaggedFileSchema = z.object({
  key: z.string(),
  parentKey: z.string().nullable(),
  kind: z.string(),
  status: z.string(),
  stage: z.string().nullable(),
  code: z.string().nullable(),
  reason: z.string().nullable(),
  hint: z.string().nullable(),
  retriedNextRun: z.boolean(),
  runId: z.string().nullable(),
  updatedAt: instant,
});

export const environmentStatusSchema = z.object({
  env: z.string(),
  files: z.record(z.string(), z.number()),
  flagged: z.array(flaggedFileSchema),
  lastRun: runSummarySchema.nullable(),
});

export const dataSummarySchema = z.object({
  tables: z.array(z.object({ table: z.string(), group: z.string(), rows: z.number(), courses: z.number() })),
  events: z.object({ total: z.number(), courses: z.number(), topTypes: z.array(z.object({ type: z.string(), count: z.number() })) }),
  /** Events per UTC day per course (the Data screen's chart); the last `days` days loaded. */
  eventsPerDay: z.array(z.object({ day: isoDate, courseId: z.string(), events: z.number() })),
});

const reportFilterSchema = z.object({
  status: z.array(z.enum(FILE_STATUSES)).optional(),
  kind: z.array(z.enum(FILE_KINDS)).optional(),
  course: z.string().optional(),
  code: z.string().optional(),
});

/** The report columns a run's files can be sorted by (the whole filtered run, before paging). */
export const REPORT_SORT_KEYS = ['status', 'key', 'kind', 'course', 'table', 'read', 'loaded', 'rejected', 'duplicates', 'code', 'durationMs'] as const;
export type ReportSortKey = (typeof REPORT_SORT_KEYS)[number];
const reportSortSchema = z.object({ by: z.enum(REPORT_SORT_KEYS), dir: z.enum(['asc', 'desc']).default('asc') });

export const activeRunSchema = z.object({
  runId: z.string(),
  env: z.string(),
  startedAt: instant,
  origin: z.string(),
  /** Whether this process can cancel it directly (it runs here) or by request (another process). */
  local: z.boolean(),
  planned: z.number(),
  done: z.number(),
  current: z.object({ key: z.string(), stage: z.string(), bytes: z.number().optional(), rows: z.number().optional() }).nullable(),
});

/**
 * A notice a run gave (retention, data protection, a cancel), kept with the run: the `notice` run
 * event without its stream fields, shown with the run's report wherever it is read.
 */
export const runNoticeSchema = z.object({ level: z.enum(['info', 'warning']), message: z.string(), time: instant });
export type RunNoticeView = z.output<typeof runNoticeSchema>;

// ---------------------------------------------------------------------------------------------
// Run events (the live stream: server-sent events over HTTP, a port message in Electron)

const eventBase = { runId: z.string(), env: z.string(), seq: z.number().int(), time: instant };

export const runEventSchema = z.discriminatedUnion('type', [
  z.object({ ...eventBase, type: z.literal('run-started'), options: runOptionsSchema, origin: z.string() }),
  z.object({ ...eventBase, type: z.literal('plan'), planned: z.array(plannedFileSchema), upToDate: z.number(), bytes: z.number() }),
  z.object({ ...eventBase, type: z.literal('file-started'), key: z.string(), kind: z.enum(FILE_KINDS), size: z.number() }),
  z.object({ ...eventBase, type: z.literal('file-progress'), key: z.string(), stage: z.string(), bytes: z.number().optional(), rows: z.number().optional() }),
  z.object({ ...eventBase, type: z.literal('file-finished'), result: fileResultSchema }),
  z.object({ ...eventBase, type: z.literal('notice'), level: z.enum(['info', 'warning']), message: z.string() }),
  z.object({ ...eventBase, type: z.literal('run-finished'), run: runSummarySchema }),
]);
export type RunEvent = z.output<typeof runEventSchema>;
export type RunEventType = RunEvent['type'];

// ---------------------------------------------------------------------------------------------
// Schedules (README "Unattended operation"; the config shape is core/config/unattended-schema.ts)

export const scheduleSchema = z.object({
  /** Short lower-case name, unique in the environment (`nightly`). */
  name: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, { message: 'schedule names are short lower-case words like nightly or weekly' }),
  /** Five cron fields read in `timezone`, e.g. `30 2 * * *`. */
  cron: z.string().min(1),
  /** IANA time zone, e.g. Europe/London. */
  timezone: z.string().min(1).default('UTC'),
  load: z.enum(['events', 'weekly', 'both']).default('both'),
  /** Course globs narrowing the environment's course filter. */
  courses: z.array(z.string().min(1)).optional(),
  enabled: z.boolean().default(true),
});
export type ScheduleData = z.output<typeof scheduleSchema>;

/** One run time: the instant, and the wall-clock time in the schedule's zone (`2026-03-29 02:00 BST`). */
export const runTimeSchema = z.object({ utc: instant, local: z.string() });

export const schedulerStatusSchema = z.object({
  /** `alive` (beating), `stale` (stopped beating without saying so), `stopped` (stopped cleanly), `never`. */
  state: z.enum(['alive', 'stale', 'stopped', 'never']),
  lastBeat: instant.nullable(),
  pid: z.number().nullable(),
  host: z.string().nullable(),
  nextSlotAt: instant.nullable(),
  detail: z.string(),
});

export const scheduleViewSchema = scheduleSchema.extend({
  nextRuns: z.array(runTimeSchema),
  /** The newest slot and what became of it (started, skipped, missed, caught-up, failed). */
  lastSlot: z.object({ at: instant, outcome: z.string(), runId: z.string().nullable(), detail: z.string().nullable() }).nullable(),
});

// ---------------------------------------------------------------------------------------------
// The methods

const envArg = { env: envName };
const method = <A extends z.ZodObject, R extends z.ZodType>(args: A, result: R, summary: string) => ({ args, result, summary });

export const CONSOLE_METHODS = {
  // Environments
  listEnvironments: method(z.object({}), z.array(environmentSummarySchema), 'Every configured environment with its source, targets, keys and last run.'),
  getEnvironment: method(z.object(envArg), environmentViewSchema, 'One environment for the edit form, secrets shown as set / not set.'),
  validateEnvironment: method(
    z.object({ env: envName, settings: z.record(z.string(), z.unknown()) }),
    z.object({ ok: z.boolean(), issues: z.array(validationIssueSchema) }),
    'Checks a draft against the config schema without saving it.',
  ),
  createEnvironment: method(z.object({ env: envName, settings: z.record(z.string(), z.unknown()) }), environmentViewSchema, 'Adds an environment to the config file.'),
  updateEnvironment: method(
    z.object({ env: envName, revision: z.string(), settings: z.record(z.string(), z.unknown()) }),
    environmentViewSchema,
    'Saves an environment in place, keeping comments and order; refused when the file changed since `revision`.',
  ),
  deleteEnvironment: method(
    z.object({ env: envName, revision: z.string() }),
    z.object({
      deleted: z.literal(true),
      /** The environment's data folder (ledger, keys, downloads, SQLite data): kept, never deleted by the console. */
      dataFolder: z.string().optional(),
      /** A sentence for the person: what was removed and what was kept. */
      message: z.string().optional(),
    }),
    'Removes an environment from the config file (its data folder is kept).',
  ),
  setSecret: method(
    z.object({ env: envName, field: z.enum(SECRET_FIELDS), value: z.string().min(1) }),
    secretStateSchema,
    'Stores a secret write-only (a file of mode 0600 under the home folder) and references it from the config.',
  ),
  testSource: method(z.object(envArg), connectionCheckSchema, 'Lists each bucket and prefix (changing nothing): objects found, newest file date.'),
  testKey: method(z.object(envArg), connectionCheckSchema, 'Checks that the passphrase unlocks the keys; key ids and expiry.'),
  testTargets: method(z.object(envArg), z.array(connectionCheckSchema), 'Connects to each target (changing nothing): privileges, the exact GRANT missing, schema version.'),

  // Keys
  importKey: method(
    z.object({ env: envName, armored: z.string().optional(), base64: z.string().optional() }).refine((a) => Boolean(a.armored) !== Boolean(a.base64), {
      message: 'give the key either as armored text or as base64 of a binary key file',
    }),
    z.array(keySummarySchema),
    'Imports a secret key given as armored text or as the bytes of a key file.',
  ),
  listKeys: method(z.object(envArg), z.array(keySummarySchema), 'Imported keys: fingerprint, user ids, algorithm, expiry.'),
  removeKey: method(z.object({ env: envName, fingerprint: z.string() }), z.array(keySummarySchema), 'Removes an imported key; returns the keys left.'),

  // Runs
  planRun: method(z.object({ env: envName, options: runOptionsSchema.default({}) }), z.object({ planned: z.array(plannedFileSchema), upToDate: z.number() }), 'What a run with these options would fetch and load (a dry run).'),
  startRun: method(z.object({ env: envName, options: runOptionsSchema.default({}) }), z.object({ runId: z.string() }), 'Starts a run and answers at once with its id; progress arrives as run events.'),
  cancelRun: method(z.object({ env: envName, runId: z.string() }), z.object({ cancelling: z.boolean() }), 'Asks a running run to stop; its open load is rolled back.'),
  listActiveRuns: method(z.object({}), z.array(activeRunSchema), 'Runs in progress on this home folder, whoever started them.'),
  listRuns: method(z.object({ env: envName, ...page }), z.object({ total: z.number(), runs: z.array(runSummarySchema) }), 'Run history, newest first.'),

  // Reports
  getReport: method(
    z.object({ env: envName, runId: z.string().optional(), filter: reportFilterSchema.default({}), sort: reportSortSchema.optional(), ...page }),
    z.object({ run: runSummarySchema, total: z.number(), counts: z.record(z.string(), z.number()), files: z.array(fileResultSchema), notices: z.array(runNoticeSchema) }),
    'One run’s per-file outcomes (the newest run by default), filtered, sorted (default: the order the run handled them) and paged, with the run’s notices (retention, data protection, a cancel) in the order they were given.',
  ),
  getFileHistory: method(
    z.object({ env: envName, key: z.string() }),
    z.object({ key: z.string(), entries: z.array(z.object({ runId: z.string(), startedAt: instant, result: fileResultSchema })) }),
    'One file’s outcome in every run that touched it, newest first.',
  ),
  getRejectedLines: method(
    z.object({ env: envName, key: z.string(), ...page }),
    z.object({ total: z.number(), lines: z.array(z.object({ line: z.number(), code: z.string(), reason: z.string(), text: z.string() })) }),
    'A file’s rejected lines with their text, read from its quarantine file.',
  ),
  getStatus: method(z.object(envArg), environmentStatusSchema, 'Files by status and every file that needs attention now, and whether the next run retries it.'),
  getDataSummary: method(z.object({ env: envName, days: z.number().int().min(1).max(366).default(30) }), dataSummarySchema, 'What has landed: tables, rows, courses; events by type and per day.'),

  // Schedules
  listSchedules: method(
    z.object(envArg),
    z.object({ schedules: z.array(scheduleViewSchema), scheduler: schedulerStatusSchema, revision: z.string() }),
    'The environment’s schedules with their next five run times, and whether the scheduler is alive.',
  ),
  saveSchedule: method(
    z.object({ env: envName, revision: z.string(), schedule: scheduleSchema }),
    scheduleViewSchema,
    'Adds or replaces a schedule (by name) in config.yaml in place; refused when the file changed since `revision`.',
  ),
  setScheduleEnabled: method(z.object({ env: envName, name: z.string(), enabled: z.boolean() }), scheduleViewSchema, 'Turns a schedule on or off.'),
  nextRuns: method(
    z.object({ cron: z.string().min(1), timezone: z.string().min(1).default('UTC'), count: z.number().int().min(1).max(20).default(5), after: instant.optional() }),
    z.array(runTimeSchema),
    'The next run times of a cron expression in a time zone (checks an expression before saving it).',
  ),

  // Reports over the loaded data (core/contract/report-schemas.ts)
  listPrograms: method(z.object(envArg), z.array(programSummarySchema), 'The programs the environment defines (modules, runs, pass rule, versions).'),
  queryLearner: method(z.object({ env: envName, learner: z.string().min(1) }), learnerReportSchema, 'Every course of a learner named by username, e-mail address or user id.'),
  queryRoster: method(
    z.object({ env: envName, course: z.string().min(1), modes: z.array(z.string()).optional(), statuses: z.array(z.enum(ROSTER_STATUSES)).optional() }),
    rosterReportSchema,
    'Every learner of a course (course id or course key), filtered by mode and status.',
  ),
  queryActivity: method(
    z.object({ env: envName, course: z.string().min(1), from: isoDate.optional(), to: isoDate.optional(), by: z.enum(['day', 'week']).default('day') }),
    activityReportSchema,
    'A course’s activity per day or week: active learners, events, videos, problems, forum posts, enrolments.',
  ),
  queryProgram: method(z.object({ env: envName, program: z.string().min(1), eligibleOnly: z.boolean().default(false) }), programReportSchema, 'Per learner: modules passed, remaining, eligible for the capstone.'),
  exportLearners: method(
    z.object({ env: envName, course: z.string().min(1).optional(), program: z.string().min(1).optional() }).refine((a) => Boolean(a.course) !== Boolean(a.program), {
      message: 'name either a course or a program',
    }),
    learnerExportSchema,
    'The learning-analytics export (one row per learner per course) of a course or a program.',
  ),

  // Data protection (core/contract/privacy-schemas.ts)
  forgetLearner: method(
    z.object({ env: envName, user: z.string().trim().min(1, { message: 'name the learner: username, e-mail address or user id' }), dryRun: z.boolean().default(false) }),
    forgetResultSchema,
    'Erases one learner (username, e-mail or user id) from every store, quarantine file and export, and keeps them out of later loads; a dry run only counts.',
  ),
  getPrivacyInventory: method(
    z.object(envArg),
    privacyInventorySchema,
    'What personal data the environment holds where, its class, purpose and who can read it, and the retention in force (what `pds docs privacy` writes).',
  ),
  listAudit: method(z.object({ env: envName, limit: z.number().int().min(1).max(5000).default(500) }), z.array(auditEntrySchema), 'Who did what and when: runs, exports, personal-data queries, erasures, purges, configuration and key changes; newest first.'),
} as const;

// The plain list of the names (what the desktop preload bundles) names exactly these methods:
// a method added here and not there, or there and not here, fails to compile.
type SameNames<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
export const methodNamesAreListed: SameNames<(typeof CONSOLE_METHOD_NAMES)[number], keyof typeof CONSOLE_METHODS> = true;
export { CONSOLE_METHOD_NAMES, type ConsoleMethodName };

/** Named arguments of a method as a caller writes them (defaults may be left out). */
export type ArgsOf<M extends ConsoleMethodName> = z.input<(typeof CONSOLE_METHODS)[M]['args']>;
/** Named arguments after validation (defaults filled in). */
export type ParsedArgsOf<M extends ConsoleMethodName> = z.output<(typeof CONSOLE_METHODS)[M]['args']>;
export type ResultOf<M extends ConsoleMethodName> = z.output<(typeof CONSOLE_METHODS)[M]['result']>;

/** The console API as a front end calls it: one async function per method, named arguments. */
export type ConsoleClient = { [M in ConsoleMethodName]: (args: ArgsOf<M>) => Promise<ResultOf<M>> };

/** The console API as the engine implements it: arguments arrive validated. */
export type ConsoleHandlers = { [M in ConsoleMethodName]: (args: ParsedArgsOf<M>) => Promise<ResultOf<M>> };

/** A subscription to run events, from `afterSeq` on (exclusive), for resuming after a reconnect. */
export interface RunEventSource {
  subscribe(onEvent: (event: RunEvent) => void, options?: { afterSeq?: number }): () => void;
}

/** True when `name` is a console method (transports check names from the wire with this). */
export function isConsoleMethod(name: string): name is ConsoleMethodName {
  return Object.prototype.hasOwnProperty.call(CONSOLE_METHODS, name);
}
