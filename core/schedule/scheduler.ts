/**
 * The foreground scheduler (`pds schedule run`, README "Unattended operation"): fires each
 * environment's schedules on time, one load per environment at a time (the run lock shared with
 * the console and `pds run`: a slot that finds a load in progress is skipped, logged and recorded),
 * beats a heartbeat into each environment's ledger, and after downtime catches up once: the newest
 * missed slot loads at the next start (one load takes every file not yet loaded), the older ones
 * are recorded as missed. The clock is injectable (tests move it by hand).
 *
 * With `yieldToOthers` (the desktop app's scheduler) an environment whose heartbeat is alive and
 * belongs to another process (a `pds schedule run` on a server) is left to it: no slot fired, no
 * heartbeat written. When that heartbeat stops or goes stale, this scheduler takes the
 * environment over and catches up from the newest slot the ledger recorded. `pds schedule run`
 * never yields; the run lock still keeps two loads of an environment apart in any race.
 */
import { environmentPaths, getEnvironment, loadConfig } from '../config/config-store.js';
import type { EnvironmentConfig } from '../config/config-schema.js';
import type { ScheduleConfig } from '../config/unattended-schema.js';
import type { RunOptions, RunResult } from '../domain/results.js';
import { PdsError } from '../errors/index.js';
import { formatLocal, runTimesBetween, systemClock, nextRunTimes, type Clock } from './cron-times.js';
import { HEARTBEAT_MS, ownIdentity, ScheduleLedger, schedulerStateOf, type SchedulerIdentity } from './schedule-ledger.js';
import type { LogEntry } from './log.js';

/** A slot fired later than this after its time is a catch-up (the scheduler was not running then). */
export const LATE_MS = 2 * 60_000;

/** Starts a load; throws RUN_IN_PROGRESS when the environment's run lock is held. */
export type LoadStarter = (env: string, options: RunOptions) => Promise<{ runId: string; done: Promise<RunResult> }>;

/** What the scheduler reports for alerts: a slot it could not run, or a run that ended. */
export type SchedulerNotice =
  | { type: 'slot-missed'; env: string; schedule: string; slots: string[]; reason: 'skipped' | 'missed' | 'failed'; detail: string; runId?: string }
  | { type: 'run-ended'; env: string; schedule: string; result: RunResult };

export interface SchedulerOptions {
  home: string;
  /** Environments to schedule; default every environment with schedules. */
  envs?: string[];
  clock?: Clock;
  start: LoadStarter;
  log?: (entry: LogEntry) => void;
  /** Told of missed slots and ended runs (alerts); awaited before the scheduler moves on. */
  notify?: (notice: SchedulerNotice, config: EnvironmentConfig) => Promise<void>;
  /**
   * Leaves an environment to another scheduler whose heartbeat is alive (the desktop app next to a
   * `pds schedule run`); default false (`pds schedule run` schedules what it is given).
   */
  yieldToOthers?: boolean;
}

/** Run options of a schedule: what it loads and its course filter. */
export function runOptionsOf(schedules: readonly ScheduleConfig[]): RunOptions {
  const loads = new Set(schedules.map((s) => s.load));
  const only = loads.size === 1 && !loads.has('both') ? (schedules[0]!.load as 'events' | 'weekly') : undefined;
  const filtered = schedules.every((s) => s.courses && s.courses.length > 0);
  const courses = filtered ? [...new Set(schedules.flatMap((s) => s.courses ?? []))] : undefined;
  return { ...(only ? { only } : {}), ...(courses ? { courses } : {}) };
}

export class Scheduler {
  private readonly clock: Clock;
  private readonly startedAt: Date;
  /** Per `env/schedule`, the newest slot dealt with. */
  private readonly cursors = new Map<string, Date>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly log: (entry: LogEntry) => void;
  /** This scheduler as its heartbeats name it. */
  private readonly identity: SchedulerIdentity = ownIdentity();
  /** Environments left to another scheduler at the last tick (`yieldToOthers`). */
  private readonly yielding = new Set<string>();

  constructor(private readonly options: SchedulerOptions) {
    this.clock = options.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.log = options.log ?? (() => undefined);
  }

  /** The environments to schedule and their enabled schedules, read from config.yaml now (edits apply at the next tick). */
  private async plan(): Promise<{ env: string; config: EnvironmentConfig; schedules: ScheduleConfig[] }[]> {
    const config = await loadConfig(this.options.home);
    const names = this.options.envs ?? Object.keys(config.environments).filter((e) => (config.environments[e]!.schedules ?? []).length > 0);
    return names.map((env) => {
      const c = getEnvironment(config, env);
      return { env, config: c, schedules: (c.schedules ?? []).filter((s) => s.enabled) };
    });
  }

  private ledger<T>(env: string, fn: (l: ScheduleLedger) => T): T {
    const l = ScheduleLedger.open(environmentPaths(this.options.home, env).ledger);
    try {
      return fn(l);
    } finally {
      l.close();
    }
  }

  /** Where a schedule's slots are counted from: the newest recorded slot, else the scheduler's start. */
  private cursorOf(env: string, schedule: ScheduleConfig): Date {
    const id = `${env}/${schedule.name}`;
    let cursor = this.cursors.get(id);
    if (!cursor) {
      const last = this.ledger(env, (l) => l.lastSlot(schedule.name));
      cursor = last ? new Date(last.slotAt) : this.startedAt;
      this.cursors.set(id, cursor);
    }
    return cursor;
  }

  /**
   * With `yieldToOthers`: whether another process's live heartbeat holds `env` now. Said in the log
   * when that changes; while it holds, the cached cursors of `env` are dropped, so taking over
   * counts slots from the newest one the ledger recorded (the other scheduler's), as a start does.
   */
  private yieldsTo(env: string, now: Date): boolean {
    const state = schedulerStateOf(this.ledger(env, (l) => l.heartbeat()), now);
    const other = state.state === 'alive' && (state.pid !== this.identity.pid || state.host !== this.identity.host);
    if (other) {
      for (const id of [...this.cursors.keys()]) if (id.startsWith(`${env}/`)) this.cursors.delete(id);
      if (!this.yielding.has(env)) {
        this.yielding.add(env);
        this.log({ level: 'info', msg: `leaving ${env} to the scheduler of process ${state.pid} on ${state.host}`, env });
      }
    } else if (this.yielding.delete(env)) {
      this.log({ level: 'info', msg: `taking over ${env}: the other scheduler ${state.state === 'stopped' ? 'stopped' : 'is no longer beating'}`, env });
    }
    return other;
  }

  /** Fires every slot due now (one load per environment), beats the heartbeats; returns when the next slot is due. */
  async tick(): Promise<Date | null> {
    const now = this.clock.now();
    let next: Date | null = null;
    for (const { env, config, schedules } of await this.plan()) {
      if (this.options.yieldToOthers && this.yieldsTo(env, now)) continue;
      const due: { schedule: ScheduleConfig; latest: Date; missed: Date[] }[] = [];
      for (const schedule of schedules) {
        const slots = runTimesBetween(schedule.cron, schedule.timezone, this.cursorOf(env, schedule), now);
        if (slots.length > 0) due.push({ schedule, latest: slots.at(-1)!, missed: slots.slice(0, -1) });
      }
      if (due.length > 0) await this.fire(env, config, due, now);
      let envNext: Date | null = null;
      for (const schedule of schedules) {
        const [n] = nextRunTimes(schedule.cron, schedule.timezone, 1, now);
        if (n && (!envNext || n < envNext)) envNext = n;
      }
      this.ledger(env, (l) => l.beat(now, this.startedAt, envNext, this.identity));
      if (envNext && (!next || envNext < next)) next = envNext;
    }
    return next;
  }

  private async fire(env: string, config: EnvironmentConfig, due: { schedule: ScheduleConfig; latest: Date; missed: Date[] }[], now: Date): Promise<void> {
    const names = due.map((d) => d.schedule.name).join(', ');
    const late = due.filter((d) => now.getTime() - d.latest.getTime() > LATE_MS || d.missed.length > 0);
    for (const d of due) this.cursors.set(`${env}/${d.schedule.name}`, d.latest);
    // Slots that passed while the scheduler was not running: recorded, caught up by this one load.
    this.ledger(env, (l) => {
      for (const d of due) for (const slot of d.missed) l.recordSlot(d.schedule.name, slot, 'missed', { at: now, detail: 'The scheduler was not running at this time; the next load caught up.' });
    });
    const options = runOptionsOf(due.map((d) => d.schedule));
    let started: Awaited<ReturnType<LoadStarter>>;
    try {
      started = await this.options.start(env, options);
    } catch (error) {
      const inProgress = error instanceof PdsError && error.code === 'RUN_IN_PROGRESS';
      const detail = error instanceof Error ? error.message : String(error);
      this.ledger(env, (l) => {
        for (const d of due) l.recordSlot(d.schedule.name, d.latest, inProgress ? 'skipped' : 'failed', { at: now, detail });
      });
      this.log({ level: 'warn', msg: inProgress ? `slot skipped: a load of ${env} is in progress` : `slot could not start: ${detail}`, env, schedule: names, slot: due[0]!.latest.toISOString(), code: error instanceof PdsError ? error.code : undefined });
      for (const d of due) {
        await this.notify({ type: 'slot-missed', env, schedule: d.schedule.name, slots: [...d.missed, d.latest].map((s) => s.toISOString()), reason: inProgress ? 'skipped' : 'failed', detail }, config);
      }
      return;
    }
    const catchUp = late.length > 0;
    this.ledger(env, (l) => {
      for (const d of due) l.recordSlot(d.schedule.name, d.latest, catchUp && late.includes(d) ? 'caught-up' : 'started', { at: now, runId: started.runId });
      // On time again: a later missed or skipped slot is a new problem, alerted again.
      if (!catchUp) l.clearAlerts('slot-missed', []);
    });
    this.log({
      level: 'info',
      msg: `${catchUp ? 'catching up' : 'load started'}: ${env} (${names}) slot ${formatLocal(due[0]!.latest, due[0]!.schedule.timezone)}`,
      env,
      schedule: names,
      slot: due[0]!.latest.toISOString(),
      runId: started.runId,
    });
    for (const d of late) {
      const slots = [...d.missed, d.latest].map((s) => s.toISOString());
      await this.notify({ type: 'slot-missed', env, schedule: d.schedule.name, slots, reason: 'missed', detail: `The scheduler was not running at ${slots.length} slot(s); one load caught up (run ${started.runId}).`, runId: started.runId }, config);
    }
    const settled = started.done.then(
      async (result) => {
        this.log({ level: result.status === 'succeeded' ? 'info' : 'warn', msg: `load ${result.status}: ${env} run ${result.runId}`, env, runId: result.runId, status: result.status, totals: result.totals });
        await this.notify({ type: 'run-ended', env, schedule: names, result }, config);
      },
      (error: unknown) => this.log({ level: 'error', msg: `load could not run: ${error instanceof Error ? error.message : String(error)}`, env, runId: started.runId }),
    );
    this.running.add(settled);
    void settled.finally(() => this.running.delete(settled));
  }

  private async notify(notice: SchedulerNotice, config: EnvironmentConfig): Promise<void> {
    if (!this.options.notify) return;
    try {
      await this.options.notify(notice, config);
    } catch (error) {
      this.log({ level: 'error', msg: `alert could not be sent: ${error instanceof Error ? error.message : String(error)}`, env: notice.env });
    }
  }

  /** Waits for the loads this scheduler started. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Runs until `signal` aborts: ticks at each slot and beats at least every HEARTBEAT_MS. Waits for its loads before returning. */
  async run(signal: AbortSignal): Promise<void> {
    this.log({ level: 'info', msg: `scheduler started (process ${process.pid})` });
    try {
      while (!signal.aborted) {
        let next: Date | null = null;
        try {
          next = await this.tick();
        } catch (error) {
          // A config.yaml broken while the scheduler runs, a ledger busy: said, and tried again at the next beat.
          this.log({ level: 'error', msg: `the scheduler could not check its schedules: ${error instanceof Error ? error.message : String(error)}`, code: error instanceof PdsError ? error.code : undefined });
        }
        const wait = next ? Math.min(HEARTBEAT_MS, next.getTime() - this.clock.now().getTime()) : HEARTBEAT_MS;
        await this.clock.sleep(Math.max(wait, 0) + 5, signal);
      }
    } finally {
      await this.idle();
      const at = this.clock.now();
      for (const { env } of await this.plan().catch(() => [])) {
        try {
          this.ledger(env, (l) => l.stopped(at, this.identity));
        } catch {
          // The ledger is busy: the heartbeat goes stale instead.
        }
      }
      this.log({ level: 'info', msg: 'scheduler stopped' });
    }
  }
}
