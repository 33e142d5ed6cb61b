/**
 * `pds doctor --env E` (README "Unattended operation"): everything an unattended environment needs,
 * checked without changing anything, each finding with what to do. The source, key and targets
 * are the console's test-connection methods (core/service/connection-methods.ts); then disk space,
 * the scheduler's heartbeat, the last successful load of each kind and the delivery watch.
 * Exit code: 0 all well, 2 warnings only, 1 errors.
 */
import { existsSync } from 'node:fs';
import { environmentPaths, getEnvironment, loadConfig } from '../config/config-store.js';
import type { EnvironmentConfig } from '../config/config-schema.js';
import { DEFAULT_DELIVERY_WATCH, DEFAULT_RETENTION } from '../config/unattended-schema.js';
import type { ResultOf } from '../contract/methods.js';
import { PdsError } from '../errors/index.js';
import { freeBytes } from '../pipeline/disk-space.js';
import { createConsoleHandlers } from '../service/console-handlers.js';
import { watchDeliveries } from './delivery-watch.js';
import { ScheduleLedger, schedulerStateOf } from './schedule-ledger.js';

export type FindingLevel = 'ok' | 'warning' | 'error';

export interface Finding {
  check: 'config' | 'source' | 'key' | 'targets' | 'disk' | 'scheduler' | 'last-load' | 'delivery';
  level: FindingLevel;
  message: string;
  /** What to do (warnings and errors). */
  fix?: string;
}

export interface DoctorReport {
  env: string;
  findings: Finding[];
  exitCode: 0 | 1 | 2;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Below this much free space in the landing folder, whatever is planned, it is an error. */
const MIN_FREE_BYTES = 100 * 1024 * 1024;

/** The console's fixes name its screens; on the command line the command is added. */
function forCli(fix: string | undefined, env: string): { fix?: string } {
  if (!fix) return {};
  if (/Keys screen/.test(fix)) return { fix: `${fix} On the command line: pds key import --env ${env} KEYFILE.asc` };
  if (/environment's settings|environment’s settings/.test(fix)) return { fix: `${fix} (config.yaml, environments.${env})` };
  return { fix };
}

function fromCheck(check: Finding['check'], result: ResultOf<'testSource'>, env: string): Finding[] {
  const out: Finding[] = [];
  for (const step of result.steps) {
    if (!step.ok) out.push({ check, level: 'error', message: `${result.engine} ${step.name}: ${step.detail}`, ...forCli(step.fix, env) });
    else if (step.warning) out.push({ check, level: 'warning', message: `${result.engine} ${step.name}: ${step.detail}`, ...forCli(step.fix, env) });
  }
  if (out.length === 0) out.push({ check, level: 'ok', message: `${result.engine}: ${result.summary}` });
  return out;
}

function thrown(check: Finding['check'], error: unknown): Finding {
  if (error instanceof PdsError) return { check, level: 'error', message: error.message, ...(error.hint ? { fix: error.hint } : {}) };
  return { check, level: 'error', message: error instanceof Error ? error.message : String(error) };
}

const mb = (n: number): string => `${Math.round(n / 1024 / 1024).toLocaleString('en-GB')} MB`;

export async function runDoctor(options: { home: string; env: string; now?: Date }): Promise<DoctorReport> {
  const { home, env } = options;
  const now = options.now ?? new Date();
  const findings: Finding[] = [];
  const done = (): DoctorReport => ({
    env,
    findings,
    exitCode: findings.some((f) => f.level === 'error') ? 1 : findings.some((f) => f.level === 'warning') ? 2 : 0,
  });

  let config: EnvironmentConfig;
  try {
    config = getEnvironment(await loadConfig(home), env);
    findings.push({ check: 'config', level: 'ok', message: `config.yaml is valid and defines environment ${env}.` });
  } catch (error) {
    findings.push(thrown('config', error));
    return done();
  }

  const handlers = createConsoleHandlers({ home, origin: 'doctor' });
  try {
    const [source, key, targets] = await Promise.all([
      handlers.testSource({ env }).then((r) => fromCheck('source', r, env), (e: unknown) => [thrown('source', e)]),
      handlers.testKey({ env }).then((r) => fromCheck('key', r, env), (e: unknown) => [thrown('key', e)]),
      handlers.testTargets({ env }).then((rs) => rs.flatMap((r) => fromCheck('targets', r, env)), (e: unknown) => [thrown('targets', e)]),
    ]);
    findings.push(...source, ...key, ...targets);
  } finally {
    await handlers.close();
  }

  const paths = environmentPaths(home, env);
  const hasLedger = existsSync(paths.ledger);
  const ledger = hasLedger ? ScheduleLedger.open(paths.ledger) : undefined;
  try {
    // Disk: the largest file delivered so far, times the margin a run asks for, must fit.
    try {
      const free = await freeBytes(paths.landing, false);
      const factor = config.retention?.diskFactor ?? DEFAULT_RETENTION.diskFactor;
      const biggest = ledger?.largestFileBytes() ?? 0;
      if (free < MIN_FREE_BYTES) findings.push({ check: 'disk', level: 'error', message: `Only ${mb(free)} free for ${paths.landing}.`, fix: 'Free space on that disk before the next load (or lower retention.landingDays so old originals are removed).' });
      else if (biggest * factor > free) findings.push({ check: 'disk', level: 'warning', message: `${mb(free)} free for ${paths.landing}; the largest file so far (${mb(biggest)}) needs about ${mb(biggest * factor)} (×${factor}).`, fix: 'Free space on that disk before the next weekly package arrives.' });
      else findings.push({ check: 'disk', level: 'ok', message: `${mb(free)} free for ${paths.landing}.` });
    } catch (error) {
      findings.push(thrown('disk', error));
    }

    // The scheduler: only a concern when the environment has enabled schedules.
    const enabled = (config.schedules ?? []).filter((s) => s.enabled);
    if (enabled.length === 0) {
      findings.push({ check: 'scheduler', level: 'ok', message: `Environment ${env} has no enabled schedule (loads run by hand).` });
    } else {
      const state = schedulerStateOf(ledger?.heartbeat(), now);
      const run = `pds schedule run --env ${env} (or: systemctl start pds-scheduler; see docs/unattended.md)`;
      if (state.state === 'alive') findings.push({ check: 'scheduler', level: 'ok', message: state.detail });
      else if (state.state === 'stale') findings.push({ check: 'scheduler', level: 'error', message: `${state.detail} Schedules ${enabled.map((s) => s.name).join(', ')} are not being run.`, fix: `Start the scheduler again: ${run}; its journal (journalctl -u pds-scheduler) or ${home}/logs/pds.log says why it stopped.` });
      else if (state.state === 'stopped') findings.push({ check: 'scheduler', level: 'warning', message: `${state.detail} Schedules ${enabled.map((s) => s.name).join(', ')} are not being run.`, fix: `Start it: ${run}.` });
      else findings.push({ check: 'scheduler', level: 'warning', message: `${state.detail} Schedules ${enabled.map((s) => s.name).join(', ')} wait for it.`, fix: `Start it: ${run}.` });
    }

    // The last successful load of each kind.
    const watch = config.watch ?? DEFAULT_DELIVERY_WATCH;
    const good = ledger?.lastGoodRuns() ?? [];
    for (const kind of ['events', 'weekly'] as const) {
      const last = good.find((r) => r.only === null || r.only === kind);
      const maxDays = kind === 'events' ? watch.eventsMaxDays : watch.weeklyMaxDays;
      if (!last) {
        findings.push({ check: 'last-load', level: 'warning', message: `No successful ${kind === 'events' ? 'event-log' : 'weekly'} load of ${env} yet.`, fix: `Run one: pds run --env ${env}${kind === 'events' ? ' --only events' : ' --only weekly'}.` });
        continue;
      }
      const days = Math.floor((now.getTime() - Date.parse(last.finishedAt)) / DAY_MS);
      if (days > maxDays) findings.push({ check: 'last-load', level: 'warning', message: `The last successful ${kind} load was run ${last.runId}, ${days} days ago (${last.finishedAt}).`, fix: `Check the scheduler and the last runs: pds runs --env ${env}.` });
      else findings.push({ check: 'last-load', level: 'ok', message: `Last successful ${kind} load: run ${last.runId} at ${last.finishedAt}${last.status === 'flagged' ? ' (with flagged files)' : ''}.` });
    }

    // The delivery watch.
    if (ledger) {
      for (const f of watchDeliveries(ledger, config, now)) {
        const label = f.what === 'events' ? 'daily event log' : 'weekly package';
        if (!f.late) findings.push({ check: 'delivery', level: 'ok', message: `Newest ${label}: ${f.lastKey} (${f.lastDate}, ${f.days} day(s) ago).` });
        else if (f.lastKey) findings.push({ check: 'delivery', level: 'warning', message: `No new ${label} for ${f.days} days (more than ${f.maxDays}): the last seen is ${f.lastKey} (${f.lastDate}).`, fix: 'Check that the key edX encrypts with has not expired (the key finding above) and ask edX support about the missing deliveries.' });
        else findings.push({ check: 'delivery', level: 'warning', message: `No ${label} has been seen yet.`, fix: `Load once (pds run --env ${env}) so the watch knows the newest file.` });
      }
    } else {
      findings.push({ check: 'delivery', level: 'warning', message: `Environment ${env} has never run, so nothing has been delivered yet.`, fix: `Run the first load: pds run --env ${env}.` });
    }
  } finally {
    ledger?.close();
  }
  return done();
}

/** The report as text: one line per finding, its fix indented below. */
export function formatDoctor(report: DoctorReport): string {
  const mark = { ok: 'ok     ', warning: 'WARNING', error: 'ERROR  ' } as const;
  const lines = report.findings.flatMap((f) => [`${mark[f.level]} ${f.check.padEnd(9)} ${f.message}`, ...(f.fix && f.level !== 'ok' ? [`        ${' '.repeat(9)} → ${f.fix}`] : [])]);
  const errors = report.findings.filter((f) => f.level === 'error').length;
  const warnings = report.findings.filter((f) => f.level === 'warning').length;
  lines.push('', errors ? `${errors} error(s), ${warnings} warning(s).` : warnings ? `${warnings} warning(s), no errors.` : 'All checks passed.');
  return lines.join('\n');
}
