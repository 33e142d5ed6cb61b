/**
 * Per-file and per-run outcomes (docs/architecture.md §4: outcomes are data, not exceptions). Pure types.
 */
import type { FileKind } from './files.js';

export const FILE_STATUSES = [
  /** Every line loaded (or the file needed no loading). */
  'loaded',
  /** Loaded, but some lines were rejected and quarantined. */
  'partial',
  /** Nothing of this file was loaded; the previous data stays. */
  'failed',
  /** Deliberately not loaded (kept in the landing folder, or filtered out), with a reason. */
  'skipped',
] as const;
export type FileStatus = (typeof FILE_STATUSES)[number];

/** File statuses that need attention: nothing loaded (`failed`) or lines rejected (`partial`). */
export const FLAGGED_STATUSES = ['failed', 'partial'] as const satisfies readonly FileStatus[];

/** True when a file needs attention: it failed, or some of its lines were rejected. */
export function isFlagged(file: { status: string }): boolean {
  return (FLAGGED_STATUSES as readonly string[]).includes(file.status);
}

/**
 * True when a file result counts in a run's totals per status. A package's own row is a summary of
 * its members, which count each as a file: it counts only when the package itself failed (then no
 * member ran). The run totals the ledger keeps and a report's counts both follow this rule.
 */
export function countsInTotals(file: { kind: string; status: string }): boolean {
  const isPackage = file.kind === 'weekly-package' || file.kind === 'email-opt-in-package';
  return !isPackage || file.status === 'failed';
}

/** Files per status (every status, 0 included), by the rule of `countsInTotals`. */
export function totalsByStatus(files: readonly { kind: string; status: FileStatus }[]): Record<FileStatus, number> {
  const totals = Object.fromEntries(FILE_STATUSES.map((s) => [s, 0])) as Record<FileStatus, number>;
  for (const f of files) if (countsInTotals(f)) totals[f.status]++;
  return totals;
}

export const RUN_STATUSES = ['running', 'succeeded', 'flagged', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface FileWarning {
  code: string;
  message: string;
}

export interface FileCounts {
  /** Bytes of the source object (encrypted). */
  bytes: number;
  /** Data lines or rows read (excluding headers). */
  read: number;
  /** Rows or events now in the store from this file. */
  loaded: number;
  /** Lines rejected and quarantined. */
  rejected: number;
  /** Events already present (re-loads, duplicate lines). */
  duplicates: number;
}

export interface FileResult {
  key: string;
  /** The package for zip members. */
  parentKey?: string;
  kind: FileKind;
  status: FileStatus;
  /** Stage that failed, for `failed`. */
  stage?: string;
  code?: string;
  /** Plain-language reason naming the file and what to do. */
  reason?: string;
  hint?: string;
  courseKey?: string;
  table?: string;
  snapshotDate?: string;
  counts: FileCounts;
  warnings: FileWarning[];
  /** Line numbers of the first rejected lines (all are in the quarantine file). */
  rejectedLines?: { line: number; code: string; reason: string }[];
  quarantine?: string;
  durationMs: number;
}

export interface RunOptions {
  only?: 'weekly' | 'events';
  /** `YYYY-MM-DD`, inclusive, on the file's date. */
  from?: string;
  to?: string;
  /** Plan only: list what would be fetched and loaded. */
  dryRun?: boolean;
  /** Explicit files (`pds load`). */
  files?: string[];
  /** Snapshot date for single weekly files loaded by hand (default: from the name or folder, else today). */
  snapshotDate?: string;
  /** Retry exactly these files (ledger keys; `pkg.zip!member` for package members), whatever their state. */
  retryKeys?: string[];
  /** The code a retry was asked for (`retryKeys` are the files flagged with it then), kept to name the run. */
  retryCode?: string;
  /** Course globs narrowing the environment's course filter for this run (a schedule's `courses`). */
  courses?: string[];
}

export interface PlannedFile {
  key: string;
  location: string;
  kind: FileKind;
  size: number;
  /** Why it is in the plan: new, changed (etag/size), retry (failed before), incomplete (package with members left). */
  why: 'new' | 'changed' | 'retry' | 'incomplete';
}

export interface RunResult {
  runId: string;
  env: string;
  status: RunStatus;
  startedAt: string;
  finishedAt?: string;
  options: RunOptions;
  /** Files considered in the plan and already loaded earlier (not counted in files). */
  upToDate: number;
  planned: PlannedFile[];
  files: FileResult[];
  totals: Record<FileStatus, number>;
  /** Set when the run could not run. */
  error?: { code: string; message: string; hint?: string };
}

/** Exit code of `pds run` / `pds load` (docs/architecture.md §3): 0 all loaded, 2 files flagged, 1 could not run. */
export function exitCodeFor(result: Pick<RunResult, 'status'>): 0 | 1 | 2 {
  if (result.status === 'succeeded') return 0;
  if (result.status === 'flagged') return 2;
  return 1;
}

/** Progress events a run emits (CLI bars, console live view). */
export type RunProgress =
  | { type: 'run-started'; runId: string; env: string; planned: number; upToDate: number; bytes: number; files: PlannedFile[] }
  | { type: 'file-started'; key: string; kind: FileKind; size: number }
  | { type: 'file-progress'; key: string; stage: string; bytes?: number; rows?: number }
  | { type: 'file-finished'; result: FileResult }
  | { type: 'run-finished'; result: RunResult };
