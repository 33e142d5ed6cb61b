/**
 * Schedule methods of the console (README "Unattended operation"): the environment's schedules with
 * their next five run times and the scheduler's heartbeat; saving a schedule or turning it on or
 * off edits `config.yaml` in place (comments and order kept, a save over a newer file refused);
 * the next run times of an expression, to check it before saving.
 */
import { environmentBlock, readConfigDocument, saveConfigDocument, syncIn, type ConfigDocument } from '../config/config-document.js';
import { environmentIssues } from '../config/config-store.js';
import { cronProblem, isTimeZone, scheduleSchema, type ScheduleConfig } from '../config/unattended-schema.js';
import type { ConsoleHandlers, ResultOf } from '../contract/methods.js';
import { ConfigError } from '../errors/index.js';
import { formatLocal, nextRunTimes } from '../schedule/cron-times.js';
import { ScheduleLedger, schedulerStateOf } from '../schedule/schedule-ledger.js';
import { serializeConfigEdit } from './config-edits.js';
import { configChangedError } from './environment-methods.js';
import type { HandlerContext } from './handler-context.js';

export type ScheduleMethods = Pick<ConsoleHandlers, 'listSchedules' | 'saveSchedule' | 'setScheduleEnabled' | 'nextRuns'>;
type ScheduleView = ResultOf<'saveSchedule'>;

/** The next `count` run times of an expression, each in UTC and in its zone; CONFIG_INVALID naming what is wrong. */
export function runTimes(cron: string, timezone: string, count: number, after: Date): { utc: string; local: string }[] {
  const problem = cronProblem(cron);
  if (problem !== undefined) {
    throw new ConfigError(`"${cron}" is not a cron expression: ${problem}.`, { code: 'CONFIG_INVALID', path: 'cron', hint: 'Five fields: minute hour day-of-month month day-of-week, e.g. "30 2 * * *" for 02:30 every day.' });
  }
  if (!isTimeZone(timezone)) {
    throw new ConfigError(`"${timezone}" is not an IANA time zone.`, { code: 'CONFIG_INVALID', path: 'timezone', hint: 'Use a zone name such as Europe/London, America/New_York or UTC.' });
  }
  return nextRunTimes(cron, timezone, count, after).map((d) => ({ utc: d.toISOString(), local: formatLocal(d, timezone) }));
}

export function scheduleMethods(ctx: Pick<HandlerContext, 'home' | 'environment' | 'hasLedger'>, now: () => Date = () => new Date()): ScheduleMethods {
  const home = ctx.home;
  // One at a time with every other edit of config.yaml in this process (environments too).
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => serializeConfigEdit(home, fn);

  async function viewOf(env: string, schedule: ScheduleConfig): Promise<ScheduleView> {
    const { paths } = await ctx.environment(env);
    const last = ctx.hasLedger(env) ? withScheduleLedger(paths.ledger, (l) => l.lastSlot(schedule.name)) : undefined;
    return {
      ...schedule,
      nextRuns: runTimes(schedule.cron, schedule.timezone, 5, now()),
      lastSlot: last ? { at: last.slotAt, outcome: last.outcome, runId: last.runId, detail: last.detail } : null,
    };
  }

  /** Applies `change` to the environment's schedules list in config.yaml and saves it when it still validates. */
  async function editSchedules(env: string, revision: string | undefined, change: (list: Record<string, unknown>[], config: ConfigDocument) => Record<string, unknown>): Promise<ScheduleConfig> {
    const config = await readConfigDocument(home);
    const block = environmentBlock(config.doc, env);
    if (!block) throw new ConfigError(`${config.file} has no environment "${env}".`, { code: 'CONFIG_NO_ENVIRONMENT', file: config.file, path: `environments.${env}` });
    if (revision !== undefined && config.revision !== revision) throw configChangedError();
    const list = Array.isArray(block.schedules) ? (structuredClone(block.schedules) as Record<string, unknown>[]) : [];
    const changed = change(list, config);
    const issues = environmentIssues({ ...block, schedules: list });
    if (issues.length > 0) {
      throw new ConfigError(`The schedule would make environment ${env} invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}.`, {
        code: 'CONFIG_INVALID',
        file: config.file,
        path: `environments.${env}.${issues[0]!.path}`,
        hint: 'Correct the schedule and save again; nothing was written.',
      });
    }
    // The rest of the file (comments, order, other environments) is left as it was.
    syncIn(config.doc, ['environments', env, 'schedules'], list);
    await saveConfigDocument(home, config);
    return scheduleSchema.parse(changed);
  }

  return {
    async listSchedules({ env }) {
      const { config, paths } = await ctx.environment(env);
      const doc = await readConfigDocument(home);
      const schedules = await Promise.all((config.schedules ?? []).map((s) => viewOf(env, s)));
      const beat = ctx.hasLedger(env) ? withScheduleLedger(paths.ledger, (l) => l.heartbeat()) : undefined;
      return { schedules, scheduler: schedulerStateOf(beat, now()), revision: doc.revision };
    },

    saveSchedule({ env, revision, schedule }) {
      return serialized(async () => {
        runTimes(schedule.cron, schedule.timezone, 1, now());
        const saved = await editSchedules(env, revision, (list) => {
          const entry: Record<string, unknown> = { name: schedule.name, cron: schedule.cron, timezone: schedule.timezone, load: schedule.load, ...(schedule.courses?.length ? { courses: schedule.courses } : {}), enabled: schedule.enabled };
          const at = list.findIndex((s) => s.name === schedule.name);
          if (at >= 0) list[at] = entry;
          else list.push(entry);
          return entry;
        });
        return viewOf(env, saved);
      });
    },

    setScheduleEnabled({ env, name, enabled }) {
      return serialized(async () => {
        const saved = await editSchedules(env, undefined, (list, config) => {
          const entry = list.find((s) => s.name === name);
          if (!entry) {
            throw new ConfigError(`Environment ${env} has no schedule "${name}".`, {
              code: 'NO_SUCH_SCHEDULE',
              file: config.file,
              path: `environments.${env}.schedules`,
              hint: list.length > 0 ? `Its schedules: ${list.map((s) => String(s.name)).join(', ')}.` : 'Add a schedule first.',
            });
          }
          entry.enabled = enabled;
          return entry;
        });
        return viewOf(env, saved);
      });
    },

    async nextRuns({ cron, timezone, count, after }) {
      return runTimes(cron, timezone, count, after ? new Date(after) : now());
    },
  };
}

function withScheduleLedger<T>(path: string, fn: (l: ScheduleLedger) => T): T {
  const l = ScheduleLedger.open(path);
  try {
    return fn(l);
  } finally {
    l.close();
  }
}
