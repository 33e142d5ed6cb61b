/**
 * Run times of a schedule: croner reads the cron fields in the schedule's IANA time zone, so a
 * daily 01:30 stays 01:30 local time across daylight-saving changes. A time that does not exist
 * on the spring-forward day runs at the first local time after the gap; a time that occurs twice
 * on the fall-back day runs once (its first occurrence).
 */
import { Cron } from 'croner';

/** A clock the scheduler reads and sleeps on; tests inject one they move by hand. */
export interface Clock {
  now(): Date;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, Math.max(0, ms));
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    }),
};

function cronOf(expression: string, timezone: string): Cron {
  return new Cron(expression, { timezone, paused: true });
}

/** The next `count` run times strictly after `after`. */
export function nextRunTimes(expression: string, timezone: string, count: number, after: Date): Date[] {
  return cronOf(expression, timezone).nextRuns(count, after);
}

/** Run times in (`after`, `upTo`], oldest first, at most `max` (the newest kept when there are more). */
export function runTimesBetween(expression: string, timezone: string, after: Date, upTo: Date, max = 1000): Date[] {
  const cron = cronOf(expression, timezone);
  const out: Date[] = [];
  let cursor = after;
  for (;;) {
    const next = cron.nextRun(cursor);
    if (!next || next.getTime() > upTo.getTime()) break;
    out.push(next);
    if (out.length > max) out.shift();
    cursor = next;
  }
  return out;
}

/** `2026-03-29 02:00 BST` in the zone given. */
export function formatLocal(date: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(date);
  const get = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} ${get('timeZoneName')}`;
}
