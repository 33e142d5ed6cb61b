/**
 * WriteBehind: a loader reads the next batch while the previous one is written, the store never
 * sees two batches at once, and a failed write stops the loader at its next batch.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WriteBehind } from '../../core/pipeline/stream-utils.js';

test('batches are written one at a time, in order, while the caller goes on', async () => {
  const behind = new WriteBehind();
  const log: string[] = [];
  let running = 0;
  const write = (n: number) => async () => {
    running++;
    assert.equal(running, 1, 'never two writes at once');
    log.push(`start ${n}`);
    await sleep(20);
    log.push(`end ${n}`);
    running--;
  };
  await behind.push(write(1));
  log.push('read 2'); // the first write is still running: the caller reads on
  await behind.push(write(2)); // returns once write 1 has finished
  log.push('read 3');
  await behind.push(write(3));
  await behind.drain();
  assert.deepEqual(log, ['start 1', 'read 2', 'end 1', 'start 2', 'read 3', 'end 2', 'start 3', 'end 3']);
});

test('a failed write fails the next push and the drain, and no later write runs', async () => {
  const behind = new WriteBehind();
  const ran: number[] = [];
  await behind.push(async () => {
    await sleep(5);
    throw new Error('disk full');
  });
  await assert.rejects(
    behind.push(async () => {
      ran.push(2);
    }),
    /disk full/,
  );
  await assert.rejects(behind.drain(), /disk full/);
  assert.deepEqual(ran, []);
});

test('settled waits for the running write whatever its outcome, and never throws', async () => {
  const behind = new WriteBehind();
  let finished = false;
  await behind.push(async () => {
    await sleep(20);
    finished = true;
    throw new Error('refused');
  });
  await behind.settled();
  assert.equal(finished, true);
});

test('for a store that queues writes, they start at once and at most `depth` batches are outstanding', async () => {
  const behind = new WriteBehind({ queued: true, depth: 2 });
  let outstanding = 0;
  let most = 0;
  const started: number[] = [];
  const write = (n: number) => async () => {
    started.push(n);
    outstanding++;
    most = Math.max(most, outstanding);
    await sleep(10);
    outstanding--;
  };
  await behind.push(write(1));
  await behind.push(write(2));
  assert.deepEqual(started, [1, 2], 'the second batch started before the first finished');
  assert.equal(outstanding, 2);
  for (let n = 3; n <= 6; n++) await behind.push(write(n));
  await behind.drain();
  assert.equal(outstanding, 0);
  assert.ok(most <= 3, `at most depth + the one being pushed: ${most}`);
});

test('for a store that queues writes, a failure reaches a later push or the drain', async () => {
  const behind = new WriteBehind({ queued: true, depth: 2 });
  await behind.push(async () => {
    await sleep(5);
    throw new Error('constraint');
  });
  let caught: unknown;
  try {
    for (let n = 0; n < 5; n++) await behind.push(() => sleep(5));
    await behind.drain();
  } catch (error) {
    caught = error;
  }
  assert.match(String(caught), /constraint/);
  await behind.settled();
});
