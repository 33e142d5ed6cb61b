/**
 * Run methods of the console: plan, start, cancel, active runs and run history. A run started
 * here runs in this process, off the request's path; its events reach the hub directly.
 */
import type { ConsoleHandlers, ParsedArgsOf } from '../contract/methods.js';
import type { RunOptions } from '../domain/results.js';
import { ConfigError } from '../errors/index.js';
import type { HandlerContext } from './handler-context.js';
import { runSummaryData } from './run-recorder.js';

export type RunMethods = Pick<ConsoleHandlers, 'planRun' | 'startRun' | 'cancelRun' | 'listActiveRuns' | 'listRuns'>;

/**
 * The engine's run options for the console's: a retry by `code` becomes the files flagged with it
 * now (a package member by its `pkg.zip!member` key), a retry by `keys` exactly those files.
 */
export async function resolveRunOptions(ctx: HandlerContext, env: string, options: ParsedArgsOf<'startRun'>['options']): Promise<RunOptions> {
  await ctx.environment(env);
  const out: RunOptions = {
    ...(options.only ? { only: options.only } : {}),
    ...(options.from ? { from: options.from } : {}),
    ...(options.to ? { to: options.to } : {}),
    ...(options.dryRun ? { dryRun: true } : {}),
  };
  const retry = options.retry;
  if (!retry) return out;
  let keys = retry.keys ?? [];
  if (retry.code) {
    const code = retry.code;
    const flagged = ctx.hasLedger(env) ? ctx.withLedger(env, (l) => l.flaggedFiles().filter((f) => f.code === code).map((f) => f.key)) : [];
    keys = [...new Set([...keys, ...flagged])];
    if (keys.length === 0) {
      throw new ConfigError(`No file of environment ${env} is flagged with ${code} now, so there is nothing to retry.`, {
        code: 'NOTHING_TO_RETRY',
        hint: 'Open the environment’s status to see which files need attention.',
      });
    }
  }
  if (keys.length === 0) {
    throw new ConfigError('A retry names no file: give the files to retry, or the code they are flagged with.', { code: 'NOTHING_TO_RETRY' });
  }
  return { ...out, retryKeys: keys, ...(retry.code ? { retryCode: retry.code } : {}) };
}

export function runMethods(ctx: HandlerContext): RunMethods {
  return {
    async planRun({ env, options }) {
      return ctx.service.plan(env, await resolveRunOptions(ctx, env, options));
    },

    async startRun({ env, options }) {
      const runOptions = await resolveRunOptions(ctx, env, options);
      const started = await ctx.service.begin(env, runOptions, { origin: ctx.origin, onEvent: (event) => ctx.hub.publishLocal(event) });
      // The outcome arrives as run events (run-finished); a run that could not run is recorded too.
      const done = started.done.catch(() => undefined);
      ctx.hub.addLocal(started.runId, started.controller, done);
      return { runId: started.runId };
    },

    async cancelRun({ env, runId }) {
      await ctx.environment(env);
      const controller = ctx.hub.localController(runId);
      if (controller && !controller.signal.aborted) {
        controller.abort();
        return { cancelling: true };
      }
      if (!ctx.hasLedger(env)) throw noSuchRun(env, runId);
      return ctx.withLedger(env, (l) => {
        const run = l.getRun(runId);
        if (!run) throw noSuchRun(env, runId);
        // Another process runs it: it sees the request within about a second.
        return { cancelling: run.status === 'running' && l.requestCancel(runId) };
      });
    },

    async listActiveRuns() {
      return ctx.hub.activeRuns();
    },

    async listRuns({ env, offset, limit }) {
      await ctx.environment(env);
      if (!ctx.hasLedger(env)) return { total: 0, runs: [] };
      return ctx.withLedger(env, (l) => ({ total: l.countRuns(), runs: l.listRuns(limit, offset).map(runSummaryData) }));
    },
  };
}

function noSuchRun(env: string, runId: string): ConfigError {
  return new ConfigError(`Environment ${env} has no run ${runId}.`, { code: 'NO_SUCH_RUN', hint: 'Pick a run from the environment’s run history.' });
}
