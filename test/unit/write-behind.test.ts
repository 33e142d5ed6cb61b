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
