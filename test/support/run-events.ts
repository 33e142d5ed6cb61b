/**
 * Collects the run events a console's hub publishes, and waits for the one a test needs.
 */
import type { RunEvent, RunEventSource } from '../../core/contract/methods.js';

export interface EventLog {
  events: RunEvent[];
  /** Resolves with the first event (already seen or to come) that matches. */
  waitFor(match: (event: RunEvent) => boolean): Promise<RunEvent>;
  /** Resolves with the run-finished event of `runId`. */
  finished(runId: string): Promise<Extract<RunEvent, { type: 'run-finished' }>>;
  /** The events of one run, in the order received. */
  of(runId: string): RunEvent[];
  stop(): void;
}

export function recordEvents(source: RunEventSource, options?: { afterSeq?: number }): EventLog {
  const events: RunEvent[] = [];
  const waiters: { match: (e: RunEvent) => boolean; resolve: (e: RunEvent) => void }[] = [];
  const stop = source.subscribe((event) => {
    events.push(event);
    for (const w of [...waiters]) {
      if (w.match(event)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(event);
      }
    }
  }, options);
  const waitFor = (match: (e: RunEvent) => boolean): Promise<RunEvent> => {
    const seen = events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => waiters.push({ match, resolve }));
  };
  return {
    events,
    waitFor,
    finished: (runId) => waitFor((e) => e.type === 'run-finished' && e.runId === runId) as Promise<Extract<RunEvent, { type: 'run-finished' }>>,
    of: (runId) => events.filter((e) => e.runId === runId),
    stop,
  };
}
