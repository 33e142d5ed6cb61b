import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireRunLock } from '../../core/service/run-lock.js';
import { ConfigError } from '../../core/errors/index.js';

test('one run per environment: a live holder blocks, a dead holder is taken over, release frees it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pds-lock-'));
  const path = join(dir, 'run.lock');
  // Lives until killed below, however long the machine takes to get there.
  const sleeper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)']);
  try {
    await writeFile(path, `${sleeper.pid}\n`);
    await assert.rejects(acquireRunLock(path, 'live'), (e: unknown) => e instanceof ConfigError && e.code === 'RUN_IN_PROGRESS' && e.message.includes(String(sleeper.pid)));
    sleeper.kill('SIGKILL');
    await new Promise((r) => sleeper.once('exit', r));
    const release = await acquireRunLock(path, 'live');
    assert.ok(existsSync(path));
    await release();
    assert.ok(!existsSync(path));
  } finally {
    sleeper.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
