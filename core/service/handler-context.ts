/**
 * What every group of console handlers shares: the home folder, who starts runs from here, the
 * environment lookup and short-lived ledger access. Method groups (`run-methods.ts`,
 * `report-methods.ts`, …) each take this context and return their part of `ConsoleHandlers`.
 */
import { existsSync } from 'node:fs';
import { environmentPaths, getEnvironment, loadConfig, type EnvironmentPaths } from '../config/config-store.js';
import type { EnvironmentConfig } from '../config/config-schema.js';
import { ContractError, type ConsoleHandlers, type RunSummaryData } from '../contract/methods.js';
import { Ledger, type RunSummary } from '../ledger/ledger.js';
import type { ConsoleService } from './console-service.js';

export interface HandlerContext {
  readonly home: string;
  /** Who starts runs through these handlers (`console`, `cli`, `scheduler`). */
  readonly origin: string;
  /** The engine's service (runs, loads, stores). */
  readonly service: ConsoleService;
  /** The environment's validated config and paths; throws CONFIG_* naming the environment when it is not configured. */
  environment(env: string): Promise<{ config: EnvironmentConfig; paths: EnvironmentPaths }>;
  /** Opens the environment's ledger for `fn` and closes it after. */
  withLedger<T>(env: string, fn: (ledger: Ledger) => T): T;
  /** True when the environment has a ledger (it has run at least once). */
  hasLedger(env: string): boolean;
}

export function createHandlerContext(home: string, origin: string, service: ConsoleService): HandlerContext {
  return {
    home,
    origin,
    service,
    async environment(env) {
      const config = getEnvironment(await loadConfig(home), env);
      return { config, paths: environmentPaths(home, env) };
    },
    withLedger(env, fn) {
      const ledger = Ledger.open(environmentPaths(home, env).ledger);
      try {
        return fn(ledger);
      } finally {
        ledger.close();
      }
    },
    hasLedger(env) {
      return existsSync(environmentPaths(home, env).ledger);
    },
  };
}

/** A run as the contract shows it. */
export function runSummaryData(r: RunSummary): RunSummaryData {
  return {
    runId: r.runId,
    env: r.env,
    status: r.status,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    totals: r.totals,
    options: r.options as RunSummaryData['options'],
    error: r.error ?? null,
    ...(r.origin ? { origin: r.origin } : {}),
  };
}

/** Handlers not written yet answer with NOT_IMPLEMENTED (a temporary state). */
export function notImplemented<M extends keyof ConsoleHandlers>(name: M): ConsoleHandlers[M] {
  return (async () => {
    throw new ContractError({ code: 'NOT_IMPLEMENTED', message: `The console method ${name} is not available in this version of pds.`, action: 'none' });
  }) as unknown as ConsoleHandlers[M];
}
