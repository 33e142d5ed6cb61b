/**
 * Views the engine's service and the CLI share (environments, keys, runs, status, data). The
 * console's own contract, with every method, is core/contract/methods.ts. No Node API here.
 * Secrets never cross: a front end sees whether a secret is set, never its value.
 */
import type { FileResult, RunOptions, RunResult, RunStatus } from '../domain/results.js';
import type { RunNoticeView } from './methods.js';

export interface KeySummary {
  keyId: string;
  fingerprint: string;
  userIds: string[];
  algorithm: string;
  created: string;
  expires: string | null;
  /** True when the key is passphrase-protected. */
  protected: boolean;
}

export interface EnvironmentSummary {
  name: string;
  description?: string;
  /** e.g. `s3://course-data + s3://edx-course-data/mitx/ (us-east-1)` or `local /data/edx`. */
  source: string;
  relational: string;
  events: string;
  keys: number;
  /** Whether each secret reference resolves now (`set` / `not set`), by config path. */
  secrets: Record<string, 'set' | 'not set'>;
  lastRun?: { runId: string; status: RunStatus; startedAt: string; finishedAt: string | null };
}

export interface RunSummaryView {
  runId: string;
  env: string;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  totals: Record<string, number> | null;
  options: RunOptions;
  error: { code: string; message: string; hint?: string } | null;
}

/**
 * The summary of a run as every front end shows it, from a run's result or the ledger's record
 * of it (the same fields either way; nothing else crosses).
 */
export function runSummaryView(run: {
  runId: string;
  env: string;
  status: RunStatus;
  startedAt: string;
  finishedAt?: string | null;
  totals: Record<string, number> | null;
  options: RunOptions;
  error?: RunResult['error'] | null;
}): RunSummaryView {
  return {
    runId: run.runId,
    env: run.env,
    status: run.status,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt ?? null,
    totals: run.totals,
    options: run.options,
    error: run.error ?? null,
  };
}

export interface RunReport {
  run: RunSummaryView;
  files: FileResult[];
}

export interface DbCheck {
  target: 'relational' | 'events';
  engine: string;
  ok: boolean;
  detail: string;
}

/** What has landed in an environment's stores. */
export interface DataSummary {
  tables: { table: string; group: string; rows: number; courses: number }[];
  events: { total: number; courses: number; topTypes: { type: string; count: number }[] };
}

/** A file that needs attention now (its latest outcome is failed or partial). */
export interface FlaggedFile {
  key: string;
  parentKey: string | null;
  kind: string;
  status: string;
  stage: string | null;
  code: string | null;
  reason: string | null;
  hint: string | null;
  /** True when the next run tries it again (network, key or database problems); false while its content is at fault. */
  retriedNextRun: boolean;
  runId: string | null;
  updatedAt: string;
}

/** Where an environment stands across all its runs. */
export interface EnvironmentStatus {
  env: string;
  /** Files (and package members) by their latest status. */
  files: Record<string, number>;
  flagged: FlaggedFile[];
  lastRun: RunSummaryView | null;
}

/**
 * A run's notices (retention, data protection, a cancel) as text lines for a terminal (pds run,
 * pds report, pds demo), one a line after its mark, in the order
 * the run gave them; nothing at all when it gave none.
 */
export function formatNotices(notices: readonly RunNoticeView[]): string[] {
  if (notices.length === 0) return [];
  return ['', 'Notices:', ...notices.map((x) => `  ${x.level.padEnd(9)}${x.message}`)];
}
