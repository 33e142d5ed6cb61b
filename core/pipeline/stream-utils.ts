/**
 * Small stream helpers for the pipeline stages.
 */
import { Readable } from 'node:stream';

/**
 * Reads at least `n` bytes (or to the end) from `input` without losing them: returns those bytes
 * and a stream that yields everything, the peeked bytes first. Used to sniff OpenPGP and gzip
 * headers before choosing the next stage.
 */
export async function peek(input: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const chunks: Buffer[] = [];
  let length = 0;
  const iterator = input[Symbol.asyncIterator]();
  while (length < n) {
    const next = await iterator.next();
    if (next.done) break;
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as Uint8Array);
    chunks.push(chunk);
    length += chunk.length;
  }
  const head = Buffer.concat(chunks);
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as Uint8Array);
    }
  }
  return { head: head.subarray(0, n), stream: Readable.from(rest(), { objectMode: false, highWaterMark: 1 << 20 }) };
}

/** True when the bytes start with the gzip magic number. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Reads a whole (small) stream into one Buffer. */
export async function readAll(input: AsyncIterable<Uint8Array>, limitBytes = 512 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of input) {
    length += chunk.length;
    if (length > limitBytes) throw new RangeError(`content exceeds ${limitBytes} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/**
 * Lets a loader read batch N+1 while batch N is being written: each batch's writes start once
 * the previous batch's have finished (a store never sees two at once), and `push` waits only for
 * that previous batch. With a store on its own thread (`ThreadedSqliteStore`) or across the
 * network, parsing and writing overlap; with an in-thread store it changes nothing.
 *
 * A failed write fails every later `push` and `drain` with its error, so the loader stops at the
 * next batch; it waits for `settled()` before aborting its units, so that no write is still
 * running on them.
 */
export class WriteBehind {
  private tail: Promise<void> = Promise.resolve();

  /** Queues `write` after the writes already queued, and waits until only it is outstanding. */
  async push(write: () => Promise<void>): Promise<void> {
    const previous = this.tail;
    const next = previous.then(write);
    // Seen by the next push or drain; until then it must not count as an unhandled rejection.
    next.catch(() => undefined);
    this.tail = next;
    await previous;
  }

  /** Waits for every queued write. */
  async drain(): Promise<void> {
    await this.tail;
  }

  /** Waits until no write is running, whatever their outcome: call before aborting the units. */
  async settled(): Promise<void> {
    await this.tail.catch(() => undefined);
  }
}
