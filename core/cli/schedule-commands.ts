/**
 * `pds schedule list|run` and `pds doctor` (README "Unattended operation"): thin adapters over the
 * console's schedule methods, the scheduler (core/schedule/run-scheduler.ts) and the doctor.
 */
import { Command, Option } from 'commander';
import type { ConsoleEngine } from '../service/console-handlers.js';
import { resolveHome } from '../config/config-store.js';
import { formatDoctor, runDoctor } from '../schedule/doctor.js';
import { runScheduler } from '../schedule/run-scheduler.js';

export interface ScheduleCommandsHost {
  withHandlers<T>(fn: (handlers: ConsoleEngine) => Promise<T>): Promise<T>;
  setExitCode(code: number): void;
  /** The home folder given with --home (or undefined). */
  home(): string | undefined;
  /** Aborted by SIGTERM / Ctrl-C. */
  signal: AbortSignal;
}

export function addScheduleCommands(program: Command, host: ScheduleCommandsHost): void {
  const schedule = program.command('schedule').description('scheduled loads: list the schedules of an environment, or run the scheduler in the foreground');

  schedule
    .command('list')
    .description('each schedule with its next five run times (in its time zone, and UTC), and whether the scheduler is alive')
    .requiredOption('--env <name>', 'environment')
    .option('--json', 'print as JSON')
    .action(async (opts: { env: string; json?: boolean }) => {
      const list = await host.withHandlers((h) => h.listSchedules({ env: opts.env }));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      const lines: string[] = [];
      if (list.schedules.length === 0) lines.push(`Environment ${opts.env} has no schedule. Add one under environments.${opts.env}.schedules in config.yaml (README "Unattended operation").`);
      for (const s of list.schedules) {
        lines.push(`${s.name}: "${s.cron}" ${s.timezone}, loads ${s.load}${s.courses?.length ? ` (courses ${s.courses.join(', ')})` : ''}${s.enabled ? '' : ' — DISABLED'}`);
        for (const r of s.nextRuns) lines.push(`  ${r.local}  (${r.utc.replace(/:00\.000Z$/, 'Z')})`);
        if (s.lastSlot) lines.push(`  last slot ${s.lastSlot.at}: ${s.lastSlot.outcome}${s.lastSlot.runId ? ` (run ${s.lastSlot.runId})` : ''}${s.lastSlot.detail ? ` — ${s.lastSlot.detail}` : ''}`);
      }
      lines.push(`Scheduler: ${list.scheduler.state}. ${list.scheduler.detail}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  schedule
    .command('run')
    .description('run the scheduler in the foreground (for systemd or cron: docs/unattended.md); SIGTERM stops it within 5 s')
    .option('--env <name...>', 'environments to schedule (default: every environment with an enabled schedule)')
    .addOption(new Option('--log-format <format>', 'stderr log lines as text or JSON (the file PDS_HOME/logs/pds.log is always JSON)').choices(['text', 'json']).default('text'))
    .action(async (opts: { env?: string[]; logFormat: 'text' | 'json' }) => {
      await runScheduler({ home: resolveHome(host.home()), envs: opts.env, signal: host.signal, logFormat: opts.logFormat });
    });

  program
    .command('doctor')
    .description('check everything an environment needs to run unattended; exit 0 all well, 2 warnings, 1 errors')
    .requiredOption('--env <name>', 'environment')
    .option('--json', 'print as JSON')
    .action(async (opts: { env: string; json?: boolean }) => {
      const report = await runDoctor({ home: resolveHome(host.home()), env: opts.env });
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatDoctor(report)}\n`);
      host.setExitCode(report.exitCode);
    });
}
