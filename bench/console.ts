/**
 * `npm run bench -- console`: how fast `pds serve` answers the first page of a big run's report
 * and of its biggest file's rejected lines — what the Report screen asks for when it opens.
 *
 * The run is made directly through the ledger and quarantine modules (no load runs): `files`
 * results with a realistic mix of statuses, one daily log among them with `rejectedLines`
 * rejected lines kept in its quarantine file, as the pipeline keeps them. Then the built `pds serve`
 * (a child process, as a user starts it) is asked over HTTP, with the token, for
 * `getReport` (first page, 100 files) and `getRejectedLines` (first page, 100 lines) of that run,
 * `calls` times each after one cold call; the figures are medians of wall time per call (request
 * sent to body parsed).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { environmentPaths } from '../core/config/config-store.js';
import type { FileResult, FileStatus } from '../core/domain/results.js';
import type { RejectedLine } from '../core/domain/records.js';
import { emptyTotals, Ledger } from '../core/ledger/ledger.js';
import { Quarantine } from '../core/pipeline/quarantine.js';

export interface ConsoleBenchOptions {
  files: number;
  rejectedLines: number;
  calls?: number;
}

export interface CallFigures {
  coldMs: number;
  medianMs: number;
  maxMs: number;
  bytes: number;
}

export interface ConsoleBenchResult {
  name: string;
  buildSeconds: number;
  report: CallFigures;
  rejected: CallFigures;
  /** What the first page reported as totals (a check that the pages were real). */
  reportTotal: number;
  rejectedTotal: number;
}

const ENV = 'bench';
/** Result.rejectedLines keeps the first lines only, as the pipeline does; the quarantine has them all. */
const REPORTED_REJECTS = 200;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** A plausible tracking-log line of about 600 bytes (content does not matter to the reader of the quarantine). */
function eventLine(i: number): string {
  const pad = 'x'.repeat(420);
  return `{"username": "learner${i % 5000}", "event_type": "problem_check", "time": "2026-05-3${i % 2}T12:${String(i % 60).padStart(2, '0')}:00Z", "course_id": "course-v1:DemoX+Data101+2T2026", "event": "${pad}"`;
}

/** Writes the run into a fresh home: the ledger rows and the big file's quarantine. */
async function buildRun(home: string, options: ConsoleBenchOptions): Promise<{ runId: string; bigKey: string }> {
  await mkdir(join(home, 'source'), { recursive: true });
  await writeFile(join(home, 'config.yaml'), `environments:\n  ${ENV}:\n    source: { type: local, path: source }\n`);
  const paths = environmentPaths(home, ENV);
  await mkdir(paths.root, { recursive: true });
  const ledger = Ledger.open(paths.ledger);
  try {
    const { runId } = ledger.startRun(ENV, {}, { origin: 'bench' });
    const totals = emptyTotals();
    const bigKey = 'demox/edx/events/2026/demox-edx-events-2026-05-31.log.gz.gpg';

    const quarantine = new Quarantine(join(paths.landing, 'quarantine'), bigKey);
    await quarantine.clear();
    const reported: RejectedLine[] = [];
    for (let start = 1; start <= options.rejectedLines; start += 1000) {
      const batch: RejectedLine[] = [];
      for (let i = start; i < Math.min(start + 1000, options.rejectedLines + 1); i++) {
        batch.push({ line: i * 3, code: 'JSON_INVALID', reason: `not valid JSON (unexpected end at column ${i % 600})`, raw: eventLine(i) });
      }
      if (reported.length < REPORTED_REJECTS) reported.push(...batch.slice(0, REPORTED_REJECTS - reported.length));
      await quarantine.add(batch);
    }
    await quarantine.close();

    for (let i = 0; i < options.files; i++) {
      const big = i === 0;
      const status: FileStatus = big ? 'partial' : i % 50 === 0 ? 'failed' : i % 20 === 0 ? 'partial' : 'loaded';
      const day = `2026-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`;
      const key = big ? bigKey : `demox/edx/events/2026/demox-edx-events-${day}-${i}.log.gz.gpg`;
      const rejected = big ? options.rejectedLines : status === 'partial' ? 3 : 0;
      const result: FileResult = {
        key,
        kind: 'event-log',
        status,
        ...(status === 'failed' ? { stage: 'decrypt', code: 'DECRYPT_TRUNCATED', reason: `${key} ends before the end of its OpenPGP message: the file is truncated.` } : {}),
        ...(status === 'partial' ? { code: 'LINES_REJECTED', reason: `${rejected} lines of ${key} could not be loaded.` } : {}),
        snapshotDate: day,
        counts: { bytes: 1_500_000, read: 2000 + rejected, loaded: 2000, rejected, duplicates: 0 },
        warnings: [],
        ...(big ? { rejectedLines: reported.map(({ line, code, reason }) => ({ line, code, reason })), quarantine: quarantine.path } : {}),
        durationMs: 900,
      };
      ledger.recordResult(runId, result, { location: 'events', size: 1_500_000 });
      totals[status] += 1;
    }
    ledger.finishRun(runId, 'flagged', totals);
    return { runId, bigKey };
  } finally {
    ledger.close();
  }
}

/** Starts the built `pds serve` on `home` and reads its URL. */
async function startServe(home: string): Promise<{ stop: () => Promise<void>; base: string; token: string; stderr: () => string }> {
  const bin = fileURLToPath(new URL('../bin/pds.mjs', import.meta.url));
  const child = spawn(process.execPath, [bin, 'serve'], { env: { ...process.env, PDS_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  // Its stderr (notices, and the detail of any INTERNAL answer) is shown only if it fails.
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.once('close', (code) => reject(new Error(`pds serve ended (exit ${code}) before printing its URL:\n${stderr}`)));
  });
  const match = /^(http:\/\/127\.0\.0\.1:\d+)\/#token=(\S+)$/.exec(url);
  if (!match) throw new Error(`pds serve printed ${url}`);
  return {
    base: match[1],
    token: match[2],
    stderr: () => stderr,
    stop: () =>
      new Promise((resolve) => {
        child.once('close', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function timeCalls(calls: number, once: () => Promise<{ bytes: number }>): Promise<CallFigures> {
  const t0 = performance.now();
  const { bytes } = await once();
  const coldMs = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t = performance.now();
    await once();
    times.push(performance.now() - t);
  }
  return { coldMs, medianMs: median(times), maxMs: Math.max(...times), bytes };
}

export async function benchConsole(options: ConsoleBenchOptions): Promise<ConsoleBenchResult> {
  const calls = options.calls ?? 15;
  const home = await mkdtemp(join(tmpdir(), 'pds-bench-console-'));
  try {
    const t0 = performance.now();
    const { runId, bigKey } = await buildRun(home, options);
    const buildSeconds = (performance.now() - t0) / 1000;
    const server = await startServe(home);
    try {
      const post = async (method: string, args: unknown): Promise<{ bytes: number; value: { total: number } }> => {
        const response = await fetch(`${server.base}/api/${method}`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(args),
        });
        const text = await response.text();
        const envelope = JSON.parse(text) as { ok: boolean; value: { total: number }; error?: { code: string; message: string } };
        if (!envelope.ok) throw new Error(`${method}: ${envelope.error?.code} ${envelope.error?.message}\n${server.stderr()}`);
        return { bytes: Buffer.byteLength(text), value: envelope.value };
      };
      const reportArgs = { env: ENV, runId, offset: 0, limit: 100 };
      const rejectedArgs = { env: ENV, key: bigKey, offset: 0, limit: 100 };
      const report = await timeCalls(calls, () => post('getReport', reportArgs));
      const rejected = await timeCalls(calls, () => post('getRejectedLines', rejectedArgs));
      const reportTotal = (await post('getReport', reportArgs)).value.total;
      const rejectedTotal = (await post('getRejectedLines', rejectedArgs)).value.total;
      return {
        name: `console: first pages of a ${options.files.toLocaleString('en')}-file run and of ${options.rejectedLines.toLocaleString('en')} rejected lines, served by pds serve`,
        buildSeconds,
        report,
        rejected,
        reportTotal,
        rejectedTotal,
      };
    } finally {
      await server.stop();
    }
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
