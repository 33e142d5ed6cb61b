/**
 * Data-protection methods of the console: the personal-data inventory, erasure of one learner and
 * the audit log.
 */
import type { ConsoleHandlers } from '../contract/methods.js';
import { forgetLearner } from '../privacy/forget.js';
import { privacyInventory } from '../privacy/inventory-doc.js';
import { configPath, environmentPaths } from '../config/config-store.js';
import { appendAuditEntry, PrivacyLedger, type AuditEntry } from '../privacy/privacy-ledger.js';
import { osActor } from '../ledger/actor.js';
import type { HandlerContext } from './handler-context.js';
import { auditSettingsEditedOutside, recordSettingsSeen } from '../privacy/config-audit.js';
import { acquireRunLock } from './run-lock.js';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';

/** Who acts through these handlers: the OS user for the CLI, the console (served by that user) otherwise. */
export function actorOf(ctx: HandlerContext): string {
  return ctx.origin === 'cli' ? osActor() : `console:${osActor().slice(3)}`;
}

export function privacyMethods(ctx: HandlerContext): Pick<ConsoleHandlers, 'getPrivacyInventory' | 'forgetLearner' | 'listAudit'> {
  return {
    // The same builder as `pds docs privacy`, so the screen and the document cannot drift.
    async getPrivacyInventory({ env }) {
      const { config } = await ctx.environment(env);
      return privacyInventory(env, config);
    },

    async forgetLearner({ env, user, dryRun }) {
      const { config, paths } = await ctx.environment(env);
      // Not while a run loads: the run could write the learner back between two deletions.
      if (!dryRun) await mkdir(paths.root, { recursive: true, mode: 0o700 });
      const release = dryRun ? async () => undefined : await acquireRunLock(join(paths.root, 'run.lock'), env);
      try {
        return await forgetLearner({ home: ctx.home, env, config, paths, user, dryRun, actor: actorOf(ctx) });
      } finally {
        await release();
      }
    },

    async listAudit({ env, limit }) {
      const { paths } = await ctx.environment(env);
      if (!ctx.hasLedger(env)) return [];
      return auditLog(paths.ledger, limit);
    },
  };
}

/** How a method's call is written to the audit log: its action and the details kept (never learner values or secrets). */
type AuditRule = { action: string; detail: (args: Record<string, unknown>, result: unknown) => Record<string, unknown> };

const count = (result: unknown, field: string): number | undefined => {
  const list = (result as Record<string, unknown> | undefined)?.[field];
  return Array.isArray(list) ? list.length : undefined;
};

/** The environment's audit log: what was recorded, and every run from the ledger's runs (CLI, console, scheduler), newest first. */
export function auditLog(ledgerPath: string, limit: number): AuditEntry[] {
  const ledger = PrivacyLedger.open(ledgerPath);
  try {
    return ledger.audit({ limit, withRuns: true });
  } finally {
    ledger.close();
  }
}

/** The methods that change configuration or keys, start or stop work, or return personal data. */
const AUDITED: Partial<Record<keyof ConsoleHandlers, AuditRule>> = {
  cancelRun: { action: 'run', detail: (a) => ({ method: 'cancelRun', runId: a.runId }) },
  createEnvironment: { action: 'config', detail: () => ({ method: 'createEnvironment' }) },
  updateEnvironment: { action: 'config', detail: () => ({ method: 'updateEnvironment' }) },
  deleteEnvironment: { action: 'config', detail: () => ({ method: 'deleteEnvironment' }) },
  setSecret: { action: 'config', detail: (a) => ({ method: 'setSecret', field: a.field }) },
  saveSchedule: { action: 'config', detail: () => ({ method: 'saveSchedule' }) },
  setScheduleEnabled: { action: 'config', detail: (a) => ({ method: 'setScheduleEnabled', schedule: a.name, enabled: a.enabled }) },
  importKey: { action: 'key', detail: (_a, r) => ({ method: 'importKey', fingerprints: Array.isArray(r) ? r.map((k: { fingerprint?: string }) => k.fingerprint) : [] }) },
  removeKey: { action: 'key', detail: (a) => ({ method: 'removeKey', fingerprint: a.fingerprint }) },
  queryLearner: { action: 'query', detail: () => ({ method: 'queryLearner' }) },
  queryRoster: { action: 'query', detail: (a, r) => ({ method: 'queryRoster', course: a.course, rows: count(r, 'rows') }) },
  queryProgram: { action: 'query', detail: (a, r) => ({ method: 'queryProgram', program: a.program, rows: count(r, 'rows') }) },
  getRejectedLines: { action: 'query', detail: (a, r) => ({ method: 'getRejectedLines', file: a.key, rows: count(r, 'lines') }) },
  exportLearners: { action: 'export', detail: (a, r) => ({ method: 'exportLearners', course: a.course, program: a.program, rows: count(r, 'rows') }) },
};

/**
 * Wraps the handlers so that every call of an audited method that succeeds is written to the
 * environment's audit log (who: the OS user, or the console). The learner a query names is not
 * recorded, only that a learner was looked up.
 */
export function withAudit(ctx: HandlerContext, handlers: ConsoleHandlers): ConsoleHandlers {
  const out: Record<string, unknown> = { ...handlers };
  for (const [name, rule] of Object.entries(AUDITED) as [keyof ConsoleHandlers, AuditRule][]) {
    const inner = handlers[name] as (args: Record<string, unknown>) => Promise<unknown>;
    out[name] = async (args: Record<string, unknown>) => {
      const env = typeof args.env === 'string' ? args.env : undefined;
      const check = env !== undefined && rule.action === 'config' && ctx.hasLedger(env) ? { ledgerPath: environmentPaths(ctx.home, env).ledger, configFile: configPath(ctx.home), env } : undefined;
      if (check) {
        try {
          // A hand edit made before this change is recorded as such, not taken for the console's.
          auditSettingsEditedOutside({ ...check, noticedBy: `console ${name}` });
        } catch {
          // The audit never stops the change; the next run compares again.
        }
      }
      const result = await inner(args);
      if (env !== undefined) {
        try {
          // An environment that never ran has no ledger yet: nothing is created just to log.
          if (ctx.hasLedger(env)) {
            const ledgerPath = environmentPaths(ctx.home, env).ledger;
            appendAuditEntry(ledgerPath, actorOf(ctx), rule.action, { env, ...rule.detail(args, result) });
            // A change pds made is recorded above: the next run does not report it as made outside pds.
            if (check && name !== 'deleteEnvironment') recordSettingsSeen(check);
          }
        } catch {
          // An environment just deleted has no folder to log into; the call itself succeeded.
        }
      }
      return result;
    };
  }
  return out as ConsoleHandlers;
}
