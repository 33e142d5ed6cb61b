/**
 * Retention (README "Unattended operation"): after a run that loaded, encrypted originals in the
 * landing folder whose load succeeded more than `retention.landingDays` ago are removed (default
 * 30 days), and quarantine files older than `retention.quarantineDays` (default: kept). Nothing is
 * removed silently: every removal is recorded in the ledger (retention_log) and the run says what
 * was removed (a notice in its events and report).
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { EnvironmentConfig } from '../config/config-schema.js';
import type { EnvironmentPaths } from '../config/config-store.js';
import { DEFAULT_RETENTION } from '../config/unattended-schema.js';
import { ScheduleLedger } from './schedule-ledger.js';

export interface Removed {
  path: string;
  what: 'landing' | 'quarantine';
  bytes: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function inside(dir: string, path: string): boolean {
  const r = relative(resolve(dir), resolve(path));
  return r !== '' && !r.startsWith('..') && !r.startsWith(sep);
}

/** Applies the environment's retention; returns what it removed (paths relative to the environment folder). */
export async function applyRetention(config: EnvironmentConfig, paths: EnvironmentPaths, runId: string | null, now: Date): Promise<Removed[]> {
  const retention = config.retention ?? DEFAULT_RETENTION;
  const removed: Removed[] = [];
  const ledger = ScheduleLedger.open(paths.ledger);
  try {
    if (retention.landingDays > 0) {
      const before = new Date(now.getTime() - retention.landingDays * DAY_MS);
      for (const f of ledger.landedBefore(before)) {
        // Only copies pds downloaded into its landing folder: never a local source's own files.
        if (!inside(paths.landing, f.landing)) continue;
        const s = await stat(f.landing).catch(() => undefined);
        if (s?.isFile()) {
          await rm(f.landing, { force: true });
          removed.push({ path: relative(paths.root, f.landing), what: 'landing', bytes: s.size });
          ledger.recordRemoved(runId, f.landing, 'landing', s.size, now);
        }
        ledger.forgetLanding(f.key);
      }
    }
    if (retention.quarantineDays > 0) {
      const dir = join(paths.landing, 'quarantine');
      const cutoff = now.getTime() - retention.quarantineDays * DAY_MS;
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        const path = join(dir, name);
        const s = await stat(path).catch(() => undefined);
        if (s?.isFile() && s.mtimeMs < cutoff) {
          await rm(path, { force: true });
          removed.push({ path: relative(paths.root, path), what: 'quarantine', bytes: s.size });
          ledger.recordRemoved(runId, path, 'quarantine', s.size, now);
        }
      }
    }
  } finally {
    ledger.close();
  }
  return removed;
}

/** One sentence for the run's report. */
export function describeRemoved(removed: readonly Removed[], config: EnvironmentConfig): string {
  const retention = config.retention ?? DEFAULT_RETENTION;
  const bytes = removed.reduce((n, r) => n + r.bytes, 0);
  const landing = removed.filter((r) => r.what === 'landing');
  const quarantine = removed.filter((r) => r.what === 'quarantine');
  const parts = [
    landing.length ? `${landing.length} encrypted original(s) loaded more than ${retention.landingDays} days ago (${landing.map((r) => r.path).join(', ')})` : undefined,
    quarantine.length ? `${quarantine.length} quarantine file(s) older than ${retention.quarantineDays} days (${quarantine.map((r) => r.path).join(', ')})` : undefined,
  ].filter(Boolean);
  return `Retention removed ${parts.join(' and ')}: ${(bytes / 1024 / 1024).toFixed(1)} MB freed (retention in config.yaml).`;
}
