/**
 * The console's handlers (`ConsoleHandlers` of core/contract/methods.ts): what `pds serve` and the
 * desktop app's worker call with validated named arguments. Composed from method groups, one file
 * each (runs, reports, environments, keys, connections), over one shared context. The desktop
 * app's engine host also runs the environments' schedules through them (`runSchedules`).
 */
import { resolveHome } from '../config/config-store.js';
import type { ConsoleHandlers, RunEvent, RunEventSource } from '../contract/methods.js';
import { scheduleLoads } from '../schedule/run-scheduler.js';
import { createConsoleService } from './console-service.js';
import { createHandlerContext, type HandlerContext } from './handler-context.js';
import { connectionMethods } from './connection-methods.js';
import { environmentMethods } from './environment-methods.js';
import { keyMethods } from './key-methods.js';
import { queryMethods } from './query-methods.js';
import { reportMethods } from './report-methods.js';
import { runMethods } from './run-methods.js';
import { scheduleMethods } from './schedule-methods.js';
import { privacyMethods, withAudit } from './privacy-methods.js';

export interface ConsoleHandlersOptions {
  /** The home folder; default `$PDS_HOME` or `~/.pds`. */
  home?: string;
  /** Who starts runs through these handlers, shown with each run (default `console`). */
  origin?: string;
}

export type ConsoleEngine = ConsoleHandlers &
  RunEventSource & {
    /**
     * Runs the environments' schedules until `signal` aborts (the desktop app's engine host; not a
     * contract method): the scheduler of `pds schedule run` (core/schedule/run-scheduler.ts), its
     * loads started here (the run lock, origin `scheduler`, their events published like a started
     * run's, cancelled by `close`).
     */
    runSchedules(options: { signal: AbortSignal; yieldToOthers?: boolean }): Promise<void>;
    close(): Promise<void>;
  };

/** Methods the engine's service answers as they are. */
function serviceMethods(ctx: HandlerContext): Pick<ConsoleHandlers, 'listEnvironments'> {
  return {
    listEnvironments: async () => ctx.service.listEnvironments(),
  };
}

export function createConsoleHandlers(options: ConsoleHandlersOptions = {}): ConsoleEngine {
  const home = resolveHome(options.home);
  const ctx = createHandlerContext(home, options.origin ?? 'console', createConsoleService({ home }));
  // Every method comes from one group: the type checker refuses a method left out.
  // Calls that change settings or keys, start work or return personal data are written to the audit log.
  const handlers: ConsoleHandlers = withAudit(ctx, {
    ...serviceMethods(ctx),
    ...runMethods(ctx),
    ...reportMethods(ctx),
    ...environmentMethods(ctx),
    ...keyMethods(ctx),
    ...connectionMethods(ctx),
    ...scheduleMethods(ctx),
    ...queryMethods(ctx),
    ...privacyMethods(ctx),
  });
  let closed = false;
  return {
    ...handlers,
    subscribe(onEvent: (event: RunEvent) => void, subscribeOptions?: { afterSeq?: number }) {
      return ctx.hub.subscribe(onEvent, subscribeOptions);
    },
    runSchedules({ signal, yieldToOthers }) {
      return scheduleLoads({
        home,
        signal,
        yieldToOthers,
        begin: async (env, runOptions, origin) => {
          const started = await ctx.service.begin(env, runOptions, { origin, onEvent: (event) => ctx.hub.publishLocal(event) });
          ctx.hub.addLocal(started.runId, started.controller, started.done.catch(() => undefined));
          // A slot that fired as the engine closed: cancelled like the runs `close` found.
          if (closed) started.controller.abort();
          return { runId: started.runId, done: started.done };
        },
      });
    },
    async close() {
      closed = true;
      await ctx.hub.close();
    },
  };
}
