/**
 * Main's side of the engine host (electron/worker/engine-host.ts): starts it, sends each console
 * call with a request id and hands back its envelope, forwards the host's run events, and answers
 * its requests for `keychain:` secrets.
 *
 * When the host dies (a crash, out of memory, killed), every call waiting for it gets a readable
 * ENGINE_STOPPED error, every run it was running is reported finished as failed with that error
 * (the window sees the run end rather than hang), and a new host is started, so the next call
 * works (at once when the dead host had started; at the next call when it never did, so a host
 * that cannot start is not restarted in a loop). How the host is started is given (`spawn`): an Electron `utilityProcess` in the app, a
 * `worker_threads` worker or a forked child under Node.
 *
 * It remembers the "Run schedules while the app is open" setting (`setSchedules`) and tells each
 * host as soon as it is ready, so a host restarted after a crash schedules again.
 */
import { ContractError, type ConsoleHandlers, type ContractErrorData, type Envelope, type RunEvent, CONSOLE_METHOD_NAMES } from '../../core/contract/methods.js';
import { unwrapEnvelope } from '../../core/contract/client.js';
import type { HostMessage, HostRequest } from '../worker/protocol.js';

/** A started host, whatever carries its messages. */
export interface HostProcess {
  post(message: HostRequest): void;
  onMessage(listener: (message: HostMessage) => void): void;
  /** Called once when the host is gone, with how it ended (exit code, signal or error text). */
  onExit(listener: (how: string) => void): void;
  kill(): void;
}

export interface EngineClientOptions {
  spawn: () => HostProcess;
  /** Each run event, in the order the host sent them. */
  onEvent: (event: RunEvent) => void;
  /** Decrypts `keychain:NAME` for the host (main holds safeStorage); absent → SECRET_IN_KEYCHAIN. */
  readKeychain?: (name: string, field: string) => Promise<string>;
  /** Keeps a secret set from the console in the keychain, returning its `keychain:` reference; absent → the host's `file:` store. */
  storeSecret?: (name: string, value: string) => Promise<string>;
  /** Told when a host died and was restarted (for the log). */
  onRestart?: (how: string) => void;
}

export interface EngineClient {
  /** One console call, answered with its envelope (never throws). */
  call(method: string, args: unknown): Promise<Envelope<unknown>>;
  /** The host's process id (a test kills it). */
  readonly pid: number | undefined;
  /** Waits until the current host said it is ready. */
  ready(): Promise<void>;
  /**
   * The "Run schedules while the app is open" setting: sent to the host (started if need be when
   * on) and again to every host started after it (a restart after a crash).
   */
  setSchedules(enabled: boolean): void;
  /** Closes the host (its runs are cancelled and waited for), then stops restarting it. */
  close(): Promise<void>;
}

/** The error of a call whose host stopped before answering. */
export function engineStoppedError(how: string): ContractErrorData {
  return {
    code: 'ENGINE_STOPPED',
    message: `The engine process stopped unexpectedly (${how}); it has been restarted.`,
    hint: 'Try again. A run it was running was stopped; the next run picks up what it did not finish.',
    action: 'reload',
    retryable: true,
  };
}

interface Host {
  process: HostProcess;
  pid: number | undefined;
  ready: Promise<void>;
  pending: Map<number, (envelope: Envelope<unknown>) => void>;
  /** Runs started and not finished, by id, as their run-started events told. */
  runs: Map<string, Extract<RunEvent, { type: 'run-started' }>>;
  lastSeq: number;
  closed: boolean;
}

export function createEngineClient(options: EngineClientOptions): EngineClient {
  let nextId = 1;
  let current: Host | undefined;
  let closing = false;
  let closedOnce: (() => void) | undefined;
  let schedules = false;

  const start = (): Host => {
    const proc = options.spawn();
    let markReady: () => void = () => {};
    const host: Host = { process: proc, pid: undefined, ready: new Promise<void>((r) => (markReady = r)), pending: new Map(), runs: new Map(), lastSeq: 0, closed: false };
    proc.onMessage((message) => {
      switch (message.type) {
        case 'ready':
          host.pid = message.pid;
          if (schedules) proc.post({ type: 'schedules', enabled: true });
          markReady();
          break;
        case 'result': {
          const resolve = host.pending.get(message.id);
          host.pending.delete(message.id);
          resolve?.(message.envelope);
          break;
        }
        case 'event': {
          const event = message.event;
          host.lastSeq = Math.max(host.lastSeq, event.seq);
          if (event.type === 'run-started') host.runs.set(event.runId, event);
          if (event.type === 'run-finished') host.runs.delete(event.runId);
          options.onEvent(event);
          break;
        }
        case 'secret-request':
          void answerSecret(proc, message.id, message.name, message.field);
          break;
        case 'secret-store':
          void storeSecret(proc, message.id, message.name, message.value);
          break;
        case 'closed':
          host.closed = true;
          closedOnce?.();
          break;
      }
    });
    proc.onExit((how) => {
      markReady();
      if (current === host) current = undefined;
      if (host.closed || closing) {
        closedOnce?.();
        return;
      }
      const error = engineStoppedError(how);
      for (const resolve of host.pending.values()) resolve({ ok: false, error });
      host.pending.clear();
      // The runs it was running end here, for the window, as failed with the same error.
      const time = new Date().toISOString();
      for (const [runId, started] of host.runs) {
        host.lastSeq += 1;
        const { env } = started;
        options.onEvent({
          type: 'run-finished',
          runId,
          env,
          seq: host.lastSeq,
          time,
          run: { runId, env, status: 'failed', startedAt: started.time, finishedAt: time, totals: null, options: started.options, error: { code: error.code, message: error.message, hint: error.hint }, origin: started.origin },
        });
      }
      host.runs.clear();
      options.onRestart?.(how);
      // A host that died after it was ready is replaced at once (the window keeps its run events);
      // one that died before (it cannot start at all) only at the next call, never in a loop.
      if (host.pid !== undefined) current = start();
    });
    return host;
  };

  const answerSecret = async (proc: HostProcess, id: number, name: string, field: string): Promise<void> => {
    try {
      if (!options.readKeychain) throw new ContractError({ code: 'SECRET_IN_KEYCHAIN', message: `${field} is stored in the desktop app's keychain, which is not available here.` });
      proc.post({ type: 'secret-answer', id, value: await options.readKeychain(name, field) });
    } catch (error) {
      const data: ContractErrorData =
        error instanceof ContractError ? error.toData() : { code: 'SECRET_MISSING', message: `The desktop app could not read ${field} from its keychain.`, hint: 'Set the secret again in the environment’s settings.', action: 'set-secret', retryable: false };
      proc.post({ type: 'secret-answer', id, error: data });
    }
  };

  const storeSecret = async (proc: HostProcess, id: number, name: string, value: string): Promise<void> => {
    try {
      if (!options.storeSecret) throw new ContractError({ code: 'KEYCHAIN_UNAVAILABLE', message: 'No keychain here.' });
      proc.post({ type: 'secret-answer', id, value: await options.storeSecret(name, value) });
    } catch (error) {
      // The host then keeps the secret in a 0600 file; main's reason goes to its log only.
      if (!(error instanceof ContractError && error.code === 'KEYCHAIN_UNAVAILABLE')) console.error('pds: the keychain could not store a secret:', error);
      proc.post({ type: 'secret-answer', id, error: { code: 'KEYCHAIN_UNAVAILABLE', message: 'The keychain could not store the secret.', action: 'none', retryable: false } });
    }
  };

  const host = (): Host => (current ??= start());

  return {
    call(method, args) {
      if (closing) return Promise.resolve({ ok: false, error: engineStoppedError('the app is closing') });
      const h = host();
      const id = nextId++;
      return new Promise<Envelope<unknown>>((resolve) => {
        h.pending.set(id, resolve);
        h.process.post({ type: 'call', id, method, args });
      });
    },
    get pid() {
      return current?.pid;
    },
    async ready() {
      await host().ready;
    },
    setSchedules(enabled) {
      if (closing || enabled === schedules) return;
      schedules = enabled;
      // A host not ready yet is told when it is (see 'ready'); a host is started to schedule.
      const h = enabled ? host() : current;
      if (h?.pid !== undefined) h.process.post({ type: 'schedules', enabled });
    },
    async close() {
      closing = true;
      const h = current;
      if (!h) return;
      const done = new Promise<void>((r) => (closedOnce = r));
      h.process.post({ type: 'close' });
      await done;
      h.process.kill();
    },
  };
}

/**
 * The console handlers as main sees them: each forwards to the host and throws its error envelope
 * back as a ContractError, so main's `dispatch` (which validated the arguments) passes it on as is.
 */
export function remoteHandlers(client: Pick<EngineClient, 'call'>): ConsoleHandlers {
  return Object.fromEntries(CONSOLE_METHOD_NAMES.map((name) => [name, async (args: unknown) => unwrapEnvelope(await client.call(name, args))])) as unknown as ConsoleHandlers;
}
