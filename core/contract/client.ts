/**
 * The typed console client, generated from `CONSOLE_METHOD_NAMES` over a transport (HTTP to
 * `pds serve`, IPC in the desktop app): one async function per method, named arguments in, the
 * result out, and an error envelope thrown back as a `ContractError` with the same code. No
 * per-method code: a method added to the contract is in every client at once.
 *
 * Pure: no Node API (the renderer imports it).
 */
import { CONSOLE_METHOD_NAMES, ContractError, ERROR_ACTIONS, type ConsoleClient, type ConsoleMethodName, type Envelope } from './methods.js';

/** How a client reaches the engine: one call of a method by name, answered with an envelope. */
export interface ConsoleTransport {
  call(name: ConsoleMethodName, args: unknown): Promise<Envelope<unknown>>;
}

/** True when `value` has the shape of an envelope (a transport may hand over anything). */
function isEnvelope(value: unknown): value is Envelope<unknown> {
  if (value === null || typeof value !== 'object') return false;
  const v = value as { ok?: unknown; error?: unknown };
  if (v.ok === true) return 'value' in v;
  if (v.ok !== false || v.error === null || typeof v.error !== 'object') return false;
  const e = v.error as { code?: unknown; message?: unknown };
  return typeof e.code === 'string' && typeof e.message === 'string';
}

/** Unwraps an envelope: its value, or its error thrown as a `ContractError` with the same code. */
export function unwrapEnvelope<T>(envelope: unknown): T {
  if (!isEnvelope(envelope)) {
    throw new ContractError({ code: 'BAD_RESPONSE', message: 'The server answered with something that is not a console response.', action: 'reload', retryable: true });
  }
  if (envelope.ok) return envelope.value as T;
  const e = envelope.error;
  // An action this client does not know (a newer server) is shown as none rather than failing.
  const action = (ERROR_ACTIONS as readonly string[]).includes(e.action) ? e.action : 'none';
  throw new ContractError({ ...e, action });
}

/** The console client over `transport`. */
export function createConsoleClient(transport: ConsoleTransport): ConsoleClient {
  const entries = CONSOLE_METHOD_NAMES.map((name) => [name, async (args: unknown) => unwrapEnvelope(await transport.call(name, args ?? {}))] as const);
  return Object.freeze(Object.fromEntries(entries)) as unknown as ConsoleClient;
}
