/**
 * Unattended operation settings of an environment (README "Unattended operation"): schedules (cron
 * expressions in an IANA time zone), the delivery watch, alerts (e-mail over SMTP and/or a webhook,
 * credentials by secret reference), retention of landing and quarantine files, and the disk-space
 * margin checked before fetching. Pure zod: the contract reuses the schedule shape.
 */
import { z } from 'zod';
import { Cron } from 'croner';

const SECRET_REF = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+|keychain:[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*)$/;
const secretRef = z.string().regex(SECRET_REF, { message: 'must be a secret reference such as env:PDS_SMTP_PASSWORD or file:secrets/smtp.pass, never the secret itself' });

/** True when `zone` is an IANA time zone name this Node knows (`Europe/London`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Why a cron expression is refused, or undefined when croner accepts it. */
export function cronProblem(expression: string): string | undefined {
  try {
    new Cron(expression, { paused: true });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export const SCHEDULE_LOADS = ['events', 'weekly', 'both'] as const;
export type ScheduleLoad = (typeof SCHEDULE_LOADS)[number];

/** One schedule: when (cron in a time zone) and what to load. */
export const scheduleSchema = z
  .object({
    /** Short name, unique in the environment (`nightly`, `weekly`). */
    name: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, { message: 'schedule names are short lower-case words like nightly or weekly' }),
    /** Five fields (minute hour day-of-month month day-of-week), e.g. `30 2 * * *` for 02:30 every day. */
    cron: z.string().refine((c) => cronProblem(c) === undefined, { message: 'must be a cron expression such as "30 2 * * *" (02:30 every day) or "0 6 * * 1" (Mondays 06:00)' }),
    /** IANA time zone the cron fields are read in, e.g. Europe/London (default UTC). */
    timezone: z.string().refine(isTimeZone, { message: 'must be an IANA time zone such as Europe/London or America/New_York' }).default('UTC'),
    /** What to load: the daily event logs, the weekly package, or both. */
    load: z.enum(SCHEDULE_LOADS, { message: 'must be events, weekly or both' }).default('both'),
    /** Optional course filter (globs on the course key), narrowing the environment's own `courses`. */
    courses: z.array(z.string().min(1)).optional(),
    enabled: z.boolean().default(true),
  })
  .strict();
export type ScheduleConfig = z.infer<typeof scheduleSchema>;

export const schedulesSchema = z
  .array(scheduleSchema)
  .refine((list) => new Set(list.map((s) => s.name)).size === list.length, { message: 'two schedules have the same name' });

/** When the absence of new files is an alert (docs/edx-formats.md §1: edX skips days). */
export const deliveryWatchSchema = z
  .object({
    /** Days without a new daily event log before it is an alert. */
    eventsMaxDays: z.number().int().min(1).max(60).default(3),
    /** Days since the newest weekly package before it is late. */
    weeklyMaxDays: z.number().int().min(1).max(60).default(9),
  })
  .strict();
export type DeliveryWatchConfig = z.infer<typeof deliveryWatchSchema>;

export const emailAlertSchema = z
  .object({
    host: z.string().min(1, { message: 'must be the SMTP server name, e.g. smtp.example.edu' }),
    /** 465 for implicit TLS (`secure: true`), 587 for STARTTLS (default). */
    port: z.number().int().positive().default(587),
    /** true: TLS from the first byte (port 465); false: STARTTLS, which is then required. */
    secure: z.boolean().default(false),
    user: z.string().optional(),
    password: secretRef.optional(),
    from: z.string().min(3, { message: 'must be the sender address, e.g. pds@example.edu' }),
    to: z.array(z.string().min(3)).min(1, { message: 'list at least one recipient' }),
    /** A CA file (PEM, relative to the home folder) for a server with a private certificate. */
    ca: z.string().optional(),
  })
  .strict();

export const webhookAlertSchema = z
  .object({
    url: z
      .string()
      .url({ message: 'must be an https:// URL (http:// only for a local receiver)' })
      .refine((u) => /^https:\/\//i.test(u) || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/i.test(u), {
        message: 'must be an https:// URL (http:// only for a receiver on this machine: 127.0.0.1 or localhost)',
      }),
    /** Signs each body with HMAC-SHA256 (header X-PDS-Signature: sha256=<hex>). */
    secret: secretRef.optional(),
  })
  .strict();

export const alertsSchema = z
  .object({
    email: emailAlertSchema.optional(),
    webhook: webhookAlertSchema.optional(),
    /** A problem that persists is announced again as a digest after this many days (never every night). */
    repeatDays: z.number().int().min(1).max(90).default(7),
    /** How the alert tells the reader to see the report (default: the pds commands). */
    reportLink: z.string().optional(),
  })
  .strict();
export type AlertsConfig = z.infer<typeof alertsSchema>;

/** An age such as `5y`, `18m`, `12w` or `90d` (years, months, weeks, days). */
export const retentionAge = z.string().regex(/^[1-9][0-9]{0,3}[dwmy]$/, { message: 'must be an age such as 5y, 18m, 12w or 90d' });

export const retentionSchema = z
  .object({
    /** Days encrypted originals stay in the landing folder after a successful load (0: kept forever). */
    landingDays: z.number().int().min(0).default(30),
    /** Days quarantine files (rejected lines) are kept (0: kept forever). */
    quarantineDays: z.number().int().min(0).default(0),
    /** Free space asked for before fetching: planned bytes × this factor (decrypted copies are larger). */
    diskFactor: z.number().min(1).max(20).default(3),
    /** Raw events older than this are removed by `pds purge` (e.g. `5y`, `18m`, `90d`); omitted: kept. */
    events: retentionAge.optional(),
    /** Designated event rows older than this (default: as `events`). */
    designated: retentionAge.optional(),
    /** Weekly snapshot rows whose snapshot is older than this (courses no longer delivered). */
    snapshots: retentionAge.optional(),
  })
  .strict();
export type RetentionConfig = z.infer<typeof retentionSchema>;

export const DEFAULT_DELIVERY_WATCH: DeliveryWatchConfig = deliveryWatchSchema.parse({});
export const DEFAULT_RETENTION: RetentionConfig = retentionSchema.parse({});
