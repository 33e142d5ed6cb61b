/**
 * Log lines of unattended operation: one JSON object a line in `PDS_HOME/logs/pds.log` (rotated by
 * size: `pds.log.1` … `pds.log.<keep>`, the oldest dropped), and on stderr as text or, with
 * `--log-format json`, as the same JSON. Nothing secret or about a learner is logged: entries carry
 * environment, schedule, run id, status, codes and counts.
 */
import { appendFileSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunProgress } from '../domain/results.js';

export interface LogEntry {
  level: 'info' | 'warn' | 'error';
  msg: string;
  [field: string]: unknown;
}

export interface LoggerOptions {
  /** Folder of the log files (`PDS_HOME/logs`). */
  dir: string;
  /** stderr format: `text` (default) or `json`. */
  format?: 'text' | 'json';
  /** Rotate when the file would pass this size (default 10 MB). */
  maxBytes?: number;
  /** Rotated files kept (default 5). */
  keep?: number;
  /** Where stderr lines go (tests capture them). */
  stderr?: (line: string) => void;
  now?: () => Date;
}

export const LOG_FILE = 'pds.log';

export function createLogger(options: LoggerOptions): (entry: LogEntry) => void {
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const keep = options.keep ?? 5;
  const file = join(options.dir, LOG_FILE);
  const stderr = options.stderr ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  let size = (() => {
    try {
      return statSync(file).size;
    } catch {
      return 0;
    }
  })();

  function rotate(): void {
    rmSync(`${file}.${keep}`, { force: true });
    for (let i = keep - 1; i >= 1; i--) {
      try {
        renameSync(`${file}.${i}`, `${file}.${i + 1}`);
      } catch {
        // Not there yet.
      }
    }
    try {
      renameSync(file, `${file}.1`);
    } catch {
      // Not there yet.
    }
    size = 0;
  }

  return (entry) => {
    const record = { time: now().toISOString(), pid: process.pid, ...entry };
    const line = `${JSON.stringify(record)}\n`;
    const bytes = Buffer.byteLength(line);
    try {
      if (size > 0 && size + bytes > maxBytes) rotate();
      appendFileSync(file, line, { mode: 0o600 });
      size += bytes;
    } catch {
      // A log that cannot be written must not stop a load; stderr still has the line.
    }
    if (options.format === 'json') stderr(line);
    else {
      const extra = ['env', 'schedule', 'runId', 'code'].filter((k) => entry[k] !== undefined).map((k) => `${k}=${String(entry[k])}`);
      stderr(`${record.time} ${entry.level.toUpperCase()} ${entry.msg}${extra.length ? ` (${extra.join(' ')})` : ''}\n`);
    }
  };
}

/**
 * A run's progress as log lines (`pds run --log-format json`, for cron): one line per file
 * finished (key, status, code, counts) and one for the run, in `PDS_HOME/logs/pds.log` and on
 * stderr as JSON. Reasons are not logged (the report has them); no learner data.
 */
export function runProgressLog(home: string, env: string): (event: RunProgress) => void {
  const log = createLogger({ dir: join(home, 'logs'), format: 'json' });
  return (event) => {
    if (event.type === 'run-started') log({ level: 'info', msg: `run started: ${event.planned} file(s) planned`, env, runId: event.runId, planned: event.planned, upToDate: event.upToDate, bytes: event.bytes });
    else if (event.type === 'file-finished') {
      const r = event.result;
      log({ level: r.status === 'failed' ? 'error' : r.status === 'partial' ? 'warn' : 'info', msg: `${r.status}: ${r.key}`, env, key: r.key, status: r.status, code: r.code, counts: r.counts });
    } else if (event.type === 'run-finished') {
      const r = event.result;
      log({ level: r.status === 'succeeded' ? 'info' : r.status === 'flagged' ? 'warn' : 'error', msg: `run ${r.status}`, env, runId: r.runId, status: r.status, totals: r.totals, code: r.error?.code });
    }
  };
}
