/**
 * What every group of console handlers shares: the home folder, who starts runs from here, the
 * environment lookup and short-lived ledger access. Method groups (`run-methods.ts`,
 * `report-methods.ts`, …) each take this context and return their part of `ConsoleHandlers`.
 */
import { existsSync } from 'node:fs';
import { environmentPaths, getEnvironment, loadConfig, type EnvironmentPaths } from '../config/config-store.js';
import type { EnvironmentConfig } from '../config/config-schema.js';
import { Ledger } from '../ledger/ledger.js';
import type { ConsoleService } from './console-service.js';
import { RunHub } from './run-hub.js';

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
  /** Every run's events, whoever started the run. */
  readonly hub: RunHub;
}

export function createHandlerContext(home: string, origin: string, service: ConsoleService): HandlerContext {
  return {
    home,
    hub: new RunHub(home),
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
