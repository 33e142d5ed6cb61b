/**
 * `pds schedule run`: the scheduler wired to the engine's service (loads started with origin
 * `scheduler`, under the environment's run lock), alerts for runs that ended flagged or failed and
 * for missed slots, the delivery watch after each load, and log lines in `PDS_HOME/logs` (a
 * load's notices among them).
 * Stopping (SIGTERM): the signal cancels the load in hand (its open load rolled back; the next
 * run finishes the data), and the CLI exits within its grace period whatever a server does.
 *
 * The same wiring (`scheduleLoads`) runs in the desktop app's engine host while its "Run
 * schedules while the app is open" setting is on, its loads started through the console's
 * handlers (their events reach the window) and yielding to a `pds schedule run` that is alive.
 */
import { join } from 'node:path';
import { environmentPaths, getEnvironment, loadConfig } from '../config/config-store.js';
import type { EnvironmentConfig } from '../config/config-schema.js';
import type { RunOptions, RunResult } from '../domain/results.js';
import { ConfigError } from '../errors/index.js';
import { Ledger, type RunNotice } from '../ledger/ledger.js';
import { createConsoleService } from '../service/console-service.js';
import { alertForDelivery, alertForRun, alertForSlot, deliverAlert, type Alert, type AlertOutcome } from './alerts.js';
import { systemClock, type Clock } from './cron-times.js';
import { watchDeliveries } from './delivery-watch.js';
import { createLogger, type LogEntry } from './log.js';
import { ScheduleLedger } from './schedule-ledger.js';
import { Scheduler, type SchedulerNotice } from './scheduler.js';

export interface RunSchedulerOptions {
  home: string;
  envs?: string[];
  signal: AbortSignal;
  logFormat?: 'text' | 'json';
  clock?: Clock;
  /** Where stderr lines go (default process.stderr). */
  stderr?: (line: string) => void;
}

/** Delivers an alert with deduplication, logging what became of it. */
export async function raiseAlert(home: string, env: string, config: EnvironmentConfig, alert: Alert, at: Date, log: (e: LogEntry) => void): Promise<AlertOutcome> {
  const ledger = ScheduleLedger.open(environmentPaths(home, env).ledger);
  try {
    const outcome = await deliverAlert(alert, config.alerts, home, ledger, at);
    log({ level: outcome === 'suppressed' || outcome === 'no-channel' ? 'info' : 'warn', msg: `alert ${outcome}: ${alert.subject}`, env, kind: alert.kind });
    return outcome;
  } finally {
    ledger.close();
  }
}

/**
 * The notices a run gave (retention, data protection, a cancel), one log line each (`warn` for a
 * warning), so that a server without a console keeps them in `PDS_HOME/logs`.
 */
function logRunNotices(home: string, env: string, schedule: string, runId: string, log: (e: LogEntry) => void): void {
  let notices: RunNotice[];
  try {
    const ledger = Ledger.open(environmentPaths(home, env).ledger);
    try {
      notices = ledger.runNotices(runId);
    } finally {
      ledger.close();
    }
  } catch (error) {
    log({ level: 'error', msg: `the notices of run ${runId} could not be read (pds report --env ${env} ${runId} shows them): ${error instanceof Error ? error.message : String(error)}`, env, schedule, runId });
    return;
  }
  for (const n of notices) log({ level: n.level === 'warning' ? 'warn' : 'info', msg: `run notice: ${n.message}`, env, schedule, runId, noticeAt: n.time });
}

/**
 * After a load: its notices in the log, an alert for a flagged or failed run (a succeeded one
 * clears those), and the delivery watch.
 */
export async function afterRun(home: string, notice: SchedulerNotice, config: EnvironmentConfig, at: Date, log: (e: LogEntry) => void): Promise<void> {
  if (notice.type === 'slot-missed') {
    await raiseAlert(home, notice.env, config, alertForSlot(notice, config.alerts), at, log);
    return;
  }
  const { env, result } = notice;
  logRunNotices(home, env, notice.schedule, result.runId, log);
  const alert = alertForRun(env, result, config.alerts);
  const ledger = ScheduleLedger.open(environmentPaths(home, env).ledger);
  let late: ReturnType<typeof watchDeliveries>;
  try {
    if (result.status === 'succeeded') {
      ledger.clearAlerts('run-flagged', []);
      ledger.clearAlerts('run-failed', []);
    }
    late = watchDeliveries(ledger, config, at).filter((f) => f.late);
  } finally {
    ledger.close();
  }
  if (alert) await raiseAlert(home, env, config, alert, at, log);
  const deliveryAlerts = late.map((f) => alertForDelivery(env, f));
  for (const a of deliveryAlerts) await raiseAlert(home, env, config, a, at, log);
  const keep = ScheduleLedger.open(environmentPaths(home, env).ledger);
  try {
    keep.clearAlerts('delivery-late', deliveryAlerts.map((a) => a.fingerprint));
  } finally {
    keep.close();
  }
}

/**
 * Alerts for a run started outside the scheduler (`pds run --alert`, typically from cron): the
 * same alerts, deduplication and delivery watch as after a scheduled load. Log lines go to
 * `PDS_HOME/logs` like the scheduler's.
 */
export async function alertAfterRun(home: string, env: string, result: RunResult, options: { logFormat?: 'text' | 'json'; stderr?: (line: string) => void } = {}): Promise<void> {
  const config = getEnvironment(await loadConfig(home), env);
  const log = createLogger({ dir: join(home, 'logs'), format: options.logFormat ?? 'text', stderr: options.stderr });
  await afterRun(home, { type: 'run-ended', env, schedule: 'manual', result }, config, new Date(), log);
}

/** Starts a load with an origin; throws RUN_IN_PROGRESS when the environment's run lock is held. */
export type RunBeginner = (env: string, options: RunOptions, origin: string) => Promise<{ runId: string; done: Promise<RunResult> }>;

export interface ScheduleLoadsOptions {
  home: string;
  /** Environments to schedule; default every environment with schedules in config.yaml, read again at each tick. */
  envs?: string[];
  signal: AbortSignal;
  /** How loads start (origin `scheduler`): the engine's service, or the console handlers of the desktop app's engine host. */
  begin: RunBeginner;
  /** Leave an environment to another scheduler whose heartbeat is alive (the desktop app). */
  yieldToOthers?: boolean;
  logFormat?: 'text' | 'json';
  clock?: Clock;
  /** Where stderr lines go (default process.stderr). */
  stderr?: (line: string) => void;
}

/**
 * The scheduler with its loads, alerts, delivery watch and log lines in `PDS_HOME/logs`, until
 * `signal` aborts (a load in progress then finishes unless its own signal cancels it, and the
 * heartbeats are marked stopped). Used by `pds schedule run` and the desktop app's engine host.
 */
export async function scheduleLoads(options: ScheduleLoadsOptions): Promise<void> {
  const clock = options.clock ?? systemClock;
  const log = createLogger({ dir: join(options.home, 'logs'), format: options.logFormat, stderr: options.stderr, now: () => clock.now() });
  const scheduler = new Scheduler({
    home: options.home,
    envs: options.envs,
    clock,
    log,
    yieldToOthers: options.yieldToOthers,
    start: (env, runOptions) => options.begin(env, runOptions, 'scheduler'),
    notify: (notice, envConfig) => afterRun(options.home, notice, envConfig, clock.now(), log),
  });
  await scheduler.run(options.signal);
}

/** Runs the scheduler in the foreground until `signal` aborts. */
export async function runScheduler(options: RunSchedulerOptions): Promise<void> {
  const config = await loadConfig(options.home);
  const envs = options.envs?.length ? options.envs : Object.keys(config.environments).filter((e) => (config.environments[e]!.schedules ?? []).some((s) => s.enabled));
  for (const env of envs) getEnvironment(config, env);
  if (envs.length === 0) {
    throw new ConfigError('No environment has an enabled schedule, so the scheduler has nothing to do.', {
      code: 'NO_SCHEDULES',
      hint: 'Add a schedule under environments.<name>.schedules in config.yaml (README "Unattended operation"), or name the environments with --env.',
    });
  }
  const service = createConsoleService({ home: options.home, signal: options.signal });
  await scheduleLoads({
    home: options.home,
    envs,
    signal: options.signal,
    logFormat: options.logFormat,
    clock: options.clock,
    stderr: options.stderr,
    begin: async (env, runOptions, origin) => {
      const started = await service.begin(env, runOptions, { origin });
      return { runId: started.runId, done: started.done };
    },
  });
}
