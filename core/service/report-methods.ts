/**
 * Report methods of the console: a run's per-file outcomes (filtered, sorted, paged) and its notices,
 * one file's history, its rejected lines, where an environment stands, and what has landed in its
 * stores.
 */
import { existsSync } from 'node:fs';
import type { ConsoleHandlers } from '../contract/methods.js';
import { totalsByStatus, type FileResult } from '../domain/results.js';
import { ConfigError, PdsError } from '../errors/index.js';
import { readQuarantinePage } from '../pipeline/quarantine-reader.js';
import { environmentDecryptor } from '../privacy/environment-keys.js';
import type { HandlerContext } from './handler-context.js';
import { fileResultView, runSummaryData } from './run-recorder.js';

export type ReportMethods = Pick<ConsoleHandlers, 'getReport' | 'getFileHistory' | 'getRejectedLines' | 'getStatus' | 'getDataSummary'>;

type ReportFilter = Parameters<ConsoleHandlers['getReport']>[0]['filter'];

/** True when a file result passes the report's filter (course: part of the course key, any case). */
export function matchesFilter(f: FileResult, filter: ReportFilter): boolean {
  return (
    (!filter.status?.length || filter.status.includes(f.status)) &&
    (!filter.kind?.length || filter.kind.includes(f.kind)) &&
    (!filter.code || f.code === filter.code) &&
    (!filter.course || (f.courseKey ?? '').toLowerCase().includes(filter.course.toLowerCase()))
  );
}

type ReportSort = NonNullable<Parameters<ConsoleHandlers['getReport']>[0]['sort']>;

const SORT_VALUE: Record<ReportSort['by'], (f: FileResult) => string | number | undefined> = {
  status: (f) => f.status,
  key: (f) => f.key,
  kind: (f) => f.kind,
  course: (f) => f.courseKey,
  table: (f) => f.table,
  read: (f) => f.counts.read,
  loaded: (f) => f.counts.loaded,
  rejected: (f) => f.counts.rejected,
  duplicates: (f) => f.counts.duplicates,
  code: (f) => f.code,
  durationMs: (f) => f.durationMs,
};

const collator = new Intl.Collator('en', { numeric: true });

/**
 * The files sorted by one column, stable (ties keep the ledger's order); a file without a value
 * (no course, no code) comes last either way.
 */
export function sortFiles(files: readonly FileResult[], sort: ReportSort | undefined): FileResult[] {
  if (!sort) return [...files];
  const value = SORT_VALUE[sort.by];
  const dir = sort.dir === 'desc' ? -1 : 1;
  return [...files].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    if (x === undefined || y === undefined) return x === y ? 0 : x === undefined ? 1 : -1;
    return dir * (typeof x === 'number' && typeof y === 'number' ? x - y : collator.compare(String(x), String(y)));
  });
}

function noFile(env: string, key: string): ConfigError {
  return new ConfigError(`No run of environment ${env} reported the file ${key}.`, { code: 'NO_SUCH_FILE', hint: 'Pick the file from a run report.' });
}

export function reportMethods(ctx: HandlerContext): ReportMethods {
  return {
    async getReport({ env, runId, filter, sort, offset, limit }) {
      await ctx.environment(env);
      const found = ctx.hasLedger(env)
        ? ctx.withLedger(env, (l) => {
            const id = runId ?? l.latestRunId();
            const run = id ? l.getRun(id) : undefined;
            return run ? { run, files: l.runFiles(run.runId), notices: l.runNotices(run.runId) } : undefined;
          })
        : undefined;
      if (!found) {
        throw new ConfigError(runId ? `Environment ${env} has no run ${runId}.` : `Environment ${env} has no runs yet.`, {
          code: 'NO_SUCH_RUN',
          hint: runId ? 'Pick a run from the environment’s run history.' : 'Start a run to see its report.',
        });
      }
      // Totals per status over the whole run, counted as the run's totals are (a package's summary
      // row only when the package failed: its members are the files); the page is of the filtered
      // files, every row, sorted before paging.
      const counts = Object.fromEntries(Object.entries(totalsByStatus(found.files)).filter(([, n]) => n > 0));
      const files = sortFiles(
        found.files.filter((f) => matchesFilter(f, filter)),
        sort,
      );
      // The run's notices (retention, data protection, a cancel) on every page: few, and said once per run.
      return { run: runSummaryData(found.run), total: files.length, counts, files: files.slice(offset, offset + limit).map(fileResultView), notices: found.notices };
    },

    async getFileHistory({ env, key }) {
      await ctx.environment(env);
      const entries = ctx.hasLedger(env) ? ctx.withLedger(env, (l) => l.fileHistory(key)) : [];
      if (entries.length === 0) throw noFile(env, key);
      return { key, entries: entries.map((e) => ({ runId: e.runId, startedAt: e.startedAt, result: fileResultView(e.result) })) };
    },

    async getRejectedLines({ env, key, offset, limit }) {
      const { config, paths } = await ctx.environment(env);
      const latest = ctx.hasLedger(env) ? ctx.withLedger(env, (l) => l.fileHistory(key)[0]) : undefined;
      if (!latest) throw noFile(env, key);
      const path = latest.result.quarantine;
      if (!path || latest.result.counts.rejected === 0) return { total: 0, lines: [] };
      if (!existsSync(path)) {
        throw new PdsError(`The quarantine file of ${key} is gone: ${path} no longer exists, so its rejected lines cannot be shown.`, {
          code: 'QUARANTINE_MISSING',
          stage: 'record',
          file: key,
          hint: 'The line numbers and reasons are still in the run report; the next load of this file writes a new quarantine file.',
        });
      }
      return readQuarantinePage(path, { offset, limit }, latest.result.rejectedLines, () => environmentDecryptor(ctx.home, env, config, paths));
    },

    async getStatus({ env }) {
      const status = await ctx.service.getStatus(env);
      if (!status.lastRun || !ctx.hasLedger(env)) return { ...status, lastRun: null };
      const last = ctx.withLedger(env, (l) => l.getRun(status.lastRun!.runId));
      return { ...status, lastRun: last ? runSummaryData(last) : null };
    },

    async getDataSummary({ env, days }) {
      return ctx.service.getDataSummary(env, days);
    },
  };
}
