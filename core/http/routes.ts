/**
 * The HTTP routes of the console API, derived from the contract: `POST /api/<method>` for every
 * method of `CONSOLE_METHODS`, and `GET /api/events` for the run event stream. No route is written
 * by hand, so none can be missing (test/unit/contract.test.ts checks each method resolves).
 */
import { CONSOLE_METHOD_NAMES, isConsoleMethod, type ConsoleMethodName } from '../contract/methods.js';

export const API_PREFIX = '/api/';
/** The run event stream (server-sent events). */
export const EVENTS_PATH = '/api/events';

/** The path of each console method. */
export const API_ROUTES: Readonly<Record<ConsoleMethodName, string>> = Object.freeze(
  Object.fromEntries(CONSOLE_METHOD_NAMES.map((name) => [name, `${API_PREFIX}${name}`])) as Record<ConsoleMethodName, string>,
);

/** The method a request path names (`/api/getReport` → `getReport`), or undefined. */
export function methodOfPath(pathname: string): ConsoleMethodName | undefined {
  if (!pathname.startsWith(API_PREFIX)) return undefined;
  const name = pathname.slice(API_PREFIX.length);
  return isConsoleMethod(name) ? name : undefined;
}
