/**
 * The configuration file schema (`$PDS_HOME/config.yaml`): named environments, each with its
 * source, decryption key, targets and course filter. Secrets are references (`env:NAME`,
 * `file:PATH`), never inline values.
 */
import { z } from 'zod';
import { alertsSchema, deliveryWatchSchema, retentionSchema, schedulesSchema } from './unattended-schema.js';

const SECRET_REF = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+|keychain:[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*)$/;

/**
 * True when a configured value is a secret reference rather than the value itself: `env:NAME`,
 * `file:PATH`, or `keychain:NAME` (a secret the desktop app keeps encrypted with the OS keychain;
 * the CLI cannot read it: SECRET_IN_KEYCHAIN).
 */
export function isSecretRef(value: string): boolean {
  return SECRET_REF.test(value);
}

/** A reference to a secret: `env:NAME` (environment variable), `file:PATH` (file content) or `keychain:NAME` (the desktop app's keychain). */
export const secretRef = z
  .string()
  .regex(SECRET_REF, { message: 'must be a secret reference such as env:PDS_LIVE_PASSPHRASE or file:secrets/live.pass, never the secret itself' });

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date like 2026-01-31' });

const location = z.object({
  bucket: z.string().min(3, { message: 'must be an S3 bucket name such as course-data' }),
  prefix: z.string().default(''),
});

export const s3SourceSchema = z
  .object({
    type: z.literal('s3'),
    /** The org as edX spells it in file names (`MITx`); matched case-insensitively (§1.1). */
    org: z.string().min(1, { message: 'must be your edX org, e.g. MITx' }),
    region: z.string().default('us-east-1'),
    /** For S3-compatible servers (MinIO); leave unset for AWS. */
    endpoint: z.string().url({ message: 'must be a URL such as http://127.0.0.1:9000' }).optional(),
    forcePathStyle: z.boolean().optional(),
    /** Omit both to use the AWS default credential chain (profile, instance role…). */
    accessKeyId: secretRef.optional(),
    secretAccessKey: secretRef.optional(),
    weekly: location.default({ bucket: 'course-data', prefix: '' }),
    emailOptIn: location.optional(),
    events: location.optional(),
    /** Event sites to fetch (§1.1: `edx` for edx.org, `edge` for edge.edx.org). */
    sites: z.array(z.enum(['edx', 'prod', 'edge'])).default(['edx']),
  })
  .strict();

export const localSourceSchema = z
  .object({
    type: z.literal('local'),
    /** A folder laid out like the S3 buckets, or holding the files directly. */
    path: z.string().min(1),
  })
  .strict();

export const sqliteTargetSchema = z
  .object({
    type: z.literal('sqlite'),
    /** Relative paths are under the environment's folder. Default `data.sqlite`. */
    path: z.string().optional(),
  })
  .strict();

export const mariadbTargetSchema = z
  .object({
    type: z.literal('mariadb'),
    /**
     * A connection URL, `mariadb://user@host:3306/database?ssl=true`: a secret reference
     * (`env:PDS_DB_URL`) when it carries a password. The fields below override its parts.
     */
    url: z
      .string()
      .refine((u) => SECRET_REF.test(u) || (/^(mariadb|mysql):\/\//.test(u) && !/^[a-z]+:\/\/[^/@]*:[^/@]*@/.test(u)), {
        message: 'must be a mariadb:// URL without a password, or a secret reference such as env:PDS_DB_URL when it carries one',
      })
      .optional(),
    host: z.string().optional(),
    port: z.number().int().positive().optional(),
    user: z.string().optional(),
    password: secretRef.optional(),
    database: z.string().optional(),
    socketPath: z.string().optional(),
    /** TLS: `true` for the system CAs, or files (paths relative to the home folder). */
    ssl: z
      .union([
        z.boolean(),
        z
          .object({
            ca: z.string().optional(),
            cert: z.string().optional(),
            key: z.string().optional(),
            rejectUnauthorized: z.boolean().default(true),
            servername: z.string().optional(),
          })
          .strict(),
      ])
      .optional(),
    connectionLimit: z.number().int().positive().default(8),
    /** `batch` (default, measured faster) or `load-data` (LOAD DATA LOCAL INFILE). */
    bulkMethod: z.enum(['batch', 'load-data']).optional(),
    /** Extra session variables, e.g. `{ wsrep_sync_wait: 1 }` on Galera. */
    sessionVariables: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  })
  .strict()
  .refine((t) => t.url !== undefined || (t.user !== undefined && t.database !== undefined), {
    message: 'give either url, or user and database (host defaults to 127.0.0.1, port to 3306)',
  });

export const mongodbTargetSchema = z
  .object({
    type: z.literal('mongodb'),
    /** A MongoDB URI, or a secret reference (`env:NAME`) to one when it carries credentials. */
    uri: z
      .string()
      .min(1)
      .refine((u) => SECRET_REF.test(u) || (/^mongodb(\+srv)?:\/\//.test(u) && !/^mongodb(\+srv)?:\/\/[^/@]*:[^/@]*@/.test(u)), {
        message: 'must be a mongodb:// or mongodb+srv:// URI without a password, or a secret reference such as env:PDS_MONGO_URI when it carries credentials',
      }),
    database: z.string().default('pds'),
    /** Write concern `w` (number ≥ 1 or `majority`). */
    writeConcern: z.union([z.number().int().positive(), z.literal('majority')]).optional(),
    /** Prefix of every collection name, to share a database between environments. */
    collectionPrefix: z.string().optional(),
    /** Events per insertMany; default 1000. */
    batchSize: z.number().int().positive().optional(),
    /** Keep the raw line in every event document (`_raw`); by default only repaired lines keep it. */
    keepRawLines: z.boolean().optional(),
  })
  .strict();

const seconds = (what: string) =>
  z
    .number({ message: `must be a number of seconds (${what})` })
    .positive({ message: `must be more than 0 seconds (${what})` })
    .max(3600, { message: `must be at most 3600 seconds (${what})` });

/**
 * How long any network call may wait before pds gives up on it (README "Timeouts"): opening a
 * connection, one S3 request (or a download receiving no bytes), one database statement or batch.
 */
export const timeoutsSchema = z
  .object({
    /** Opening a connection to S3, MariaDB or MongoDB (for MongoDB also finding a usable server). */
    connectSeconds: seconds('opening a connection').default(15),
    /** One S3 request without an answer, or a download receiving no bytes for this long. */
    requestSeconds: seconds('one S3 request').default(30),
    /** One database statement or batch without an answer (MariaDB, MongoDB). */
    querySeconds: seconds('one database statement or batch').default(300),
  })
  .strict();

export type Timeouts = z.infer<typeof timeoutsSchema>;

/** The waits used when an environment sets no `timeouts` (README "Timeouts"). */
export const DEFAULT_TIMEOUTS: Timeouts = timeoutsSchema.parse({});

/** Enrolment modes a certificate may be in to pass a module (edX `mode` values). */
const certificateMode = z.string().min(1, { message: 'must be an enrolment mode such as verified' });
/** A course as the weekly file names spell it: `{org}-{course}-{run}` (docs/edx-formats.md §1.2). */
const courseKey = z
  .string()
  .regex(/^[^\s/]+-[^\s/]+-[^\s/]+$/, { message: 'must be a course key as in the weekly file names, {org}-{course}-{run}, e.g. MITx-6.86x-1T2026' });
const moduleName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, { message: 'module names are short words like probability or ml-1' });

/**
 * One dated version of a program: from `from` on, these modules make it up. A learner who met a
 * version's requirements before the next version started stays eligible under it (README "Programs").
 */
export const programVersionSchema = z
  .object({
    /** The first day this version applies (YYYY-MM-DD). */
    from: isoDate,
    /** Modules every learner must pass. */
    core: z.array(moduleName).default([]),
    /** Modules to choose from. */
    electives: z.array(moduleName).default([]),
    /** How many electives must be passed. */
    electivesRequired: z.number({ message: 'must be a whole number of electives' }).int().min(0).default(0),
  })
  .strict()
  .refine((v) => v.electivesRequired <= v.electives.length, { message: 'electivesRequired is more than the electives listed', path: ['electivesRequired'] })
  .refine((v) => v.core.length + v.electives.length > 0, { message: 'a version lists at least one core or elective module', path: ['core'] });

/** A program (a MicroMasters, say): its modules as course runs, what passing means, and its versions. */
export const programSchema = z
  .object({
    /** Short name used on the command line (`pds query program --env live NAME`). */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, { message: 'program names are short words like sds-micromasters' }),
    title: z.string().optional(),
    /** Each module and its runs (course keys); passing any run passes the module. */
    modules: z.record(moduleName, z.array(courseKey).min(1, { message: 'list at least one run (course key) of the module' })),
    /**
     * What passing a run means: a certificate with status `downloadable` in one of `modes`, a
     * passed grade (`passed_timestamp` set), or either.
     */
    pass: z
      .object({
        rule: z.enum(['certificate', 'grade', 'either'], { message: 'must be certificate, grade or either' }).default('certificate'),
        modes: z.array(certificateMode).min(1, { message: 'list at least one mode, e.g. [verified]' }).default(['verified']),
      })
      .strict()
      .default({ rule: 'certificate', modes: ['verified'] }),
    /** Dated versions, oldest first; at least one. */
    versions: z.array(programVersionSchema).min(1, { message: 'list at least one version (from, core, electives, electivesRequired)' }),
  })
  .strict()
  .superRefine((p, ctx) => {
    p.versions.forEach((v, i) => {
      for (const list of ['core', 'electives'] as const) {
        v[list].forEach((m, j) => {
          if (!(m in p.modules)) ctx.addIssue({ code: 'custom', path: ['versions', i, list, j], message: `names module ${m}, which is not under modules (${Object.keys(p.modules).join(', ') || 'none'})` });
        });
      }
      if (i > 0 && v.from <= p.versions[i - 1]!.from) ctx.addIssue({ code: 'custom', path: ['versions', i, 'from'], message: 'versions are listed oldest first, each from a later date' });
    });
    const runs = new Map<string, string>();
    for (const [m, keys] of Object.entries(p.modules)) {
      for (const k of keys) {
        const other = runs.get(k);
        if (other !== undefined && other !== m) ctx.addIssue({ code: 'custom', path: ['modules', m], message: `the run ${k} is also a run of module ${other}` });
        runs.set(k, m);
      }
    }
  });
export type ProgramConfig = z.infer<typeof programSchema>;
export type ProgramVersionConfig = z.infer<typeof programVersionSchema>;

export const environmentSchema = z
  .object({
    description: z.string().optional(),
    source: z.discriminatedUnion('type', [s3SourceSchema, localSourceSchema]),
    key: z
      .object({
        /** Secret key files; default: every key imported into the environment (`pds key import`). */
        files: z.array(z.string()).optional(),
        passphrase: secretRef.optional(),
      })
      .strict()
      .default({}),
    targets: z
      .object({
        relational: z.discriminatedUnion('type', [sqliteTargetSchema, mariadbTargetSchema]).default({ type: 'sqlite' }),
        events: z.discriminatedUnion('type', [sqliteTargetSchema, mongodbTargetSchema]).default({ type: 'sqlite' }),
      })
      .strict()
      .default({ relational: { type: 'sqlite' }, events: { type: 'sqlite' } }),
    courses: z
      .object({
        /** Globs on the course key (`MITx-6.00*`) or course id; default everything. */
        include: z.array(z.string()).optional(),
        exclude: z.array(z.string()).optional(),
        /** Load edge.edx.org members of the weekly package (`*-edge-*`). */
        includeEdge: z.boolean().default(true),
      })
      .strict()
      .default({ includeEdge: true }),
    window: z.object({ from: isoDate.optional(), to: isoDate.optional() }).strict().default({}),
    /** Omitted: `DEFAULT_TIMEOUTS` (use `timeoutsOf`). */
    timeouts: timeoutsSchema.optional(),
    /** Programs the reports know (`pds query program`, `pds export learners --program`). */
    programs: z
      .array(programSchema)
      .optional()
      .refine((list) => list === undefined || new Set(list.map((p) => p.name)).size === list.length, { message: 'two programs have the same name' }),
    /** When `pds schedule run` loads this environment (README "Unattended operation"). */
    schedules: schedulesSchema.optional(),
    /** When missing deliveries are an alert; omitted: the defaults of unattended-schema.ts. */
    watch: deliveryWatchSchema.optional(),
    /** Where alerts go (e-mail, webhook); omitted: no alerts are sent. */
    alerts: alertsSchema.optional(),
    /** Retention of landing and quarantine files, and the disk-space margin before fetching. */
    retention: retentionSchema.optional(),
    /** Data protection (README "Data protection"). */
    privacy: z
      .object({
        /**
         * Keys the pseudonyms and the hashes of erased learners (a secret reference). Omitted: a random
         * secret generated once into the environment's folder (`privacy.secret`, mode 0600).
         */
        secret: secretRef.optional(),
        /** Erase learners edX has retired (`retired__user_…`) once the snapshot naming them has loaded. */
        eraseRetired: z.boolean().default(false),
      })
      .strict()
      .optional(),
  })
  .strict();

export const configSchema = z
  .object({
    environments: z.record(
      z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, { message: 'environment names are lower-case words like dev, test, live' }),
      environmentSchema,
    ),
  })
  .strict();

export type PdsConfig = z.infer<typeof configSchema>;
export type EnvironmentConfig = z.infer<typeof environmentSchema>;
export type S3SourceSettings = z.infer<typeof s3SourceSchema>;
export type LocalSourceSettings = z.infer<typeof localSourceSchema>;
export type RelationalTargetSettings = EnvironmentConfig['targets']['relational'];
export type EventTargetSettings = EnvironmentConfig['targets']['events'];

/** The bounded waits of an environment: its `timeouts`, each one left out at its default. */
export function timeoutsOf(config: Pick<EnvironmentConfig, 'timeouts'>): Timeouts {
  return config.timeouts ?? DEFAULT_TIMEOUTS;
}
