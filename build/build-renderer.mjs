/**
 * Bundles the React console (`renderer/`) with esbuild into `dist/renderer/`: `index.html`, `app.js`,
 * `app.css` and the icon. The page has no inline script and no style attribute, so `pds serve` can send a
 * strict Content-Security-Policy (`default-src 'self'`, no 'unsafe-inline').
 *
 * `node build/build-renderer.mjs [--watch] [--dev]`: `--dev` keeps names readable and adds source maps.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'renderer');
const dev = process.argv.includes('--dev');
const watch = process.argv.includes('--watch');

const html = await readFile(join(root, 'renderer', 'index.html'), 'utf8');
// The CSP forbids inline script and style: refuse a page that would need them.
if (/<script(?![^>]*\bsrc=)[^>]*>/i.test(html) || /\sstyle=/i.test(html) || /<style[\s>]/i.test(html)) {
  throw new Error('renderer/index.html has an inline script or style: move it into renderer/ sources (the console is served with a strict Content-Security-Policy).');
}

/** @type {esbuild.BuildOptions} */
const options = {
  absWorkingDir: root,
  entryPoints: { app: 'renderer/main.tsx' },
  bundle: true,
  outdir,
  format: 'esm',
  platform: 'browser',
  // The stylesheet's colours are `light-dark()` (Chrome 123, Firefox 120, Safari 17.5; Electron 38 ships Chromium 140).
  target: ['chrome123', 'firefox120', 'safari17.5'],
  jsx: 'automatic',
  minify: !dev,
  sourcemap: dev ? 'linked' : false,
  legalComments: 'none',
  define: { 'process.env.NODE_ENV': JSON.stringify(dev ? 'development' : 'production') },
  logLevel: 'warning',
};

await mkdir(outdir, { recursive: true });
for (const file of ['index.html', 'favicon.svg']) await copyFile(join(root, 'renderer', file), join(outdir, file));
if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log(`watching renderer/ → ${outdir}`);
} else {
  const result = await esbuild.build({ ...options, metafile: true });
  const outputs = Object.entries(result.metafile.outputs).map(([file, o]) => `${file.replace(`${root}/`, '')} ${(o.bytes / 1024).toFixed(0)} KB`);
  console.log(`renderer built: ${outputs.join(', ')}`);
}
