/**
 * Weekly table → MariaDB: rows/s of a generated `courseware_studentmodule` TSV (docs/edx-formats.md
 * §3, §4.5; JSON `state` of about 300 bytes) read, coerced and loaded through `MariaDbStore`,
 * beside the baseline measured in the same run on the same server: the `mariadb` CLI's
 * `LOAD DATA LOCAL INFILE` of the same TSV (with the `NULLIF(@v, 'NULL')` mapping edX's literal
 * NULL needs, §3) into an identical, empty table. Peak RSS of the loading process is reported
 * too: rows reach the store in batches, so it must stay flat in file size.
 *
 * Our load runs in a child process (this file with `--child`) so that the figure is that of the
 * load alone, not of the harness or other benchmarks.
 *
 *   node --import tsx bench/mariadb-load.ts [rows] [load-data|batch] [rounds] [chunkBytes]
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mariadb from 'mariadb';
import { createRowCoercer } from '../core/domain/coerce.js';
import { mapHeader } from '../core/domain/drift.js';
import type { SqlValue } from '../core/domain/records.js';
import { getTableDef } from '../core/domain/tables.js';
import { readLines } from '../core/formats/lines.js';
import { readTsv } from '../core/formats/tsv.js';
import { createTableSql, quoteIdent } from '../core/stores/mariadb/mariadb-ddl.js';
import { MariaDbStore, type MariaDbBulkMethod, type MariaDbStoreOptions } from '../core/stores/mariadb/mariadb-store.js';
import { startMariaDb, type MariaDbServer } from '../test/support/mariadb.js';
import { seededRandom } from './seeded-random.js';

export interface MariaDbLoadBenchOptions {
  rows: number;
  /** Force a bulk method (default: the store's choice). */
  bulkMethod?: MariaDbBulkMethod;
  /** Baseline and store loads alternate this many times; medians are reported. Default 1. */
  rounds?: number;
  /** Target bytes per bulk statement (default: the store's). */
  chunkBytes?: number;
}

export interface MariaDbLoadBenchResult {
  name: string;
  rowsPerSec: number;
  baselineRowsPerSec: number;
  ratio: number;
  peakRssMb: number;
}

const TABLE = 'courseware_studentmodule';
const COURSE_KEY = 'BenchX-SM101-2024_T1';
const SNAPSHOT_DATE = '2024-01-07';
/** Rows per store write, as the pipeline batches them (core/pipeline/load-content.ts). */
const BATCH_ROWS = 2000;
const THIS_FILE = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------------------------
// Data

/** TSV escaping of the exporter (§3): `\` → `\\`, TAB → `\t`, LF → `\n`, CR → `\r`. */
function tsvField(value: string | null): string {
  if (value === null) return 'NULL';
  return value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

function datetime(rand: () => number, year: number): string {
  const t = Date.UTC(year, 0, 1) + Math.floor(rand() * 300 * 86_400_000);
  const base = new Date(t).toISOString().slice(0, 19).replace('T', ' ');
  // The exporter writes microseconds only when they are not zero (§3).
  return rand() < 0.5 ? base : `${base}.${String(Math.floor(rand() * 999_999) + 1).padStart(6, '0')}`;
}

/** Writes a `courseware_studentmodule` file of `rows` rows (header + rows, LF) and returns its size. */
export async function writeStudentModuleTsv(path: string, rows: number): Promise<number> {
  const out = createWriteStream(path);
  const rand = seededRandom(20240107);
  const types = ['problem', 'problem', 'problem', 'video', 'sequential', 'chapter', 'openassessment'];
  let bytes = 0;
  let buf = `id\tmodule_type\tmodule_id\tstudent_id\tstate\tgrade\tcreated\tmodified\tmax_grade\tdone\tcourse_id\n`;
  for (let i = 1; i <= rows; i++) {
    const type = types[Math.floor(rand() * types.length)];
    const block = Math.floor(rand() * 4000).toString(16).padStart(32, '0');
    const problem = `${block.slice(-8)}_2_1`;
    const correct = rand() < 0.6;
    const state = JSON.stringify({
      correct_map: { [problem]: { hint: '', hintmode: null, correctness: correct ? 'correct' : 'incorrect', npoints: null, msg: '', queuestate: null } },
      input_state: { [problem]: {} },
      last_submission_time: '2024-02-03T10:11:12Z',
      attempts: 1 + Math.floor(rand() * 4),
      seed: 1,
      done: true,
      // Some answers carry characters the TSV escapes (backslash, newline, tab).
      student_answers: { [problem]: rand() < 0.1 ? 'x = a\\b\n\ty' : `choice_${Math.floor(rand() * 4)}` },
    });
    const graded = type === 'problem';
    const fields = [
      String(i),
      type,
      `block-v1:BenchX+SM101+2024_T1+type@${type}+block@${block}`,
      String(10_000 + Math.floor(rand() * 50_000)),
      state,
      graded && rand() < 0.9 ? String(correct ? 1 : 0) : null,
      datetime(rand, 2023),
      datetime(rand, 2024),
      graded ? '1' : null,
      'na',
      'course-v1:BenchX+SM101+2024_T1',
    ];
    buf += `${fields.map(tsvField).join('\t')}\n`;
    if (buf.length >= 1 << 20) {
      bytes += Buffer.byteLength(buf);
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  bytes += Buffer.byteLength(buf);
  out.end(buf);
  await new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('error', reject);
  });
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Baseline: the mariadb CLI.

function cliLoadSql(path: string, columns: string[]): string {
  const vars = columns.map((_, i) => `@v${i}`);
  const sets = columns.map((c, i) => `${quoteIdent(c)} = NULLIF(@v${i}, 'NULL')`);
  return (
    `LOAD DATA LOCAL INFILE '${path.replace(/'/g, "''")}' INTO TABLE ${quoteIdent(TABLE)} CHARACTER SET utf8mb4 ` +
    `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' IGNORE 1 LINES (${vars.join(', ')}) ` +
    `SET course_key = '${COURSE_KEY}', snapshot_date = '${SNAPSHOT_DATE}', load_id = 'baseline', ${sets.join(', ')}`
  );
}

/** Runs the `mariadb` client; resolves with the wall time in seconds. */
function timeCli(server: MariaDbServer, database: string, sql: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(
      'mariadb',
      ['--no-defaults', '--local-infile=1', `--host=${server.host}`, `--port=${server.port}`, `--user=${server.user}`, database, '--execute', sql],
      // MYSQL_PWD keeps the password off the command line.
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MYSQL_PWD: server.password } },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - started) / 1e9) : reject(new Error(`mariadb client exited ${code}: ${stderr}`))));
  });
}

// ---------------------------------------------------------------------------------------------
// Ours: read → coerce → MariaDbStore, in a child process.

interface ChildInput {
  store: MariaDbStoreOptions;
  file: string;
}

interface ChildOutput {
  seconds: number;
  rows: number;
  peakRssMb: number;
  bulkMethod: MariaDbBulkMethod;
  /** CPU time of the whole child process (user + system), to tell client-bound from server-bound. */
  cpuSeconds: number;
}

/** The child: loads the file the way the pipeline loads a weekly table, and reports. */
async function childMain(input: ChildInput): Promise<ChildOutput> {
  const store = new MariaDbStore(input.store);
  await store.init();
  const def = getTableDef(TABLE)!;
  const started = process.hrtime.bigint();
  const items = readTsv(readLines(createReadStream(input.file, { highWaterMark: 1 << 20 })), { fileName: input.file });
  const first = await items.next();
  if (first.done || first.value.kind !== 'header') throw new Error('no header');
  const columns = mapHeader(def, first.value.columns).columns;
  const coerce = createRowCoercer(def, columns);
  const writer = await store.beginSnapshot({ table: def, courseKey: COURSE_KEY, snapshotDate: SNAPSHOT_DATE, columns, origin: { fileKey: input.file, loadId: 'bench' } });
  let pending: SqlValue[][] = [];
  for await (const item of items) {
    if (item.kind !== 'rows') continue;
    if (item.rejected.length > 0) throw new Error(`line ${item.rejected[0].line} rejected: ${item.rejected[0].reason}`);
    for (const row of item.rows) {
      const r = coerce(row.values);
      if (!r.ok) throw new Error(`line ${row.line}: ${r.reason}`);
      pending.push(r.row);
    }
    if (pending.length >= BATCH_ROWS) {
      await writer.write(pending);
      pending = [];
    }
  }
  if (pending.length > 0) await writer.write(pending);
  const result = await writer.commit();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const bulkMethod = store.bulkMethod;
  await store.close();
  const cpu = process.cpuUsage();
  return { seconds, rows: result.rows, peakRssMb: process.resourceUsage().maxRSS / 1024, bulkMethod, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

function runChild(input: ChildInput): Promise<ChildOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', THIS_FILE, '--child'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as ChildOutput) : reject(new Error(`bench child exited ${code}`))));
    child.stdin.end(JSON.stringify(input));
  });
}

// ---------------------------------------------------------------------------------------------

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function recreate(server: MariaDbServer, database: string, withTable: boolean): Promise<void> {
  const conn = await mariadb.createConnection({ host: server.host, port: server.port, user: server.user, password: server.password });
  try {
    await conn.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)}`);
    if (withTable) {
      await conn.query(`CREATE DATABASE ${quoteIdent(database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci`);
      // The same DDL the store uses: an identical table.
      await conn.query(`USE ${quoteIdent(database)}`);
      await conn.query(createTableSql(getTableDef(TABLE)!));
    }
  } finally {
    await conn.end();
  }
}

/**
 * Generates the file, then alternates baseline and store loads (each into a fresh, empty table;
 * the other database dropped so both start from the same buffer pool state).
 */
export async function benchMariaDbLoad(options: MariaDbLoadBenchOptions): Promise<MariaDbLoadBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'pds-bench-mariadb-'));
  const server = await startMariaDb();
  try {
    const file = join(dir, `${COURSE_KEY}-${TABLE}-prod-analytics.sql`);
    await writeStudentModuleTsv(file, options.rows);
    const columns = getTableDef(TABLE)!.columns.map((c) => c.name);
    const ours: number[] = [];
    const baseline: number[] = [];
    let peakRssMb = 0;
    let method: MariaDbBulkMethod | undefined;
    for (let round = 0; round < (options.rounds ?? 1); round++) {
      await recreate(server, 'pds_bench', false);
      await recreate(server, 'pds_bench_baseline', true);
      baseline.push(options.rows / (await timeCli(server, 'pds_bench_baseline', cliLoadSql(file, columns))));
      await recreate(server, 'pds_bench_baseline', false);

      const out = await runChild({
        file,
        store: { host: server.host, port: server.port, user: server.user, password: server.password, database: 'pds_bench', bulkMethod: options.bulkMethod, chunkBytes: options.chunkBytes },
      });
      if (out.rows !== options.rows) throw new Error(`the store loaded ${out.rows} of ${options.rows} rows`);
      ours.push(options.rows / out.seconds);
      if (process.env.PDS_BENCH_VERBOSE) process.stderr.write(`round ${round + 1}: store ${out.seconds.toFixed(2)} s (child CPU ${out.cpuSeconds.toFixed(2)} s), baseline ${(options.rows / baseline[baseline.length - 1]).toFixed(2)} s\n`);
      peakRssMb = Math.max(peakRssMb, out.peakRssMb);
      method = out.bulkMethod;
    }
    const rowsPerSec = median(ours);
    const baselineRowsPerSec = median(baseline);
    return {
      name: `MariaDB weekly load: ${options.rows.toLocaleString('en')} courseware_studentmodule rows (${method})`,
      rowsPerSec,
      baselineRowsPerSec,
      ratio: rowsPerSec / baselineRowsPerSec,
      peakRssMb,
    };
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

if (process.argv[1] === THIS_FILE) {
  if (process.argv[2] === '--child') {
    const output = await childMain(JSON.parse(await readStdin()) as ChildInput);
    process.stdout.write(`${JSON.stringify(output)}\n`);
  } else {
    const rows = Number(process.argv[2] ?? 100_000);
    const bulkMethod = (process.argv[3] || undefined) as MariaDbBulkMethod | undefined;
    const rounds = Number(process.argv[4] ?? 1);
    const chunkBytes = process.argv[5] ? Number(process.argv[5]) : undefined;
    const r = await benchMariaDbLoad({ rows, bulkMethod, rounds, chunkBytes });
    process.stdout.write(
      `${r.name}: ${Math.round(r.rowsPerSec).toLocaleString('en')} rows/s; baseline mariadb CLI LOAD DATA ${Math.round(r.baselineRowsPerSec).toLocaleString('en')} rows/s; ratio ${r.ratio.toFixed(2)}; peak RSS ${Math.round(r.peakRssMb)} MB\n`,
    );
  }
}
