/**
 * `npm run app`: starts the desktop app from the built bundles (dist/electron, dist/renderer) in
 * development (NODE_ENV=development: DevTools allowed). Needs Electron's binary, which the
 * `electron` package downloads at install time where its install script is allowed (package.json
 * `allowScripts`); without it this says so and stops.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let binary;
try {
  // The electron package's main export is the path of its binary; it throws when the binary was never downloaded.
  binary = createRequire(import.meta.url)('electron');
} catch (error) {
  console.error(`pds app: Electron's binary is not installed (${error instanceof Error ? error.message.split('\n')[0] : error}).`);
  console.error('Install it on a machine that may download it: npm rebuild electron (or npm install with the electron install script allowed), then npm run app again.');
  process.exit(1);
}
const child = spawn(binary, [root], { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'development' } });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
