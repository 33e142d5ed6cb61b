/**
 * Bundles the desktop app's three parts with esbuild into `dist/electron/`:
 * - `main.mjs`: the main process (ESM; `electron` and native modules external);
 * - `preload.cjs`: the window's preload (CommonJS, as a sandboxed preload must be; it may require
 *   only `electron`, so everything else is bundled in);
 * - `engine-host.mjs`: the engine, run as an Electron utility process (ESM; better-sqlite3 and the
 *   other packages stay in node_modules, unpacked from the asar where native), and
 *   `store-thread.js`, the SQLite store's worker thread it starts beside itself.
 * The console's own files are `dist/renderer/` (build/build-renderer.mjs), beside it.
 *
 * Needs no Electron binary: CI runs it (`npm run build:electron`, part of `npm run build`).
 * `node build/build-electron.mjs [--dev]`: `--dev` keeps names readable and adds source maps.
 */
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'electron');
const dev = process.argv.includes('--dev');
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
/** Runtime packages stay outside the bundle (installed in the app's node_modules; native ones rebuilt for Electron). */
const external = ['electron', ...Object.keys(pkg.dependencies ?? {})];

const common = {
  absWorkingDir: root,
  bundle: true,
  outdir,
  platform: 'node',
  target: 'node22',
  minify: !dev,
  sourcemap: dev ? 'linked' : false,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
};

await rm(outdir, { recursive: true, force: true });
const results = await Promise.all([
  esbuild.build({ ...common, entryPoints: { main: 'electron/main/main.ts', 'engine-host': 'electron/worker/engine-host.ts' }, format: 'esm', outExtension: { '.js': '.mjs' }, external }),
  // The SQLite store's thread, which the engine starts as `./store-thread.js` beside its own module.
  esbuild.build({ ...common, entryPoints: { 'store-thread': 'core/stores/sqlite/store-thread.ts' }, format: 'esm', external }),
  // The preload bundles what it imports of the contract: the plain list of method names, no schema.
  esbuild.build({ ...common, entryPoints: { preload: 'electron/preload/preload.ts' }, format: 'cjs', outExtension: { '.js': '.cjs' }, external: ['electron'] }),
]);
const outputs = results.flatMap((r) => Object.entries(r.metafile.outputs)).filter(([file]) => !file.endsWith('.map'));
console.log(`electron built: ${outputs.map(([file, o]) => `${file.replace(/^.*dist\//, 'dist/')} ${(o.bytes / 1024).toFixed(0)} KB`).join(', ')}`);

// The preload may require nothing but electron (a sandboxed preload has no Node require).
const preload = await readFile(join(outdir, 'preload.cjs'), 'utf8');
const requires = [...preload.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]).filter((m) => m !== 'electron');
if (requires.length > 0) throw new Error(`dist/electron/preload.cjs requires ${requires.join(', ')}: a sandboxed preload may require only electron.`);
