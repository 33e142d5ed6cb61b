/**
 * The `pds` command: a thin adapter over `createConsoleService()` (no pipeline logic here).
 * Exit codes (docs/architecture.md §3): 0 every file loaded; 2 the run finished with files flagged;
 * 1 the run could not run.
 */
import { Command, CommanderError, Option } from 'commander';
import { exitCodeFor, type RunOptions } from '../domain/results.js';
import { dateOptionsProblem, type DateOptions } from '../domain/datetime.js';
import { ConfigError, PdsError } from '../errors/index.js';
import type { ResultOf, RunNoticeView } from '../contract/methods.js';
import { createConsoleHandlers, type ConsoleEngine } from '../service/console-handlers.js';
import { createConsoleService, type ConsoleService } from '../service/console-service.js';
import { runDemo } from '../demo/run-demo.js';
import { serveConsole } from '../http/serve.js';
import { writeDataProtectionDoc } from '../privacy/inventory-doc.js';
import { environmentPaths, getEnvironment, loadConfig, resolveHome } from '../config/config-store.js';
import { purge } from '../privacy/purge.js';
import { forgetRetired } from '../privacy/after-run.js';
import { acquireRunLock } from '../service/run-lock.js';
import { environmentGrants, refreshEnvironmentPseudonyms } from '../privacy/pseudonym-commands.js';
import { appendAuditEntry } from '../privacy/privacy-ledger.js';
import { osActor } from '../ledger/actor.js';
import { existsSync } from 'node:fs';
import { Ledger } from '../ledger/ledger.js';
import { keychainSecretsByEnvironment } from '../config/secret-files.js';
import { join, resolve } from 'node:path';
import { formatReportView, formatRunResult, formatRuns, formatStatus } from './format.js';
import { createProgressView } from './progress.js';
import { addQueryCommands } from './query-commands.js';
import { addScheduleCommands } from './schedule-commands.js';
import { runProgressLog } from '../schedule/log.js';
import { alertAfterRun } from '../schedule/run-scheduler.js';

/** The CLI names of the date options, for messages. */
const DATE_OPTION_NAMES = { from: '--from', to: '--to', snapshotDate: '--snapshot-date' } as const;

/** Parser of a date option: a real calendar date, or exit 1 with a message naming the option. */
function dateOption(option: keyof typeof DATE_OPTION_NAMES): (value: string) => string {
  return (value) => {
    checkDateOptions({ [option]: value });
    return value;
  };
}

/** Refuses dates that are not real calendar dates, and --from after --to (exit 1). */
function checkDateOptions(options: DateOptions): void {
  const problem = dateOptionsProblem(options, DATE_OPTION_NAMES);
  if (problem !== undefined) throw new ConfigError(problem, { code: 'DATE_INVALID' });
}

/** Parser of --port: a whole number 0–65535 (0: any free port). */
function portOption(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65_535)) throw new ConfigError(`--port ${value} is not a port number (0–65535).`, { code: 'PORT_INVALID' });
  return port;
}

function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

/**
 * After SIGTERM or Ctrl-C, how long the work may take to stop cleanly (roll back, record the run)
 * before the process exits anyway: a server that does not answer cannot hold it (README
 * "Stopping a run").
 */
export const STOP_GRACE_MS = 5_000;

/** Writes an entry to the environment's audit log (once it has a ledger), as the OS user. */
function recordCliAudit(home: string | undefined, env: string, action: string, detail: Record<string, unknown>): void {
  const ledger = environmentPaths(resolveHome(home), env).ledger;
  if (existsSync(ledger)) appendAuditEntry(ledger, osActor(), action, { env, ...detail });
}

/** What an erasure removed (or would remove), per store and table. */
function formatForget(r: ResultOf<'forgetLearner'>): string {
  if (r.alreadyErased) return `That learner was already erased from ${r.env}; nothing of theirs is left.`;
  const head = r.dryRun ? `Dry run: erasing that learner from ${r.env} would remove ${r.totalRows} row(s):` : `Erased that learner from ${r.env}: ${r.totalRows} row(s) removed (erasure ${r.erasureId ?? 'not recorded: nothing changed'}).`;
  return [head, ...r.stores.map((s) => `  ${String(s.rows).padStart(8)}  ${s.target}  (${s.store})`)].join('\n');
}

/**
 * The notices a finished run gave (retention, data protection, a cancel), read back from the
 * environment's ledger. A ledger that cannot be read now is said on stderr: the run's result
 * stands, and `pds report` shows the notices later.
 */
function runNotices(home: string | undefined, env: string, runId: string): RunNoticeView[] {
  const path = environmentPaths(resolveHome(home), env).ledger;
  if (!existsSync(path)) return [];
  try {
    const ledger = Ledger.open(path);
    try {
      return ledger.runNotices(runId);
    } finally {
      ledger.close();
    }
  } catch (error) {
    process.stderr.write(`pds: the run's notices could not be read (see pds report --env ${env} ${runId}): ${error instanceof Error ? error.message : String(error)}\n`);
    return [];
  }
}

/** A run's report with every file (the console's report, read page by page). */
async function fullReport(handlers: ConsoleEngine, env: string, runId: string | undefined): Promise<ResultOf<'getReport'>> {
  const first = await handlers.getReport({ env, runId, filter: {}, offset: 0, limit: 1000 });
  const files = [...first.files];
  while (files.length < first.total) {
    const page = await handlers.getReport({ env, runId: first.run.runId, filter: {}, offset: files.length, limit: 1000 });
    if (page.files.length === 0) break;
    files.push(...page.files);
  }
  return { ...first, files };
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      // A second Ctrl-C: no more waiting. The run is recorded as cancelled on exit.
      process.stderr.write(`pds: ${signal} again: stopping now.\n`);
      process.exit(1);
    }
    controller.abort();
    // Unref'd: a run that stops cleanly ends the process without waiting for this.
    setTimeout(() => {
      process.stderr.write(`pds: the work in hand did not stop within ${STOP_GRACE_MS / 1000} s of ${signal} (a server is not answering); exiting. The next run loads what is missing.\n`);
      process.exit(typeof process.exitCode === 'number' && process.exitCode !== 0 ? process.exitCode : 1);
    }, STOP_GRACE_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let exitCode = 0;
  const program = new Command();
  const service = (): ConsoleService => createConsoleService({ home: program.opts().home, signal: controller.signal });
  /** The console's handlers, for the commands that read what the console shows (same code path). */
  const withHandlers = async <T>(fn: (handlers: ConsoleEngine) => Promise<T>): Promise<T> => {
    const handlers = createConsoleHandlers({ home: program.opts().home, origin: 'cli' });
    try {
      return await fn(handlers);
    } finally {
      await handlers.close();
    }
  };

  program
    .name('pds')
    .description('Platform Data Store: fetch, decrypt and load edX research data (weekly tables and daily event logs).')
    .option('--home <dir>', 'home folder holding config.yaml and the environments (default $PDS_HOME or ~/.pds)')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('demo')
    .description('generate a realistic encrypted edX delivery, load it into the embedded SQLite of a "demo" environment, and show what landed')
    .option('--fresh', 'regenerate the demo data and database from scratch')
    .option('--quiet', 'no progress output')
    .action(async (opts: { fresh?: boolean; quiet?: boolean }) => {
      const svc = service();
      const progress = createProgressView({ quiet: opts.quiet });
      try {
        const { result, summary } = await runDemo(svc, { fresh: opts.fresh, onProgress: progress.onProgress, log: (s) => process.stderr.write(`${s}\n`) });
        progress.stop();
        process.stdout.write(`${summary}\n`);
        exitCode = result.status === 'failed' || result.status === 'cancelled' ? 1 : 0;
      } finally {
        progress.stop();
      }
    });

  const runOptions = (cmd: Command): Command =>
    cmd
      .addOption(new Option('--only <what>', 'only weekly packages or only daily event logs').choices(['weekly', 'events']))
      .option('--from <date>', 'first date to take (file date, YYYY-MM-DD)', dateOption('from'))
      .option('--to <date>', 'last date to take (file date, YYYY-MM-DD)', dateOption('to'))
      .option('--dry-run', 'plan only: list what would be fetched and loaded')
      .option('--json', 'print the run result as JSON')
      .option('--quiet', 'no progress output');

  runOptions(
    program
      .command('run')
      .description('fetch new files from the environment source and load them')
      .requiredOption('--env <name>', 'environment')
      .addOption(new Option('--log-format <format>', 'json: progress as JSON log lines on stderr and in PDS_HOME/logs/pds.log (for cron)').choices(['text', 'json']))
      .option('--alert', "send the environment's alerts when the run ends flagged or failed, as the scheduler does (for cron)"),
  ).action(
    async (opts: { env: string; only?: 'weekly' | 'events'; from?: string; to?: string; dryRun?: boolean; json?: boolean; quiet?: boolean; logFormat?: 'text' | 'json'; alert?: boolean }) => {
      const progress = createProgressView({ quiet: opts.quiet || opts.json || opts.logFormat === 'json' });
      checkDateOptions({ from: opts.from, to: opts.to });
      const options: RunOptions = { only: opts.only, from: opts.from, to: opts.to, dryRun: opts.dryRun };
      const log = opts.logFormat === 'json' ? runProgressLog(resolveHome(program.opts().home), opts.env) : undefined;
      const result = await service().run(opts.env, options, (event) => {
        progress.onProgress(event);
        log?.(event);
      });
      progress.stop();
      const notices = runNotices(program.opts().home, opts.env, result.runId);
      print(Boolean(opts.json), { ...result, notices }, () => formatRunResult(result, notices));
      exitCode = exitCodeFor(result);
      // An alert that cannot be sent is logged by alertAfterRun and never changes the run's exit code.
      if (opts.alert && !opts.dryRun) await alertAfterRun(resolveHome(program.opts().home), opts.env, result, { logFormat: opts.logFormat }).catch((error: unknown) => {
        process.stderr.write(`pds: the run's alert could not be sent: ${error instanceof Error ? error.message : String(error)}\n`);
      });
    },
  );

  runOptions(
    program
      .command('load')
      .description('load local files by hand: encrypted or plain, a weekly zip, a single table file, a daily log')
      .requiredOption('--env <name>', 'environment')
      .option('--snapshot-date <date>', 'snapshot date for single table files (default: from the name or folder, else today)', dateOption('snapshotDate'))
      .argument('<files...>', 'files to load'),
  ).action(async (files: string[], opts: { env: string; snapshotDate?: string; json?: boolean; quiet?: boolean; dryRun?: boolean }) => {
    const progress = createProgressView({ quiet: opts.quiet || opts.json });
    const result = await service().load(opts.env, files, { snapshotDate: opts.snapshotDate, dryRun: opts.dryRun }, progress.onProgress);
    progress.stop();
    const notices = runNotices(program.opts().home, opts.env, result.runId);
    print(Boolean(opts.json), { ...result, notices }, () => formatRunResult(result, notices));
    exitCode = exitCodeFor(result);
  });

  program
    .command('runs')
    .description('list recent runs of an environment')
    .requiredOption('--env <name>', 'environment')
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 20)
    .option('--json', 'print as JSON')
    .action(async (opts: { env: string; limit: number; json?: boolean }) => {
      const { runs } = await withHandlers((h) => h.listRuns({ env: opts.env, offset: 0, limit: opts.limit }));
      print(Boolean(opts.json), runs, () => formatRuns(runs));
    });

  program
    .command('status')
    .description('where an environment stands: files by status, and every file that needs attention, whichever run flagged it')
    .requiredOption('--env <name>', 'environment')
    .option('--json', 'print as JSON')
    .action(async (opts: { env: string; json?: boolean }) => {
      const status = await withHandlers((h) => h.getStatus({ env: opts.env }));
      print(Boolean(opts.json), status, () => formatStatus(status));
      exitCode = status.flagged.length > 0 ? 2 : 0;
    });

  program
    .command('report')
    .description('per-file outcome and errors of a run (default: the newest)')
    .requiredOption('--env <name>', 'environment')
    .argument('[run]', 'run id')
    .option('--all', 'list every file, not only the flagged ones')
    .option('--json', 'print as JSON')
    .action(async (run: string | undefined, opts: { env: string; all?: boolean; json?: boolean }) => {
      const report = await withHandlers((h) => fullReport(h, opts.env, run));
      print(Boolean(opts.json), report, () => formatReportView(report, Boolean(opts.all)));
    });

  const key = program.command('key').description('secret keys used to decrypt an environment\'s files');
  key
    .command('import')
    .description('import an armored or binary OpenPGP secret key into an environment')
    .requiredOption('--env <name>', 'environment')
    .argument('<file>', 'secret key file (.asc or .gpg)')
    .option('--json', 'print as JSON')
    .action(async (file: string, opts: { env: string; json?: boolean }) => {
      const keys = await service().importKey(opts.env, file);
      recordCliAudit(program.opts().home, opts.env, 'key', { method: 'importKey', fingerprints: keys.map((k) => k.fingerprint) });
      print(Boolean(opts.json), keys, () => keys.map((k) => `imported ${k.keyId} ${k.algorithm} ${k.userIds.join(', ')}${k.protected ? ' (passphrase-protected)' : ''}`).join('\n'));
    });
  key
    .command('list')
    .description('list the secret keys of an environment')
    .requiredOption('--env <name>', 'environment')
    .option('--json', 'print as JSON')
    .action(async (opts: { env: string; json?: boolean }) => {
      const keys = await service().listKeys(opts.env);
      print(Boolean(opts.json), keys, () =>
        keys.length === 0
          ? `No keys. Import one with: pds key import --env ${opts.env} KEYFILE.asc`
          : keys.map((k) => `${k.keyId}  ${k.algorithm}  created ${k.created}${k.expires ? `, expires ${k.expires}` : ''}  ${k.userIds.join(', ')}${k.protected ? '  (passphrase-protected)' : ''}`).join('\n'),
      );
    });

  program
    .command('env')
    .description('list the configured environments')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const listed = await service().listEnvironments();
      // Secrets kept in the desktop app's keychain: such an environment runs from the app only.
      const inKeychain = listed.length === 0 ? {} : await keychainSecretsByEnvironment(resolveHome(program.opts().home));
      const envs = listed.map((e) => ({ ...e, keychainSecrets: inKeychain[e.name] ?? [], cliCanRun: (inKeychain[e.name] ?? []).length === 0 }));
      const secretText = (e: (typeof envs)[number]): string =>
        Object.entries(e.secrets)
          .map(([k, v]) => `; ${k} ${e.keychainSecrets.includes(k as never) ? "in the desktop app's keychain" : v}`)
          .join('');
      const runsText = (e: (typeof envs)[number]): string =>
        e.cliCanRun ? '' : `; desktop app only (${e.keychainSecrets.join(', ')} in its keychain: set them as env: or file: for the CLI)`;
      print(Boolean(opts.json), envs, () =>
        envs.length === 0
          ? 'No environments. Run `pds demo`, or add one to config.yaml (see README).'
          : envs
              .map((e) => `${e.name}: ${e.source} → ${e.relational} + ${e.events}; ${e.keys} key(s)${secretText(e)}${e.lastRun ? `; last run ${e.lastRun.status} ${e.lastRun.startedAt}` : ''}${runsText(e)}`)
              .join('\n'),
      );
    });

  const db = program.command('db').description('database targets');
  db.command('pseudonymise')
    .description('create or refresh the pseudonym map and the pseudo_* views (done after every run too)')
    .requiredOption('--env <name>', 'environment')
    .action(async (opts: { env: string }) => {
      const r = await refreshEnvironmentPseudonyms(program.opts().home, opts.env);
      process.stdout.write(`${r.learners} learner(s) mapped; views: ${r.views.join(', ') || 'none (nothing loaded yet)'}\n`);
    });
  db.command('grants')
    .description('print the MariaDB statements for a read-only analyst role (pseudonymised views only) and a data-czar role')
    .requiredOption('--env <name>', 'environment')
    .action(async (opts: { env: string }) => {
      process.stdout.write(`${(await environmentGrants(program.opts().home, opts.env)).join('\n')}\n`);
    });
  db
    .command('check')
    .description('check connectivity, privileges and schema of the environment\'s targets')
    .requiredOption('--env <name>', 'environment')
    .option('--json', 'print as JSON')
    .action(async (opts: { env: string; json?: boolean }) => {
      const checks = await service().checkDatabases(opts.env);
      print(Boolean(opts.json), checks, () => checks.map((c) => `${c.ok ? 'ok    ' : 'FAILED'} ${c.target} (${c.engine}): ${c.detail}`).join('\n'));
      exitCode = checks.every((c) => c.ok) ? 0 : 1;
    });

  addQueryCommands(program, { withHandlers, setExitCode: (code) => (exitCode = code), dateOption, home: () => program.opts().home });
  addScheduleCommands(program, { withHandlers, setExitCode: (code) => (exitCode = code), home: () => program.opts().home, signal: controller.signal });

  program
    .command('forget')
    .description('erase one learner everywhere pds put their data (every table, the events, quarantine files, exports) and keep them out of later loads')
    .requiredOption('--env <name>', 'environment')
    .option('--user <who>', 'username, e-mail address or numeric user id')
    .option('--retired', 'every learner edX has retired that is still held: renamed retired__user_…, or gone from the weekly snapshot while their events remain')
    .option('--dry-run', 'only count what would be removed')
    .option('--json', 'print as JSON')
    .action(async (opts: { env: string; user?: string; retired?: boolean; dryRun?: boolean; json?: boolean }) => {
      if (Boolean(opts.user) === Boolean(opts.retired)) {
        throw new ConfigError('Name one learner with --user, or every learner edX has retired with --retired.', { code: 'USAGE', hint: 'pds forget --env ENV --user USERNAME|EMAIL|ID, or pds forget --env ENV --retired [--dry-run].' });
      }
      if (opts.user) {
        const user = opts.user;
        const r = await withHandlers((h) => h.forgetLearner({ env: opts.env, user, dryRun: Boolean(opts.dryRun) }));
        print(Boolean(opts.json), r, () => formatForget(r));
        return;
      }
      const home = resolveHome(program.opts().home);
      const config = getEnvironment(await loadConfig(home), opts.env);
      const paths = environmentPaths(home, opts.env);
      // Not while a run loads, as for one learner.
      const release = opts.dryRun || !existsSync(paths.root) ? async () => undefined : await acquireRunLock(join(paths.root, 'run.lock'), opts.env);
      try {
        const r = await forgetRetired({ home, env: opts.env, config, paths, dryRun: Boolean(opts.dryRun), actor: osActor() });
        if (r.failed.length > 0) exitCode = 1;
        print(Boolean(opts.json), r, () => {
          if (r.learners === 0) return `Environment ${r.env} holds no learner edX has retired.`;
          const head = r.dryRun ? `Dry run: erasing the ${r.learners} learner(s) edX has retired (${r.description}) would remove ${r.totalRows} row(s).` : `Erased the ${r.learners} learner(s) edX has retired (${r.description}): ${r.totalRows} row(s) removed; see pds audit.`;
          // Rows per table and store, summed over the learners.
          const rows = new Map<string, number>();
          for (const s of r.results.flatMap((x) => x.stores)) {
            const where = `${s.target}  (${s.store})`;
            rows.set(where, (rows.get(where) ?? 0) + s.rows);
          }
          const failed = r.failed.map((f) => `  could not be erased: ${f}`);
          return [head, ...[...rows].map(([where, n]) => `  ${String(n).padStart(8)}  ${where}`), ...failed].join('\n');
        });
      } finally {
        await release();
      }
    });

  program
    .command('purge')
    .description('remove events, designated rows and snapshots older than the environment\'s retention ages (default: keep everything)')
    .requiredOption('--env <name>', 'environment')
    .option('--dry-run', 'only count what would be removed')
    .option('--json', 'print as JSON')
    .action(async (opts: { env: string; dryRun?: boolean; json?: boolean }) => {
      const home = resolveHome(program.opts().home);
      const config = getEnvironment(await loadConfig(home), opts.env);
      const paths = environmentPaths(home, opts.env);
      // Not while a run loads (the run's own checks read the snapshot the purge changes).
      const release = opts.dryRun || !existsSync(paths.root) ? async () => undefined : await acquireRunLock(join(paths.root, 'run.lock'), opts.env);
      let r: Awaited<ReturnType<typeof purge>>;
      try {
        r = await purge({ home, env: opts.env, config, paths, dryRun: Boolean(opts.dryRun), actor: osActor() });
      } finally {
        await release();
      }
      print(Boolean(opts.json), r, () => {
        const cut = Object.entries(r.cutoffs).map(([k, v]) => `${k} before ${v}`);
        if (cut.length === 0) return `Environment ${r.env} keeps everything: no retention age is set (retention.events, retention.designated, retention.snapshots).`;
        return [`${r.dryRun ? 'Dry run: would remove' : 'Removed'} ${r.totalRows} row(s) (${cut.join('; ')}):`, ...r.stores.map((s) => `  ${String(s.rows).padStart(8)}  ${s.target}  (${s.store})`)].join('\n');
      });
    });

  program
    .command('audit')
    .description('who did what and when: runs, exports, personal-data queries, erasures, purges, configuration and key changes')
    .requiredOption('--env <name>', 'environment')
    .option('--limit <n>', 'how many, newest first', (v) => Number.parseInt(v, 10), 500)
    .option('--json', 'print as JSON')
    .action(async (opts: { env: string; limit: number; json?: boolean }) => {
      const entries = await withHandlers((h) => h.listAudit({ env: opts.env, limit: opts.limit }));
      print(Boolean(opts.json), entries, () => (entries.length === 0 ? 'Nothing recorded yet.' : entries.map((e) => `${e.at}  ${e.actor}  ${e.action}  ${JSON.stringify(e.detail)}`).join('\n')));
    });

  program
    .command('docs')
    .description('documents generated from the product and its configuration')
    .command('privacy')
    .description('write the data-protection inventory (the factual annex of a DPIA): what personal data is held, where, why, how long, who can read it')
    .option('--env <name>', 'describe this environment as configured (default: the default configuration)')
    .option('--out <file>', 'where to write it', 'docs/data-protection.md')
    .action(async (opts: { env?: string; out: string }) => {
      const path = await writeDataProtectionDoc(resolveHome(program.opts().home), opts.env, resolve(opts.out));
      process.stdout.write(`Wrote ${path}\n`);
    });

  program
    .command('serve')
    .description('serve the operator console on 127.0.0.1 and print its link (with a new token each start); Ctrl-C stops it')
    .addOption(new Option('--port <n>', 'port on 127.0.0.1').argParser(portOption).default(0, 'any free port'))
    .option('--open', 'open the console in the default browser')
    .action(async (opts: { port: number; open?: boolean }) => {
      await serveConsole({
        home: program.opts().home,
        port: opts.port,
        open: opts.open,
        signal: controller.signal,
        print: (line) => process.stdout.write(`${line}\n`),
        log: (line) => process.stderr.write(`${line}\n`),
      });
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 1;
    }
    if (error instanceof PdsError) {
      process.stderr.write(`pds: ${error.message}${error.hint ? `\n  → ${error.hint}` : ''}\n`);
      return 1;
    }
    process.stderr.write(`pds: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

// Run directly (`node --import tsx core/cli/main.ts …`, used by the tests).
if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runCli(process.argv.slice(2));
}
