/**
 * One call of a console method as every transport makes it (`pds serve`, the desktop app's IPC):
 * the name and the arguments arrive from the wire, the answer leaves as an `Envelope`. The
 * arguments are checked with the method's zod schema before the handler sees them, the result
 * with its result schema on the way out (which also drops any field the contract does not
 * declare, so nothing undeclared — a secret in an engine object, say — crosses), and whatever the
 * handler throws becomes `ContractErrorData` (`toContractError`).
 *
 * Pure: no Node API (the desktop app's main process and `pds serve` share it).
 */
import type { z } from 'zod';
import { PdsError } from '../errors/index.js';
import { consoleHint, guidanceFor } from './error-guidance.js';
import { CONSOLE_METHODS, ContractError, isConsoleMethod, type ConsoleHandlers, type ContractErrorData, type Envelope } from './methods.js';

export interface DispatchOptions {
  /**
   * Told of every error that reaches the caller as `INTERNAL` (its text stays on the server: it
   * may hold paths or values). Default: `console.error` with the method's name and the stack.
   */
  onInternalError?: (method: string, error: unknown) => void;
}

const defaultInternalLog = (method: string, error: unknown): void => {
  console.error(`pds: ${method} failed unexpectedly:`, error);
};

/** The message of every `INTERNAL` error: the details are in the server's log, never on the wire. */
export const INTERNAL_MESSAGE = 'Something went wrong inside pds. The details are in the log of the process serving the console.';

/**
 * Turns anything a handler throws into the error half of an envelope: a `ContractError` as it
 * is; a `PdsError` with its code, message, hint (worded for the console) and retryable flag, and
 * an `action` chosen by its code; anything else as `INTERNAL` with a generic message.
 */
export function toContractError(error: unknown, options: { method?: string } & DispatchOptions = {}): ContractErrorData {
  if (error instanceof ContractError) return error.toData();
  if (error instanceof PdsError) {
    const guidance = guidanceFor(error.code);
    const data: ContractErrorData = { code: error.code, message: error.message, action: guidance.action, retryable: error.retryable };
    const hint = consoleHint(error.code, error.hint);
    if (hint !== undefined) data.hint = hint;
    const field = fieldOf(error);
    if (field !== undefined) data.field = field;
    return data;
  }
  (options.onInternalError ?? defaultInternalLog)(options.method ?? 'a console method', error);
  return { code: 'INTERNAL', message: INTERNAL_MESSAGE, hint: 'Try again; if it happens again, report it with that log.', action: 'none', retryable: false };
}

/**
 * The form field of a config error: its path within the environment (`source.bucket` of
 * `environments.live.source.bucket`), for the form to show the message beside the field.
 */
function fieldOf(error: PdsError): string | undefined {
  const path: unknown = (error as PdsError & { path?: unknown }).path;
  if (typeof path !== 'string' || path === '') return undefined;
  // `environments.live` alone names the whole environment, not a field of its form.
  if (/^environments\.[^.]+$/.test(path)) return undefined;
  return path.replace(/^environments\.[^.]+\./, '');
}

/** A method name from the wire, quoted in a message only when it looks like one. */
function quotedName(name: string): string {
  return /^[A-Za-z][A-Za-z0-9]{0,63}$/.test(name) ? `"${name}"` : 'of that name';
}

/** The INVALID_ARGUMENTS error of a failed parse: each problem with its field path, never the value. */
function argumentsError(method: string, raw: Record<string, unknown>, issues: readonly z.core.$ZodIssue[]): ContractErrorData {
  const problems = issues.slice(0, 5).map((issue) => {
    const path = issue.path.map(String).join('.');
    if (path === '') return issue.message;
    const missing = issue.code === 'invalid_type' && valueAt(raw, issue.path) === undefined;
    return missing ? `${path} is required` : `${path}: ${issue.message}`;
  });
  const more = issues.length > problems.length ? ` (and ${issues.length - problems.length} more)` : '';
  const first = issues[0]?.path.map(String).join('.');
  return {
    code: 'INVALID_ARGUMENTS',
    message: `The arguments of ${method} are not valid: ${problems.join('; ')}${more}.`,
    action: 'none',
    retryable: false,
    ...(first ? { field: first } : {}),
  };
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let at: unknown = value;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

/**
 * Calls the console method `name` of `handlers` with `rawArgs` (a JSON object of named arguments,
 * or nothing for a method without arguments) and answers with an envelope. Never throws.
 */
export async function dispatch(handlers: ConsoleHandlers, name: string, rawArgs: unknown, options: DispatchOptions = {}): Promise<Envelope<unknown>> {
  if (!isConsoleMethod(name)) {
    return { ok: false, error: { code: 'UNKNOWN_METHOD', message: `There is no console method ${quotedName(name)}.`, hint: 'The console and the server may be of different versions: reload the page.', action: 'reload', retryable: false } };
  }
  const raw = rawArgs === undefined || rawArgs === null ? {} : rawArgs;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, error: { code: 'INVALID_ARGUMENTS', message: `The arguments of ${name} must be an object of named arguments.`, action: 'none', retryable: false } };
  }
  const spec = CONSOLE_METHODS[name];
  const parsed = await spec.args.safeParseAsync(raw);
  if (!parsed.success) return { ok: false, error: argumentsError(name, raw as Record<string, unknown>, parsed.error.issues) };

  let value: unknown;
  try {
    const handler = handlers[name] as (args: unknown) => Promise<unknown>;
    value = await handler(parsed.data);
  } catch (error) {
    return { ok: false, error: toContractError(error, { method: name, onInternalError: options.onInternalError }) };
  }
  const checked = await spec.result.safeParseAsync(value);
  if (!checked.success) {
    // A handler answering outside the contract is a bug of the engine; the issue paths (never values) go to the log.
    const where = checked.error.issues.slice(0, 5).map((i) => `${i.path.map(String).join('.') || '(result)'}: ${i.message}`).join('; ');
    return { ok: false, error: toContractError(new Error(`the result of ${name} does not match its schema: ${where}`), { method: name, onInternalError: options.onInternalError }) };
  }
  return { ok: true, value: checked.data };
}
