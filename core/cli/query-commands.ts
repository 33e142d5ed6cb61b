/**
 * `pds query learner|roster|activity|program` and `pds export learners`: thin adapters over the
 * console's report methods (core/service/query-methods.ts). Every report prints a table, or JSON
 * (`--json`) or CSV (`--csv`) from the same columns as the console (core/contract/report-tables.ts).
 * An empty result is a message on stderr and exit code 1.
 */
import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ROSTER_STATUSES, type RosterStatus } from '../contract/report-schemas.js';
import { activityTable, exportTable, learnerTable, programTable, rosterTable, toCsv, type Cell, type ReportTable } from '../contract/report-tables.js';
import type { ConsoleEngine } from '../service/console-handlers.js';
import { ConfigError } from '../errors/index.js';
import { environmentPseudonymSecret, pseudonymiseTable } from '../privacy/pseudonyms.js';

export interface QueryCommandsHost {
  withHandlers<T>(fn: (handlers: ConsoleEngine) => Promise<T>): Promise<T>;
  setExitCode(code: number): void;
  /** Parser of a date option (checks a real calendar date). */
  dateOption(option: 'from' | 'to'): (value: string) => string;
  /** The --home option (the pseudonymised export reads the environment's privacy secret). */
  home?: () => string | undefined;
}

interface OutputOptions {
  json?: boolean;
  csv?: boolean;
}

function cellText(value: Cell): string {
  if (value === null) return '';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number' && !Number.isInteger(value)) return value.toFixed(2);
  return String(value);
}

/** An aligned plain-text table (numbers right-aligned). */
export function formatTable(table: ReportTable): string {
  const text = table.rows.map((r) => r.map(cellText));
  const widths = table.columns.map((c, i) => Math.max(c.length, ...text.map((r) => r[i]!.length)));
  const numeric = table.columns.map((_, i) => table.rows.length > 0 && table.rows.every((r) => r[i] === null || typeof r[i] === 'number'));
  const line = (cells: string[]): string => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(table.columns), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n');
}

/** Prints a report as JSON, CSV or a table under `title`; an empty one is `empty` on stderr and exit 1. */
function output(host: QueryCommandsHost, opts: OutputOptions, value: unknown, table: ReportTable, title: string, empty: string): void {
  if (opts.json && opts.csv) throw new ConfigError('Choose one of --json and --csv.', { code: 'OPTIONS_CONFLICT' });
  if (table.rows.length === 0) {
    process.stderr.write(`pds: ${empty}\n`);
    host.setExitCode(1);
    if (opts.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else if (opts.csv) process.stdout.write(toCsv(table));
  else process.stdout.write(`${title}\n\n${formatTable(table)}\n`);
}

const withOutput = (cmd: Command): Command => cmd.option('--json', 'print as JSON').option('--csv', 'print as CSV (RFC 4180, header row)');

/** Parser of a repeatable --status: one of ROSTER_STATUSES each time. */
function statusOption(value: string, previous: RosterStatus[] = []): RosterStatus[] {
  if (!(ROSTER_STATUSES as readonly string[]).includes(value)) throw new InvalidArgumentError(`Allowed choices are ${ROSTER_STATUSES.join(', ')}.`);
  return [...previous, value as RosterStatus];
}

const list = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

export function addQueryCommands(program: Command, host: QueryCommandsHost): void {
  const query = program.command('query').description('reports over the loaded data: a learner, a course roster, course activity, a program');

  withOutput(
    query
      .command('learner')
      .description('every course of a learner: mode, active, enrolled, grade, passed, certificate, last activity')
      .requiredOption('--env <name>', 'environment')
      .argument('<learner>', 'username, e-mail address or user id'),
  ).action(async (learner: string, opts: OutputOptions & { env: string }) => {
    const report = await host.withHandlers((h) => h.queryLearner({ env: opts.env, learner }));
    const who = report.learners.map((l) => `user ${l.userId} (${l.usernames.join(', ') || 'no username'})`).join('; ');
    output(host, opts, report, learnerTable(report), `Learner ${who}: ${report.rows.length} course(s)`, `${who} has no enrolment in the loaded data.`);
  });

  withOutput(
    query
      .command('roster')
      .description('every learner of a course: mode, active, grade, passed, certificate, last activity')
      .requiredOption('--env <name>', 'environment')
      .argument('<course>', 'course id (course-v1:Org+Course+Run) or course key (Org-Course-Run)')
      .option('--mode <modes>', 'only these enrolment modes (comma-separated, repeatable)', list)
      .option('--status <status>', `only learners with this status, repeatable (${ROSTER_STATUSES.join(', ')})`, statusOption),
  ).action(async (course: string, opts: OutputOptions & { env: string; mode?: string[]; status?: RosterStatus[] }) => {
    const report = await host.withHandlers((h) => h.queryRoster({ env: opts.env, course, modes: opts.mode, statuses: opts.status }));
    const filtered = [opts.mode?.length ? `mode ${opts.mode.join('/')}` : '', ...(opts.status ?? [])].filter(Boolean).join(', ');
    output(
      host,
      opts,
      report,
      rosterTable(report),
      `${report.course.courseId} (${report.course.courseKey}): ${report.rows.length} learner(s)${filtered ? `, ${filtered}` : ''}`,
      `No learner of ${report.course.courseKey}${filtered ? ` matches ${filtered}` : ' in the loaded data'}.`,
    );
  });

  withOutput(
    query
      .command('activity')
      .description('a course\'s activity per day or week: active learners, events, video plays, problem attempts and correct answers, forum posts, enrolments')
      .requiredOption('--env <name>', 'environment')
      .argument('<course>', 'course id or course key')
      .option('--from <date>', 'first day (YYYY-MM-DD; default the course\'s first day of data)', host.dateOption('from'))
      .option('--to <date>', 'last day (YYYY-MM-DD; default the course\'s last day of data)', host.dateOption('to'))
      .addOption(new Option('--by <period>', 'one row per day or per week (weeks start on Monday)').choices(['day', 'week']).default('day')),
  ).action(async (course: string, opts: OutputOptions & { env: string; from?: string; to?: string; by: 'day' | 'week' }) => {
    const report = await host.withHandlers((h) => h.queryActivity({ env: opts.env, course, from: opts.from, to: opts.to, by: opts.by }));
    output(
      host,
      opts,
      report,
      activityTable(report),
      `${report.course.courseId}: activity by ${report.by}, ${report.from} to ${report.to}`,
      `No activity of ${report.course.courseKey} from ${report.from} to ${report.to} in the loaded data.`,
    );
  });

  withOutput(
    query
      .command('program')
      .description('per learner of a program: modules passed (run, date), modules remaining, eligible for the capstone')
      .requiredOption('--env <name>', 'environment')
      .argument('<program>', 'program name (programs: in config.yaml)')
      .option('--eligible', 'only the learners eligible for the capstone'),
  ).action(async (name: string, opts: OutputOptions & { env: string; eligible?: boolean }) => {
    const report = await host.withHandlers((h) => h.queryProgram({ env: opts.env, program: name, eligibleOnly: Boolean(opts.eligible) }));
    output(
      host,
      opts,
      report,
      programTable(report),
      `Program ${report.program.title ?? report.program.name} (version of ${report.currentVersion}): ${report.eligible} of ${report.learners} learner(s) eligible`,
      opts.eligible ? `No learner of program ${report.program.name} is eligible yet (${report.learners} learner(s)).` : `No learner is enrolled in a run of program ${report.program.name}'s modules.`,
    );
  });

  program
    .command('export')
    .description('exports for other tools')
    .command('learners')
    .description('learning-analytics export (e.g. for OnTask): one CSV row per learner per course (columns: docs/exports.md)')
    .requiredOption('--env <name>', 'environment')
    .argument('[course]', 'course id or course key')
    .option('--program <name>', 'every loaded run of a program\'s modules instead of one course')
    .option('--out <file>', 'write the CSV to this file instead of standard output')
    .option('--json', 'print as JSON instead of CSV')
    .option('--csv', 'print as CSV (the default)')
    .option('--pseudonymise', 'user ids replaced by the learners\' pseudonyms (as in the pseudo_* views), usernames and e-mails left out')
    .action(async (course: string | undefined, opts: OutputOptions & { env: string; program?: string; out?: string; pseudonymise?: boolean }) => {
      if (Boolean(course) === Boolean(opts.program)) {
        throw new ConfigError('Name either a course or --program NAME.', { code: 'OPTIONS_CONFLICT', hint: 'Example: pds export learners --env live course-v1:MITx+6.00x+1T2026' });
      }
      const report = await host.withHandlers((h) => h.exportLearners({ env: opts.env, course, program: opts.program }));
      const plain = exportTable(report);
      const table = opts.pseudonymise ? (pseudonymiseTable(plain, await environmentPseudonymSecret(host.home?.(), opts.env)) as ReportTable) : plain;
      if (table.rows.length === 0) {
        process.stderr.write(`pds: no learner to export (${report.scope.courses.map((c) => c.courseKey).join(', ')}).\n`);
        host.setExitCode(1);
        return;
      }
      const text = opts.json ? `${JSON.stringify(opts.pseudonymise ? table : report, null, 2)}\n` : toCsv(table);
      if (opts.out) {
        await writeFile(opts.out, text);
        process.stderr.write(`pds: wrote ${table.rows.length} row(s) to ${opts.out}\n`);
      } else process.stdout.write(text);
    });
}
