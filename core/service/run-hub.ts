/**
 * The run event hub: every event of every run on this home folder, numbered with a `seq` that
 * increases across the hub (the SSE id a client resumes from). Runs started through these
 * handlers publish directly; runs of other processes (the CLI, a scheduler) are read from the
 * environments' ledgers, polled while someone listens (and when active runs are asked for).
 */
import { existsSync } from 'node:fs';
import { environmentPaths, loadConfig } from '../config/config-store.js';
import type { RunEvent, RunEventSource } from '../contract/methods.js';
import { Ledger } from '../ledger/ledger.js';
import { processAlive } from './process-alive.js';
import { runSummaryData, type RunEventBody } from './run-recorder.js';

/** How often other processes' runs are looked for while someone listens. */
export const POLL_MS = 500;
/** Events kept for clients that reconnect (`afterSeq`). */
const BUFFER_EVENTS = 5000;

export interface ActiveRun {
  runId: string;
  env: string;
  startedAt: string;
  origin: string;
  local: boolean;
  planned: number;
  done: number;
  current: { key: string; stage: string; bytes?: number; rows?: number } | null;
}

export class RunHub implements RunEventSource {
  private seq = 0;
  private readonly buffer: RunEvent[] = [];
  private readonly subscribers = new Set<(event: RunEvent) => void>();
  /** Runs of this process: their controllers, and their events come straight from the recorder. */
  private readonly local = new Map<string, AbortController>();
  /** Every run this process started (kept: their events in the ledgers are never read back). */
  private readonly mine = new Set<string>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly active = new Map<string, ActiveRun>();
  /** Per environment, the ledger seq read up to. */
  private readonly cursors = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly home: string) {}

  /** Registers a run of this process: cancelled through `controller`, waited for on close. */
  addLocal(runId: string, controller: AbortController, done: Promise<unknown>): void {
    this.mine.add(runId);
    this.running.add(done);
    // A run that ended before this call (nothing to plan) leaves no controller behind.
    const settled = (): void => {
      this.running.delete(done);
      this.local.delete(runId);
    };
    if (this.active.has(runId)) this.local.set(runId, controller);
    done.then(settled, settled);
  }

  /** The controller of a run of this process, if it is one. */
  localController(runId: string): AbortController | undefined {
    return this.local.get(runId);
  }

  /** Publishes an event of a run of this process (its ledger copy is then never read back). */
  publishLocal(body: RunEventBody): void {
    this.mine.add(body.runId);
    this.publish(body);
  }

  /** Numbers an event, keeps it for resuming clients, and hands it to every subscriber. */
  publish(body: RunEventBody): void {
    const event = { ...body, seq: ++this.seq } as RunEvent;
    this.buffer.push(event);
    if (this.buffer.length > BUFFER_EVENTS) this.buffer.splice(0, this.buffer.length - BUFFER_EVENTS);
    this.track(event);
    for (const subscriber of this.subscribers) {
      try {
        subscriber(event);
      } catch {
        // One broken listener does not stop the others.
      }
    }
  }

  subscribe(onEvent: (event: RunEvent) => void, options: { afterSeq?: number } = {}): () => void {
    // A client resuming from a seq this hub never gave (it restarted) gets what comes next.
    const after = options.afterSeq;
    if (after !== undefined && after <= this.seq) for (const event of this.buffer) if (event.seq > after) onEvent(event);
    this.subscribers.add(onEvent);
    if (!this.timer && !this.closed) {
      this.timer = setInterval(() => void this.poll(), POLL_MS);
      void this.poll();
    }
    return () => {
      this.subscribers.delete(onEvent);
      if (this.subscribers.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  /** Runs in progress on this home folder, whoever started them. */
  async activeRuns(): Promise<ActiveRun[]> {
    await this.poll();
    return [...this.active.values()].map((r) => ({ ...r, current: r.current ? { ...r.current } : null }));
  }

  /** Reads new events of other processes' runs from every environment's ledger (one poll at a time). */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => (this.polling = undefined));
    return this.polling;
  }

  /** Stops listening; runs of this process are cancelled (their open load rolled back) and waited for. */
  async close(): Promise<void> {
    this.closed = true;
    for (const controller of this.local.values()) controller.abort();
    await Promise.allSettled([...this.running]);
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.subscribers.clear();
    await this.polling;
  }

  private async pollOnce(): Promise<void> {
    let names: string[];
    try {
      names = Object.keys((await loadConfig(this.home)).environments);
    } catch {
      return; // A config being edited: the next poll reads it.
    }
    for (const env of names) {
      const path = environmentPaths(this.home, env).ledger;
      if (!existsSync(path)) continue;
      let ledger: Ledger | undefined;
      try {
        ledger = Ledger.open(path);
        this.pollLedger(env, ledger);
      } catch {
        // Busy or being migrated by a run that starts: read again next time.
      } finally {
        ledger?.close();
      }
    }
  }

  private pollLedger(env: string, ledger: Ledger): void {
    const recorded = ledger.runningRuns();
    const running = recorded.filter((r) => r.pid !== null && processAlive(r.pid));
    let cursor = this.cursors.get(env);
    if (cursor === undefined) {
      // First look: replay the runs in progress from their start, so they show whole.
      const starts = running.filter((r) => !this.mine.has(r.runId)).map((r) => ledger.seqBeforeRun(r.runId) ?? Number.POSITIVE_INFINITY);
      cursor = Math.min(ledger.lastRunEventSeq(), ...starts);
    }
    for (;;) {
      const batch = ledger.runEventsAfter(cursor, 1000);
      for (const stored of batch) {
        cursor = stored.seq;
        if (this.mine.has(stored.runId)) continue;
        this.publish({ ...stored.data, type: stored.type, runId: stored.runId, env, time: stored.at } as RunEventBody);
      }
      if (batch.length < 1000) break;
    }
    this.cursors.set(env, cursor);
    // A run whose process died (killed, machine restarted) is recorded as interrupted and announced finished.
    for (const r of recorded) {
      if (r.pid === null || processAlive(r.pid) || this.mine.has(r.runId) || !ledger.markInterrupted(r.runId)) continue;
      const run = ledger.getRun(r.runId);
      if (run) this.publish({ type: 'run-finished', run: runSummaryData(run), runId: r.runId, env, time: run.finishedAt ?? new Date().toISOString() });
    }
    const live = new Set(running.map((r) => r.runId));
    for (const [runId, run] of this.active) if (run.env === env && !run.local && !live.has(runId)) this.active.delete(runId);
  }

  /** Keeps the state listActiveRuns answers with. */
  private track(event: RunEvent): void {
    if (event.type === 'run-started') {
      this.active.set(event.runId, {
        runId: event.runId,
        env: event.env,
        startedAt: event.time,
        origin: event.origin,
        local: this.mine.has(event.runId),
        planned: 0,
        done: 0,
        current: null,
      });
      return;
    }
    const run = this.active.get(event.runId);
    if (!run) return;
    switch (event.type) {
      case 'plan':
        run.planned = event.planned.length;
        break;
      case 'file-started':
        run.current = { key: event.key, stage: 'start' };
        break;
      case 'file-progress':
        run.current = { key: event.key, stage: event.stage, ...(event.bytes !== undefined ? { bytes: event.bytes } : {}), ...(event.rows !== undefined ? { rows: event.rows } : {}) };
        break;
      case 'file-finished':
        // Members count inside their package: `done` counts planned objects.
        if (!event.result.parentKey) run.done++;
        if (run.current?.key === event.result.key) run.current = null;
        break;
      case 'run-finished':
        this.active.delete(event.runId);
        break;
      default:
        break;
    }
  }
}
