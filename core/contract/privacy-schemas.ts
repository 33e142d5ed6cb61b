/**
 * Shapes of the data-protection methods (erasure, audit log). Pure zod: the renderer imports them.
 */
import { z } from 'zod';

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
