/**
 * Report methods of the console: a run's per-file outcomes (filtered, paged), one file's history,
 * its rejected lines, where an environment stands, and what has landed in its stores.
 */
import type { ConsoleHandlers, ResultOf } from '../contract/methods.js';
import { notImplemented, type HandlerContext } from './handler-context.js';
import { fileResultView } from './run-recorder.js';

export type ReportMethods = Pick<ConsoleHandlers, 'getReport' | 'getFileHistory' | 'getRejectedLines' | 'getStatus' | 'getDataSummary'>;

export function reportMethods(ctx: HandlerContext): ReportMethods {
  return {
    async getReport({ env, runId, filter, offset, limit }) {
      const report = await ctx.service.getReport(env, runId);
      const counts: Record<string, number> = {};
      for (const f of report.files) counts[f.status] = (counts[f.status] ?? 0) + 1;
      const files = report.files.filter(
        (f) =>
          (!filter.status?.length || filter.status.includes(f.status)) &&
          (!filter.kind?.length || filter.kind.includes(f.kind)) &&
          (!filter.code || f.code === filter.code) &&
          (!filter.course || (f.courseKey ?? '').toLowerCase().includes(filter.course.toLowerCase())),
      );
      return { run: report.run, total: files.length, counts, files: files.slice(offset, offset + limit).map(fileResultView) };
    },
    getFileHistory: notImplemented('getFileHistory'),
    getRejectedLines: notImplemented('getRejectedLines'),
    async getStatus({ env }) {
      return ctx.service.getStatus(env);
    },
    async getDataSummary({ env }): Promise<ResultOf<'getDataSummary'>> {
      const summary = await ctx.service.getDataSummary(env);
      return { ...summary, eventsPerDay: [] };
    },
  };
}
