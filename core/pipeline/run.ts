/**
 * One run (docs/architecture.md §3): plan against the ledger, then fetch, decrypt, decode, parse and load
 * each planned object through the executor. Per-file failures never stop the run; only a failure
 * to list the source (or a bad configuration) does.
 */
import { recognizeFileName } from '../domain/file-names.js';
import { splitMemberKey } from '../domain/files.js';
import { isFlagged, totalsByStatus, type FileResult, type PlannedFile, type RunOptions, type RunResult, type RunStatus } from '../domain/results.js';
import { CancelledError, LoadError, PdsError, SourceError, serializeError } from '../errors/index.js';
import type { SourceObject } from '../sources/ports.js';
import type { PipelineContext } from './context.js';
import { runFile } from './run-file.js';
import { fileSelected, memberIsRetryable, targetIsDown } from '../domain/selection.js';
import { DEFAULT_RETENTION } from '../config/unattended-schema.js';
import { checkDiskSpace } from './disk-space.js';

export interface Plan {
  tasks: { object: SourceObject; planned: PlannedFile }[];
  upToDate: number;
}

/** The object to plan for a ledger key: a member's package, else the key itself. */
function objectKeyOf(key: string): string {
  return splitMemberKey(key)?.packageKey ?? key;
}

/**
 * Lists the source and keeps what is new, changed, retryable or unfinished. With `retryKeys`, the
 * plan holds exactly those files (a member's package, to open it), whatever their state.
 */
export async function planRun(ctx: Pick<PipelineContext, 'source' | 'ledger' | 'config' | 'signal'>, options: RunOptions): Promise<Plan> {
  const tasks: Plan['tasks'] = [];
  let upToDate = 0;
  const retry = options.retryKeys ? new Set(options.retryKeys.map(objectKeyOf)) : undefined;
  for await (const object of ctx.source.list(ctx.signal)) {
    const file = recognizeFileName(object.key);
    if (retry) {
      if (retry.has(object.key)) tasks.push({ object, planned: { key: object.key, location: object.location, kind: file.kind, size: object.size, why: 'retry' } });
      continue;
    }
    // Explicit files (`pds load`) are always considered; listings keep only edX files.
    if (file.kind === 'unknown' && !options.files) continue;
    if (!fileSelected(ctx.config, file, options)) continue;
    const known = ctx.ledger.getFile(object.key);
    let why: PlannedFile['why'] | undefined;
    if (!known || known.status === 'pending') why = 'new';
    else if (known.size !== object.size || (known.etag ?? undefined) !== object.etag) why = 'changed';
    else if (known.status === 'fetched') why = 'incomplete';
    else if (memberIsRetryable(known)) why = 'retry';
    else if (file.kind === 'weekly-package' || file.kind === 'email-opt-in-package') {
      if (ctx.ledger.membersOf(object.key).some((m) => memberIsRetryable(m))) why = 'retry';
    }
    if (why) tasks.push({ object, planned: { key: object.key, location: object.location, kind: file.kind, size: object.size, why } });
    else upToDate++;
  }
  // Weekly packages first (oldest first, so a newer snapshot is the one that stays), then logs by date.
  tasks.sort((a, b) => order(a.object) - order(b.object) || a.object.key.localeCompare(b.object.key));
  return { tasks, upToDate };
}

function order(object: SourceObject): number {
  const kind = recognizeFileName(object.key).kind;
  return kind === 'weekly-package' || kind === 'email-opt-in-package' ? 0 : kind === 'event-log' ? 2 : 1;
}

/** Counts files by status; a package's own summary counts only when the package itself failed. */
function totalsOf(files: FileResult[]): RunResult['totals'] {
  return totalsByStatus(files);
}

function statusOf(files: FileResult[]): RunStatus {
  return files.some(isFlagged) ? 'flagged' : 'succeeded';
}

/** Executes a whole run and records it. Throws only when the run could not run at all. */
export async function executeRun(ctx: PipelineContext, options: RunOptions, started?: { runId: string; startedAt: string }): Promise<RunResult> {
  // A caller that answers with the run id before planning (the console) has recorded the start already.
  const { runId, startedAt } = started ?? ctx.ledger.startRun(ctx.env, options);
  const files: FileResult[] = [];
  let plan: Plan = { tasks: [], upToDate: 0 };
  // The CLI exits anyway a few seconds after a signal when a server does not answer (README
  // "Stopping a run"); the run is still recorded: exit listeners run synchronously, as the ledger does.
  const onExit = (): void => {
    const cancelled = Boolean(ctx.signal?.aborted);
    const error = cancelled
      ? { code: 'CANCELLED', message: 'The run was cancelled while waiting on a server that did not answer; the file in hand was not committed, and the next run loads it.' }
      : { code: 'RUN_INTERRUPTED', message: 'The process ended before the run finished.' };
    try {
      ctx.ledger.finishRun(runId, cancelled ? 'cancelled' : 'failed', totalsOf(files), error);
    } catch {
      // The ledger is closed or busy: the next run marks this one interrupted.
    }
  };
  process.once('exit', onExit);
  try {
    plan = await planRun(ctx, options);
    ctx.onProgress({
      type: 'run-started',
      runId,
      env: ctx.env,
      planned: plan.tasks.length,
      upToDate: plan.upToDate,
      bytes: plan.tasks.reduce((n, t) => n + t.object.size, 0),
      files: plan.tasks.map((t) => t.planned),
    });
    const members = options.retryKeys?.filter((k) => splitMemberKey(k) !== undefined);
    if (!options.dryRun) {
      // Room to download, decrypt and unpack what is planned (files read in place need none).
      const toFetch = plan.tasks.filter((t) => !ctx.source.pathOf?.(t.object)).reduce((n, t) => n + t.object.size, 0);
      await checkDiskSpace(ctx.paths.landing, toFetch, ctx.config.retention?.diskFactor ?? DEFAULT_RETENTION.diskFactor);
      for (const [index, task] of plan.tasks.entries()) {
        if (ctx.signal?.aborted) throw new CancelledError();
        const only = members?.filter((k) => objectKeyOf(k) === task.object.key);
        const results = await runFile(ctx, runId, task.object, { snapshotDate: options.snapshotDate, members: only?.length ? new Set(only) : undefined });
        files.push(...results);
        const down = results.find((r) => targetIsDown(r.code));
        if (down) {
          const left = plan.tasks.length - index - 1;
          throw new LoadError(
            `The database stopped answering while loading ${down.key}; the run stopped${left > 0 ? ` with ${left} file(s) not yet tried` : ''}. Nothing half-loaded is visible.`,
            { code: 'TARGET_UNAVAILABLE', file: down.key, retryable: true, hint: 'Run again once the database is back: files not loaded are taken then.' },
          );
        }
        // A source that stopped answering would make every later file wait out the same time-outs.
        const silent = results.find((r) => r.code === 'SOURCE_NOT_ANSWERING');
        if (silent) {
          const left = plan.tasks.length - index - 1;
          throw new SourceError(`${silent.reason ?? `The source stopped answering while fetching ${silent.key}.`} The run stopped${left > 0 ? ` with ${left} file(s) not yet tried` : ''}.`, {
            code: 'SOURCE_NOT_ANSWERING',
            file: silent.key,
            retryable: true,
            hint: silent.hint,
          });
        }
      }
    }
    const totals = totalsOf(files);
    const status = statusOf(files);
    const finishedAt = ctx.ledger.finishRun(runId, status, totals);
    const result: RunResult = { runId, env: ctx.env, status, startedAt, finishedAt, options, upToDate: plan.upToDate, planned: plan.tasks.map((t) => t.planned), files, totals };
    ctx.onProgress({ type: 'run-finished', result });
    return result;
  } catch (error) {
    const e = serializeError(error);
    const status: RunStatus = error instanceof CancelledError ? 'cancelled' : 'failed';
    const totals = totalsOf(files);
    const finishedAt = ctx.ledger.finishRun(runId, status, totals, { code: e.code, message: e.message, hint: e.hint });
    const result: RunResult = {
      runId,
      env: ctx.env,
      status,
      startedAt,
      finishedAt,
      options,
      upToDate: plan.upToDate,
      planned: plan.tasks.map((t) => t.planned),
      files,
      totals,
      error: { code: e.code, message: e.message, hint: e.hint },
    };
    ctx.onProgress({ type: 'run-finished', result });
    if (!(error instanceof PdsError)) throw error;
    return result;
  } finally {
    process.off('exit', onExit);
  }
}
