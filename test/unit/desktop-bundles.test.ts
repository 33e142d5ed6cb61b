/**
 * The desktop app's bundles as CI builds them (build/build-electron.mjs, no Electron binary): the
 * main, preload, engine host and SQLite thread files are written, the preload requires nothing
 * but electron, and the bundled engine host runs under plain Node with the same protocol (a run on
 * a demo-like home, its events, its report).
 */
import assert from 'node:assert/strict';
import { execFile, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, describe, test } from 'node:test';
import type { RunEvent } from '../../core/contract/methods.js';
import { createEngineClient, type HostProcess } from '../../electron/main/engine-client.js';
import type { HostMessage } from '../../electron/worker/protocol.js';
import { createConsoleHome } from '../support/console-home.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('desktop app bundles', () => {
  test('build/build-electron.mjs writes main, preload, engine host and store thread; the preload requires only electron', async () => {
    await promisify(execFile)(process.execPath, ['build/build-electron.mjs'], { cwd: root });
    for (const file of ['main.mjs', 'preload.cjs', 'engine-host.mjs', 'store-thread.js']) assert.ok(existsSync(`${root}dist/electron/${file}`), file);
    const preload = await readFile(`${root}dist/electron/preload.cjs`, 'utf8');
    assert.deepEqual([...new Set([...preload.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]))], ['electron']);
    // The window's preload carries the method names, not the contract's schemas.
    assert.ok(!preload.includes('ZodError') && preload.includes('"listAudit"'), 'the preload holds the method names and no zod');
    const main = await readFile(`${root}dist/electron/main.mjs`, 'utf8');
    assert.ok(/from\s*"electron"/.test(main), 'main imports electron, left out of the bundle');
    assert.ok(!/loadFile\(|loadURL\("http/.test(main), 'main never loads a file: or http page');
  });

  test('the bundled engine host runs under Node: a run, its events in order, its report', async () => {
    const home = await createConsoleHome({ files: 2 });
    cleanups.push(() => home.remove());
    const spawn = (): HostProcess => {
      const child = fork(`${root}dist/electron/engine-host.mjs`, [], { env: { ...process.env, PDS_ENGINE_HOST: '1', PDS_HOME: home.home }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
      return {
        post: (m) => void (child.connected && child.send(m)),
        onMessage: (l) => child.on('message', (m) => l(m as HostMessage)),
        onExit: (l) => child.once('exit', (code, signal) => l(signal ?? `exit code ${code}`)),
        kill: () => void child.kill(),
      };
    };
    const events: RunEvent[] = [];
    let finished: (e: RunEvent) => void = () => {};
    const done = new Promise<RunEvent>((r) => (finished = r));
    const client = createEngineClient({ spawn, onEvent: (e) => (events.push(e), e.type === 'run-finished' && finished(e)) });
    cleanups.push(() => client.close());
    const started = await client.call('startRun', { env: 'local', options: {} });
    assert.ok(started.ok, JSON.stringify(started));
    const end = await done;
    assert.equal(end.type === 'run-finished' && end.run.status, 'succeeded');
    assert.deepEqual(events.slice(0, 2).map((e) => e.type), ['run-started', 'plan']);
    assert.equal(events.at(-1)!.type, 'run-finished');
    for (let i = 1; i < events.length; i++) assert.ok(events[i]!.seq > events[i - 1]!.seq, 'in order');
    assert.equal(events.filter((e) => e.type === 'file-finished').length, 2);
    const report = await client.call('getReport', { env: 'local', filter: {}, offset: 0, limit: 100 });
    assert.ok(report.ok);
    assert.equal((report.value as { total: number }).total, 2);
  });
});
