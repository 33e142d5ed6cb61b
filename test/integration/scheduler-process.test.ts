/**
 * `pds schedule run` as a process (README "Unattended operation"): while its scheduled load runs, a
 * manual `pds run` of the same environment says a load is in progress and exits 1; SIGTERM stops
 * the scheduler within its documented grace (5 s) with the load cancelled cleanly, and the next run
 * finishes the data exactly (the same rows as one uninterrupted load).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { environmentPaths } from '../../core/config/config-store.js';
import { ScheduleLedger } from '../../core/schedule/schedule-ledger.js';
import { createConsoleHome } from '../support/console-home.js';
import { collect, runPds, spawnPds } from '../support/pds-cli.js';
import { dumpSqlite } from '../support/sqlite-dump.js';

/** The documented stop time (README "Stopping a run": 5 s) plus the time a Node process takes to start and exit here. */
const STOP_BOUND_MS = 5_000 + 5_000;

function waitForLine(stream: NodeJS.ReadableStream, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer | string): void => {
      buffer += chunk.toString();
      const line = buffer.split('\n').find((l) => pattern.test(l));
      if (line) {
        stream.off('data', onData);
        resolve(line);
      }
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`the stream ended without a line matching ${pattern}:\n${buffer}`)));
  });
}

describe('pds schedule run', () => {
  test('a manual run during a scheduled load exits 1 (in progress); SIGTERM stops the scheduler in time; the next run finishes the data exactly', async () => {
    const files = { files: 8, linesPerFile: 20_000 };
    const [home, reference] = await Promise.all([createConsoleHome(files), createConsoleHome(files)]);
    try {
      const config = await readFile(join(home.home, 'config.yaml'), 'utf8');
      // Every second (croner's six-field form): the first slot comes a second after the start.
      await writeFile(join(home.home, 'config.yaml'), `${config}    schedules:\n      - { name: often, cron: "* * * * * *", timezone: UTC, load: events }\n`);

      const scheduler = spawnPds(['--home', home.home, 'schedule', 'run', '--env', 'local', '--log-format', 'json'], {});
      const done = collect(scheduler);
      const started = JSON.parse(await waitForLine(scheduler.stderr!, /"msg":"(load started|catching up)/)) as { runId: string; env: string };
      assert.equal(started.env, 'local');

      const manual = await runPds(['--home', home.home, 'run', '--env', 'local'], {});
      assert.equal(manual.code, 1, manual.stdout + manual.stderr);
      assert.match(manual.stderr, /run of environment local is in progress|load.*in progress/i);

      // Stop it while the load runs.
      const t0 = Date.now();
      scheduler.kill('SIGTERM');
      const bound = setTimeout(() => scheduler.kill('SIGKILL'), STOP_BOUND_MS + 5_000);
      const result = await done;
      clearTimeout(bound);
      const took = Date.now() - t0;
      assert.notEqual(result.signal, 'SIGKILL', `the scheduler did not stop by itself:\n${result.stderr}`);
      assert.ok(took < STOP_BOUND_MS, `stopped in ${took} ms`);

      // Its log file holds the same JSON lines.
      const log = await readFile(join(home.home, 'logs', 'pds.log'), 'utf8');
      assert.ok(log.split('\n').filter(Boolean).every((l) => typeof (JSON.parse(l) as { msg: string }).msg === 'string'));
      assert.ok(log.includes(started.runId));

      // The scheduled run is recorded as ended (cancelled, or done if it beat the signal), the heartbeat stopped.
      const runs = await runPds(['--home', home.home, 'runs', '--env', 'local', '--json'], {});
      const list = JSON.parse(runs.stdout) as { runId: string; status: string; origin?: string }[];
      const scheduled = list.find((r) => r.runId === started.runId);
      assert.ok(scheduled && scheduled.status !== 'running', JSON.stringify(list));
      const ledger = ScheduleLedger.open(environmentPaths(home.home, 'local').ledger);
      try {
        assert.ok(ledger.heartbeat()?.stoppedAt, 'a clean stop is recorded');
        assert.ok(ledger.slots().some((s) => s.runId === started.runId));
      } finally {
        ledger.close();
      }

      // The next run finishes the data: exactly what one uninterrupted load gives.
      const next = await runPds(['--home', home.home, 'run', '--env', 'local', '--quiet'], {});
      assert.equal(next.code, 0, next.stdout + next.stderr);
      const whole = await runPds(['--home', reference.home, 'run', '--env', 'local', '--quiet'], {});
      assert.equal(whole.code, 0, whole.stderr);
      assert.deepEqual(dumpSqlite(environmentPaths(home.home, 'local').sqlite), dumpSqlite(environmentPaths(reference.home, 'local').sqlite));
    } finally {
      await Promise.all([home.remove(), reference.remove()]);
    }
  });
});
