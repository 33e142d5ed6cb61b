/**
 * Shapes of the data-protection methods (erasure, audit log). Pure zod: the renderer imports them.
 */
import { z } from 'zod';
import { PERSONAL_CLASSES } from '../domain/personal-data.js';

/** What an erasure removed (or would remove) from one store, table, collection or file. */
export const erasureCountSchema = z.object({ store: z.string(), target: z.string(), rows: z.number().int() });

export const forgetResultSchema = z.object({
  env: z.string(),
  dryRun: z.boolean(),
  /** How the learner was named: `id`, `username` or `email` (never the value). */
  matchedBy: z.enum(['id', 'username', 'email']),
  /** The learner was erased before and nothing of theirs was left. */
  alreadyErased: z.boolean(),
  stores: z.array(erasureCountSchema),
  totalRows: z.number().int(),
  /** The erasure record in the ledger (absent for a dry run or when nothing changed). */
  erasureId: z.string().optional(),
});
export type ForgetResultData = z.output<typeof forgetResultSchema>;

export const auditEntrySchema = z.object({
  seq: z.number().int(),
  at: z.string(),
  /** `os:<user>` for the CLI, `console:<user>` for the console. */
  actor: z.string(),
  /** run, export, query, erasure, purge, config, key. */
  action: z.string(),
  detail: z.record(z.string(), z.unknown()),
});
export type AuditEntryData = z.output<typeof auditEntrySchema>;

/** One classified field of a tracking-log line or of a MongoDB event document. */
const fieldClassSchema = z.object({ field: z.string(), personal: z.enum(PERSONAL_CLASSES), doc: z.string() });

/**
 * The personal-data inventory of one environment as configured: the same data `pds docs privacy`
 * renders (core/privacy/inventory-doc.ts builds both from it). Texts may hold `code` and **bold**
 * spans in Markdown.
 */
export const privacyInventorySchema = z.object({
  env: z.string(),
  classes: z.array(z.object({ class: z.enum(PERSONAL_CLASSES), meaning: z.string() })),
  /** Where personal data is held: folders, stores, the ledger, exports, keys. */
  places: z.array(z.object({ place: z.string(), what: z.string(), personal: z.string(), purpose: z.string(), kept: z.string(), readableBy: z.string() })),
  /** The retention in force under the environment's configuration. */
  retention: z.array(z.object({ what: z.string(), rule: z.string() })),
  /** Tables and views by group, each with its personal columns per class (every other column is not personal). */
  tableGroups: z.array(
    z.object({
      title: z.string(),
      purpose: z.string(),
      tables: z.array(z.object({ name: z.string(), store: z.string(), columns: z.array(z.object({ class: z.enum(PERSONAL_CLASSES), names: z.array(z.string()) })) })),
    }),
  ),
  eventFields: z.array(fieldClassSchema),
  eventDocumentFields: z.array(fieldClassSchema),
});
export type PrivacyInventoryData = z.output<typeof privacyInventorySchema>;
