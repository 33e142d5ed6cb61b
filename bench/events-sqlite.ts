/**
 * Daily log → SQLite: events/s and MB/s of compressed input through decrypt → gunzip → parse →
 * load (raw events + designated tables), beside two baselines measured in the same run on the
 * same file: `gpg --decrypt | gzip -dc` (how fast the input can be read at all) and the insert
 * baseline (`insert-child.mjs`: the same events parsed and made into the store's rows beforehand,
 * inserted by better-sqlite3 in one thread, one transaction, into the store's own schema and
 * connection: how fast the rows can be written at all). Peak RSS of the loading process is reported too: it must stay
 * flat in file size (target < 500 MB). Then later days are loaded into the same database, and the
 * last one measured again: loading must not slow down as the history grows.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { generateEventLines } from '../core/demo/generate-package.js';
import { createGpgHome } from '../test/support/gpg.js';

export interface EventsBenchResult {
  name: string;
  events: number;
  compressedMb: number;
  /** decrypt → gunzip → parse with the product's readers, storing nothing. */
  decodeEventsPerSec: number;
  eventsPerSec: number;
  mbPerSec: number;
  baselineEventsPerSec: number;
  ratio: number;
  /** The insert baseline: the rows alone, inserted in one thread and one transaction. */
  insertEventsPerSec: number;
  /** Rows the insert baseline wrote (events, designated, daily summary). */
  insertRows: number;
  /** Seconds of the insert baseline spent in COMMIT and the checkpoint after it. */
  insertCommitSeconds: number;
  /** End to end ÷ the insert baseline. */
  insertRatio: number;
  /**
   * Where the time went, per thread (Linux only, from /proc; undefined elsewhere): seconds on a
   * CPU and seconds ready to run but waiting for a core (other processes on the machine), for the
   * end-to-end load's main and SQLite threads and for the insert baseline's timed part.
   */
  cpu?: { main: ThreadTime; store: ThreadTime; insert: ThreadTime };
  peakRssMb: number;
  /** Events already stored when the later day was loaded. */
  storedBefore: number;
  /** The later day's load, into a database holding `storedBefore` events. */
  laterEventsPerSec: number;
}

export interface ThreadTime {
  /** Seconds on a CPU. */
  onCpu: number;
  /** Seconds ready to run but waiting for a core. */
  waiting: number;
}

/** A thread's times from `/proc/PID/task/TID/schedstat` (ns on CPU, ns waiting on a run queue). */
function readSchedstat(pid: number, tid: string): ThreadTime | undefined {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
    return run === undefined || wait === undefined ? undefined : { onCpu: run / 1e9, waiting: wait / 1e9 };
  } catch {
    return undefined; // not Linux, or the thread has ended
  }
}

/**
 * Samples the threads of a running child every 0.1 s and keeps each one's last reading (a thread
 * that ends loses at most its last 0.1 s). `stop()` gives the main thread (tid = pid) and the busiest
 * other thread: in a load, the SQLite thread.
 */
function sampleThreads(pid: number): { stop(): { main: ThreadTime; busiest: ThreadTime } | undefined } {
  const last = new Map<string, ThreadTime>();
  const sample = (): void => {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      return;
    }
    for (const tid of tids) {
      const t = readSchedstat(pid, tid);
      if (t) last.set(tid, t);
    }
  };
  sample();
  const timer = setInterval(sample, 100);
  return {
    stop() {
      clearInterval(timer);
      const main = last.get(String(pid));
      const others = [...last].filter(([tid]) => tid !== String(pid)).map(([, t]) => t);
      const busiest = others.sort((a, b) => b.onCpu - a.onCpu)[0];
      return main && busiest ? { main, busiest } : undefined;
    },
  };
}

// The children run the built product (dist/), as `pds` does: no TypeScript loader in the figures.
const CHILD = fileURLToPath(new URL('./load-child.mjs', import.meta.url));
const PARSE_CHILD = fileURLToPath(new URL('./parse-child.mjs', import.meta.url));
const INSERT_CHILD = fileURLToPath(new URL('./insert-child.mjs', import.meta.url));

function timeShell(command: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('bash', ['-o', 'pipefail', '-c', command], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - started) / 1e9) : reject(new Error(`${command}: ${stderr}`))));
  });
}

function runChild<T = { status: string; seconds: number; loaded: number; rejected: number; peakRssMb: number; codes: string[] }>(
  args: string[],
  script = CHILD,
): Promise<T & { threads?: { main: ThreadTime; busiest: ThreadTime } }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    const threads = child.pid === undefined ? undefined : sampleThreads(child.pid);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => {
      const times = threads?.stop();
      if (code !== 0) return reject(new Error(`${script} exited ${code}`));
      resolve({ ...(JSON.parse(out.trim().split('\n').pop()!) as T), threads: times });
    });
  });
}

const COURSES = ['course-v1:BenchX+Big101+1T2026', 'BenchX/Old201/2014_Fall'];
const USERS = Array.from({ length: 2000 }, (_, i) => ({ id: 1000 + i, username: `learner${i}` }));

/** Writes one generated daily log, gzipped, and returns its path. */
async function writeDailyLog(folder: string, date: string, events: number, seed: number): Promise<string> {
  const path = join(folder, `benchx-edx-events-${date}.log.gz`);
  const gz = createGzip({ level: 6 });
  const file = createWriteStream(path);
  gz.pipe(file);
  for (const line of generateEventLines({ count: events, seed, date, courseIds: COURSES, users: USERS })) {
    if (!gz.write(`${line}\n`)) await once(gz, 'drain');
  }
  gz.end();
  await once(file, 'close');
  return path;
}

function dayAfter(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

export async function benchEventsSqlite(options: { events: number; historyDays: number }): Promise<EventsBenchResult> {
  const work = await mkdtemp(join(tmpdir(), 'pds-bench-events-'));
  const gpg = await createGpgHome();
  try {
    const key = await gpg.generateKey({ name: 'Bench Czar', email: 'bench@example.edu' });
    const date = '2026-06-01';
    const plainGz = await writeDailyLog(work, date, options.events, 11);
    const encrypted = `${plainGz}.gpg`;
    await gpg.encryptFile(plainGz, encrypted, [key.fingerprint]);
    const compressedMb = (await stat(encrypted)).size / 1e6;

    // Baseline: the CLI tools on the same file.
    const baselineSeconds = await timeShell(`gpg --homedir '${gpg.dir}' --batch --quiet --decrypt '${encrypted}' | gzip -dc > /dev/null`, { GNUPGHOME: gpg.dir });

    // pds: a fresh environment with the key imported, loading the file through the service.
    const home = join(work, 'home');
    await mkdir(home, { recursive: true });
    await writeFile(join(home, 'config.yaml'), `environments:\n  bench:\n    source: { type: local, path: ${work} }\n`);
    const keyFile = join(work, 'bench-secret.asc');
    await writeFile(keyFile, await gpg.exportSecretKey(key.fingerprint));
    const { createConsoleService } = await import('../core/service/console-service.js');
    await createConsoleService({ home }).importKey('bench', keyFile);
    const decode = await runChild<{ events: number; seconds: number }>([keyFile, encrypted], PARSE_CHILD);
    const run = await runChild([home, 'bench', encrypted]);
    if (run.status !== 'succeeded') throw new Error(`the benchmark load did not succeed: ${run.status} ${run.codes.join(', ')}`);
    // The insert baseline, right after the load it is compared with: same events, same file key,
    // a fresh database of the same schema.
    const insert = await runChild<{ events: number; stored: number; rows: number; seconds: number; commitSeconds: number; timedThread?: ThreadTime }>(
      [plainGz, basename(encrypted), join(work, 'insert-baseline.sqlite')],
      INSERT_CHILD,
    );
    if (insert.events !== run.loaded) throw new Error(`the insert baseline read ${insert.events} events where the load read ${run.loaded}`);

    // Later days: the same kind of log loaded into the database that already holds the days before.
    const history = join(work, 'history');
    await mkdir(history);
    const days: string[] = [];
    for (let d = 1; d <= options.historyDays; d++) days.push(await writeDailyLog(history, dayAfter(date, d), options.events, 11 + d));
    if (days.length > 0) await runChild([home, 'bench', ...days]);
    const later = await writeDailyLog(work, dayAfter(date, options.historyDays + 1), options.events, 99);
    await gpg.encryptFile(later, `${later}.gpg`, [key.fingerprint]);
    const laterRun = await runChild([home, 'bench', `${later}.gpg`]);
    if (laterRun.status !== 'succeeded') throw new Error(`the benchmark load did not succeed: ${laterRun.status} ${laterRun.codes.join(', ')}`);

    const eventsPerSec = run.loaded / run.seconds;
    const baselineEventsPerSec = options.events / baselineSeconds;
    const insertEventsPerSec = insert.events / insert.seconds;
    return {
      name: `daily log → SQLite (${options.events.toLocaleString('en')} events, ${compressedMb.toFixed(1)} MB .gz.gpg)`,
      events: run.loaded,
      compressedMb,
      decodeEventsPerSec: decode.events / decode.seconds,
      eventsPerSec,
      mbPerSec: compressedMb / run.seconds,
      baselineEventsPerSec,
      ratio: eventsPerSec / baselineEventsPerSec,
      insertEventsPerSec,
      insertRows: insert.rows,
      insertCommitSeconds: insert.commitSeconds,
      insertRatio: eventsPerSec / insertEventsPerSec,
      cpu: run.threads && insert.timedThread ? { main: run.threads.main, store: run.threads.busiest, insert: insert.timedThread } : undefined,
      peakRssMb: Math.max(run.peakRssMb, laterRun.peakRssMb),
      storedBefore: run.loaded * (options.historyDays + 1),
      laterEventsPerSec: laterRun.loaded / laterRun.seconds,
    };
  } finally {
    await gpg.dispose();
    await rm(work, { recursive: true, force: true });
  }
}
