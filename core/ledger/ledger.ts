/**
 * The ledger: run state in SQLite, one file per environment (docs/architecture.md §1). It records what was
 * fetched, loaded, rejected and why. A stage is recorded only after it committed, so a killed run
 * started again redoes exactly the work that had not committed.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { FileKind } from '../domain/files.js';
import {
  FILE_STATUSES,
  FLAGGED_STATUSES,
  type FileResult,
  type FileStatus,
  type RunOptions,
  type RunResult,
  type RunStatus,
} from '../domain/results.js';
import { MIGRATIONS } from './migrations/index.js';
import { osUser } from './actor.js';
import { preparePrivateFile } from '../privacy/private-files.js';

/** What the ledger knows about one file. */
export interface LedgerFile {
  key: string;
  parentKey: string | null;
  location: string;
  kind: FileKind;
  size: number | null;
  etag: string | null;
  status: FileStatus | 'pending' | 'fetched';
  stage: string | null;
  /** Error code of the last outcome. */
  code: string | null;
  reason: string | null;
  hint: string | null;
  landing: string | null;
  attempts: number;
  /** Run that last recorded an outcome for the file. */
  runId: string | null;
  updatedAt: string;
}

export interface RunSummary {
  runId: string;
  env: string;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  totals: Record<FileStatus, number> | null;
  options: RunOptions;
  error: RunResult['error'] | null;
  /** Who started it (`cli`, `console`, `scheduler`), when recorded. */
  origin?: string;
}

/** A run event as the ledger keeps it (docs/architecture.md §3): `data` is the event without its sequence number. */
export interface StoredRunEvent {
  /** Increases across the ledger, in the order events were recorded. */
  seq: number;
  runId: string;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

/**
 * A second connection to an environment's ledger, created and migrated first, for the modules
 * that keep their own tables in it (schedules, data protection).
 */
export function openLedgerDatabase(path: string): Database.Database {
  Ledger.open(path).close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  return db;
}

/** A run-level notice (`RunRecorder.notice`) as the ledger keeps it: shown with the run's report. */
export interface RunNotice {
  level: 'info' | 'warning';
  message: string;
  /** When it was recorded (ISO 8601). */
  time: string;
}

const now = (): string => new Date().toISOString();

export class Ledger {
  private readonly db: Database.Database;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /** Opens (creating and migrating) the ledger at `path`. */
  static open(path: string): Ledger {
    mkdirSync(dirname(path), { recursive: true });
    preparePrivateFile(path);
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 10000');
    const ledger = new Ledger(db);
    ledger.migrate();
    return ledger;
  }

  /** Applies pending migrations, each in its own transaction. */
  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS ledger_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
    const applied = new Set(
      (this.db.prepare('SELECT name FROM ledger_migrations').all() as { name: string }[]).map((r) => r.name),
    );
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.name)) continue;
      this.db.transaction(() => {
        this.db.exec(migration.sql);
        this.db.prepare('INSERT INTO ledger_migrations (name, applied_at) VALUES (?, ?)').run(migration.name, now());
      })();
    }
  }

  /** Names of the applied migrations, in order. */
  migrations(): string[] {
    return (this.db.prepare('SELECT name FROM ledger_migrations ORDER BY name').all() as { name: string }[]).map((r) => r.name);
  }

  close(): void {
    this.db.close();
  }

  /**
   * Starts a run record, naming who started it (its origin and this process's OS account) and this process. Runs left `running` by a killed
   * process are marked `failed` first (the caller holds the environment's run lock).
   */
  startRun(env: string, options: RunOptions, meta: { origin?: string } = {}): { runId: string; startedAt: string } {
    const runId = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomUUID().slice(0, 8)}`;
    const startedAt = now();
    this.db.transaction(() => {
      this.db
        .prepare(`UPDATE runs SET status = 'failed', finished_at = ?, error = ? WHERE status = 'running'`)
        .run(startedAt, JSON.stringify({ code: 'RUN_INTERRUPTED', message: 'The run was interrupted (process ended) before it finished; the next run completed its work.' }));
      this.db
        .prepare('INSERT INTO runs (id, env, started_at, status, options, origin, pid, os_user) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(runId, env, startedAt, 'running', JSON.stringify(options), meta.origin ?? null, process.pid, osUser());
    })();
    return { runId, startedAt };
  }

  finishRun(runId: string, status: RunStatus, totals: Record<FileStatus, number>, error?: RunResult['error']): string {
    const finishedAt = now();
    this.db
      .prepare('UPDATE runs SET status = ?, finished_at = ?, totals = ?, error = ? WHERE id = ?')
      .run(status, finishedAt, JSON.stringify(totals), error ? JSON.stringify(error) : null, runId);
    return finishedAt;
  }

  getFile(key: string): LedgerFile | undefined {
    const row = this.db.prepare('SELECT * FROM files WHERE key = ?').get(key) as Record<string, unknown> | undefined;
    return row ? toLedgerFile(row) : undefined;
  }

  /** Members recorded under a package. */
  membersOf(parentKey: string): LedgerFile[] {
    return (this.db.prepare('SELECT * FROM files WHERE parent_key = ? ORDER BY key').all(parentKey) as Record<string, unknown>[]).map(toLedgerFile);
  }

  /** Records that a file was fetched (downloaded and verified) into the landing folder. */
  recordFetched(runId: string, file: { key: string; location: string; kind: FileKind; size: number; etag?: string; landing: string }): void {
    const at = now();
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO files (key, location, kind, size, etag, status, stage, landing, run_id, updated_at, attempts)
           VALUES (@key, @location, @kind, @size, @etag, 'fetched', 'fetch', @landing, @runId, @at, 1)
           ON CONFLICT(key) DO UPDATE SET location = @location, kind = @kind, size = @size, etag = @etag,
             status = 'fetched', stage = 'fetch', landing = @landing, run_id = @runId, updated_at = @at,
             attempts = attempts + 1, code = NULL, reason = NULL, hint = NULL`,
        )
        .run({ ...file, etag: file.etag ?? null, runId, at });
      this.logStage(runId, file.key, 'fetch', 'ok', { size: file.size });
    })();
  }

  /**
   * Records a file's final outcome for this run (after its load committed or was abandoned), with
   * its rejected line numbers. One transaction.
   */
  recordResult(
    runId: string,
    result: FileResult,
    meta: { location: string; size?: number; etag?: string; landing?: string },
  ): void {
    const at = now();
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO files (key, parent_key, location, kind, size, etag, status, stage, code, reason, hint, course_key,
             table_name, snapshot_date, bytes, rows_read, rows_loaded, rows_rejected, rows_duplicate, warnings, quarantine,
             landing, attempts, run_id, updated_at)
           VALUES (@key, @parentKey, @location, @kind, @size, @etag, @status, @stage, @code, @reason, @hint, @courseKey,
             @table, @snapshotDate, @bytes, @read, @loaded, @rejected, @duplicates, @warnings, @quarantine, @landing, 1, @runId, @at)
           ON CONFLICT(key) DO UPDATE SET parent_key = @parentKey, location = @location, kind = @kind,
             size = COALESCE(@size, size), etag = COALESCE(@etag, etag), status = @status, stage = @stage, code = @code,
             reason = @reason, hint = @hint, course_key = @courseKey, table_name = @table, snapshot_date = @snapshotDate,
             bytes = @bytes, rows_read = @read, rows_loaded = @loaded, rows_rejected = @rejected,
             rows_duplicate = @duplicates, warnings = @warnings, quarantine = @quarantine,
             landing = COALESCE(@landing, landing),
             attempts = CASE WHEN parent_key IS NULL AND status = 'fetched' THEN attempts ELSE attempts + 1 END,
             run_id = @runId, updated_at = @at`,
        )
        .run({
          key: result.key,
          parentKey: result.parentKey ?? null,
          location: meta.location,
          kind: result.kind,
          size: meta.size ?? null,
          etag: meta.etag ?? null,
          status: result.status,
          stage: result.stage ?? null,
          code: result.code ?? null,
          reason: result.reason ?? null,
          hint: result.hint ?? null,
          courseKey: result.courseKey ?? null,
          table: result.table ?? null,
          snapshotDate: result.snapshotDate ?? null,
          bytes: result.counts.bytes,
          read: result.counts.read,
          loaded: result.counts.loaded,
          rejected: result.counts.rejected,
          duplicates: result.counts.duplicates,
          warnings: result.warnings.length ? JSON.stringify(result.warnings) : null,
          quarantine: result.quarantine ?? null,
          landing: meta.landing ?? null,
          runId,
          at,
        });
      this.db.prepare('INSERT OR REPLACE INTO run_files (run_id, key, result) VALUES (?, ?, ?)').run(runId, result.key, JSON.stringify(result));
      this.db.prepare('DELETE FROM rejected_lines WHERE run_id = ? AND key = ?').run(runId, result.key);
      const insert = this.db.prepare('INSERT INTO rejected_lines (run_id, key, line, code, reason) VALUES (?, ?, ?, ?, ?)');
      // The result lists the first rejected lines; the quarantine file (and its index) has them all.
      for (const r of result.rejectedLines ?? []) insert.run(runId, result.key, r.line, r.code, r.reason);
      this.logStage(runId, result.key, result.status === 'failed' ? (result.stage ?? 'load') : 'load', result.status === 'failed' ? 'failed' : 'ok', {
        status: result.status,
        code: result.code,
        counts: result.counts,
      });
    })();
  }

  private logStage(runId: string, key: string, stage: string, outcome: 'ok' | 'failed', detail: unknown): void {
    this.db
      .prepare('INSERT INTO stage_log (run_id, key, stage, outcome, at, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(runId, key, stage, outcome, now(), JSON.stringify(detail));
  }

  /** Recent runs, newest first; `offset` runs skipped. */
  listRuns(limit = 20, offset = 0): RunSummary[] {
    return (this.db.prepare('SELECT * FROM runs ORDER BY rowid DESC LIMIT ? OFFSET ?').all(limit, offset) as Record<string, unknown>[]).map(toRunSummary);
  }

  /** How many runs the ledger holds. */
  countRuns(): number {
    return (this.db.prepare('SELECT COUNT(*) n FROM runs').get() as { n: number }).n;
  }

  getRun(runId: string): RunSummary | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(runId) as Record<string, unknown> | undefined;
    return row ? toRunSummary(row) : undefined;
  }

  /** Runs recorded as running, with the process that runs them (it may have died since). */
  runningRuns(): (RunSummary & { pid: number | null })[] {
    return (this.db.prepare(`SELECT * FROM runs WHERE status = 'running' ORDER BY rowid`).all() as Record<string, unknown>[]).map((row) => ({
      ...toRunSummary(row),
      pid: (row.pid as number | null) ?? null,
    }));
  }

  /**
   * Records a run whose process is gone as interrupted (failed). False when it is not running
   * (it finished meanwhile, or another reader marked it first).
   */
  markInterrupted(runId: string): boolean {
    const error = { code: 'RUN_INTERRUPTED', message: 'The process running it ended before the run finished; the next run completes its work.' };
    return this.db.prepare(`UPDATE runs SET status = 'failed', finished_at = ?, error = ? WHERE id = ? AND status = 'running'`).run(now(), JSON.stringify(error), runId).changes > 0;
  }

  /** Asks the process running `runId` to stop (it checks about once a second). False when the run is not running. */
  requestCancel(runId: string): boolean {
    return this.db.prepare(`UPDATE runs SET cancel_requested_at = ? WHERE id = ? AND status = 'running'`).run(now(), runId).changes > 0;
  }

  /** True when another process asked this run to stop. */
  cancelRequested(runId: string): boolean {
    const row = this.db.prepare('SELECT cancel_requested_at c FROM runs WHERE id = ?').get(runId) as { c: string | null } | undefined;
    return Boolean(row?.c);
  }

  /** Appends one event of a run; returns its sequence number. */
  appendRunEvent(runId: string, type: string, at: string, data: Record<string, unknown>): number {
    return Number(this.db.prepare('INSERT INTO run_events (run_id, type, at, data) VALUES (?, ?, ?, ?)').run(runId, type, at, JSON.stringify(data)).lastInsertRowid);
  }

  /** Events recorded after `seq`, oldest first (one whose data cannot be read is left out). */
  runEventsAfter(seq: number, limit = 1000): StoredRunEvent[] {
    const out: StoredRunEvent[] = [];
    for (const r of this.db.prepare('SELECT * FROM run_events WHERE seq > ? ORDER BY seq LIMIT ?').all(seq, limit) as Record<string, unknown>[]) {
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(r.data as string) as Record<string, unknown>;
      } catch {
        continue;
      }
      out.push({ seq: r.seq as number, runId: r.run_id as string, type: r.type as string, at: r.at as string, data });
    }
    return out;
  }

  /**
   * The notices of one run (retention, data protection, a cancel), in the order they were
   * recorded; one whose data cannot be read, or is not a notice, is left out.
   */
  runNotices(runId: string): RunNotice[] {
    const out: RunNotice[] = [];
    for (const r of this.db.prepare(`SELECT at, data FROM run_events WHERE run_id = ? AND type = 'notice' ORDER BY seq`).all(runId) as { at: string; data: string }[]) {
      let data: Record<string, unknown> | null;
      try {
        data = JSON.parse(r.data) as Record<string, unknown> | null;
      } catch {
        continue;
      }
      if (!data || (data.level !== 'info' && data.level !== 'warning') || typeof data.message !== 'string') continue;
      out.push({ level: data.level, message: data.message, time: r.at });
    }
    return out;
  }

  /** The sequence number of the newest event (0 when none). */
  lastRunEventSeq(): number {
    return (this.db.prepare('SELECT COALESCE(MAX(seq), 0) s FROM run_events').get() as { s: number }).s;
  }

  /** The sequence number just before the first event of `runId` (to replay a run from its start). */
  seqBeforeRun(runId: string): number | undefined {
    const row = this.db.prepare('SELECT MIN(seq) s FROM run_events WHERE run_id = ?').get(runId) as { s: number | null };
    return row.s === null ? undefined : row.s - 1;
  }

  /** One file's results in every run that reported it, newest run first. */
  fileHistory(key: string): { runId: string; startedAt: string; result: FileResult }[] {
    return (
      this.db
        .prepare('SELECT rf.run_id, r.started_at, rf.result FROM run_files rf JOIN runs r ON r.id = rf.run_id WHERE rf.key = ? ORDER BY r.rowid DESC')
        .all(key) as { run_id: string; started_at: string; result: string }[]
    ).map((r) => ({ runId: r.run_id, startedAt: r.started_at, result: JSON.parse(r.result) as FileResult }));
  }

  /** The newest run id, if any. */
  latestRunId(): string | undefined {
    return this.listRuns(1)[0]?.runId;
  }

  /** The file results reported by one run, in the order they finished. */
  runFiles(runId: string): FileResult[] {
    return (this.db.prepare('SELECT result FROM run_files WHERE run_id = ? ORDER BY rowid').all(runId) as { result: string }[]).map(
      (r) => JSON.parse(r.result) as FileResult,
    );
  }

  /** Files whose current status is failed or partial (what needs attention now). */
  flaggedFiles(): LedgerFile[] {
    const statuses = FLAGGED_STATUSES.map(() => '?').join(', ');
    return (this.db.prepare(`SELECT * FROM files WHERE status IN (${statuses}) ORDER BY key`).all(...FLAGGED_STATUSES) as Record<string, unknown>[]).map(toLedgerFile);
  }

  /** Counts of files per current status. */
  statusCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.db.prepare('SELECT status, COUNT(*) n FROM files GROUP BY status').all() as { status: string; n: number }[]) out[r.status] = r.n;
    return out;
  }
}

export function emptyTotals(): Record<FileStatus, number> {
  return Object.fromEntries(FILE_STATUSES.map((s) => [s, 0])) as Record<FileStatus, number>;
}

function toLedgerFile(row: Record<string, unknown>): LedgerFile {
  return {
    key: row.key as string,
    parentKey: (row.parent_key as string | null) ?? null,
    location: row.location as string,
    kind: row.kind as FileKind,
    size: (row.size as number | null) ?? null,
    etag: (row.etag as string | null) ?? null,
    status: row.status as LedgerFile['status'],
    stage: (row.stage as string | null) ?? null,
    code: (row.code as string | null) ?? null,
    reason: (row.reason as string | null) ?? null,
    hint: (row.hint as string | null) ?? null,
    landing: (row.landing as string | null) ?? null,
    attempts: row.attempts as number,
    runId: (row.run_id as string | null) ?? null,
    updatedAt: row.updated_at as string,
  };
}

function toRunSummary(row: Record<string, unknown>): RunSummary {
  return {
    runId: row.id as string,
    env: row.env as string,
    status: row.status as RunStatus,
    startedAt: row.started_at as string,
    finishedAt: (row.finished_at as string | null) ?? null,
    totals: row.totals ? (JSON.parse(row.totals as string) as Record<FileStatus, number>) : null,
    options: JSON.parse(row.options as string) as RunOptions,
    error: row.error ? (JSON.parse(row.error as string) as RunResult['error']) : null,
    ...(row.origin ? { origin: row.origin as string } : {}),
  };
}
