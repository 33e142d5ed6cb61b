/**
 * The one executor: fetches a planned object, dispatches its content to the loader of
 * its kind, times it, turns errors into FileResults and records every outcome in the ledger only
 * after the store committed. Weekly packages are opened here; each member is its own ledger entry.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import { recognizeFileName } from '../domain/file-names.js';
import { memberKey, type RecognizedFile } from '../domain/files.js';
import type { FileResult, FileStatus } from '../domain/results.js';
import { CancelledError, PdsError, serializeError } from '../errors/index.js';
import { listZipMembers, openZipMember } from '../formats/weekly-zip.js';
import type { SourceObject } from '../sources/ports.js';
import type { PipelineContext } from './context.js';
import {
  asLoadError,
  checkOlxExport,
  loadCourseStructure,
  loadEmailOptIn,
  loadEventLog,
  loadForum,
  loadWeeklyTable,
  type ContentInput,
  type ContentOutcome,
} from './load-content.js';
import { courseSelected, memberIsRetryable, targetIsDown } from '../domain/selection.js';

/** Where an object's landing copy lives. */
export function landingPath(ctx: PipelineContext, object: SourceObject): string {
  return join(ctx.paths.landing, object.location, object.key);
}

/**
 * Date to use as the snapshot date of single weekly files loaded by hand: the one given, else the
 * date in the name, else that of an unzipped package folder `{org}-{date}/` holding the file,
 * else today.
 */
function snapshotDateFor(path: string, file: RecognizedFile, explicit?: string): string {
  if (explicit) return explicit;
  if (file.date) return file.date;
  const folder = /(?:^|[/\\])[^/\\]+-(\d{4}-\d{2}-\d{2})[/\\](?:ora[/\\])?[^/\\]+$/.exec(path);
  if (folder) return folder[1]!;
  return new Date().toISOString().slice(0, 10);
}

function failure(key: string, file: RecognizedFile, error: unknown, started: number, bytes: number, parentKey?: string): FileResult {
  const e = serializeError(error);
  return {
    key,
    parentKey,
    kind: file.kind,
    status: 'failed',
    stage: e.stage,
    code: e.code,
    reason: e.message,
    hint: e.hint,
    courseKey: file.courseKey,
    table: file.table,
    counts: { bytes, read: 0, loaded: 0, rejected: 0, duplicates: 0 },
    warnings: [],
    durationMs: Date.now() - started,
  };
}

/**
 * Lines unaccounted for: every line read is loaded, rejected (and quarantined) or already present.
 * 0 when the counts add up, or when the file deliberately changed nothing (a newer snapshot is in place).
 */
export function unaccountedLines(counts: { read: number; loaded: number; rejected: number; duplicates: number }, stale = false): number {
  if (stale) return 0;
  return counts.read - counts.loaded - counts.rejected - counts.duplicates;
}

/** Status, code and reason of a content that was read to the end, from its counts. */
export function verdict(file: RecognizedFile, out: ContentOutcome): Pick<FileResult, 'status' | 'stage' | 'code' | 'reason' | 'hint'> {
  const { read, loaded, rejected, duplicates } = out.counts;
  const hint = rejected > 0 && out.quarantine ? `The rejected lines are kept verbatim in ${out.quarantine}.` : undefined;
  if (out.noLineLoaded) {
    const kept = out.table && out.courseKey ? ` The previous snapshot of ${out.table} for ${out.courseKey} is kept.` : '';
    return {
      status: 'failed',
      stage: 'parse',
      code: 'NO_LINE_READABLE',
      reason: `No line of ${file.name} loaded: all ${read} lines were rejected (see the line numbers).${kept}`,
      hint,
    };
  }
  const missing = unaccountedLines(out.counts, out.stale);
  if (missing !== 0) {
    // Silent loss made visible: what was committed stays, but the file needs attention.
    const gap = missing > 0 ? `${missing} line(s) are unaccounted for` : `${-missing} more row(s) were counted than lines read`;
    return {
      status: 'partial',
      stage: 'load',
      code: 'COUNTS_DO_NOT_ADD_UP',
      reason: `${file.name}: of ${read} lines read, ${loaded} were loaded, ${rejected} rejected and ${duplicates} already present, so ${gap}.`,
      hint: 'Report it to the pds maintainers with the file name; the next run does not retry the file until it changes.',
    };
  }
  if (rejected === 0) return { status: 'loaded' };
  const others = `the other ${read - rejected} ${duplicates > 0 ? 'were loaded or already present' : 'were loaded'}`;
  return {
    status: 'partial',
    code: 'LINES_REJECTED',
    reason: `${rejected} of ${read} lines of ${file.name} could not be loaded (see the line numbers); ${others}.`,
    hint,
  };
}

function fromOutcome(key: string, file: RecognizedFile, out: ContentOutcome, started: number, bytes: number, parentKey?: string): FileResult {
  return {
    key,
    parentKey,
    kind: file.kind,
    ...verdict(file, out),
    courseKey: out.courseKey ?? file.courseKey,
    table: out.table ?? file.table,
    snapshotDate: out.snapshotDate,
    counts: { bytes, ...out.counts },
    warnings: out.warnings,
    rejectedLines: out.rejected.map((r) => ({ line: r.line, code: r.code, reason: r.reason })),
    quarantine: out.quarantine,
    durationMs: Date.now() - started,
  };
}

function skipped(key: string, file: RecognizedFile, reason: string, code: string, bytes: number, parentKey?: string): FileResult {
  return {
    key,
    parentKey,
    kind: file.kind,
    status: 'skipped',
    code,
    reason,
    courseKey: file.courseKey,
    table: file.table,
    counts: { bytes, read: 0, loaded: 0, rejected: 0, duplicates: 0 },
    warnings: [],
    durationMs: 0,
  };
}

/** Loads one content stream according to its kind. */
async function loadContent(ctx: PipelineContext, input: ContentInput): Promise<ContentOutcome | { skip: string; code: string }> {
  switch (input.file.kind) {
    case 'weekly-table':
      return loadWeeklyTable(ctx, input);
    case 'event-log':
      return loadEventLog(ctx, input);
    case 'forum':
      return loadForum(ctx, input);
    case 'course-structure':
      return loadCourseStructure(ctx, input);
    case 'email-opt-in':
      return loadEmailOptIn(ctx, input);
    case 'olx':
      // Checked before being called kept: a file that is not a tar.gz fails (NOT_TAR_GZ).
      await checkOlxExport(ctx, input);
      return { skip: 'OLX course exports are kept in the landing folder (encrypted), not loaded into tables.', code: 'OLX_KEPT' };
    case 'export-failed': {
      input.stream.destroy();
      const what = input.file.failedOf?.table ?? input.file.failedOf?.kind ?? 'a file';
      throw new PdsError(
        `edX could not export ${what}${input.file.courseKey ? ` for ${input.file.courseKey}` : ''} this week: the package holds ${input.file.name} instead of the data. The previous snapshot is kept.`,
        { code: 'EDX_EXPORT_FAILED', stage: 'parse', file: input.key, hint: 'If it persists for several weeks, report it to edX with the file name.' },
      );
    }
    default:
      input.stream.destroy();
      throw new PdsError(`${input.file.name} is not named like an edX file, so pds cannot tell what it holds.`, {
        code: 'UNRECOGNISED_FILE',
        stage: 'plan',
        file: input.key,
        hint:
          'Keep the name edX gave it: {org}-{date}.zip, {course}-{table}-{env}.sql[.gpg], {course}-{prod|edge}.mongo, ' +
          '{course}-course_structure-{env}.json, {org}-{site}-events-{date}.log[.gz][.gpg].',
      });
  }
}

/** Runs one content through loadContent and builds its FileResult. Never throws (but for cancel). */
async function runContent(ctx: PipelineContext, input: ContentInput, bytes: number, parentKey?: string): Promise<FileResult> {
  const started = Date.now();
  // Cancelling (Ctrl-C, SIGTERM) stops the file being read at once; its load is then aborted,
  // so the store keeps its previous state and the next run loads the file again.
  if (ctx.signal) addAbortSignal(ctx.signal, input.stream);
  try {
    const out = await loadContent(ctx, input);
    if ('skip' in out) return skipped(input.key, input.file, out.skip, out.code, bytes, parentKey);
    return fromOutcome(input.key, input.file, out, started, bytes, parentKey);
  } catch (error) {
    input.stream.destroy();
    if (ctx.signal?.aborted) throw new CancelledError();
    return failure(input.key, input.file, asLoadError(error, input.key), started, bytes, parentKey);
  }
}

/**
 * Processes one planned object end to end and returns the results to report (one per file, plus
 * one per package member). Ledger entries are written as each unit commits.
 */
export async function runFile(
  ctx: PipelineContext,
  runId: string,
  object: SourceObject,
  options: { snapshotDate?: string; /** Of a package: exactly these members (a retry), whatever their state. */ members?: Set<string> },
): Promise<FileResult[]> {
  const file = recognizeFileName(object.key);
  ctx.onProgress({ type: 'file-started', key: object.key, kind: file.kind, size: object.size });
  const started = Date.now();

  // Fetch: to the landing folder (or read in place for local files).
  let path = ctx.source.pathOf?.(object);
  if (!path) {
    path = landingPath(ctx, object);
    const known = ctx.ledger.getFile(object.key);
    const have = await stat(path).catch(() => undefined);
    const reuse = known && known.landing === path && known.etag === (object.etag ?? null) && have?.size === object.size;
    if (!reuse) {
      try {
        await ctx.source.download(object, path, {
          signal: ctx.signal,
          onProgress: (bytes) => ctx.onProgress({ type: 'file-progress', key: object.key, stage: 'fetch', bytes }),
        });
      } catch (error) {
        if (ctx.signal?.aborted) throw new CancelledError();
        const result = failure(object.key, file, error, started, object.size);
        ctx.ledger.recordResult(runId, result, { location: object.location, size: object.size, etag: object.etag });
        ctx.onProgress({ type: 'file-finished', result });
        return [result];
      }
      ctx.ledger.recordFetched(runId, { key: object.key, location: object.location, kind: file.kind, size: object.size, etag: object.etag, landing: path });
    }
  }

  const meta = { location: object.location, size: object.size, etag: object.etag, landing: path };
  if (file.kind === 'weekly-package' || file.kind === 'email-opt-in-package') {
    return runPackage(ctx, runId, object, file, path, meta, started, options.members);
  }
  const result = await runContent(
    ctx,
    { key: object.key, file, stream: createReadStream(path, { highWaterMark: 1 << 20 }), snapshotDate: snapshotDateFor(path, file, options.snapshotDate) },
    object.size,
  );
  ctx.ledger.recordResult(runId, result, meta);
  ctx.onProgress({ type: 'file-finished', result });
  return [result];
}

async function runPackage(
  ctx: PipelineContext,
  runId: string,
  object: SourceObject,
  file: RecognizedFile,
  path: string,
  meta: { location: string; size: number; etag?: string; landing: string },
  started: number,
  only?: Set<string>,
): Promise<FileResult[]> {
  const results: FileResult[] = [];
  let members;
  try {
    members = await listZipMembers(path);
  } catch (error) {
    const result = failure(object.key, file, error, started, object.size);
    ctx.ledger.recordResult(runId, result, meta);
    ctx.onProgress({ type: 'file-finished', result });
    return [result];
  }
  const counts: Record<FileStatus, number> = { loaded: 0, partial: 0, failed: 0, skipped: 0 };
  for (const member of members) {
    if (member.name.endsWith('/')) continue;
    if (ctx.signal?.aborted) throw new CancelledError();
    const key = memberKey(object.key, member.name);
    const etag = `${object.etag ?? object.size}:${member.crc32.toString(16)}`;
    const mfile = recognizeFileName(member.name);
    const known = ctx.ledger.getFile(key);
    if (only) {
      if (!only.has(key)) continue;
    } else if (known && known.etag === etag && !memberIsRetryable(known)) continue;
    if (mfile.courseKey && !courseSelected(ctx.config, mfile, ctx.courses)) continue;
    ctx.onProgress({ type: 'file-started', key, kind: mfile.kind, size: member.compressedSize });
    let stream: Readable;
    try {
      stream = await openZipMember(path, member.name);
    } catch (error) {
      const result = failure(key, mfile, error, Date.now(), member.compressedSize, object.key);
      ctx.ledger.recordResult(runId, result, { location: object.location, size: member.size, etag });
      results.push(result);
      counts.failed++;
      ctx.onProgress({ type: 'file-finished', result });
      continue;
    }
    const result = await runContent(
      ctx,
      {
        key,
        file: mfile,
        stream,
        snapshotDate: file.date,
        courseKey: mfile.kind === 'email-opt-in' ? (mfile.org ?? file.org) : undefined,
      },
      member.compressedSize,
      object.key,
    );
    ctx.ledger.recordResult(runId, result, { location: object.location, size: member.size, etag });
    results.push(result);
    counts[result.status]++;
    ctx.onProgress({ type: 'file-finished', result });
    if (targetIsDown(result.code)) {
      // The run stops (run.ts); the package stays unfinished so the next run takes the rest.
      const stopped = failure(object.key, file, new PdsError(`Loading ${object.key} stopped: the database became unreachable.`, { code: 'TARGET_UNAVAILABLE', stage: 'load', retryable: true }), started, object.size);
      ctx.ledger.recordResult(runId, stopped, meta);
      results.push(stopped);
      return results;
    }
  }
  const summary: FileResult = {
    key: object.key,
    kind: file.kind,
    status: 'loaded',
    reason: `Package of ${members.filter((m) => !m.name.endsWith('/')).length} files: ${counts.loaded} loaded, ${counts.partial} with rejected lines, ${counts.failed} failed, ${counts.skipped} skipped in this run.`,
    snapshotDate: file.date,
    counts: { bytes: object.size, read: 0, loaded: 0, rejected: 0, duplicates: 0 },
    warnings: [],
    durationMs: Date.now() - started,
  };
  ctx.ledger.recordResult(runId, summary, meta);
  ctx.onProgress({ type: 'file-finished', result: summary });
  results.push(summary);
  return results;
}

