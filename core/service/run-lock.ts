/**
 * One run per environment at a time: a lock file holding the owner's PID. A lock left by a
 * process that no longer exists (killed run) is taken over, so a crash never blocks the next run.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError } from '../errors/index.js';
import { processAlive } from './process-alive.js';

/** Locks held by this process (a console runs several environments, one run each). */
const held = new Set<string>();

/** Takes the lock at `path` or throws a ConfigError naming the process that holds it. */
export async function acquireRunLock(path: string, env: string): Promise<() => Promise<void>> {
  if (held.has(path)) {
    throw new ConfigError(`A run of environment ${env} is already in progress (started from this console or process).`, {
      code: 'RUN_IN_PROGRESS',
      hint: 'Wait for it to finish, or cancel it, then start again.',
    });
  }
  held.add(path);
  try {
    return await takeLock(path, env);
  } catch (error) {
    held.delete(path);
    throw error;
  }
}

async function takeLock(path: string, env: string): Promise<() => Promise<void>> {
  await mkdir(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        await rm(path, { force: true });
        held.delete(path);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new ConfigError(`Another run of environment ${env} is in progress (process ${pid}).`, {
          code: 'RUN_IN_PROGRESS',
          hint: `Wait for it to finish, or stop it; if no such run exists, delete ${path}.`,
        });
      }
      // Left by a process that is gone: take it over.
      await rm(path, { force: true });
    }
  }
  throw new ConfigError(`Could not take the run lock ${path}.`, { code: 'RUN_IN_PROGRESS' });
}
