/**
 * What unattended operation keeps in an environment's ledger (migration 0003-unattended): the
 * scheduler's heartbeat, schedule slots and their outcomes, alert state (deduplication) and the
 * files retention removed. Opened beside the run ledger (same SQLite file, WAL, busy timeout).
 */
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { openLedgerDatabase } from '../ledger/ledger.js';
import { processAlive } from '../service/process-alive.js';

/** How often the scheduler beats. */
export const HEARTBEAT_MS = 60_000;
/** A heartbeat older than this (three missed beats) is stale: the scheduler is not running. */
export const HEARTBEAT_STALE_MS = 3 * HEARTBEAT_MS + 10_000;

export type SlotOutcome = 'started' | 'skipped' | 'missed' | 'caught-up' | 'failed';

export interface SlotRecord {
  schedule: string;
  slotAt: string;
  outcome: SlotOutcome;
  runId: string | null;
  detail: string | null;
  recordedAt: string;
}

export interface Heartbeat {
  pid: number;
  host: string;
  startedAt: string;
  beatAt: string;
  nextSlotAt: string | null;
  stoppedAt: string | null;
}

/** The scheduler as the console and `pds doctor` see it. */
export interface SchedulerState {
  state: 'alive' | 'stale' | 'stopped' | 'never';
  lastBeat: string | null;
  pid: number | null;
  host: string | null;
  nextSlotAt: string | null;
  /** One sentence for a person. */
  detail: string;
}

export interface AlertStateRow {
  fingerprint: string;
  kind: string;
  firstSeenAt: string;
  lastSeenAt: string;
  lastSentAt: string | null;
  seen: number;
  summary: string;
}

/** Which scheduler beats: this process, unless told (a test writes another process's heartbeat). */
export interface SchedulerIdentity {
  pid: number;
  host: string;
}

/** This process as a scheduler. */
export function ownIdentity(): SchedulerIdentity {
  return { pid: process.pid, host: hostname() };
}

export class ScheduleLedger {
  private constructor(private readonly db: Database.Database) {}

  /** Opens the environment's ledger (creating and migrating it). */
  static open(path: string): ScheduleLedger {
    return new ScheduleLedger(openLedgerDatabase(path));
  }

  close(): void {
    this.db.close();
  }

  /** Writes the heartbeat of the scheduler `who` (this process unless told). */
  beat(at: Date, startedAt: Date, nextSlotAt: Date | null, who: SchedulerIdentity = ownIdentity()): void {
    this.db
      .prepare(
        `INSERT INTO scheduler_heartbeat (id, pid, host, started_at, beat_at, next_slot_at, stopped_at) VALUES (1, ?, ?, ?, ?, ?, NULL)
         ON CONFLICT(id) DO UPDATE SET pid = excluded.pid, host = excluded.host, started_at = excluded.started_at,
           beat_at = excluded.beat_at, next_slot_at = excluded.next_slot_at, stopped_at = NULL`,
      )
      .run(who.pid, who.host, startedAt.toISOString(), at.toISOString(), nextSlotAt?.toISOString() ?? null);
  }

  /** Records a clean stop of `who`'s heartbeat (then read `stopped`, not `stale`); another scheduler's heartbeat is left as it is. */
  stopped(at: Date, who: SchedulerIdentity = ownIdentity()): void {
    this.db.prepare('UPDATE scheduler_heartbeat SET stopped_at = ?, beat_at = ? WHERE id = 1 AND pid = ? AND host = ?').run(at.toISOString(), at.toISOString(), who.pid, who.host);
  }

  heartbeat(): Heartbeat | undefined {
    const r = this.db.prepare('SELECT * FROM scheduler_heartbeat WHERE id = 1').get() as Record<string, unknown> | undefined;
    if (!r) return undefined;
    return {
      pid: r.pid as number,
      host: r.host as string,
      startedAt: r.started_at as string,
      beatAt: r.beat_at as string,
      nextSlotAt: (r.next_slot_at as string | null) ?? null,
      stoppedAt: (r.stopped_at as string | null) ?? null,
    };
  }

  /** The newest slot recorded for a schedule. */
  lastSlot(schedule: string): SlotRecord | undefined {
    const r = this.db.prepare('SELECT * FROM schedule_slots WHERE schedule = ? ORDER BY slot_at DESC LIMIT 1').get(schedule) as Record<string, unknown> | undefined;
    return r ? toSlot(r) : undefined;
  }

  recordSlot(schedule: string, slotAt: Date, outcome: SlotOutcome, meta: { runId?: string; detail?: string; at: Date }): void {
    this.db
      .prepare('INSERT OR REPLACE INTO schedule_slots (schedule, slot_at, outcome, run_id, detail, recorded_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(schedule, slotAt.toISOString(), outcome, meta.runId ?? null, meta.detail ?? null, meta.at.toISOString());
  }

  /** Slots recorded, newest first. */
  slots(limit = 50): SlotRecord[] {
    return (this.db.prepare('SELECT * FROM schedule_slots ORDER BY slot_at DESC, recorded_at DESC LIMIT ?').all(limit) as Record<string, unknown>[]).map(toSlot);
  }

  alertState(fingerprint: string): AlertStateRow | undefined {
    const r = this.db.prepare('SELECT * FROM alert_state WHERE fingerprint = ?').get(fingerprint) as Record<string, unknown> | undefined;
    return r
      ? {
          fingerprint: r.fingerprint as string,
          kind: r.kind as string,
          firstSeenAt: r.first_seen_at as string,
          lastSeenAt: r.last_seen_at as string,
          lastSentAt: (r.last_sent_at as string | null) ?? null,
          seen: r.seen as number,
          summary: r.summary as string,
        }
      : undefined;
  }

  /** Notes that a problem was seen (again) at `at`; `sent` when an alert went out for it. */
  noteAlert(fingerprint: string, kind: string, summary: string, at: Date, sent: boolean): void {
    const iso = at.toISOString();
    this.db
      .prepare(
        `INSERT INTO alert_state (fingerprint, kind, first_seen_at, last_seen_at, last_sent_at, seen, summary) VALUES (?, ?, ?, ?, ?, 1, ?)
         ON CONFLICT(fingerprint) DO UPDATE SET last_seen_at = excluded.last_seen_at, seen = seen + 1, summary = excluded.summary,
           last_sent_at = COALESCE(excluded.last_sent_at, last_sent_at)`,
      )
      .run(fingerprint, kind, iso, iso, sent ? iso : null, summary);
  }

  /** Forgets the problems of `kind` not in `current` (they cleared: the next occurrence alerts again). */
  clearAlerts(kind: string, current: readonly string[]): void {
    const keep = new Set(current);
    const rows = this.db.prepare('SELECT fingerprint FROM alert_state WHERE kind = ?').all(kind) as { fingerprint: string }[];
    const del = this.db.prepare('DELETE FROM alert_state WHERE fingerprint = ?');
    for (const r of rows) if (!keep.has(r.fingerprint)) del.run(r.fingerprint);
  }

  recordRemoved(runId: string | null, path: string, what: 'landing' | 'quarantine', bytes: number, at: Date): void {
    this.db.prepare('INSERT INTO retention_log (run_id, path, what, bytes, removed_at) VALUES (?, ?, ?, ?, ?)').run(runId, path, what, bytes, at.toISOString());
  }

  /** Files whose status is loaded and whose landing copy is still recorded, loaded before `before`. */
  landedBefore(before: Date): { key: string; landing: string }[] {
    return this.db
      .prepare(`SELECT key, landing FROM files WHERE status = 'loaded' AND landing IS NOT NULL AND parent_key IS NULL AND updated_at < ? ORDER BY key`)
      .all(before.toISOString()) as { key: string; landing: string }[];
  }

  /** Notes that a file's landing copy was removed by retention. */
  forgetLanding(key: string): void {
    this.db.prepare('UPDATE files SET landing = NULL WHERE key = ?').run(key);
  }

  /** The newest file of a kind the ledger has seen, by the date in its name (`YYYY-MM-DD` in the key). */
  newestFiles(kinds: readonly string[]): { key: string; updatedAt: string; status: string }[] {
    const marks = kinds.map(() => '?').join(', ');
    return this.db.prepare(`SELECT key, updated_at, status FROM files WHERE kind IN (${marks}) AND parent_key IS NULL`).all(...kinds).map((r) => {
      const row = r as { key: string; updated_at: string; status: string };
      return { key: row.key, updatedAt: row.updated_at, status: row.status };
    });
  }

  /** The size of the largest source object recorded (packages and logs, not members). */
  largestFileBytes(): number {
    return (this.db.prepare('SELECT COALESCE(MAX(size), 0) n FROM files WHERE parent_key IS NULL').get() as { n: number }).n;
  }

  /** Recent runs that finished without failing (dry runs and loads of named files left out), newest first, with their `only`. */
  lastGoodRuns(): { runId: string; only: string | null; finishedAt: string; status: string }[] {
    const out: { runId: string; only: string | null; finishedAt: string; status: string }[] = [];
    for (const r of this.db.prepare(`SELECT id, options, finished_at, status FROM runs WHERE status IN ('succeeded', 'flagged') AND finished_at IS NOT NULL ORDER BY rowid DESC LIMIT 200`).all() as Record<string, unknown>[]) {
      let options: { only?: string; dryRun?: boolean; files?: unknown[]; retryKeys?: unknown[] } = {};
      try {
        options = JSON.parse(r.options as string) as typeof options;
      } catch {
        continue;
      }
      if (options.dryRun || options.files || options.retryKeys) continue;
      out.push({ runId: r.id as string, only: options.only ?? null, finishedAt: r.finished_at as string, status: r.status as string });
    }
    return out;
  }
}

function toSlot(r: Record<string, unknown>): SlotRecord {
  return {
    schedule: r.schedule as string,
    slotAt: r.slot_at as string,
    outcome: r.outcome as SlotOutcome,
    runId: (r.run_id as string | null) ?? null,
    detail: (r.detail as string | null) ?? null,
    recordedAt: r.recorded_at as string,
  };
}

/** Reads a heartbeat as alive, stale, stopped or never, as of `now`. */
export function schedulerStateOf(beat: Heartbeat | undefined, now: Date): SchedulerState {
  if (!beat) return { state: 'never', lastBeat: null, pid: null, host: null, nextSlotAt: null, detail: 'The scheduler has never run for this environment.' };
  const base = { lastBeat: beat.beatAt, pid: beat.pid, host: beat.host, nextSlotAt: beat.nextSlotAt };
  if (beat.stoppedAt) return { ...base, state: 'stopped', detail: `The scheduler stopped at ${beat.stoppedAt} (process ${beat.pid} on ${beat.host}).` };
  const age = now.getTime() - Date.parse(beat.beatAt);
  const gone = beat.host === hostname() && !processAlive(beat.pid);
  if (age > HEARTBEAT_STALE_MS || gone) {
    return { ...base, state: 'stale', detail: `The scheduler's last heartbeat was at ${beat.beatAt} (${Math.round(age / 60_000)} min ago, process ${beat.pid} on ${beat.host}${gone ? ', no longer running' : ''}).` };
  }
  return { ...base, state: 'alive', detail: `The scheduler is running (process ${beat.pid} on ${beat.host}, last heartbeat ${beat.beatAt}${beat.nextSlotAt ? `, next slot ${beat.nextSlotAt}` : ''}).` };
}
