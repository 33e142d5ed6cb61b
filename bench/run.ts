/**
 * `npm run bench`: throughput and ratios against baselines measured in the same run (absolute
 * times vary between machines; ratios travel). Not a test: it prints, and exits non-zero only when
 * a benchmark could not run.
 *
 *   npm run bench                 # every benchmark at full size
 *   npm run bench -- --quick      # a tenth of the size, to check the harness
 *   npm run bench -- events       # one benchmark by name (events, mariadb, mongodb, console, reports)
 */
import { startFerretDb } from '../test/support/ferretdb.js';
import { benchConsole } from './console.js';
import { benchEventsSqlite } from './events-sqlite.js';
import { benchMariaDbLoad } from './mariadb-load.js';
import { benchMongoLoad } from './mongodb-load.js';
import { benchReports, describeReportsResult } from './reports.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.filter((a) => !a.startsWith('--'));
const scale = (n: number): number => (quick ? Math.round(n / 10) : n);

interface Row {
  name: string;
  figures: string;
  target: string;
  met: boolean;
}

const benches: Record<string, () => Promise<Row>> = {
  events: async () => {
    const r = await benchEventsSqlite({ events: scale(500_000), historyDays: 4 });
    const n = (v: number): string => Math.round(v).toLocaleString('en');
    const targets = [
      { what: '≥ 30,000 events/s end to end', met: r.eventsPerSec >= 30_000 },
      { what: 'peak RSS < 500 MB', met: r.peakRssMb < 500 },
      { what: 'end to end ÷ insert baseline ≥ 0.7', met: r.insertRatio >= 0.7 },
    ];
    return {
      name: r.name,
      figures:
        `end to end ${n(r.eventsPerSec)} events/s, ${r.mbPerSec.toFixed(1)} MB/s compressed, peak RSS ${n(r.peakRssMb)} MB; ` +
        `a later day into the database holding ${r.storedBefore.toLocaleString('en')} events ${n(r.laterEventsPerSec)} events/s (${(r.laterEventsPerSec / r.eventsPerSec).toFixed(2)} of the first); ` +
        `decode only (decrypt → gunzip → parse) ${n(r.decodeEventsPerSec)} events/s; ` +
        `baseline gpg --decrypt | gzip -dc ${n(r.baselineEventsPerSec)} events/s; ` +
        `insert baseline (the parsed events' ${r.insertRows.toLocaleString('en')} rows, one thread, one transaction, commit and checkpoint ${r.insertCommitSeconds.toFixed(1)} s of it) ${n(r.insertEventsPerSec)} events/s; ` +
        `ratios: end to end ÷ gpg|gzip ${r.ratio.toFixed(2)}, end to end ÷ insert baseline ${r.insertRatio.toFixed(3)}, decode ÷ gpg|gzip ${(r.decodeEventsPerSec / r.baselineEventsPerSec).toFixed(2)}` +
        (r.cpu
          ? `; seconds on a CPU (waiting for a core): load's main thread ${r.cpu.main.onCpu.toFixed(1)} (${r.cpu.main.waiting.toFixed(1)}), its SQLite thread ${r.cpu.store.onCpu.toFixed(1)} (${r.cpu.store.waiting.toFixed(1)}), insert baseline ${r.cpu.insert.onCpu.toFixed(1)} (${r.cpu.insert.waiting.toFixed(1)})`
          : ''),
      target: targets.map((t) => `${t.what} (${t.met ? 'met' : 'missed'})`).join('; '),
      met: targets.every((t) => t.met),
    };
  },
  mariadb: async () => {
    const r = await benchMariaDbLoad({ rows: scale(1_000_000) });
    return {
      name: r.name,
      figures: `${Math.round(r.rowsPerSec).toLocaleString('en')} rows/s; baseline mariadb CLI LOAD DATA LOCAL INFILE ${Math.round(r.baselineRowsPerSec).toLocaleString('en')} rows/s; ratio ${r.ratio.toFixed(2)}; peak RSS ${Math.round(r.peakRssMb)} MB`,
      target: 'ratio ≥ 0.7, memory flat in file size',
      met: r.ratio >= 0.7,
    };
  },
  mongodb: async () => {
    // Measured against FerretDB (the MongoDB wire server available here); see core/stores/mongodb/README.md.
    const server = await startFerretDb();
    try {
      const r = await benchMongoLoad({ events: scale(500_000), uri: server.uri });
      return {
        name: `${r.name} (FerretDB)`,
        figures: `${Math.round(r.eventsPerSec).toLocaleString('en')} events/s; baseline insertMany of the parsed documents ${Math.round(r.baselineEventsPerSec).toLocaleString('en')} events/s; ratio ${r.ratio.toFixed(2)}; peak RSS ${Math.round(r.peakRssMb)} MB`,
        target: 'ratio ≥ 0.8',
        met: r.ratio >= 0.8,
      };
    } finally {
      await server.stop();
    }
  },
  console: async () => {
    const r = await benchConsole({ files: scale(10_000), rejectedLines: scale(100_000) });
    const ms = (v: number): string => `${Math.round(v)} ms`;
    const kb = (v: number): string => `${(v / 1024).toFixed(0)} KB`;
    const targets = [
      { what: 'report first page median ≤ 200 ms', met: r.report.medianMs <= 200 },
      { what: 'rejected lines first page median ≤ 200 ms', met: r.rejected.medianMs <= 200 },
    ];
    return {
      name: r.name,
      figures:
        `getReport first page (100 of ${r.reportTotal.toLocaleString('en')} files, ${kb(r.report.bytes)}): median ${ms(r.report.medianMs)}, max ${ms(r.report.maxMs)}, cold ${ms(r.report.coldMs)}; ` +
        `getRejectedLines first page (100 of ${r.rejectedTotal.toLocaleString('en')} lines, ${kb(r.rejected.bytes)}): median ${ms(r.rejected.medianMs)}, max ${ms(r.rejected.maxMs)}, cold ${ms(r.rejected.coldMs)}; ` +
        `ledger and quarantine written in ${r.buildSeconds.toFixed(1)} s`,
      target: targets.map((t) => `${t.what} (${t.met ? 'met' : 'missed'})`).join('; '),
      met: targets.every((t) => t.met),
    };
  },
};

benches.reports = async () => {
  // Sizes: PDS_BENCH_REPORT_EVENTS / PDS_BENCH_REPORT_LEARNERS override (a smaller run on a busy machine).
  const events = Number(process.env.PDS_BENCH_REPORT_EVENTS ?? scale(10_000_000));
  const learners = Number(process.env.PDS_BENCH_REPORT_LEARNERS ?? scale(100_000));
  const results = await benchReports({ events, learners });
  return {
    name: `reports: course activity over 365 days (${events.toLocaleString('en')} designated event rows in the store) and program eligibility (${learners.toLocaleString('en')} learners), SQLite and MariaDB`,
    figures:
      'rows written straight into each store\'s own schema (its init() makes the tables and indexes; the full pipeline is too slow for 10M events here); ' +
      results.map(describeReportsResult).join('; '),
    target: 'no fixed target: each report beside COUNT(*) of the rows it reads, in the same run (the ratio shows whether the indexes serve it)',
    met: results.length > 0,
  };
};

const rows: Row[] = [];
for (const [name, bench] of Object.entries(benches)) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stderr.write(`running ${name}…\n`);
  rows.push(await bench());
}
for (const r of rows) process.stdout.write(`${r.met ? 'MET    ' : 'MISSED '} ${r.name}\n        ${r.figures}\n        target: ${r.target}\n`);
