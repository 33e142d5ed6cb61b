/**
 * Data-protection methods of the console: erasure of one learner and the audit log.
 */
import type { ConsoleHandlers } from '../contract/methods.js';
import { forgetLearner } from '../privacy/forget.js';
import { PrivacyLedger, osActor } from '../privacy/privacy-ledger.js';
import type { HandlerContext } from './handler-context.js';

/** Who acts through these handlers: the OS user for the CLI, the console (served by that user) otherwise. */
export function actorOf(ctx: HandlerContext): string {
  return ctx.origin === 'cli' ? osActor() : `console:${osActor().slice(3)}`;
}

export function privacyMethods(ctx: HandlerContext): Pick<ConsoleHandlers, 'forgetLearner' | 'listAudit'> {
  return {
    async forgetLearner({ env, user, dryRun }) {
      const { config, paths } = await ctx.environment(env);
      const result = await forgetLearner({ home: ctx.home, env, config, paths, user, dryRun, actor: actorOf(ctx) });
      return result;
    },

    async listAudit({ env, limit }) {
      const { paths } = await ctx.environment(env);
      if (!ctx.hasLedger(env)) return [];
      const ledger = PrivacyLedger.open(paths.ledger);
      try {
        return ledger.audit({ limit });
      } finally {
        ledger.close();
      }
    },
  };
}
