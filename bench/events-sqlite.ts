/**
 * Daily log → SQLite: events/s and MB/s of compressed input through decrypt → gunzip → parse →
 * load (raw events + designated tables), beside the baseline `gpg --decrypt | gzip -dc` measured
 * in the same run on the same file. Peak RSS of the loading process is reported too: it must stay
 * flat in file size (target < 500 MB).
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  peakRssMb: number;
}

// The children run the built product (dist/), as `pds` does: no TypeScript loader in the figures.
const CHILD = fileURLToPath(new URL('./load-child.mjs', import.meta.url));
const PARSE_CHILD = fileURLToPath(new URL('./parse-child.mjs', import.meta.url));

function timeShell(command: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('bash', ['-o', 'pipefail', '-c', command], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - started) / 1e9) : reject(new Error(`${command}: ${stderr}`))));
  });
}

function runChild<T = { status: string; seconds: number; loaded: number; rejected: number; peakRssMb: number; codes: string[] }>(args: string[], script = CHILD): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`load-child exited ${code}`))));
  });
}

export async function benchEventsSqlite(options: { events: number }): Promise<EventsBenchResult> {
  const work = await mkdtemp(join(tmpdir(), 'pds-bench-events-'));
  const gpg = await createGpgHome();
  try {
    const key = await gpg.generateKey({ name: 'Bench Czar', email: 'bench@example.edu' });
    const date = '2026-06-01';
    const plainGz = join(work, `benchx-edx-events-${date}.log.gz`);
    const gz = createGzip({ level: 6 });
    const file = createWriteStream(plainGz);
    gz.pipe(file);
    const users = Array.from({ length: 2000 }, (_, i) => ({ id: 1000 + i, username: `learner${i}` }));
    for (const line of generateEventLines({ count: options.events, seed: 11, date, courseIds: ['course-v1:BenchX+Big101+1T2026', 'BenchX/Old201/2014_Fall'], users })) {
      if (!gz.write(`${line}\n`)) await once(gz, 'drain');
    }
    gz.end();
    await once(file, 'close');
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
    const eventsPerSec = run.loaded / run.seconds;
    const baselineEventsPerSec = options.events / baselineSeconds;
    return {
      name: `daily log → SQLite (${options.events.toLocaleString('en')} events, ${compressedMb.toFixed(1)} MB .gz.gpg)`,
      events: run.loaded,
      compressedMb,
      decodeEventsPerSec: decode.events / decode.seconds,
      eventsPerSec,
      mbPerSec: compressedMb / run.seconds,
      baselineEventsPerSec,
      ratio: eventsPerSec / baselineEventsPerSec,
      peakRssMb: run.peakRssMb,
    };
  } finally {
    await gpg.dispose();
    await rm(work, { recursive: true, force: true });
  }
}
