/**
 * The desktop app's bridge: what its preload script exposes to the console page as `window.pds`.
 * Exactly one function per console method (generated from `CONSOLE_METHOD_NAMES`, answering the
 * method's envelope) and the run-event subscription; no generic `invoke`, and nothing of Node or
 * Electron crosses (only functions, plain arguments and plain answers). The renderer uses it when
 * present (the desktop app) and HTTP otherwise (`pds serve`).
 *
 * Envelopes rather than thrown errors cross the bridge, because an error thrown across Electron's
 * context bridge loses its code; the page's client turns an error envelope back into a
 * `ContractError` (`createConsoleClient`).
 *
 * Pure: no Node API (the renderer and the preload import it).
 */
import type { ConsoleTransport } from './client.js';
// The names from their plain list, the rest as types only: the preload bundles no schema.
import { CONSOLE_METHOD_NAMES, type ConsoleMethodName } from './method-names.js';
import type { ArgsOf, Envelope, ResultOf, RunEvent } from './methods.js';

/** The IPC channel of one method: `pds:<method>` (one `ipcMain.handle` each). */
export const methodChannel = (name: ConsoleMethodName): `pds:${ConsoleMethodName}` => `pds:${name}`;
/** The channel on which main pushes run events to the window. */
export const RUN_EVENT_CHANNEL = 'pds:run-event';

/** One function per console method, answering its envelope. */
export type PdsBridgeMethods = { [M in ConsoleMethodName]: (args: ArgsOf<M>) => Promise<Envelope<ResultOf<M>>> };

/** `window.pds`: the console methods and the run-event subscription. */
export interface PdsBridge extends PdsBridgeMethods {
  /** Calls `listener` with each run event from now on; returns the function that stops it. */
  onRunEvent(listener: (event: RunEvent) => void): () => void;
}

/**
 * How the preload reaches main. Electron's `ipcRenderer` satisfies it (`invoke`, `on`,
 * `removeListener`); tests use an in-memory pair.
 */
export interface BridgeChannel {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/** Builds `window.pds` over `channel`: one function per method name of the contract, and `onRunEvent`. */
export function createBridge(channel: BridgeChannel): PdsBridge {
  const methods = Object.fromEntries(
    CONSOLE_METHOD_NAMES.map((name) => {
      const channelName = methodChannel(name);
      // Only the named arguments cross: a plain copy, never the caller's object.
      return [name, (args: unknown) => channel.invoke(channelName, args ?? {}) as Promise<Envelope<unknown>>];
    }),
  ) as unknown as PdsBridgeMethods;
  return Object.freeze({
    ...methods,
    onRunEvent(listener: (event: RunEvent) => void): () => void {
      if (typeof listener !== 'function') throw new TypeError('onRunEvent needs a function');
      // The IPC event object (sender, ports) is not handed to the page: only the run event.
      const wrapped = (_event: unknown, runEvent: unknown): void => listener(runEvent as RunEvent);
      channel.on(RUN_EVENT_CHANNEL, wrapped);
      return () => {
        channel.removeListener(RUN_EVENT_CHANNEL, wrapped);
      };
    },
  });
}

/** The console client's transport over `window.pds` (the desktop app). */
export function bridgeTransport(bridge: PdsBridge): ConsoleTransport {
  return {
    call(name, args) {
      const fn = bridge[name] as (args: unknown) => Promise<Envelope<unknown>>;
      return fn(args);
    },
  };
}
