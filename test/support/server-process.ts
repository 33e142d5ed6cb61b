/**
 * Shared plumbing for the test server launchers: finding a binary, running a command to
 * completion, and a child process that is stopped with its temp folder even when a test fails
 * (and killed if the test process exits without stopping it).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, constants, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Finds an executable: `envVar` if set, else `name` on PATH, else `extraDirs`. Throws a message
 * telling how to install it: a missing server must fail the test, never skip it.
 */
export async function findBinary(name: string, envVar: string | undefined, extraDirs: string[], howToInstall: string): Promise<string> {
  const fromEnv = envVar ? process.env[envVar] : undefined;
  if (fromEnv) {
    if (await isExecutable(fromEnv)) return fromEnv;
    throw new Error(`${envVar}=${fromEnv} is not an executable file. ${howToInstall}`);
  }
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  const searched = envVar ? `$${envVar}, PATH, ${extraDirs.join(', ')}` : `PATH, ${extraDirs.join(', ')}`;
  throw new Error(`${name} was not found (searched ${searched}). ${howToInstall}`);
}

/** `~/go/bin`, where `go install` puts binaries by default. */
export function goBinDir(): string {
  return join(process.env.GOPATH ?? join(homedir(), 'go'), 'bin');
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs a command to completion (no shell); rejects with its output when it exits non-zero. */
export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { env: options.env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`.trim()));
      else resolve(stdout);
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** A server child process whose output is kept (last 64 KB) for error messages. */
/** A database server started by a test that the test can crash and bring back. */
export interface RestartableServer {
  /** Temporary folder holding the server's data; deleted by `stop()`. */
  dataDir: string;
  /** Kills the server abruptly (SIGKILL), as a crash or a power cut would; the data folder stays. */
  kill(): Promise<void>;
  /** Starts the server again on the same data folder and port, after `kill()`. */
  restart(): Promise<void>;
  /**
   * Stops the process (SIGSTOP) without closing anything: connections stay open and the kernel
   * still accepts new ones, but nothing answers, as with a hung host or a half-dead network path.
   */
  pause(): void;
  /** Lets a paused server go on (SIGCONT). */
  resume(): void;
  /** Stops the server and deletes its folder. */
  stop(): Promise<void>;
}

export interface ServerProcess {
  readonly child: ChildProcess;
  /** The most recent output of the process, for failure messages. */
  output(): string;
  /** True once the process has exited. */
  exited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. Resumes a paused process first. */
  stop(graceMs?: number): Promise<void>;
  /** SIGSTOP: the process stops answering but keeps its sockets (see `RestartableServer.pause`). */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Starts `command` as a server; it is killed if this process exits while it still runs. */
export function startServer(command: string, args: string[], env?: NodeJS.ProcessEnv): ServerProcess {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (chunk: Buffer): void => {
    log = (log + chunk.toString('utf8')).slice(-64 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let done = false;
  const gone = new Promise<void>((resolve) => {
    child.once('exit', () => {
      done = true;
      running.delete(child);
      resolve();
    });
    child.once('error', (error) => {
      keep(Buffer.from(String(error)));
      done = true;
      running.delete(child);
      resolve();
    });
  });
  running.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const proc of running) proc.kill('SIGKILL');
    });
  }
  return {
    child,
    output: () => log,
    exited: () => done,
    pause() {
      if (!done) child.kill('SIGSTOP');
    },
    resume() {
      if (!done) child.kill('SIGCONT');
    },
    async stop(graceMs = 10_000) {
      if (done) return;
      // A stopped process would not act on SIGTERM until continued.
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
    },
  };
}

/**
 * Polls `probe` until it resolves true, the server exits, or `timeoutMs` passes; the error then
 * includes the server's recent output.
 */
export async function waitUntil(
  what: string,
  server: ServerProcess,
  probe: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.exited()) throw new Error(`${what} exited during start-up:\n${server.output()}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} was not ready after ${timeoutMs / 1000} s:\n${server.output()}`);
    await sleep(100);
  }
}

/** Deletes a temp folder, retrying briefly while a just-stopped server releases its files. */
export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}
