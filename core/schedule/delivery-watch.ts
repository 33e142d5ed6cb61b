/**
 * The delivery watch (README "Unattended operation"): edX skips days (an expired key, an outage).
 * When the newest daily event log the ledger has seen is older than `watch.eventsMaxDays`, or the
 * newest weekly package older than `watch.weeklyMaxDays`, that is a finding naming the last file
 * seen. Dates come from the file names (docs/edx-formats.md §1.1).
 */
import type { EnvironmentConfig } from '../config/config-schema.js';
import { DEFAULT_DELIVERY_WATCH } from '../config/unattended-schema.js';
import { recognizeFileName } from '../domain/file-names.js';
import type { ScheduleLedger } from './schedule-ledger.js';

export interface DeliveryFinding {
  what: 'events' | 'weekly';
  late: boolean;
  lastKey: string | null;
  lastDate: string | null;
  /** Whole days from the last file's date to today (UTC), null when none was seen. */
  days: number | null;
  maxDays: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function newest(ledger: ScheduleLedger, kinds: string[]): { key: string; date: string } | undefined {
  let best: { key: string; date: string } | undefined;
  for (const f of ledger.newestFiles(kinds)) {
    const date = recognizeFileName(f.key).date;
    if (date && (!best || date > best.date)) best = { key: f.key, date };
  }
  return best;
}

/** What the watch finds for each kind the environment receives (an S3 source without an events bucket gets no events finding). */
export function watchDeliveries(ledger: ScheduleLedger, config: EnvironmentConfig, now: Date): DeliveryFinding[] {
  const watch = config.watch ?? DEFAULT_DELIVERY_WATCH;
  const today = Date.parse(now.toISOString().slice(0, 10));
  const kinds: { what: 'events' | 'weekly'; kinds: string[]; maxDays: number }[] = [{ what: 'weekly', kinds: ['weekly-package'], maxDays: watch.weeklyMaxDays }];
  if (config.source.type !== 's3' || config.source.events) kinds.unshift({ what: 'events', kinds: ['event-log'], maxDays: watch.eventsMaxDays });
  return kinds.map(({ what, kinds: k, maxDays }) => {
    const last = newest(ledger, k);
    const days = last ? Math.floor((today - Date.parse(last.date)) / DAY_MS) : null;
    return { what, late: days === null || days > maxDays, lastKey: last?.key ?? null, lastDate: last?.date ?? null, days, maxDays };
  });
}
