/**
 * The console's own files (the renderer's bundle in `dist/renderer/`), served read-only. Paths
 * are resolved inside that folder only; a path without a file extension that names no file gets
 * `index.html` (the console's screens are routes of one page). When the bundle is missing, every
 * page is a short explanation instead.
 */
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleContentType, bundleRelativePath } from '../contract/bundle-files.js';

/**
 * The folder of the renderer's bundle: `dist/renderer/` of the package, found from this module
 * whether it runs from source (`core/http/`) or built (`dist/core/http/`).
 */
export function defaultRendererDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return join(dir, 'dist', 'renderer');
}

/** The page answered when the bundle is missing (no inline script or style: the CSP forbids them). */
function missingBundlePage(): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>pds console: not built</title></head><body>',
    '<h1>The console’s files are not built</h1>',
    '<p>pds serve is running and its API answers, but the console’s web files (<code>dist/renderer/</code> of the pds installation) are missing.</p>',
    '<p>Build them in the project folder with <code>npm run build</code>, then reload this page.</p>',
    '</body></html>',
  ].join('\n');
}

/** Serves `pathname` from `dir` (GET or HEAD); answers 404 for a file that is not there. */
export async function serveStatic(dir: string, pathname: string, response: ServerResponse, headOnly: boolean): Promise<void> {
  const root = resolve(dir);
  const index = join(root, 'index.html');
  if (!existsSync(index)) {
    send(response, 503, 'text/html; charset=utf-8', missingBundlePage(), headOnly);
    return;
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    send(response, 400, 'text/plain; charset=utf-8', 'Bad path.\n', headOnly);
    return;
  }
  const inside = bundleRelativePath(decoded);
  const target = resolve(root, inside ?? '');
  if (inside === undefined || (target !== root && !target.startsWith(root + sep))) {
    send(response, 404, 'text/plain; charset=utf-8', 'Not found.\n', headOnly);
    return;
  }
  let file = target;
  const info = await stat(target).catch(() => undefined);
  if (info?.isDirectory()) file = join(target, 'index.html');
  else if (!info?.isFile()) {
    if (extname(decoded) !== '') {
      send(response, 404, 'text/plain; charset=utf-8', 'Not found.\n', headOnly);
      return;
    }
    file = index;
  }
  const size = (await stat(file).catch(() => undefined))?.size;
  if (size === undefined) {
    send(response, 404, 'text/plain; charset=utf-8', 'Not found.\n', headOnly);
    return;
  }
  response.writeHead(200, {
    'Content-Type': bundleContentType(file),
    'Content-Length': size,
    // The bundle changes with each build and the page is tiny: always revalidate.
    'Cache-Control': 'no-cache',
  });
  if (headOnly) {
    response.end();
    return;
  }
  createReadStream(file)
    .on('error', () => response.destroy())
    .pipe(response);
}

function send(response: ServerResponse, status: number, type: string, body: string, headOnly: boolean): void {
  response.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  response.end(headOnly ? undefined : body);
}
