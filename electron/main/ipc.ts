/**
 * Main's IPC: one `ipcMain.handle` per console method (channel `pds:<method>`, from
 * `CONSOLE_METHOD_NAMES`), and the run events pushed to the window. Each call is checked first:
 * it must come from the main frame of our window showing the console (`isTrustedSender`), and its
 * arguments must pass the method's schema (`dispatch`) — only then does the engine see it.
 *
 * Written against small interfaces (`IpcMainLike`, the sender facts) that Electron's `ipcMain` and
 * `IpcMainInvokeEvent` satisfy, so tests drive it over an in-memory channel under Node.
 */
import { dispatch, type DispatchOptions } from '../../core/contract/dispatch.js';
import { methodChannel } from '../../core/contract/desktop-bridge.js';
import { CONSOLE_METHOD_NAMES, type ConsoleHandlers, type Envelope } from '../../core/contract/methods.js';
import type { SenderInfo } from './policy.js';

/** The sender facts of an Electron `IpcMainInvokeEvent` (or a test's stand-in). */
export interface InvokeEventLike {
  sender: { id: number; mainFrame?: unknown };
  senderFrame?: { url: string } | null;
}

/** What main's IPC needs of Electron's `ipcMain`. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, args: unknown) => unknown): void;
  removeHandler(channel: string): void;
}

/** Reads the sender facts `isTrustedSender` decides on from an invoke event. */
export function senderInfo(event: InvokeEventLike): SenderInfo {
  const frame = event.senderFrame ?? undefined;
  return { frameUrl: frame?.url, isMainFrame: frame !== undefined && frame === event.sender.mainFrame, webContentsId: event.sender.id };
}

/** The answer to a call from anything but the console's own page. */
export const REFUSED_SENDER: Envelope<never> = {
  ok: false,
  error: { code: 'FORBIDDEN_SENDER', message: 'This call did not come from the console’s own page and was refused.', action: 'none', retryable: false },
};

export interface ConsoleIpcOptions {
  /** The engine as main sees it (`remoteHandlers` of the engine host). */
  engine: ConsoleHandlers;
  /** Whether an invoke event comes from the app's own frame. */
  isTrusted: (event: InvokeEventLike) => boolean;
  onInternalError?: DispatchOptions['onInternalError'];
}

/** Registers a handler per console method; returns the function that removes them. */
export function registerConsoleIpc(ipc: IpcMainLike, options: ConsoleIpcOptions): () => void {
  for (const name of CONSOLE_METHOD_NAMES) {
    ipc.handle(methodChannel(name), async (event, args) => {
      if (!options.isTrusted(event)) return REFUSED_SENDER;
      return dispatch(options.engine, name, args, { onInternalError: options.onInternalError });
    });
  }
  return () => {
    for (const name of CONSOLE_METHOD_NAMES) ipc.removeHandler(methodChannel(name));
  };
}
