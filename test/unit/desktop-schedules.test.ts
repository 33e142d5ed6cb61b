/**
 * The desktop app's "Run schedules while the app is open" under Node, without Electron's binary:
 * main's engine client and the engine host as a forked child (the module the utility process
 * runs), on a home whose daily schedule's slot was a few minutes ago and whose previous slot
 * (yesterday's) is recorded: a scheduler catches up at once, and the next slot is a day away. Never told, the host runs nothing; told to, it loads with origin
 * `scheduler` through the same handlers (events reach main in order), beats a heartbeat with its
 * pid and logs in PDS_HOME/logs; told to stop, the heartbeat reads stopped (a load in progress
 * finishes first); a host killed and restarted is told again by the client, and schedules.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { environmentPaths } from '../../core/config/config-store.js';
import type { RunEvent } from '../../core/contract/methods.js';
import { ScheduleLedger, schedulerStateOf, type Heartbeat } from '../../core/schedule/schedule-ledger.js';
import { createEngineClient, remoteHandlers, type HostProcess } from '../../electron/main/engine-client.js';
import { createConsoleHome, type ConsoleHome } from '../support/console-home.js';
import { forkHost } from '../support/electron-harness.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** A home whose daily schedule fired five minutes ago (yesterday's slot recorded): the scheduler catches it up at its first tick. */
async function homeDueNow(options: { files?: number; linesPerFile?: number } = {}): Promise<ConsoleHome> {
  const h = await createConsoleHome({ files: options.files ?? 2, linesPerFile: options.linesPerFile ?? 20 });
  const slot = new Date(Math.floor((Date.now() - 5 * MINUTE) / MINUTE) * MINUTE);
  cleanups.push(() => h.remove());
  await writeFile(
    join(h.home, 'config.yaml'),
    [
      'environments:',
      '  local:',
      '    source:',
      '      type: local',
      `      path: ${h.source}`,
      '    targets:',
      '      relational: { type: sqlite }',
      '      events: { type: sqlite }',
      '    schedules:',
      `      - { name: daily, cron: "${slot.getUTCMinutes()} ${slot.getUTCHours()} * * *", timezone: UTC, load: events }`,
      '',
    ].join('\n'),
  );
  const yesterday = new Date(slot.getTime() - DAY);
  const l = ScheduleLedger.open(environmentPaths(h.home, 'local').ledger);
  try {
    l.recordSlot('daily', yesterday, 'started', { at: yesterday, runId: 'an-earlier-run' });
  } finally {
    l.close();
  }
  return h;
}

function heartbeatOf(home: string): Heartbeat | undefined {
  const l = ScheduleLedger.open(environmentPaths(home, 'local').ledger);
  try {
    return l.heartbeat();
  } finally {
    l.close();
  }
}

/** Polls `check` until it holds (or fails after `ms`). */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function desktop(home: string) {
  const events: RunEvent[] = [];
  const hosts: (HostProcess & { readonly pid: number | undefined })[] = [];
  const posted: unknown[] = [];
  const client = createEngineClient({
    spawn: () => {
      const host = forkHost(home);
      hosts.push(host);
      return {
        ...host,
        post: (message) => {
          posted.push({ host: hosts.length, ...message });
          host.post(message);
        },
      };
    },
    onEvent: (event) => events.push(event),
  });
  cleanups.push(() => client.close());
  return { client, events, hosts, posted, handlers: remoteHandlers(client) };
}

describe('desktop app: run schedules while the app is open (under Node)', () => {
  test('off unless told: the host runs no scheduled load; on: a scheduled run with its events in order, the heartbeat alive with the host’s pid; off: stopped', async () => {
    const h = await homeDueNow();
    const d = desktop(h.home);
    await d.client.ready();

    // Never told: nothing is scheduled though a slot is due, and no heartbeat is written.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await d.handlers.listRuns({ env: 'local', offset: 0, limit: 10 })).total, 0);
    assert.equal(heartbeatOf(h.home), undefined);
    assert.equal(d.events.length, 0, "no run event");

    d.client.setSchedules(true);
    await until('a scheduled run to finish', () => d.events.some((e) => e.type === 'run-finished' && e.run.origin === 'scheduler'));
    const started = d.events.find((e) => e.type === 'run-started')!;
    assert.equal(started.type === 'run-started' && started.origin, 'scheduler');
    assert.deepEqual(started.type === 'run-started' && started.options, { only: 'events' });
    const mine = d.events.filter((e) => e.runId === started.runId);
    assert.equal(mine[0]!.type, 'run-started');
    assert.equal(mine.at(-1)!.type, 'run-finished');
    assert.equal(mine.filter((e) => e.type === 'run-finished').length, 1);
    for (let i = 1; i < mine.length; i++) assert.ok(mine[i]!.seq > mine[i - 1]!.seq, 'events in order');
    const finished = mine.at(-1)!;
    assert.equal(finished.type === 'run-finished' && finished.run.status, 'succeeded');
    assert.ok(mine.some((e) => e.type === 'file-finished'), 'the run’s file events reached main');

    // The run is the environment's, recorded with its origin; the slot names it.
    const runs = await d.handlers.listRuns({ env: 'local', offset: 0, limit: 10 });
    assert.deepEqual(runs.runs.map((r) => [r.runId, r.origin, r.status]), [[started.runId, 'scheduler', 'succeeded']]);
    const slots = (() => {
      const l = ScheduleLedger.open(environmentPaths(h.home, 'local').ledger);
      try {
        return l.slots(10);
      } finally {
        l.close();
      }
    })();
    assert.equal(slots[0]!.runId, started.runId);
    assert.deepEqual([slots[0]!.schedule, slots[0]!.outcome], ['daily', 'caught-up']);

    const beat = heartbeatOf(h.home);
    assert.equal(beat?.pid, d.client.pid);
    assert.notEqual(beat?.pid, process.pid);
    assert.equal(beat?.host, hostname());
    assert.equal(schedulerStateOf(beat, new Date()).state, 'alive');

    // Log lines in PDS_HOME/logs, as `pds schedule run` writes them, from the host's process.
    const log = (await readFile(join(h.home, 'logs', 'pds.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; pid: number; runId?: string });
    assert.ok(log.some((e) => e.msg.startsWith('scheduler started') && e.pid === d.client.pid));
    await until('the load’s end in the log', async () => (await readFile(join(h.home, 'logs', 'pds.log'), 'utf8')).includes(`load succeeded: local run ${started.runId}`));

    d.client.setSchedules(false);
    await until('the heartbeat to read stopped', () => schedulerStateOf(heartbeatOf(h.home), new Date()).state === 'stopped');
    assert.equal(heartbeatOf(h.home)?.pid, d.client.pid);
    assert.ok((await readFile(join(h.home, 'logs', 'pds.log'), 'utf8')).includes('"msg":"scheduler stopped"'));
    // One scheduled run in all.
    assert.equal(d.events.filter((e) => e.type === 'run-started').length, 1);
  });

  test('the engine client tells a host restarted after a crash to run the schedules again', async () => {
    const h = await homeDueNow();
    const d = desktop(h.home);
    d.client.setSchedules(true);
    await d.client.ready();
    const first = d.client.pid!;
    await until('the first host’s heartbeat', () => heartbeatOf(h.home)?.pid === first);
    await until('the scheduled run to finish', () => d.events.some((e) => e.type === 'run-finished'));

    process.kill(first, 'SIGKILL');
    await until('a new host', () => d.client.pid !== undefined && d.client.pid !== first);
    const second = d.client.pid!;
    // The dead host's heartbeat is stale at once (its process is gone): the new host takes over.
    await until('the new host’s heartbeat', () => {
      const beat = heartbeatOf(h.home);
      return beat?.pid === second && schedulerStateOf(beat, new Date()).state === 'alive';
    });
    assert.deepEqual(
      d.posted.filter((m) => (m as { type: string }).type === 'schedules'),
      [
        { host: 1, type: 'schedules', enabled: true },
        { host: 2, type: 'schedules', enabled: true },
      ],
    );
    // The slot was loaded once: the new host does not load it again.
    assert.equal((await d.handlers.listRuns({ env: 'local', offset: 0, limit: 10 })).total, 1);

    d.client.setSchedules(false);
    await until('the heartbeat to read stopped', () => schedulerStateOf(heartbeatOf(h.home), new Date()).state === 'stopped');
  });

  test('turned off during a scheduled load: the load finishes, then the heartbeat reads stopped', async () => {
    const h = await homeDueNow({ files: 6, linesPerFile: 4000 });
    const d = desktop(h.home);
    d.client.setSchedules(true);
    await until('a scheduled run to start', () => d.events.some((e) => e.type === 'run-started'));
    d.client.setSchedules(false);
    const runFinished = d.events.some((e) => e.type === 'run-finished');
    await until('the run to finish', () => d.events.some((e) => e.type === 'run-finished'));
    const finished = d.events.find((e) => e.type === 'run-finished')!;
    assert.equal(finished.type === 'run-finished' && finished.run.status, 'succeeded', 'not cancelled');
    assert.equal(runFinished, false, 'turned off while the load ran');
    await until('the heartbeat to read stopped', () => schedulerStateOf(heartbeatOf(h.home), new Date()).state === 'stopped');
    assert.ok(finished.type === 'run-finished' && heartbeatOf(h.home)!.stoppedAt! >= finished.run.finishedAt!, 'stopped after the load finished');
  });

  test('closing the app stops the schedules: the heartbeat reads stopped', async () => {
    const h = await homeDueNow();
    const d = desktop(h.home);
    d.client.setSchedules(true);
    await d.client.ready();
    await until('the host’s heartbeat', () => heartbeatOf(h.home)?.pid === d.client.pid);
    const pid = d.client.pid;
    await d.client.close();
    const beat = heartbeatOf(h.home);
    assert.equal(beat?.pid, pid);
    assert.equal(schedulerStateOf(beat, new Date()).state, 'stopped');
  });
});
