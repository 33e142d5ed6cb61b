/**
 * Where the console is: the screen (from the address bar's `#/…`, so back and forward work and a
 * screen can be linked) and the environment the operator picked in the navigation.
 */
import { createContext, useContext } from 'react';
import type { z } from 'zod';
import type { environmentSummarySchema } from '../../core/contract/methods.js';

export type EnvironmentSummary = z.output<typeof environmentSummarySchema>;

export const SCREENS = ['environments', 'keys', 'run', 'runs', 'report', 'attention', 'data', 'reports', 'schedules', 'privacy'] as const;
export type Screen = (typeof SCREENS)[number];

export interface Route {
  screen: Screen;
  /** The rest of the path, decoded: `report/<runId>/file/<key>` gives `[runId, 'file', key]`. */
  params: string[];
}

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  const screen = (SCREENS as readonly string[]).includes(parts[0] ?? '') ? (parts[0] as Screen) : 'environments';
  return { screen, params: parts.slice(1) };
}

export function href(screen: Screen, ...params: string[]): string {
  return `#/${[screen, ...params.map((p) => encodeURIComponent(p))].join('/')}`;
}

export interface AppState {
  route: Route;
  go(screen: Screen, ...params: string[]): void;
  /** The picked environment's name; null when none is configured yet. */
  env: string | null;
  setEnv(name: string): void;
  environments: EnvironmentSummary[] | null;
  refreshEnvironments(): void;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const state = useContext(AppContext);
  if (!state) throw new Error('useApp outside the console');
  return state;
}
