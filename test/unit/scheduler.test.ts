/**
 * The scheduler with an injected clock (README "Unattended operation"): it fires at the right local
 * times across daylight-saving changes in both directions, skips (and records) a slot while a load
 * of the same environment runs, catches up exactly once after downtime, and takes over the lock a
 * dead process left. With `yieldToOthers` (the desktop app) it leaves an environment to another
 * process's live heartbeat and takes over, catching up, once that stopped or went stale. Loads are
 * the engine's real runs of a local folder into SQLite.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { environmentPaths } from '../../core/config/config-store.js';
import type { RunOptions } from '../../core/domain/results.js';
import type { LogEntry } from '../../core/schedule/log.js';
import { formatLocal, type Clock } from '../../core/schedule/cron-times.js';
import { ScheduleLedger, schedulerStateOf, type Heartbeat, type SchedulerIdentity } from '../../core/schedule/schedule-ledger.js';
import { Scheduler, type LoadStarter } from '../../core/schedule/scheduler.js';
import { acquireRunLock } from '../../core/service/run-lock.js';
import { createConsoleService } from '../../core/service/console-service.js';
import { createConsoleHome, type ConsoleHome } from '../support/console-home.js';

/** A clock the test moves; sleeping is not used (the test calls tick()). */
function manualClock(start: string): Clock & { set(iso: string | Date): void } {
  let now = new Date(start);
  return {
    now: () => new Date(now),
    sleep: async () => undefined,
    set: (t) => {
      now = new Date(t);
    },
  };
}

async function homeWithSchedule(lines: string[]): Promise<ConsoleHome> {
  const home = await createConsoleHome({ files: 2, linesPerFile: 20 });
  const config = [
    'environments:',
    '  local:',
    '    source:',
    '      type: local',
    `      path: ${home.source}`,
    '    schedules:',
    ...lines.map((l) => `      ${l}`),
    '',
  ].join('\n');
  await writeFile(join(home.home, 'config.yaml'), config);
  return home;
}

function slotsOf(home: string): ReturnType<ScheduleLedger['slots']> {
  const l = ScheduleLedger.open(environmentPaths(home, 'local').ledger);
  try {
    return l.slots(200).reverse();
  } finally {
    l.close();
  }
}


/** Starts real loads on `home` with origin scheduler, keeping their run ids in `starts`. */
function serviceStarter(home: string): { start: LoadStarter; starts: string[]; service: ReturnType<typeof createConsoleService> } {
  const service = createConsoleService({ home });
  const starts: string[] = [];
  const start: LoadStarter = async (env, options) => {
    const s = await service.begin(env, options, { origin: 'scheduler' });
    starts.push(s.runId);
    return { runId: s.runId, done: s.done };
  };
  return { start, starts, service };
}
/** Ticks at every wake-up the scheduler asks for until `until`; returns the option sets it started. */
async function runUntil(scheduler: Scheduler, clock: ReturnType<typeof manualClock>, until: string): Promise<void> {
  for (;;) {
    const next = await scheduler.tick();
    await scheduler.idle();
    if (!next || next.getTime() > Date.parse(until)) return;
    clock.set(next);
  }
}

function recordingStarter(): { start: LoadStarter; started: { env: string; options: RunOptions }[] } {
  const started: { env: string; options: RunOptions }[] = [];
  let n = 0;
  return {
    started,
    start: async (env, options) => {
      started.push({ env, options });
      const runId = `run-${++n}`;
      return { runId, done: Promise.resolve({ runId, env, status: 'succeeded', startedAt: '', options, upToDate: 0, planned: [], files: [], totals: { loaded: 0, partial: 0, failed: 0, skipped: 0 } }) };
    },
  };
}

describe('scheduler', () => {
  test('a daily 01:30 in Europe/London fires once a day at 01:30 local time across both changes (02:00 BST on the day 01:30 does not exist)', async () => {
    for (const [from, until, expected] of [
        ['2026-03-27T12:00:00Z', '2026-03-31T00:00:00Z', ['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']],
        ['2026-10-23T12:00:00Z', '2026-10-27T00:00:00Z', ['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']],
    ] as const) {
      // A new home each time: one that ran in March would catch up the summer's slots in October.
      const home = await homeWithSchedule(['- { name: nightly, cron: "30 1 * * *", timezone: Europe/London, load: events }']);
      try {
        const clock = manualClock(from);
        const { start, started } = recordingStarter();
        const scheduler = new Scheduler({ home: home.home, clock, start });
        const before = slotsOf(home.home).length;
        await runUntil(scheduler, clock, until);
        const fired = slotsOf(home.home).slice(before);
        assert.deepEqual(fired.map((s) => s.slotAt), expected);
        assert.deepEqual(fired.map((s) => s.outcome), ['started', 'started', 'started']);
        assert.deepEqual(started.map((s) => s.options), [{ only: 'events' }, { only: 'events' }, { only: 'events' }]);
        const local = fired.map((s) => formatLocal(new Date(s.slotAt), 'Europe/London').slice(11));
        assert.deepEqual(local, from.startsWith('2026-03') ? ['01:30 GMT', '02:00 BST', '01:30 BST'] : ['01:30 BST', '01:30 BST', '01:30 GMT']);
      } finally {
        await home.remove();
      }
    }
  });

  test('America/New_York 02:30 across the March gap and 01:30 across the November repeat: once a day each', async () => {
    const home = await homeWithSchedule([
      '- { name: spring, cron: "30 2 * * *", timezone: America/New_York, load: weekly, courses: ["OrgX-C1-*"] }',
      '- { name: autumn, cron: "30 1 * * *", timezone: America/New_York, load: weekly, enabled: false }',
    ]);
    try {
      const clock = manualClock('2026-03-06T12:00:00Z');
      const { start, started } = recordingStarter();
      await runUntil(new Scheduler({ home: home.home, clock, start }), clock, '2026-03-10T00:00:00Z');
      assert.deepEqual(slotsOf(home.home).map((s) => [s.schedule, s.slotAt]), [
        ['spring', '2026-03-07T07:30:00.000Z'],
        ['spring', '2026-03-08T07:00:00.000Z'],
        ['spring', '2026-03-09T06:30:00.000Z'],
      ]);
      assert.deepEqual(started[0]!.options, { only: 'weekly', courses: ['OrgX-C1-*'] });

      // Enable the November schedule only.
      await writeFile(
        join(home.home, 'config.yaml'),
        ['environments:', '  local:', '    source: { type: local, path: ' + home.source + ' }', '    schedules:', '      - { name: autumn, cron: "30 1 * * *", timezone: America/New_York, load: weekly }', ''].join('\n'),
      );
      const fall = manualClock('2026-10-30T12:00:00Z');
      await runUntil(new Scheduler({ home: home.home, clock: fall, start: recordingStarter().start }), fall, '2026-11-03T00:00:00Z');
      assert.deepEqual(
        slotsOf(home.home).filter((s) => s.schedule === 'autumn').map((s) => s.slotAt),
        ['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'],
      );
    } finally {
      await home.remove();
    }
  });

  test('a slot while a load of the environment runs is skipped and recorded; the next slot loads; a dead holder’s lock is taken over', async () => {
    const home = await homeWithSchedule(['- { name: nightly, cron: "0 2 * * *", timezone: UTC, load: events }']);
    try {
      const { start, service } = serviceStarter(home.home);
      const clock = manualClock('2026-02-01T01:00:00Z');
      const scheduler = new Scheduler({ home: home.home, clock, start });
      const lockPath = join(environmentPaths(home.home, 'local').root, 'run.lock');

      // A manual load holds the lock at 02:00: the slot is skipped, and said so.
      const release = await acquireRunLock(lockPath, 'local');
      clock.set('2026-02-01T02:00:00Z');
      await scheduler.tick();
      await release();
      let slots = slotsOf(home.home);
      assert.equal(slots.length, 1);
      assert.equal(slots[0]!.outcome, 'skipped');
      assert.match(slots[0]!.detail ?? '', /run of environment local is already in progress/);

      // The next night a dead process's lock is in the way: taken over, the load runs.
      const dead = spawnSync(process.execPath, ['-e', '']).pid!;
      await writeFile(lockPath, `${dead}\n`);
      clock.set('2026-02-02T02:00:00Z');
      await scheduler.tick();
      await scheduler.idle();
      slots = slotsOf(home.home);
      assert.equal(slots[1]!.outcome, 'started');
      const runs = await service.listEnvironments();
      assert.equal(runs[0]!.lastRun?.status, 'succeeded');
      assert.equal(runs[0]!.lastRun?.runId, slots[1]!.runId);

      // The heartbeat: alive now, stale three missed beats later.
      const beat = (() => {
        const l = ScheduleLedger.open(environmentPaths(home.home, 'local').ledger);
        try {
          return l.heartbeat();
        } finally {
          l.close();
        }
      })();
      assert.equal(schedulerStateOf(beat, new Date('2026-02-02T02:01:00Z')).state, 'alive');
      assert.equal(schedulerStateOf(beat, new Date('2026-02-02T02:10:00Z')).state, 'stale');
    } finally {
      await home.remove();
    }
  });

  test('after downtime the scheduler catches up exactly once: the missed nights are recorded, one load runs', async () => {
    const home = await homeWithSchedule(['- { name: nightly, cron: "30 1 * * *", timezone: Europe/London, load: events }']);
    try {
      const { start, starts } = serviceStarter(home.home);
      const clock = manualClock('2026-02-01T00:00:00Z');
      const first = new Scheduler({ home: home.home, clock, start });
      clock.set('2026-02-01T01:30:00Z');
      await first.tick();
      await first.idle();
      assert.equal(starts.length, 1);

      // Down from 2 February to the morning of 5 February; a new process starts.
      clock.set('2026-02-05T09:00:00Z');
      const second = new Scheduler({ home: home.home, clock, start });
      await second.tick();
      await second.idle();
      clock.set('2026-02-05T09:05:00Z');
      await second.tick();
      await second.idle();
      assert.equal(starts.length, 2, 'one catch-up load, not one per missed night');
      const slots = slotsOf(home.home);
      assert.deepEqual(
        slots.map((s) => [s.slotAt.slice(0, 10), s.outcome]),
        [
          ['2026-02-01', 'started'],
          ['2026-02-02', 'missed'],
          ['2026-02-03', 'missed'],
          ['2026-02-04', 'missed'],
          ['2026-02-05', 'caught-up'],
        ],
      );
      assert.equal(slots.at(-1)!.runId, starts[1]);
      // The next night fires on time again.
      clock.set('2026-02-06T01:30:00Z');
      await second.tick();
      await second.idle();
      assert.equal(slotsOf(home.home).at(-1)!.outcome, 'started');
    } finally {
      await home.remove();
    }
  });

  test('yieldToOthers: another process’s live heartbeat holds the environment (no load, no beat); once it stopped or went stale the app takes over and catches up from the ledger', async () => {
    const home = await homeWithSchedule(['- { name: nightly, cron: "0 2 * * *", timezone: UTC, load: events }']);
    const ledgerPath = environmentPaths(home.home, 'local').ledger;
    const withLedger = <T>(fn: (l: ScheduleLedger) => T): T => {
      const l = ScheduleLedger.open(ledgerPath);
      try {
        return fn(l);
      } finally {
        l.close();
      }
    };
    const heartbeat = (): Heartbeat => withLedger((l) => l.heartbeat()!);
    // A `pds schedule run` on a server: another host, another pid.
    const server: SchedulerIdentity = { pid: 999_999, host: 'pds-server.example' };
    try {
      const { start, starts, service } = serviceStarter(home.home);
      const logs: LogEntry[] = [];
      const clock = manualClock('2026-02-01T00:00:00Z');
      const app = new Scheduler({ home: home.home, clock, start, yieldToOthers: true, log: (e) => logs.push(e) });
      const said = () => logs.map((e) => e.msg).filter((m) => /^(leaving|taking over)/.test(m));

      // Nobody else beats yet: the app beats (and has counted the nightly slot from its start).
      await app.tick();
      assert.equal(heartbeat().pid, process.pid);

      // The server starts at 01:59 and fires the 02:00 slot itself.
      withLedger((l) => l.beat(new Date('2026-02-01T01:59:00Z'), new Date('2026-02-01T01:59:00Z'), new Date('2026-02-01T02:00:00Z'), server));
      withLedger((l) => l.recordSlot('nightly', new Date('2026-02-01T02:00:00Z'), 'started', { at: new Date('2026-02-01T02:00:00Z'), runId: 'server-run' }));
      withLedger((l) => l.beat(new Date('2026-02-01T02:00:00Z'), new Date('2026-02-01T01:59:00Z'), new Date('2026-02-02T02:00:00Z'), server));
      for (const at of ['2026-02-01T02:00:30Z', '2026-02-01T02:01:00Z']) {
        clock.set(at);
        await app.tick();
        await app.idle();
      }
      assert.deepEqual(starts, [], 'no load while the server’s heartbeat is alive');
      assert.deepEqual([heartbeat().pid, heartbeat().host, heartbeat().beatAt], [server.pid, server.host, '2026-02-01T02:00:00.000Z'], 'no beat over the server’s');
      assert.deepEqual(said(), ['leaving local to the scheduler of process 999999 on pds-server.example'], 'said once');

      // The server stops cleanly the next day at 00:00; the app takes over on 3 February at 09:00:
      // the 2 February slot is missed, the 3 February one caught up; the server's slot stays its own.
      withLedger((l) => l.beat(new Date('2026-02-02T00:00:00Z'), new Date('2026-02-01T01:59:00Z'), null, server));
      withLedger((l) => l.stopped(new Date('2026-02-02T00:00:00Z'), server));
      assert.equal(schedulerStateOf(heartbeat(), new Date('2026-02-02T00:00:30Z')).state, 'stopped');
      clock.set('2026-02-03T09:00:00Z');
      await app.tick();
      await app.idle();
      assert.equal(starts.length, 1, 'one catch-up load');
      assert.deepEqual(
        slotsOf(home.home).map((s) => [s.slotAt.slice(0, 10), s.outcome, s.runId]),
        [
          ['2026-02-01', 'started', 'server-run'],
          ['2026-02-02', 'missed', null],
          ['2026-02-03', 'caught-up', starts[0]],
        ],
      );
      assert.deepEqual([heartbeat().pid, heartbeat().stoppedAt], [process.pid, null]);
      assert.equal((await service.listEnvironments())[0]!.lastRun?.runId, starts[0]);
      assert.equal((await service.listEnvironments())[0]!.lastRun?.status, 'succeeded');

      // The server comes back at 10:00 and fires 4 February itself, then dies without a word: once its
      // heartbeat is stale, the app takes over again without firing that slot a second time.
      withLedger((l) => l.beat(new Date('2026-02-03T10:00:00Z'), new Date('2026-02-03T10:00:00Z'), new Date('2026-02-04T02:00:00Z'), server));
      clock.set('2026-02-03T10:00:30Z');
      await app.tick();
      withLedger((l) => l.recordSlot('nightly', new Date('2026-02-04T02:00:00Z'), 'started', { at: new Date('2026-02-04T02:00:00Z'), runId: 'server-run-2' }));
      withLedger((l) => l.beat(new Date('2026-02-04T02:00:00Z'), new Date('2026-02-03T10:00:00Z'), new Date('2026-02-05T02:00:00Z'), server));
      clock.set('2026-02-04T02:01:00Z');
      await app.tick();
      assert.equal(heartbeat().pid, server.pid);
      clock.set('2026-02-04T03:00:00Z');
      assert.equal(schedulerStateOf(heartbeat(), clock.now()).state, 'stale');
      await app.tick();
      await app.idle();
      assert.equal(starts.length, 1, 'the server’s 4 February slot is not fired again');
      assert.equal(heartbeat().pid, process.pid);
      clock.set('2026-02-05T02:00:00Z');
      await app.tick();
      await app.idle();
      assert.equal(starts.length, 2);
      assert.deepEqual(slotsOf(home.home).slice(-2).map((s) => [s.slotAt.slice(0, 10), s.outcome, s.runId]), [
        ['2026-02-04', 'started', 'server-run-2'],
        ['2026-02-05', 'started', starts[1]],
      ]);
      assert.deepEqual(said(), [
        'leaving local to the scheduler of process 999999 on pds-server.example',
        'taking over local: the other scheduler stopped',
        'leaving local to the scheduler of process 999999 on pds-server.example',
        'taking over local: the other scheduler is no longer beating',
      ]);

      // Stopping marks the app's own heartbeat stopped, never another's.
      const stop = new AbortController();
      stop.abort();
      await app.run(stop.signal);
      assert.equal(heartbeat().stoppedAt, '2026-02-05T02:00:00.000Z');
      withLedger((l) => l.beat(new Date('2026-02-05T02:30:00Z'), new Date('2026-02-05T02:30:00Z'), null, server));
      await app.run(stop.signal);
      assert.equal(heartbeat().stoppedAt, null, 'the server’s heartbeat is left alone');
    } finally {
      await home.remove();
    }
  });

  test('without yieldToOthers (pds schedule run) another process’s live heartbeat does not hold the slot back', async () => {
    const home = await homeWithSchedule(['- { name: nightly, cron: "0 2 * * *", timezone: UTC, load: events }']);
    try {
      const { start, started } = recordingStarter();
      const clock = manualClock('2026-02-01T01:00:00Z');
      const scheduler = new Scheduler({ home: home.home, clock, start });
      const l = ScheduleLedger.open(environmentPaths(home.home, 'local').ledger);
      l.beat(new Date('2026-02-01T01:59:30Z'), new Date('2026-02-01T01:00:00Z'), null, { pid: 999_999, host: 'pds-server.example' });
      l.close();
      clock.set('2026-02-01T02:00:00Z');
      await scheduler.tick();
      await scheduler.idle();
      assert.equal(started.length, 1);
      assert.deepEqual(slotsOf(home.home).map((s) => s.outcome), ['started']);
    } finally {
      await home.remove();
    }
  });
});
