/**
 * Live runs: one EventSource on `/api/events` for the whole console, folded into a small store
 * the Run screen and the navigation read with `useSyncExternalStore`. Runs already going when the
 * page opens (started by the CLI or cron on the same home folder too) come from `listActiveRuns`.
 *
 * Only the last few finished files of each run are kept here; the full per-file outcome is the
 * Report screen's, paged from the server.
 */
import { useSyncExternalStore } from 'react';
import type { FileResultView, RunEvent, RunSummaryData } from '../../core/contract/methods.js';
import { countsInTotals } from '../../core/domain/results.js';
import { api, desktopBridge } from './client.js';
import { currentToken } from './token.js';

export interface LiveRun {
  runId: string;
  env: string;
  origin: string;
  startedAt: string;
  /** Files in the plan; null until the plan arrives. */
  planned: number | null;
  plannedBytes: number;
  upToDate: number;
  done: number;
  /** Bytes of source objects finished. */
  bytesDone: number;
  rowsLoaded: number;
  byStatus: Record<string, number>;
  current: { key: string; stage: string; bytes?: number; rows?: number; size?: number } | null;
  /** The newest finished files, newest first (at most RECENT). */
  recent: FileResultView[];
  notices: { level: 'info' | 'warning'; message: string; time: string }[];
  /** Time of the newest event: rates are measured on the server's clock. */
  lastTime: string;
  finished: RunSummaryData | null;
  cancelling: boolean;
}

const RECENT = 12;
const EVENT_TYPES: RunEvent['type'][] = ['run-started', 'plan', 'file-started', 'file-progress', 'file-finished', 'notice', 'run-finished'];

type Snapshot = { connected: boolean; runs: Record<string, LiveRun> };
let snapshot: Snapshot = { connected: false, runs: {} };
const listeners = new Set<() => void>();
let source: EventSource | null = null;
let bridged = false;

function publish(next: Snapshot): void {
  snapshot = next;
  for (const l of listeners) l();
}

function emptyRun(runId: string, env: string, startedAt: string, origin: string): LiveRun {
  return { runId, env, origin, startedAt, planned: null, plannedBytes: 0, upToDate: 0, done: 0, bytesDone: 0, rowsLoaded: 0, byStatus: {}, current: null, recent: [], notices: [], lastTime: startedAt, finished: null, cancelling: false };
}

function apply(event: RunEvent): void {
  const prev = snapshot.runs[event.runId] ?? emptyRun(event.runId, event.env, event.time, 'unknown');
  const run: LiveRun = { ...prev, lastTime: event.time };
  switch (event.type) {
    case 'run-started':
      Object.assign(run, { origin: event.origin, startedAt: event.time });
      break;
    case 'plan':
      Object.assign(run, { planned: event.planned.length, plannedBytes: event.bytes, upToDate: event.upToDate });
      break;
    case 'file-started':
      run.current = { key: event.key, stage: 'fetch', size: event.size };
      break;
    case 'file-progress':
      run.current = { ...(run.current?.key === event.key ? run.current : { key: event.key }), stage: event.stage, bytes: event.bytes, rows: event.rows };
      break;
    case 'file-finished': {
      const r = event.result;
      // The plan lists objects; members of a weekly package finish as files of their own.
      const planned = !r.parentKey;
      run.done = prev.done + (planned ? 1 : 0);
      run.bytesDone = prev.bytesDone + (planned ? r.counts.bytes : 0);
      run.rowsLoaded = prev.rowsLoaded + r.counts.loaded;
      // Counted as the run's totals are: a package's summary row only when the package failed.
      if (countsInTotals(r)) run.byStatus = { ...prev.byStatus, [r.status]: (prev.byStatus[r.status] ?? 0) + 1 };
      run.recent = [r, ...prev.recent].slice(0, RECENT);
      if (run.current?.key === r.key) run.current = null;
      break;
    }
    case 'notice':
      run.notices = [...prev.notices, { level: event.level, message: event.message, time: event.time }].slice(-20);
      break;
    case 'run-finished':
      run.finished = event.run;
      run.current = null;
      break;
  }
  publish({ ...snapshot, runs: { ...snapshot.runs, [event.runId]: run } });
}

async function seedActiveRuns(): Promise<void> {
  try {
    const active = await api.listActiveRuns({});
    const runs = { ...snapshot.runs };
    for (const a of active) {
      const known = runs[a.runId];
      if (known && known.done >= a.done) continue;
      runs[a.runId] = { ...(known ?? emptyRun(a.runId, a.env, a.startedAt, a.origin)), origin: a.origin, planned: a.planned, done: a.done, current: a.current };
    }
    publish({ ...snapshot, runs });
  } catch {
    // The screens show their own errors; the live view simply starts empty.
  }
}

/**
 * Opens the event stream once: the desktop bridge's subscription in the app, else an EventSource
 * on `/api/events` (it reconnects by itself, resuming from Last-Event-ID; the token goes in the
 * query because EventSource cannot send headers).
 */
export function connectRunEvents(): void {
  if (source || bridged) return;
  if (desktopBridge) {
    bridged = true;
    desktopBridge.onRunEvent(apply);
    publish({ ...snapshot, connected: true });
    void seedActiveRuns();
    return;
  }
  source = new EventSource(`/api/events?token=${encodeURIComponent(currentToken())}`);
  const onMessage = (message: MessageEvent<string>) => {
    try {
      apply(JSON.parse(message.data) as RunEvent);
    } catch {
      // A line that is not a run event (a comment or keep-alive) is ignored.
    }
  };
  source.onmessage = onMessage;
  for (const type of EVENT_TYPES) source.addEventListener(type, onMessage);
  source.onopen = () => {
    publish({ ...snapshot, connected: true });
    void seedActiveRuns();
  };
  source.onerror = () => publish({ ...snapshot, connected: false });
}

/** Marks a run as being cancelled (the button turns into a note until run-finished arrives). */
export function markCancelling(runId: string): void {
  const run = snapshot.runs[runId];
  if (run) publish({ ...snapshot, runs: { ...snapshot.runs, [runId]: { ...run, cancelling: true } } });
}

/** Registers a run the console just started, before its first event arrives. */
export function expectRun(runId: string, env: string): void {
  if (snapshot.runs[runId]) return;
  const now = new Date().toISOString();
  publish({ ...snapshot, runs: { ...snapshot.runs, [runId]: emptyRun(runId, env, now, 'console') } });
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useLiveRuns(): Snapshot {
  return useSyncExternalStore(subscribe, () => snapshot);
}
