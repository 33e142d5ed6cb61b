#!/usr/bin/env node
// The `pds` command. `npm install` / `npm ci` compile core/ into dist/ (the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/core/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('pds is not built yet: run `npm run build` in the project folder first.\n');
  process.exit(1);
}
const { runCli } = await import(main);
process.exitCode = await runCli(process.argv.slice(2));
