/**
 * Benchmark: tracking-log lines → parse → MongoDB event store, against the baseline of
 * `insertMany` of the already-parsed documents in the same batch size on the same server
 * (issue "MongoDB target", Performance). Target: ratio ≥ 0.8.
 *
 * - The lines (realistic shapes, `generateEventLines`) are written to a temp file first, untimed.
 * - Store path (timed end to end): file stream → `readLines` → `readEvents` (JSON.parse + sha256
 *   per line) → `MongoEventStore` writer (document building, key escaping, unordered
 *   `insertMany`, duplicate accounting) → commit.
 * - Baseline: the same parsed batches turned into the same documents untimed; only the bare
 *   `insertMany` calls are timed, in the same batches, into a fresh database with the same
 *   indexes.
 * - The two paths alternate batch by batch, so a machine shared with other work slows both
 *   alike (measured sequentially, the ratio swung by ±15 % with the load of the machine).
 * - Peak RSS is sampled during the run: it must stay flat whatever the file size.
 *
 * Run alone: `node --import tsx bench/mongodb-load.ts [--events N] [--uri mongodb://…]`; without
 * `--uri` a FerretDB server (test/support/ferretdb.ts) is started for the run.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MongoClient } from 'mongodb';
import { generateEventLines } from '../core/demo/generate-event-lines.js';
import type { EventRecord } from '../core/domain/records.js';
import { readLines } from '../core/formats/lines.js';
import { readEvents } from '../core/formats/tracking-log.js';
import { toEventDocument, type EventDocument } from '../core/stores/mongodb/event-document.js';
import { MongoEventStore } from '../core/stores/mongodb/mongodb-event-store.js';

/** Options for `benchMongoLoad`. */
export interface MongoLoadBenchOptions {
  /** Number of event lines to generate and load. */
  events: number;
  /** MongoDB URI of the server to measure (two scratch databases are created and dropped). */
  uri: string;
  /** Events per `insertMany`, for both paths. Default 1000 (the store's default). */
  batchSize?: number;
}

/** Figures of one run. */
export interface MongoLoadBenchResult {
  name: string;
  events: number;
  /** Events per second, parse → store, end to end. */
  eventsPerSec: number;
  /** Events per second of the bare `insertMany` of the same documents. */
  baselineEventsPerSec: number;
  /** `eventsPerSec / baselineEventsPerSec`. */
  ratio: number;
  /** Highest resident set size sampled during the run, in MB. */
  peakRssMb: number;
  /** Size of the generated (uncompressed) log, in MB. */
  logMb: number;
}

const COURSES = ['course-v1:BenchX+CS101+2024_T1', 'course-v1:BenchX+DS200+2024_T1', 'BenchX/HIST3/2013_Fall', 'course-v1:BenchX+ML301+2024_T2'];

/** Writes `count` generated lines to `path`, honouring back-pressure; returns the bytes written. */
async function writeLog(path: string, count: number): Promise<number> {
  const users = Array.from({ length: 2000 }, (_, i) => ({ id: 10_000 + i, username: `bench_user_${i}` }));
  const out = createWriteStream(path, { highWaterMark: 1024 * 1024 });
  let bytes = 0;
  for (const line of generateEventLines({ count, seed: 7, date: '2024-03-01', courseIds: COURSES, users })) {
    const chunk = `${line}\n`;
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}

/** Parsed event batches of the file, as the pipeline reads them. */
function eventBatches(path: string): AsyncGenerator<{ events: EventRecord[] }> {
  return readEvents(readLines(createReadStream(path, { highWaterMark: 1024 * 1024 })), { fileName: path });
}

/** Samples RSS every 50 ms until stopped; returns the peak in bytes. */
function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

/** Both paths, alternating batch by batch; returns the ms each took and the peak RSS. */
async function measure(uri: string, storeDb: string, baseDb: string, path: string, batchSize: number, expected: number): Promise<{ storeMs: number; baselineMs: number; peakRss: number }> {
  const store = new MongoEventStore({ uri, database: storeDb, batchSize });
  // The baseline collection gets the same layout and indexes as the store's.
  const layout = new MongoEventStore({ uri, database: baseDb });
  const client = new MongoClient(uri);
  try {
    await store.init();
    await layout.init();
    await client.connect();
    const baseline = client.db(baseDb).collection<EventDocument>('events');
    const baselineOrigin = { fileKey: 'bench/events.log', loadId: 'bench-baseline' };
    const sampler = rssSampler();
    let storeMs = 0;
    let baselineMs = 0;
    let storeInserted = 0;
    let baselineInserted = 0;

    let started = performance.now();
    const writer = await store.beginEvents({ fileKey: 'bench/events.log', loadId: 'bench-store' });
    storeMs += performance.now() - started;
    const batches = eventBatches(path)[Symbol.asyncIterator]();
    for (;;) {
      started = performance.now();
      const next = await batches.next(); // read + parse: part of the store path
      if (next.done === true) {
        storeMs += performance.now() - started;
        break;
      }
      const { events } = next.value;
      if (events.length > 0) storeInserted += (await writer.write(events)).inserted;
      storeMs += performance.now() - started;

      // The same batches the writer sent: the reader's batch, cut at `batchSize`.
      for (let i = 0; i < events.length; i += batchSize) {
        const docs = events.slice(i, i + batchSize).map((e) => toEventDocument(e, baselineOrigin));
        const t = performance.now();
        baselineInserted += (await baseline.insertMany(docs, { ordered: false })).insertedCount;
        baselineMs += performance.now() - t;
      }
    }
    started = performance.now();
    await writer.commit();
    storeMs += performance.now() - started;
    const peakRss = sampler.stop();
    if (storeInserted !== expected || baselineInserted !== expected) {
      throw new Error(`inserted ${storeInserted} (store) and ${baselineInserted} (baseline) events, expected ${expected}`);
    }
    return { storeMs, baselineMs, peakRss };
  } finally {
    await client.close();
    await layout.close();
    await store.close();
  }
}

/**
 * Generates `events` lines, loads them through the MongoDB event store and through bare
 * `insertMany`, and reports both rates, their ratio and the store path's peak RSS. Uses (and
 * drops) scratch databases `pds_bench_<pid>_store` and `…_base` on the server (separate
 * databases: FerretDB keeps one SQLite file per database, so neither path pays for the other's
 * data).
 */
export async function benchMongoLoad(options: MongoLoadBenchOptions): Promise<MongoLoadBenchResult> {
  const batchSize = options.batchSize ?? 1000;
  const dir = await mkdtemp(join(tmpdir(), 'pds-bench-mongo-'));
  const path = join(dir, 'events.log');
  const storeDb = `pds_bench_${process.pid}_store`;
  const baseDb = `pds_bench_${process.pid}_base`;
  const admin = new MongoClient(options.uri);
  try {
    await admin.connect();
    for (const db of [storeDb, baseDb]) await admin.db(db).dropDatabase();
    const bytes = await writeLog(path, options.events);
    const m = await measure(options.uri, storeDb, baseDb, path, batchSize, options.events);
    const eventsPerSec = options.events / (m.storeMs / 1000);
    const baselineEventsPerSec = options.events / (m.baselineMs / 1000);
    return {
      name: 'mongodb: parse → store vs insertMany',
      events: options.events,
      eventsPerSec: Math.round(eventsPerSec),
      baselineEventsPerSec: Math.round(baselineEventsPerSec),
      ratio: Math.round((eventsPerSec / baselineEventsPerSec) * 1000) / 1000,
      peakRssMb: Math.round(m.peakRss / (1024 * 1024)),
      logMb: Math.round(bytes / (1024 * 1024)),
    };
  } finally {
    for (const db of [storeDb, baseDb]) await admin.db(db).dropDatabase().catch(() => undefined);
    await admin.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i === -1 ? undefined : args[i + 1];
  };
  const events = Number(value('--events') ?? 50_000);
  let uri = value('--uri');
  let stop: (() => Promise<void>) | undefined;
  if (uri === undefined) {
    const { startFerretDb } = await import('../test/support/ferretdb.js');
    const server = await startFerretDb();
    uri = server.uri;
    stop = () => server.stop();
  }
  try {
    console.log(JSON.stringify(await benchMongoLoad({ events, uri }), null, 2));
  } finally {
    await stop?.();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
