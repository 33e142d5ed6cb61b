/**
 * The engine host: the console's handlers (core/service) off the desktop app's main process, so
 * loading a 1 GB daily log never freezes the window. Main sends `call` messages (protocol.ts);
 * the host answers each with the method's envelope (`dispatch`: the arguments checked again with
 * the contract's schemas) and pushes every run event as it happens.
 *
 * The same module runs as:
 * - an Electron `utilityProcess` (the packaged app): `process.parentPort`, a MessagePort to main;
 * - a Node `worker_threads` worker (`workerData.PDS_ENGINE_HOST`), or
 * - a `child_process.fork` child (`PDS_ENGINE_HOST=1` in its environment): how it is tested here.
 *
 * Told `schedules` with `enabled: true` (the app's "Run schedules while the app is open" setting),
 * it runs the scheduler of `pds schedule run` over the same handlers: loads under the same run
 * lock, origin `scheduler`, their events pushed like any run's, alerts, log lines in
 * `PDS_HOME/logs`; an environment a live `pds schedule run` beats for is left to it. Told `false`
 * it stops scheduling (a load in progress finishes; the heartbeats read stopped); `close` stops it
 * too, after cancelling the runs in progress.
 *
 * It starts only when marked as a host; importing it (a test, the bundler) starts nothing.
 * The home folder is `PDS_HOME` (or the `home` of `workerData`), as for the CLI.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { dispatch } from '../../core/contract/dispatch.js';
import { createConsoleHandlers, type ConsoleEngine } from '../../core/service/console-handlers.js';
import { ContractError } from '../../core/contract/methods.js';
import { resolveHome, setKeychainResolver, setSecretStore } from '../../core/service/desktop-secrets.js';
import { ENGINE_HOST_MARKER, type HostEndpoint, type HostRequest } from './protocol.js';

export interface EngineHostOptions {
  home?: string;
  /** Who starts runs here, shown with each run (default `desktop`). */
  origin?: string;
}

/**
 * Serves the console's handlers on `endpoint` until a `close` message; resolves when closed. Run
 * events are pushed from the start (main forwards them to the window).
 */
export function serveEngine(endpoint: HostEndpoint, options: EngineHostOptions = {}): Promise<void> {
  const home = resolveHome(options.home);
  const engine: ConsoleEngine = createConsoleHandlers({ home, origin: options.origin ?? 'desktop' });
  const unsubscribe = engine.subscribe((event) => endpoint.post({ type: 'event', event }));

  // The scheduler while the setting is on; turning it on and off is applied in order (on after
  // off waits for the load the stopped scheduler was finishing).
  let closing = false;
  let scheduling: { controller: AbortController; done: Promise<void> } | undefined;
  let schedulesChanged: Promise<void> = Promise.resolve();
  const stopScheduling = async (): Promise<void> => {
    const current = scheduling;
    scheduling = undefined;
    if (!current) return;
    current.controller.abort();
    await current.done;
  };
  const setSchedules = (enabled: boolean): Promise<void> =>
    (schedulesChanged = schedulesChanged.then(async () => {
      if (!enabled || closing) return stopScheduling();
      if (scheduling) return;
      const controller = new AbortController();
      const done = engine.runSchedules({ signal: controller.signal, yieldToOthers: true }).catch((error: unknown) => {
        console.error('pds: the scheduler stopped:', error instanceof Error ? error.message : error);
      });
      scheduling = { controller, done };
    }));

  // `keychain:` secrets are decrypted by main (only it holds safeStorage), on demand.
  let nextSecret = 1;
  const secretWaiters = new Map<number, { resolve: (value: string) => void; reject: (error: Error) => void }>();
  setKeychainResolver(
    (name, field) =>
      new Promise<string>((resolve, reject) => {
        const id = nextSecret++;
        secretWaiters.set(id, { resolve, reject });
        endpoint.post({ type: 'secret-request', id, name, field });
      }),
  );
  // Secrets set from the console go to main's keychain when it has one; otherwise (an error
  // answer) to the engine's 0600 files.
  setSecretStore(
    (name, value) =>
      new Promise<string | undefined>((resolve) => {
        const id = nextSecret++;
        secretWaiters.set(id, { resolve, reject: () => resolve(undefined) });
        endpoint.post({ type: 'secret-store', id, name, value });
      }),
  );

  return new Promise<void>((resolveClosed) => {
    endpoint.onMessage((message: HostRequest) => {
      if (message === null || typeof message !== 'object') return;
      if (message.type === 'call') {
        if (closing) return;
        void dispatch(engine, message.method, message.args).then((envelope) => endpoint.post({ type: 'result', id: message.id, envelope }));
      } else if (message.type === 'secret-answer') {
        const waiter = secretWaiters.get(message.id);
        secretWaiters.delete(message.id);
        if (message.value !== undefined) waiter?.resolve(message.value);
        else waiter?.reject(new ContractError(message.error ?? { code: 'SECRET_MISSING', message: 'The desktop app could not read a secret of its keychain.' }));
      } else if (message.type === 'schedules') {
        if (!closing) void setSchedules(message.enabled === true);
      } else if (message.type === 'close' && !closing) {
        closing = true;
        unsubscribe();
        // No new slot fires; the runs in progress (scheduled ones too) are cancelled, then the
        // scheduler marks its heartbeats stopped.
        scheduling?.controller.abort();
        void engine
          .close()
          .then(() => setSchedules(false))
          .finally(() => {
            endpoint.post({ type: 'closed' });
            resolveClosed();
          });
      }
    });
    endpoint.post({ type: 'ready', pid: process.pid });
  });
}

/** Electron's utility process parent port (`process.parentPort`), when this is one. */
interface ElectronParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}

/** The endpoint of this process or thread, when it was started as an engine host. */
export function hostEndpoint(): HostEndpoint | undefined {
  const electronPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (electronPort && process.env[ENGINE_HOST_MARKER] === '1') {
    return { post: (m) => electronPort.postMessage(m), onMessage: (l) => electronPort.on('message', (e) => l(e.data as HostRequest)) };
  }
  if (!isMainThread && parentPort && (workerData as Record<string, unknown> | null)?.[ENGINE_HOST_MARKER] === true) {
    const port = parentPort;
    return { post: (m) => port.postMessage(m), onMessage: (l) => port.on('message', l) };
  }
  if (isMainThread && process.send && process.env[ENGINE_HOST_MARKER] === '1') {
    const send = process.send.bind(process);
    return {
      post: (m) => {
        if (process.connected) send(m);
      },
      onMessage: (l) => process.on('message', (m) => l(m as HostRequest)),
    };
  }
  return undefined;
}

const endpoint = hostEndpoint();
if (endpoint) {
  const data = (workerData as Record<string, unknown> | null) ?? {};
  const home = typeof data.home === 'string' ? data.home : process.env.PDS_HOME;
  void serveEngine(endpoint, { home }).then(() => {
    // A forked child or utility process ends with its work; a worker ends when its port closes.
    if (isMainThread) process.exit(0);
    else parentPort?.close();
  });
  // Main going away (it crashed, or closed the channel) ends the host: no orphan runs.
  if (isMainThread && process.send) process.on('disconnect', () => process.exit(0));
}
