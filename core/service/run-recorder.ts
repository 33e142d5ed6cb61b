/**
 * A run's events as the console sees them (`RunEvent` of core/contract/methods.ts), recorded in
 * the environment's ledger so that a console on the same home folder follows runs started by the
 * CLI or a scheduler too, and the running side of a cancel request made from another process.
 */
import { runSummaryView } from '../contract/console-api.js';
import type { FileResultView, RunEvent, RunOptionsArg, RunSummaryData } from '../contract/methods.js';
import type { FileResult, RunOptions, RunProgress } from '../domain/results.js';
import type { Ledger, RunSummary } from '../ledger/ledger.js';

type WithoutSeq<T> = T extends unknown ? Omit<T, 'seq'> : never;
/** A run event before the hub numbers it. */
export type RunEventBody = WithoutSeq<RunEvent>;

/** How often file-progress events are kept per file (the live view needs no more). */
export const PROGRESS_INTERVAL_MS = 1000;
/** How often a running run looks for a cancel request made by another process. */
export const CANCEL_CHECK_MS = 1000;
/** Rejected lines listed with a file in events and reports (the quarantine file has them all). */
export const REJECTED_LINES_SHOWN = 20;

/** The run options as the contract shows them (explicit files left out; a retry by code names its code). */
export function contractRunOptions(o: RunOptions): RunOptionsArg {
  return {
    ...(o.only ? { only: o.only } : {}),
    ...(o.from ? { from: o.from } : {}),
    ...(o.to ? { to: o.to } : {}),
    ...(o.dryRun ? { dryRun: true } : {}),
    ...(o.retryKeys || o.retryCode ? { retry: { ...(o.retryKeys ? { keys: o.retryKeys } : {}), ...(o.retryCode ? { code: o.retryCode } : {}) } } : {}),
  };
}

/** A run as the contract shows it: the shared run summary, with the console's options and who started it. */
export function runSummaryData(r: RunSummary): RunSummaryData {
  return {
    ...runSummaryView(r),
    options: contractRunOptions(r.options) as RunSummaryData['options'],
    ...(r.origin ? { origin: r.origin } : {}),
  };
}

/** A file result as the contract shows it: a sample of its rejected lines. */
export function fileResultView(f: FileResult): FileResultView {
  return { ...f, rejectedLines: f.rejectedLines?.slice(0, REJECTED_LINES_SHOWN) };
}

export interface RunRecorderOptions {
  ledger: Ledger;
  runId: string;
  env: string;
  origin: string;
  /** Aborted when another process asks this run to stop. */
  controller: AbortController;
  /** Sees every event as it is recorded (the hub of a console running in this process). */
  listener?: (event: RunEventBody) => void;
}

/**
 * Turns one run's progress into run events: each goes to the listener, then into the ledger.
 * file-progress is kept at most once a second per file. While the run lasts, a cancel request
 * recorded by another process aborts it.
 */
export class RunRecorder {
  private readonly lastProgress = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly o: RunRecorderOptions) {
    this.timer = setInterval(() => this.checkCancel(), CANCEL_CHECK_MS);
    this.timer.unref();
    o.controller.signal.addEventListener('abort', () => this.notice('info', 'Stopping: the run was cancelled. A load not yet committed is rolled back, and the next run loads that file.'), { once: true });
  }

  started(options: RunOptions): void {
    this.emit({ type: 'run-started', options: contractRunOptions(options), origin: this.o.origin });
  }

  notice(level: 'info' | 'warning', message: string): void {
    this.emit({ type: 'notice', level, message });
  }

  progress(p: RunProgress): void {
    switch (p.type) {
      case 'run-started':
        this.emit({ type: 'plan', planned: p.files, upToDate: p.upToDate, bytes: p.bytes });
        return;
      case 'file-started':
        this.emit({ type: 'file-started', key: p.key, kind: p.kind, size: p.size });
        return;
      case 'file-progress': {
        const now = Date.now();
        const last = this.lastProgress.get(p.key);
        if (last !== undefined && now - last < PROGRESS_INTERVAL_MS) return;
        this.lastProgress.set(p.key, now);
        this.emit({ type: 'file-progress', key: p.key, stage: p.stage, ...(p.bytes !== undefined ? { bytes: p.bytes } : {}), ...(p.rows !== undefined ? { rows: p.rows } : {}) });
        return;
      }
      case 'file-finished':
        this.lastProgress.delete(p.result.key);
        this.emit({ type: 'file-finished', result: fileResultView(p.result) });
        return;
      case 'run-finished':
        // Announced by finished() once the run has let go of the environment.
        return;
    }
  }

  /** Emits run-finished from the ledger's record of the run, and stops recording. */
  finished(): void {
    try {
      const run = this.o.ledger.getRun(this.o.runId);
      if (run) this.emit({ type: 'run-finished', run: runSummaryData(run) });
    } catch {
      // The ledger cannot be read now: a console still sees the run end when it lists runs.
    } finally {
      this.close();
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  private checkCancel(): void {
    if (this.closed || this.o.controller.signal.aborted) return;
    let requested = false;
    try {
      requested = this.o.ledger.cancelRequested(this.o.runId);
    } catch {
      return; // busy: asked again in a second
    }
    if (requested) this.o.controller.abort();
  }

  private emit(body: Record<string, unknown> & { type: RunEvent['type'] }): void {
    if (this.closed) return;
    const time = new Date().toISOString();
    const event = { ...body, runId: this.o.runId, env: this.o.env, time } as RunEventBody;
    this.o.listener?.(event);
    try {
      this.o.ledger.appendRunEvent(this.o.runId, body.type, time, body);
    } catch {
      // The run goes on: events are a view, the ledger's run and file records are the truth.
    }
  }
}
