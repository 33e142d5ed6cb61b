/**
 * Reports on a year of data: the course activity report for one course over 365 days with the
 * store holding at least 10M designated event rows, and program eligibility over 100,000
 * learners, on SQLite and on MariaDB — each beside a plain `SELECT COUNT(*)` over the same rows in
 * the same run, so the ratio shows whether the indexes serve the report (a report that scanned
 * whole tables would take many times the count).
 *
 * Loading 10M events through the full pipeline takes far too long on this machine, so the rows are
 * written straight into the store's own schema: the store's `init()` creates the tables, the
 * secondary indexes are dropped, the rows inserted (SQLite: prepared INSERTs in one transaction per
 * day; MariaDB: LOAD DATA LOCAL INFILE per table), and a second `init()` builds the indexes again —
 * the same tables and indexes a load leaves. The reports then run through the read-only report
 * port exactly as `pds query` does.
 *
 *   node --import tsx bench/reports.ts [events] [learners]
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import * as mariadb from 'mariadb';
import { programSchema, type ProgramConfig } from '../core/config/config-schema.js';
import type { ColumnDef, TableDef } from '../core/domain/schema-types.js';
import { getTableDef } from '../core/domain/tables.js';
import { activityReport } from '../core/reports/activity-report.js';
import { programReport, programRuns } from '../core/reports/program-report.js';
import { ACTIVITY_TABLES, placeholders } from '../core/reports/report-sql.js';
import { quoteIdent as mariaIdent } from '../core/stores/mariadb/mariadb-ddl.js';
import { MariaDbStore } from '../core/stores/mariadb/mariadb-store.js';
import type { ReportQueries } from '../core/stores/ports.js';
import { physicalColumns } from '../core/stores/sql-schema.js';
import { SqliteReader } from '../core/stores/sqlite/sqlite-reader.js';
import { SqliteStore } from '../core/stores/sqlite/sqlite-store.js';
import { startMariaDb, type MariaDbServer } from '../test/support/mariadb.js';
import { seededRandom } from './seeded-random.js';

export interface ReportsBenchOptions {
  /** Designated event rows in the store (over every course). */
  events: number;
  /** Learners of the program. */
  learners: number;
  /** Courses sharing the events (the report reads one). Default 4. */
  courses?: number;
  /** Engines to measure. Default both. */
  engines?: ('sqlite' | 'mariadb')[];
}

export interface Timed {
  /** Median wall time of 3 runs after a warm-up, ms. */
  reportMs: number;
  /** Median of the plain counts over the same rows, ms. */
  countMs: number;
  ratio: number;
  /** Rows the report reads (the count's answer). */
  rowsRead: number;
}

export interface ReportsBenchResult {
  engine: 'sqlite' | 'mariadb';
  events: number;
  buildSeconds: number;
  activity: Timed & { periods: number };
  program: Timed & { learners: number; eligible: number };
}

const DAYS = 365;
const FIRST_DAY = Date.UTC(2025, 0, 6); // a Monday
const SNAPSHOT_DATE = '2026-01-04';
const day = (d: number): string => new Date(FIRST_DAY + d * 86_400_000).toISOString().slice(0, 10);
const LAST_DAY = day(DAYS - 1);

type Value = string | number | null;
/** Receives rows of a table in the table's documented column order (snapshot bookkeeping first). */
type Sink = (def: TableDef, rows: Value[][]) => void;

const courseId = (c: number): string => `course-v1:BenchX+C${c}+2025`;

/** Writes the designated rows and course_daily_activity of every course and day into `sink`. */
function generateEvents(sink: Sink, events: number, courses: number, onDay?: (d: number) => void): void {
  const rand = seededRandom(20260607);
  const perCourseDay = Math.ceil(events / (DAYS * courses));
  const defs = Object.fromEntries(ACTIVITY_TABLES.map((t) => [t, getTableDef(t)!])) as Record<(typeof ACTIVITY_TABLES)[number], TableDef>;
  const daily = getTableDef('course_daily_activity')!;
  let id = 0;
  for (let d = 0; d < DAYS; d++) {
    const date = day(d);
    for (let c = 0; c < courses; c++) {
      const rows: Record<string, Value[][]> = Object.fromEntries(ACTIVITY_TABLES.map((t) => [t, []]));
      const counts = { video: 0, problem: 0, forum: 0, enrollment: 0 };
      const users = new Set<number>();
      for (let k = 0; k < perCourseDay; k++) {
        const seconds = Math.floor((k * 86_400) / perCourseDay);
        const time = `${date} ${String(Math.floor(seconds / 3600)).padStart(2, '0')}:${String(Math.floor(seconds / 60) % 60).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}.${String(k % 1_000_000).padStart(6, '0')}`;
        const user = 1 + Math.floor(rand() * 20_000) + c * 20_000;
        users.add(user);
        const common: Record<string, Value> = { event_id: (id++).toString(16).padStart(16, '0'), time, course_id: courseId(c), user_id: user, username: `u${user}` };
        const pick = k % 20;
        let table: (typeof ACTIVITY_TABLES)[number];
        let values: Record<string, Value>;
        if (pick < 8) {
          table = 'video_events';
          values = { event_type: pick % 2 === 0 ? 'play_video' : 'pause_video', event_source: 'browser', video_id: `v${k % 50}`, code: 'html5', current_position: k % 600 };
          counts.video++;
        } else if (pick < 13) {
          table = 'problem_events';
          const server = pick % 2 === 0;
          values = { event_type: 'problem_check', event_source: server ? 'server' : 'browser', problem_id: `p${k % 40}`, success: server ? (rand() < 0.6 ? 'correct' : 'incorrect') : null };
          if (server) counts.problem++;
        } else if (pick < 17) {
          table = 'navigation_events';
          values = { event_type: 'seq_goto', event_source: 'browser', sequence_id: `s${k % 30}`, old_tab: 1, new_tab: 2 };
        } else if (pick === 17) {
          table = 'forum_events';
          values = { event_type: k % 3 === 0 ? 'edx.forum.thread.created' : 'edx.forum.thread.viewed', event_source: 'server', post_id: `t${k}`, thread_id: `t${k}` };
          counts.forum++;
        } else if (pick === 18) {
          table = 'enrollment_events';
          values = { event_type: k % 4 === 0 ? 'edx.course.enrollment.deactivated' : 'edx.course.enrollment.activated', event_source: 'server', mode: 'verified' };
          counts.enrollment++;
        } else {
          table = 'certificate_events';
          values = { event_type: 'edx.certificate.created', event_source: 'server', certificate_id: `c${user}` };
        }
        const all = { ...common, ...values };
        rows[table]!.push(defs[table].columns.map((col) => all[col.name] ?? null));
      }
      for (const t of ACTIVITY_TABLES) sink(defs[t], rows[t]!);
      // Every event of the day, designated or not (page views…): half as many again.
      sink(daily, [[courseId(c), date, `bench-${date}.log.gz`, Math.round(perCourseDay * 1.5), users.size, counts.video, counts.problem, counts.forum, counts.enrollment]]);
    }
    onDay?.(d);
  }
}

/** The program of the benchmark: 4 modules of 2 runs each, two core, one elective of two. */
export const BENCH_PROGRAM: ProgramConfig = programSchema.parse({
  name: 'bench',
  modules: {
    m1: ['BenchX-P1-1T2025', 'BenchX-P1-3T2025'],
    m2: ['BenchX-P2-1T2025', 'BenchX-P2-3T2025'],
    m3: ['BenchX-P3-1T2025', 'BenchX-P3-3T2025'],
    m4: ['BenchX-P4-1T2025', 'BenchX-P4-3T2025'],
  },
  pass: { rule: 'either', modes: ['verified'] },
  versions: [
    { from: '2024-01-01', core: ['m1', 'm2'], electives: ['m3', 'm4'], electivesRequired: 1 },
    { from: '2025-06-01', core: ['m1', 'm3'], electives: ['m2', 'm4'], electivesRequired: 1 },
  ],
});

/** Enrolments, users, certificates and grades of `learners` learners over the program's runs. */
function generateProgram(sink: Sink, learners: number): void {
  const rand = seededRandom(7);
  const tables = ['student_courseenrollment', 'auth_user', 'certificates_generatedcertificate', 'grades_persistentcoursegrade'].map((t) => getTableDef(t)!);
  const [enrol, user, cert, grade] = tables as [TableDef, TableDef, TableDef, TableDef];
  const runs = [...programRuns(BENCH_PROGRAM).keys()];
  const rows = new Map<TableDef, Value[][]>(tables.map((t) => [t, []]));
  const snapshot = (key: string, def: TableDef, values: Record<string, Value>): Value[] => [key, SNAPSHOT_DATE, 'bench', ...def.columns.map((c) => values[c.name] ?? null)];
  let rowId = 0;
  const flush = (): void => {
    for (const [def, list] of rows) {
      if (list.length > 0) sink(def, list.splice(0));
    }
  };
  for (let u = 1; u <= learners; u++) {
    for (let m = 0; m < 4; m++) {
      if (rand() > 0.7) continue;
      const both = rand() < 0.05;
      for (const r of both ? [0, 1] : [rand() < 0.5 ? 0 : 1]) {
        const key = runs[m * 2 + r]!;
        const id = `course-v1:${key.replace(/-/g, '+')}`;
        const month = r === 0 ? '2025-05' : '2025-12';
        rows.get(enrol)!.push(snapshot(key, enrol, { id: ++rowId, user_id: u, course_id: id, created: `${month.slice(0, 4)}-01-15 10:00:00`, is_active: 1, mode: rand() < 0.6 ? 'verified' : 'audit' }));
        rows.get(user)!.push(snapshot(key, user, { id: u, username: `learner${u}`, email: `learner${u}@bench.example`, password: '' }));
        const outcome = rand();
        if (outcome < 0.5) rows.get(cert)!.push(snapshot(key, cert, { id: ++rowId, user_id: u, course_id: id, status: 'downloadable', mode: 'verified', created_date: `${month}-20 10:00:00`, grade: '0.8' }));
        else if (outcome < 0.6) rows.get(cert)!.push(snapshot(key, cert, { id: ++rowId, user_id: u, course_id: id, status: 'notpassing', mode: 'verified', created_date: `${month}-20 10:00:00`, grade: '0.3' }));
        if (rand() < 0.7) {
          const passed = rand() < 0.75;
          rows.get(grade)!.push(snapshot(key, grade, { course_id: id, user_id: u, percent_grade: passed ? 0.8 : 0.3, letter_grade: passed ? 'Pass' : '', passed_timestamp: passed ? `${month}-18 10:00:00` : null, created: `${month}-01 10:00:00`, modified: `${month}-18 10:00:00` }));
        }
      }
    }
    if (u % 10_000 === 0) flush();
  }
  flush();
}

/** The tables the generated rows go into (their secondary indexes are dropped while loading). */
const LOADED_TABLES = [...ACTIVITY_TABLES, 'course_daily_activity', 'student_courseenrollment', 'auth_user', 'certificates_generatedcertificate', 'grades_persistentcoursegrade'];

function columnsOf(def: TableDef): ColumnDef[] {
  return physicalColumns(def);
}

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

/** Median of 3 timed runs after one warm-up. */
async function median3<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  await fn();
  const runs = [await time(fn), await time(fn), await time(fn)];
  runs.sort((a, b) => a.ms - b.ms);
  return runs[1]!;
}

/** Times the two reports and their counts on `q`. */
async function measure(q: ReportQueries, engine: 'sqlite' | 'mariadb', events: number, buildSeconds: number): Promise<ReportsBenchResult> {
  const course = courseId(0);
  const end = new Date(Date.parse(`${LAST_DAY}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  const activity = await median3(() => activityReport(q, course, { from: day(0), to: LAST_DAY, by: 'week' }));
  const counts = await median3(async () => {
    let n = 0;
    for (const t of ACTIVITY_TABLES) n += Number((await q.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${t} WHERE course_id = ? AND time >= ? AND time < ?`, [course, day(0), end]))[0]!.n);
    n += Number((await q.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM course_daily_activity WHERE course_id = ? AND date >= ? AND date < ?', [course, day(0), end]))[0]!.n);
    return n;
  });
  const runs = [...programRuns(BENCH_PROGRAM).keys()];
  const program = await median3(() => programReport(q, BENCH_PROGRAM, { today: '2026-06-01' }));
  const programCounts = await median3(async () => {
    let n = 0;
    for (const t of ['student_courseenrollment', 'certificates_generatedcertificate', 'grades_persistentcoursegrade']) {
      n += Number((await q.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${t} WHERE course_key IN (${placeholders(runs.length)})`, runs))[0]!.n);
    }
    return n;
  });
  return {
    engine,
    events,
    buildSeconds,
    activity: { reportMs: activity.ms, countMs: counts.ms, ratio: activity.ms / counts.ms, rowsRead: counts.value, periods: activity.value.rows.length },
    program: { reportMs: program.ms, countMs: programCounts.ms, ratio: program.ms / programCounts.ms, rowsRead: programCounts.value, learners: program.value.learners, eligible: program.value.eligible },
  };
}

async function benchSqlite(dir: string, options: ReportsBenchOptions, log: (s: string) => void): Promise<ReportsBenchResult> {
  const path = join(dir, 'reports.sqlite');
  const started = Date.now();
  const store = new SqliteStore({ path });
  await store.init();
  await store.close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const indexes = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (${LOADED_TABLES.map(() => '?').join(', ')})`).all(...LOADED_TABLES) as { name: string }[];
  for (const { name } of indexes) db.exec(`DROP INDEX "${name}"`);
  const statements = new Map<string, Database.Statement>();
  const sink: Sink = (def, rows) => {
    let stmt = statements.get(def.name);
    if (!stmt) {
      const cols = columnsOf(def);
      stmt = db.prepare(`INSERT INTO "${def.name}" (${cols.map((c) => `"${c.name}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
      statements.set(def.name, stmt);
    }
    for (const r of rows) stmt.run(...r);
  };
  db.exec('BEGIN');
  generateEvents(sink, options.events, options.courses ?? 4, (d) => {
    db.exec('COMMIT');
    db.exec('BEGIN');
    if (d % 60 === 59) log(`sqlite: day ${d + 1} of ${DAYS}`);
  });
  generateProgram(sink, options.learners);
  db.exec('COMMIT');
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  log('sqlite: rows written; building the indexes (the store\'s init)');
  const again = new SqliteStore({ path });
  await again.init();
  await again.close();
  const buildSeconds = (Date.now() - started) / 1000;
  const q = SqliteReader.open(path);
  try {
    return await measure(q, 'sqlite', options.events, buildSeconds);
  } finally {
    await q.close();
  }
}

/** MariaDB's LOAD DATA text: TAB-separated, `\N` for NULL (values hold no TAB, LF or backslash). */
const loadDataLine = (r: Value[]): string => `${r.map((v) => (v === null ? '\\N' : String(v))).join('\t')}\n`;

/** Runs SQL with the `mariadb` client (LOAD DATA LOCAL INFILE from a file, as a DBA would). */
function mariadbCli(server: MariaDbServer, sql: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('mariadb', ['--no-defaults', '--local-infile=1', `--host=${server.host}`, `--port=${server.port}`, `--user=${server.user}`, server.database, '--execute', sql], {
      // MYSQL_PWD keeps the password off the command line.
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, MYSQL_PWD: server.password },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`mariadb client exited ${code}: ${stderr}`))));
  });
}

async function benchMariaDb(dir: string, options: ReportsBenchOptions, log: (s: string) => void): Promise<ReportsBenchResult> {
  const server = await startMariaDb({ extraArgs: ['--innodb-buffer-pool-size=2G', '--innodb-log-file-size=512M'] });
  try {
    const started = Date.now();
    const storeOptions = { host: server.host, port: server.port, user: server.user, password: server.password, database: server.database };
    const store = new MariaDbStore(storeOptions);
    await store.init();
    await store.close();
    const conn = await mariadb.createConnection(storeOptions);
    try {
      const indexes = (await conn.query(
        `SELECT DISTINCT TABLE_NAME AS t, INDEX_NAME AS i FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME <> 'PRIMARY' AND TABLE_NAME IN (${LOADED_TABLES.map(() => '?').join(', ')})`,
        LOADED_TABLES,
      )) as { t: string; i: string }[];
      for (const { t, i } of indexes) await conn.query(`ALTER TABLE ${mariaIdent(t)} DROP INDEX ${mariaIdent(i)}`);
      // Written synchronously: the generator never yields, so buffered async writes would pile up in memory.
      const files = new Map<string, { fd: number; def: TableDef; path: string }>();
      const sink: Sink = (def, rows) => {
        let f = files.get(def.name);
        if (!f) {
          const path = join(dir, `${def.name}.tsv`);
          f = { fd: openSync(path, 'w'), def, path };
          files.set(def.name, f);
        }
        if (rows.length > 0) writeSync(f.fd, rows.map(loadDataLine).join(''));
      };
      generateEvents(sink, options.events, options.courses ?? 4, (d) => {
        if (d % 60 === 59) log(`mariadb: day ${d + 1} of ${DAYS} written to files`);
      });
      generateProgram(sink, options.learners);
      for (const f of files.values()) closeSync(f.fd);
      for (const f of files.values()) {
        log(`mariadb: LOAD DATA ${f.def.name}`);
        const cols = columnsOf(f.def).map((c) => mariaIdent(c.name));
        await mariadbCli(server, `LOAD DATA LOCAL INFILE '${f.path}' INTO TABLE ${mariaIdent(f.def.name)} CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' (${cols.join(', ')})`);
      }
    } finally {
      await conn.end();
    }
    log('mariadb: building the indexes (the store\'s init)');
    const again = new MariaDbStore(storeOptions);
    await again.init();
    await again.close();
    const buildSeconds = (Date.now() - started) / 1000;
    const reader = new MariaDbStore({ ...storeOptions, queryTimeoutMs: 3_600_000 });
    const q: ReportQueries = { dialect: 'mariadb', target: reader.describeTarget(), query: (s, p) => reader.query(s, p), tableNames: () => reader.tableNames(), close: () => reader.close() };
    try {
      return await measure(q, 'mariadb', options.events, buildSeconds);
    } finally {
      await q.close();
    }
  } finally {
    await server.stop();
  }
}

export async function benchReports(options: ReportsBenchOptions, log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<ReportsBenchResult[]> {
  const results: ReportsBenchResult[] = [];
  for (const engine of options.engines ?? ['sqlite', 'mariadb']) {
    const dir = await mkdtemp(join(tmpdir(), `pds-bench-reports-${engine}-`));
    try {
      results.push(engine === 'sqlite' ? await benchSqlite(dir, options, log) : await benchMariaDb(dir, options, log));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return results;
}

/** One line per engine, for `npm run bench -- reports` and this file run directly. */
export function describeReportsResult(r: ReportsBenchResult): string {
  const ms = (v: number): string => (v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`);
  return (
    `${r.engine}: store of ${r.events.toLocaleString('en')} designated event rows written directly with the store's DDL in ${r.buildSeconds.toFixed(0)} s (indexes included); ` +
    `course activity, one course × 365 days by week (${r.activity.rowsRead.toLocaleString('en')} rows, ${r.activity.periods} weeks): ${ms(r.activity.reportMs)}, COUNT(*) of the same rows ${ms(r.activity.countMs)}, ratio ${r.activity.ratio.toFixed(1)}; ` +
    `program eligibility, ${r.program.learners.toLocaleString('en')} learners (${r.program.eligible.toLocaleString('en')} eligible, ${r.program.rowsRead.toLocaleString('en')} rows): ${ms(r.program.reportMs)}, COUNT(*) ${ms(r.program.countMs)}, ratio ${r.program.ratio.toFixed(1)}`
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const events = Number(process.argv[2] ?? 10_000_000);
  const learners = Number(process.argv[3] ?? 100_000);
  const engines = process.argv[4] ? (process.argv[4].split(',') as ('sqlite' | 'mariadb')[]) : undefined;
  for (const r of await benchReports({ events, learners, engines })) process.stdout.write(`${describeReportsResult(r)}\n`);
}
