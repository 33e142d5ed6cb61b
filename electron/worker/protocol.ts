/**
 * The messages between the desktop app's main process and its engine host (engine-host.ts), the
 * same whether the host is an Electron utility process (its parent port, a MessagePort), a Node
 * `worker_threads` worker or a `child_process.fork` child. Plain structured-clone data only.
 *
 * - main → host: `call` (a console method by name, its arguments, a request id), `secret-answer`
 *   (the value of a `keychain:` reference the host asked for), `schedules` (the "Run schedules
 *   while the app is open" setting: the host runs the environments' schedules or stops doing so),
 *   `close`.
 * - host → main: `ready`, `result` (the request id and the method's envelope), `event` (a run
 *   event, pushed as it happens), `secret-request` (a `keychain:` reference to decrypt: only main
 *   holds Electron's safeStorage), `secret-store` (a secret set from the console, to keep in the
 *   keychain: answered with its `keychain:` reference, or an error when there is none), `closed`.
 */
import type { ContractErrorData, Envelope, RunEvent } from '../../core/contract/methods.js';

export type HostRequest =
  | { type: 'call'; id: number; method: string; args: unknown }
  | { type: 'secret-answer'; id: number; value?: string; error?: ContractErrorData }
  | { type: 'schedules'; enabled: boolean }
  | { type: 'close' };

export type HostMessage =
  | { type: 'ready'; pid: number }
  | { type: 'result'; id: number; envelope: Envelope<unknown> }
  | { type: 'event'; event: RunEvent }
  | { type: 'secret-request'; id: number; name: string; field: string }
  | { type: 'secret-store'; id: number; name: string; value: string }
  | { type: 'closed' };

/** One end of the host's channel: Electron's parentPort, a worker's parentPort or a forked child's IPC, adapted. */
export interface HostEndpoint {
  post(message: HostMessage): void;
  onMessage(listener: (message: HostRequest) => void): void;
}

/** Marks a process or worker as an engine host (set by whoever starts it; importing the module alone starts nothing). */
export const ENGINE_HOST_MARKER = 'PDS_ENGINE_HOST';
