/**
 * Report methods over the loaded data (`pds query …`, `pds export learners`, the console's Reports
 * screen): learner, roster, course activity, programs and the learning-analytics export. Each call
 * opens the environment's relational target read-only (`openReportQueries`) and closes it after.
 */
import type { ProgramConfig } from '../config/config-schema.js';
import { resolveSecret } from '../config/config-store.js';
import type { ConsoleHandlers } from '../contract/methods.js';
import { activityReport } from '../reports/activity-report.js';
import { learnerReport, rosterReport } from '../reports/enrolment-reports.js';
import { learnerExport } from '../reports/learner-export.js';
import { findProgram, programReport, programSummary } from '../reports/program-report.js';
import { openReportQueries } from '../stores/open-report-queries.js';
import type { ReportQueries } from '../stores/ports.js';
import type { HandlerContext } from './handler-context.js';

export type QueryMethods = Pick<ConsoleHandlers, 'listPrograms' | 'queryLearner' | 'queryRoster' | 'queryActivity' | 'queryProgram' | 'exportLearners'>;

export function queryMethods(ctx: HandlerContext): QueryMethods {
  /** Runs `fn` with read-only access to the environment's relational target. */
  async function withQueries<T>(env: string, fn: (q: ReportQueries, programs: ProgramConfig[]) => Promise<T>): Promise<T> {
    const { config, paths } = await ctx.environment(env);
    const q = await openReportQueries(env, config, paths, (ref, path) => resolveSecret(ref, ctx.home, path), ctx.home);
    try {
      return await fn(q, config.programs ?? []);
    } finally {
      await q.close();
    }
  }
  return {
    async listPrograms({ env }) {
      const { config } = await ctx.environment(env);
      return (config.programs ?? []).map(programSummary);
    },
    queryLearner: ({ env, learner }) => withQueries(env, (q) => learnerReport(q, learner)),
    queryRoster: ({ env, course, modes, statuses }) => withQueries(env, (q) => rosterReport(q, course, { modes, statuses })),
    queryActivity: ({ env, course, from, to, by }) => withQueries(env, (q) => activityReport(q, course, { from, to, by })),
    async queryProgram({ env, program, eligibleOnly }) {
      const { config } = await ctx.environment(env);
      const found = findProgram(config.programs ?? [], program, env);
      return withQueries(env, (q) => programReport(q, found, { eligibleOnly }));
    },
    async exportLearners({ env, course, program }) {
      const { config } = await ctx.environment(env);
      const scope = program !== undefined ? { program: findProgram(config.programs ?? [], program, env) } : { course: course! };
      return withQueries(env, (q) => learnerExport(q, scope));
    },
  };
}
