/**
 * The desktop app's IPC path under Node, without Electron: an in-memory pair standing in for
 * `ipcMain` / `ipcRenderer` / `webContents.send` (every argument and answer structured-cloned, as
 * Electron serializes them), and the engine host started as a forked child or a worker thread
 * with the same message protocol the utility process uses.
 */
import { fork } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BridgeChannel } from '../../core/contract/desktop-bridge.js';
import type { HostProcess } from '../../electron/main/engine-client.js';
import type { IpcMainLike, InvokeEventLike } from '../../electron/main/ipc.js';
import type { HostMessage } from '../../electron/worker/protocol.js';

export const HOST_MODULE = fileURLToPath(new URL('../../electron/worker/engine-host.ts', import.meta.url));

/** Who the renderer end claims to be: the frame's URL, main frame or not, the web contents id. */
export interface FakeSender {
  frameUrl: string;
  isMainFrame: boolean;
  webContentsId: number;
}

export interface IpcPair {
  ipcMain: IpcMainLike;
  ipcRenderer: BridgeChannel;
  /** `webContents.send` of main: to the renderer end's listeners. */
  send(channel: string, ...args: unknown[]): void;
  sender: FakeSender;
  /** Channels with a handler. */
  channels(): string[];
}

export function ipcPair(sender: FakeSender): IpcPair {
  const handlers = new Map<string, (event: InvokeEventLike, args: unknown) => unknown>();
  const listeners = new Map<string, Set<(event: unknown, ...args: unknown[]) => void>>();
  const mainFrame = { url: '' };
  const event = (): InvokeEventLike => {
    mainFrame.url = sender.frameUrl;
    return { sender: { id: sender.webContentsId, mainFrame }, senderFrame: sender.isMainFrame ? mainFrame : { url: sender.frameUrl } };
  };
  return {
    sender,
    ipcMain: {
      handle(channel, listener) {
        if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
        handlers.set(channel, listener);
      },
      removeHandler(channel) {
        handlers.delete(channel);
      },
    },
    ipcRenderer: {
      async invoke(channel, ...args) {
        const handler = handlers.get(channel);
        if (!handler) throw new Error(`No handler registered for '${channel}'`);
        return structuredClone(await handler(event(), structuredClone(args[0])));
      },
      on(channel, listener) {
        let set = listeners.get(channel);
        if (!set) listeners.set(channel, (set = new Set()));
        set.add(listener);
      },
      removeListener(channel, listener) {
        listeners.get(channel)?.delete(listener);
      },
    },
    send(channel, ...args) {
      for (const l of listeners.get(channel) ?? []) l({}, ...structuredClone(args));
    },
    channels: () => [...handlers.keys()],
  };
}

/** The engine host as a forked child (`child_process.fork`), as the utility process runs it. */
export function forkHost(home: string): HostProcess & { readonly pid: number | undefined } {
  const child = fork(HOST_MODULE, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, PDS_ENGINE_HOST: '1', PDS_HOME: home },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  return {
    get pid() {
      return child.pid;
    },
    post: (message) => {
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => child.on('message', (m) => listener(m as HostMessage)),
    onExit: (listener) => child.once('exit', (code, signal) => listener(signal ? `killed by ${signal}` : `exit code ${code}`)),
    kill: () => void child.kill(),
  };
}

/** The engine host as a `worker_threads` worker. */
export function workerHost(home: string): HostProcess {
  // The worker compiles the TypeScript host itself (tsx's loader registered in the worker first).
  const source = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(pathToFileURL(HOST_MODULE).href)}); });`;
  const worker = new Worker(source, {
    eval: true,
    workerData: { PDS_ENGINE_HOST: true, home },
  });
  return {
    post: (message) => worker.postMessage(message),
    onMessage: (listener) => worker.on('message', (m) => listener(m as HostMessage)),
    onExit: (listener) => worker.once('exit', (code) => listener(`exit code ${code}`)),
    kill: () => void worker.terminate(),
  };
}
