/**
 * Run methods of the console: plan, start, cancel, active runs and run history.
 */
import type { ConsoleHandlers } from '../contract/methods.js';
import { notImplemented, runSummaryData, type HandlerContext } from './handler-context.js';

export type RunMethods = Pick<ConsoleHandlers, 'planRun' | 'startRun' | 'cancelRun' | 'listActiveRuns' | 'listRuns'>;

export function runMethods(ctx: HandlerContext): RunMethods {
  return {
    planRun: notImplemented('planRun'),
    startRun: notImplemented('startRun'),
    cancelRun: notImplemented('cancelRun'),
    listActiveRuns: notImplemented('listActiveRuns'),

    async listRuns({ env, offset, limit }) {
      await ctx.environment(env);
      if (!ctx.hasLedger(env)) return { total: 0, runs: [] };
      return ctx.withLedger(env, (l) => ({ total: l.countRuns(), runs: l.listRuns(limit, offset).map(runSummaryData) }));
    },
  };
}
