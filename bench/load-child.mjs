/**
 * Child process of the benchmarks: loads files into an environment through the real service, as
 * built (`dist/`, what `pds` runs), and prints one JSON line with the outcome, the wall time and
 * this process's peak RSS. Its own process keeps the parent's data generation out of the memory
 * figure. `npm run bench` builds first.
 *
 *   node bench/load-child.mjs HOME ENV FILE...
 */
import { createConsoleService } from '../dist/core/service/console-service.js';

const [home, env, ...files] = process.argv.slice(2);
if (!home || !env || files.length === 0) {
  process.stderr.write('usage: load-child.mjs HOME ENV FILE...\n');
  process.exit(1);
}
const service = createConsoleService({ home });
const started = process.hrtime.bigint();
const result = await service.load(env, files);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const loaded = result.files.reduce((n, f) => n + f.counts.loaded + f.counts.duplicates, 0);
process.stdout.write(
  `${JSON.stringify({ status: result.status, seconds, loaded, rejected: result.files.reduce((n, f) => n + f.counts.rejected, 0), peakRssMb: process.resourceUsage().maxRSS / 1024, codes: result.files.map((f) => f.code).filter(Boolean) })}\n`,
);
