/**
 * `pds demo`: makes a realistic encrypted edX delivery with a freshly generated data czar key,
 * configures a `demo` environment that reads it from a local folder into the embedded SQLite
 * file, runs the real pipeline, and summarises what landed and what was flagged. Running it
 * again loads nothing new (everything is in the ledger).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';
import { environmentPaths, loadConfig, saveConfig } from '../config/config-store.js';
import { encryptToKeys } from '../crypto/encrypt.js';
import { displayName } from '../domain/files.js';
import { isFlagged, type RunProgress, type RunResult } from '../domain/results.js';
import type { ConsoleService } from '../service/console-service.js';
import { generateDemoData } from './generate-package.js';
import { formatNotices } from '../contract/console-api.js';
import { Ledger } from '../ledger/ledger.js';

export const DEMO_ENV = 'demo';

export interface DemoOptions {
  fresh?: boolean;
  onProgress?: (event: RunProgress) => void;
  log?: (line: string) => void;
}

/** Generates the data and key once (or again with `fresh`), then runs the `demo` environment. */
export async function runDemo(service: ConsoleService, options: DemoOptions = {}): Promise<{ result: RunResult; summary: string }> {
  const log = options.log ?? (() => undefined);
  const home = service.home;
  const demoDir = join(home, 'demo');
  const sourceDir = join(demoDir, 'source');
  if (options.fresh) {
    await rm(demoDir, { recursive: true, force: true });
    await rm(environmentPaths(home, DEMO_ENV).root, { recursive: true, force: true });
  }

  const config = await loadConfig(home);
  if (!existsSync(sourceDir) || !config.environments[DEMO_ENV]) {
    await rm(demoDir, { recursive: true, force: true });
    await rm(environmentPaths(home, DEMO_ENV).root, { recursive: true, force: true });
    await mkdir(demoDir, { recursive: true, mode: 0o700 });
    log('generating a data czar key (RSA, as edX asks of data czars)…');
    const passphrase = randomBytes(18).toString('base64url');
    const { privateKey, publicKey } = await openpgp.generateKey({
      type: 'rsa',
      rsaBits: 2048,
      userIDs: [{ name: 'Demo Data Czar', email: 'data-czar@demo.example.edu' }],
      passphrase,
      format: 'armored',
    });
    await writeFile(join(demoDir, 'passphrase'), passphrase, { mode: 0o600 });
    config.environments[DEMO_ENV] = {
      description: 'Generated demo delivery (pds demo), loaded from a local folder into the embedded SQLite file.',
      source: { type: 'local', path: 'demo/source' },
      key: { passphrase: 'file:demo/passphrase' },
      targets: { relational: { type: 'sqlite' }, events: { type: 'sqlite' } },
      courses: { includeEdge: true },
      window: {},
    };
    await saveConfig(home, config);
    const tmp = await mkdtemp(join(tmpdir(), 'pds-demo-key-'));
    try {
      const keyFile = join(tmp, 'demo-secret-key.asc');
      await writeFile(keyFile, privateKey, { mode: 0o600 });
      await service.importKey(DEMO_ENV, keyFile);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    log('generating an encrypted weekly package and a week of daily event logs…');
    await generateDemoData({
      outDir: sourceDir,
      encryptTo: { armoredPublicKeys: [publicKey], encrypt: (plain) => encryptToKeys(plain, [publicKey]) },
    });
  }

  const result = await service.run(DEMO_ENV, {}, options.onProgress);
  const summary = await service.getDataSummary(DEMO_ENV);
  const lines: string[] = [];
  lines.push(`Demo environment "${DEMO_ENV}" (home ${home}): run ${result.runId} ${result.status}.`);
  lines.push(
    result.files.length === 0
      ? `Nothing new to load: ${result.upToDate} files were already loaded by an earlier run.`
      : `This run: ${Object.entries(result.totals).map(([k, v]) => `${v} ${k}`).join(', ')}.`,
  );
  lines.push('', `Landed in ${environmentPaths(home, DEMO_ENV).sqlite}:`);
  for (const t of summary.tables) lines.push(`  ${t.table.padEnd(44)} ${String(t.rows).padStart(8)} rows  ${t.courses} course(s)`);
  lines.push(`  events${' '.repeat(38)} ${String(summary.events.total).padStart(8)} events ${summary.events.courses} course(s)`);
  const flagged = result.files.filter(isFlagged);
  if (flagged.length > 0) {
    lines.push('', 'Flagged (the demo includes deliberate faults):');
    for (const f of flagged) {
      lines.push(`  ${f.status.toUpperCase()} ${displayName(f.key)}`);
      lines.push(`    ${f.code ? `[${f.code}] ` : ''}${f.reason ?? ''}`);
      if (f.rejectedLines?.length) lines.push(`    lines ${f.rejectedLines.slice(0, 8).map((r) => r.line).join(', ')}${f.rejectedLines.length > 8 ? ', …' : ''}`);
    }
  }
  // What the run said besides its files (learners edX retired, retention), as pds run prints it.
  const ledger = Ledger.open(environmentPaths(home, DEMO_ENV).ledger);
  try {
    lines.push(...formatNotices(ledger.runNotices(result.runId)));
  } finally {
    ledger.close();
  }
  lines.push('', `Full report: pds report --env ${DEMO_ENV}    Query: sqlite3 ${environmentPaths(home, DEMO_ENV).sqlite}`);
  return { result, summary: lines.join('\n') };
}
