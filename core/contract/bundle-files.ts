/**
 * The console's bundle (`dist/renderer/`) as both ways of serving it see it: `pds serve`
 * (core/http/static-files.ts) and the desktop app's `app://` protocol (electron/main/policy.ts).
 * Which paths of a request name a file inside the bundle, and the content type of each file.
 *
 * Pure string logic: no Node API (each side resolves the path against its folder itself).
 */

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** The content type of a file of the bundle, by its extension (the last `.` of its name, not a leading one). */
export function bundleContentType(file: string): string {
  const name = file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
  const dot = name.lastIndexOf('.');
  return (dot > 0 ? CONTENT_TYPES[name.slice(dot).toLowerCase()] : undefined) ?? 'application/octet-stream';
}

/**
 * The path inside the bundle that a request's decoded path names, relative to the bundle folder
 * (`''` for the folder itself), or undefined when it could lead elsewhere: a NUL, a backslash, an
 * empty segment (`//etc`) or a `..` segment.
 */
export function bundleRelativePath(decodedPath: string): string | undefined {
  if (decodedPath.includes('\0') || decodedPath.includes('\\') || decodedPath.includes('//')) return undefined;
  if (decodedPath.split('/').includes('..')) return undefined;
  return decodedPath.replace(/^\/+/, '');
}
