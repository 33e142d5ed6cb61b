/**
 * The composition root: wires config, sources, crypto, stores, ledger and pipeline,
 * and runs them for every front end. The CLI, `pds serve` and the Electron worker all call
 * `createConsoleService()`; none of them holds pipeline logic.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runSummaryView, type DataSummary, type DbCheck, type EnvironmentStatus, type EnvironmentSummary, type KeySummary } from '../contract/console-api.js';
import { timeoutsOf, type EnvironmentConfig, type Timeouts } from '../config/config-schema.js';
import { configPath, environmentPaths, getEnvironment, loadConfig, resolveHome, resolvePath, resolveSecret } from '../config/config-store.js';
import { SECRET_FIELD_PATHS, secretRefAt } from '../config/config-document.js';
import { describeS3Source, s3SourceConfigFor, type S3SourceSettings } from '../config/s3-settings.js';
import { secretStateOf } from '../config/secret-files.js';
import { importKeyFile, listKeys, loadKeyFiles } from '../crypto/keys.js';
import { createOpenPgpDecryptor } from '../crypto/openpgp-decryptor.js';
import { environmentKeySources } from '../privacy/environment-keys.js';
import { ErasedFilter } from '../privacy/erased-filter.js';
import { afterRunPrivacy } from '../privacy/after-run.js';
import { auditSettingsEditedOutside } from '../privacy/config-audit.js';
import { osUser, runActor } from '../ledger/actor.js';
import type { Decryptor, KeyInfo } from '../crypto/ports.js';
import { dateOptionsProblem } from '../domain/datetime.js';
import type { PlannedFile, RunOptions, RunProgress, RunResult } from '../domain/results.js';
import { ConfigError, DecryptError, serializeError } from '../errors/index.js';
import { emptyTotals, Ledger } from '../ledger/ledger.js';
import type { PipelineContext } from '../pipeline/context.js';
import { executeRun, planRun } from '../pipeline/run.js';
import { memberIsRetryable } from '../domain/selection.js';
import { createLocalSource } from '../sources/local/local-source.js';
import type { ObjectSource } from '../sources/ports.js';
import { createS3Source } from '../sources/s3/s3-source.js';
import { dataSummary } from '../reports/data-summary.js';
import { eventsPerDay, type DayCount } from '../reports/events-per-day.js';
import { openStores } from '../stores/open-stores.js';
import { probeDetail, probeTargets } from '../stores/probe-targets.js';
import { applyRetention, describeRemoved } from '../schedule/retention.js';
import { acquireRunLock } from './run-lock.js';
import { RunRecorder, type RunEventBody } from './run-recorder.js';

export interface ConsoleServiceOptions {
  /** The home folder; default `$PDS_HOME` or `~/.pds`. */
  home?: string;
  /** Cancels running work. */
  signal?: AbortSignal;
}

export interface BeginOptions {
  /** Who starts the run (`cli`, `console`, `scheduler`); recorded with it. */
  origin?: string;
  /** Explicit local files (`pds load`) instead of the environment's source. */
  files?: string[];
  onProgress?: (event: RunProgress) => void;
  /** Sees each run event as it is recorded (a console hub in this process). */
  onEvent?: (event: RunEventBody) => void;
  signal?: AbortSignal;
}

export interface StartedRun {
  runId: string;
  startedAt: string;
  /** Aborting it cancels the run. */
  controller: AbortController;
  /** Settles when the run is recorded as finished; rejects only when it could not run at all. */
  done: Promise<RunResult>;
}

export interface ConsoleService {
  readonly home: string;
  listEnvironments(): Promise<EnvironmentSummary[]>;
  /** Runs the plan/fetch/load pipeline for an environment, to its end (the CLI's run). */
  run(env: string, options: RunOptions, onProgress?: (event: RunProgress) => void): Promise<RunResult>;
  /** Files by status and every file that needs attention now, whichever run flagged it. */
  getStatus(env: string): Promise<EnvironmentStatus>;
  /** Imports a secret key file (`pds key import`). */
  importKey(env: string, path: string): Promise<KeySummary[]>;
  listKeys(env: string): Promise<KeySummary[]>;
  checkDatabases(env: string): Promise<DbCheck[]>;
  /** Starts a run; answers once it is recorded (its id known), before planning. */
  begin(env: string, options: RunOptions, opts?: BeginOptions): Promise<StartedRun>;
  /** What a run with these options would take (nothing recorded, no lock). */
  plan(env: string, options: RunOptions): Promise<{ planned: PlannedFile[]; upToDate: number }>;
  /** What has landed, with events per day and course over the last `days` days loaded. */
  getDataSummary(env: string, days?: number): Promise<DataSummary & { eventsPerDay: DayCount[] }>;
  /** Loads explicit local files into an environment (`pds load`). */
  load(env: string, files: string[], options?: RunOptions, onProgress?: (event: RunProgress) => void): Promise<RunResult>;
}

function toKeySummary(k: KeyInfo): KeySummary {
  return { keyId: k.keyId, fingerprint: k.fingerprint, userIds: k.userIds, algorithm: k.algorithm, created: k.created, expires: k.expires, protected: k.locked };
}

/** The S3 source of an environment (its settings turned into locations and credentials in `s3-settings.ts`). */
async function s3Source(env: string, settings: S3SourceSettings, home: string, timeouts: Timeouts): Promise<ObjectSource> {
  return createS3Source(await s3SourceConfigFor(env, settings, home, timeouts));
}

/** Refuses run options whose dates are not real calendar dates, or whose `from` is after `to`. */
function checkRunDates(options: RunOptions): void {
  const problem = dateOptionsProblem(options, { from: 'from', to: 'to', snapshotDate: 'snapshotDate' });
  if (problem !== undefined) throw new ConfigError(problem, { code: 'DATE_INVALID' });
}

export function createConsoleService(options: ConsoleServiceOptions = {}): ConsoleService {
  const home = resolveHome(options.home);

  async function environment(env: string): Promise<{ config: EnvironmentConfig; paths: ReturnType<typeof environmentPaths> }> {
    const config = getEnvironment(await loadConfig(home), env);
    return { config, paths: environmentPaths(home, env) };
  }

  function withLedger<T>(env: string, fn: (ledger: Ledger) => T): T {
    const ledger = Ledger.open(environmentPaths(home, env).ledger);
    try {
      return fn(ledger);
    } finally {
      ledger.close();
    }
  }

  /** Opens an environment's stores, resolving secrets and paths against the home folder. */
  function stores_(env: string, config: EnvironmentConfig, paths: ReturnType<typeof environmentPaths>, threaded = false): ReturnType<typeof openStores> {
    return openStores(env, config, paths, (ref, path) => resolveSecret(ref, home, path), home, { threaded });
  }

  /** The decryptor of an environment, created on first need. */
  function lazyDecryptor(env: string, config: EnvironmentConfig, paths: ReturnType<typeof environmentPaths>): () => Promise<Decryptor> {
    let pending: Promise<Decryptor> | undefined;
    return () =>
      (pending ??= (async () => {
        const files = config.key.files?.map((f) => resolvePath(home, f));
        const armoredKeys = files ? await Promise.all(files.map((f) => readFile(f))) : await loadKeyFiles(paths.keys);
        if (armoredKeys.length === 0) {
          throw new DecryptError(`Environment ${env} has no secret key to decrypt with.`, {
            code: 'DECRYPT_NO_KEY',
            hint: `Import the data czar's secret key: pds key import --env ${env} KEYFILE.asc`,
          });
        }
        const passphrase = config.key.passphrase ? await resolveSecret(config.key.passphrase, home, `environments.${env}.key.passphrase`) : undefined;
        return createOpenPgpDecryptor({ armoredKeys, passphrase });
      })());
  }

  /** The source an environment's runs list and fetch from. */
  async function sourceOf(env: string, config: EnvironmentConfig): Promise<ObjectSource> {
    return config.source.type === 's3' ? s3Source(env, config.source, home, timeoutsOf(config)) : createLocalSource({ root: resolvePath(home, config.source.path) });
  }

  /**
   * Takes the environment's run lock (RUN_IN_PROGRESS when another run holds it) and records the
   * run's start, then runs it off the caller's path: the run id is known before planning. Every
   * progress event is also recorded as a run event (the console follows it from any process).
   */
  async function begin(env: string, source: ObjectSource | undefined, runOptions: RunOptions, opts: BeginOptions = {}): Promise<StartedRun> {
    const { config, paths } = await environment(env);
    const src = source ?? (await sourceOf(env, config));
    const release = await acquireRunLock(join(paths.root, 'run.lock'), env);
    let ledger: Ledger | undefined;
    let started: { runId: string; startedAt: string };
    try {
      ledger = Ledger.open(paths.ledger);
      started = ledger.startRun(env, runOptions, { origin: opts.origin ?? 'cli' });
    } catch (error) {
      ledger?.close();
      await release();
      throw error;
    }
    const runLedger = ledger;
    try {
      // config.yaml edited by hand since pds last saw it: the audit log says which settings changed.
      auditSettingsEditedOutside({ ledgerPath: paths.ledger, configFile: configPath(home), env, noticedBy: `run ${started.runId}` });
    } catch {
      // The audit of hand edits never stops a run; the next run compares again.
    }
    const controller = new AbortController();
    const signal = AbortSignal.any([controller.signal, ...[options.signal, opts.signal].filter((s): s is AbortSignal => s !== undefined)]);
    const recorder = new RunRecorder({ ledger: runLedger, runId: started.runId, env, origin: opts.origin ?? 'cli', controller, listener: opts.onEvent });
    recorder.started(runOptions);
    const onProgress = opts.onProgress ?? (() => undefined);
    const done = (async (): Promise<RunResult> => {
      let stores: Awaited<ReturnType<typeof openStores>> | undefined;
      try {
        try {
          // Loads run SQLite on its own thread, overlapping the parsing.
          stores = await stores_(env, config, paths, true);
        } catch (error) {
          // The run could not start: recorded as failed, so no run stays `running`.
          const e = serializeError(error);
          runLedger.finishRun(started.runId, 'failed', emptyTotals(), { code: e.code, message: e.message, hint: e.hint });
          throw error;
        }
        const ctx: PipelineContext = {
          env,
          config,
          paths,
          source: src,
          ledger: runLedger,
          relational: stores.relational,
          events: stores.events,
          documents: stores.documents,
          decryptor: lazyDecryptor(env, config, paths),
          quarantineKeys: () => environmentKeySources(home, config, paths),
          erased: await ErasedFilter.load(home, env, config, paths),
          signal,
          courses: runOptions.courses,
          onProgress: (event) => {
            recorder.progress(event);
            onProgress(event);
          },
        };
        const result = await executeRun(ctx, runOptions, started);
        if (!runOptions.dryRun && !runOptions.files && (result.status === 'succeeded' || result.status === 'flagged')) {
          // Retention says what it removed (README "Unattended operation"); it never fails the run.
          try {
            const removed = await applyRetention(config, paths, started.runId, new Date());
            if (removed.length > 0) recorder.notice('info', describeRemoved(removed, config));
          } catch (error) {
            recorder.notice('warning', `Retention could not remove old files: ${(error as Error).message}`);
          }
        }
        if (!runOptions.dryRun && result.status !== 'failed' && result.status !== 'cancelled') {
          // Pseudonyms up to date; retired learners reported or erased (README "Data protection").
          for (const n of await afterRunPrivacy({ home, env, config, paths, actor: runActor(opts.origin, osUser()), origin: opts.origin ?? 'cli' })) recorder.notice(n.level, n.message);
        }
        return result;
      } finally {
        try {
          await stores?.close();
        } finally {
          await release();
          // Announced once the lock is free: whoever sees run-finished can start the next run.
          recorder.finished();
          runLedger.close();
        }
      }
    })();
    return { ...started, controller, done };
  }

  async function execute(env: string, source: ObjectSource | undefined, runOptions: RunOptions, onProgress?: (e: RunProgress) => void): Promise<RunResult> {
    return (await begin(env, source, runOptions, { onProgress })).done;
  }

  return {
    home,

    async begin(env, runOptions, opts = {}) {
      checkRunDates(runOptions);
      return begin(env, opts.files ? createLocalSource({ files: opts.files }) : undefined, runOptions, opts);
    },

    async plan(env, runOptions) {
      checkRunDates(runOptions);
      const { config, paths } = await environment(env);
      const source = await sourceOf(env, config);
      const ledger = Ledger.open(paths.ledger);
      try {
        const plan = await planRun({ source, ledger, config, signal: options.signal }, runOptions);
        return { planned: plan.tasks.map((t) => t.planned), upToDate: plan.upToDate };
      } finally {
        ledger.close();
      }
    },

    async listEnvironments(): Promise<EnvironmentSummary[]> {
      const config = await loadConfig(home);
      const out: EnvironmentSummary[] = [];
      for (const [name, env] of Object.entries(config.environments)) {
        const paths = environmentPaths(home, name);
        const secrets: Record<string, 'set' | 'not set'> = {};
        // Every secret reference, the database password, URL and MongoDB URI included (a plain URL without a password is no secret).
        for (const field of SECRET_FIELD_PATHS) {
          const ref = secretRefAt(env, field);
          if (ref !== undefined) secrets[field] = (await secretStateOf(home, field, ref)).state;
        }
        const keys = existsSync(paths.keys) ? (await listKeys(paths.keys)).length : 0;
        const last = existsSync(paths.ledger) ? withLedger(name, (l) => l.listRuns(1)[0]) : undefined;
        out.push({
          name,
          description: env.description,
          source: env.source.type === 's3' ? describeS3Source(env.source) : `local ${resolvePath(home, env.source.path)}`,
          relational: env.targets.relational.type,
          events: env.targets.events.type,
          keys,
          secrets,
          lastRun: last ? { runId: last.runId, status: last.status, startedAt: last.startedAt, finishedAt: last.finishedAt } : undefined,
        });
      }
      return out;
    },

    async run(env, runOptions, onProgress) {
      checkRunDates(runOptions);
      return execute(env, undefined, runOptions, onProgress);
    },

    async load(env, files, runOptions = {}, onProgress) {
      checkRunDates(runOptions);
      return execute(env, createLocalSource({ files }), { ...runOptions, files }, onProgress);
    },

    async getStatus(env): Promise<EnvironmentStatus> {
      await environment(env);
      return withLedger(env, (l) => {
        const last = l.listRuns(1)[0];
        return {
          env,
          files: l.statusCounts(),
          flagged: l.flaggedFiles().map((f) => ({
            key: f.key,
            parentKey: f.parentKey,
            kind: f.kind,
            status: f.status,
            stage: f.stage,
            code: f.code,
            reason: f.reason,
            hint: f.hint,
            retriedNextRun: memberIsRetryable(f),
            runId: f.runId,
            updatedAt: f.updatedAt,
          })),
          lastRun: last ? runSummaryView(last) : null,
        };
      });
    },

    async importKey(env, path) {
      const { paths } = await environment(env);
      return (await importKeyFile(path, paths.keys)).map(toKeySummary);
    },

    async listKeys(env) {
      const { paths } = await environment(env);
      return existsSync(paths.keys) ? (await listKeys(paths.keys)).map(toKeySummary) : [];
    },

    async getDataSummary(env, days = 30) {
      const { config, paths } = await environment(env);
      const stores = await stores_(env, config, paths);
      try {
        const summary = await dataSummary(stores.relational, stores.events);
        return { ...summary, eventsPerDay: await eventsPerDay(stores.relational, days) };
      } finally {
        await stores.close();
      }
    },

    async checkDatabases(env): Promise<DbCheck[]> {
      const { config, paths } = await environment(env);
      // Read-only probes, the console's "test connection" too: nothing is created or migrated,
      // and each target reports its own failure.
      const probes = await probeTargets(env, config, paths, (ref, path) => resolveSecret(ref, home, path), home);
      return probes.map((p) => ({ target: p.target, engine: p.engine, ok: p.ok, detail: probeDetail(p) }));
    },
  };
}
