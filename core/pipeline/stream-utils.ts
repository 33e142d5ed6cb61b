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
 * Lets a loader read the next batch while earlier ones are being written. With a store on its own
 * thread (`ThreadedSqliteStore`) or across the network, parsing and writing overlap; with an
 * in-thread store it changes nothing.
 *
 * - By default each batch's writes start once the previous batch's have finished (a store never
 *   sees two at once), and `push` waits only for that previous batch.
 * - For stores whose writers queue overlapping calls and run them in order (`queuesWrites` on the
 *   ports), writes start at once and up to `depth` batches stay in flight: the store always has
 *   the next batch waiting, even while the reader pauses (garbage collection, a slow chunk).
 *   Default 2 (measured on a daily log into SQLite: ~10% faster than 1; a third added little
 *   speed and ~10 MB of memory).
 *
 * A failed write fails later `push`es and `drain` with its error, so the loader stops within a
 * few batches; it waits for `settled()` before aborting its units, so that no write is still
 * running on them.
 */
export class WriteBehind {
  private tail: Promise<void> = Promise.resolve();
  private readonly running: Promise<void>[] = [];

  constructor(private readonly options: { queued?: boolean; depth?: number } = {}) {}

  /** Starts or queues `write`; waits while too many batches are outstanding. */
  async push(write: () => Promise<void>): Promise<void> {
    if (!this.options.queued) {
      const previous = this.tail;
      const next = previous.then(write);
      // Seen by the next push or drain; until then it must not count as an unhandled rejection.
      next.catch(() => undefined);
      this.tail = next;
      await previous;
      return;
    }
    const started = write();
    started.catch(() => undefined);
    this.running.push(started);
    const tail = Promise.all([this.tail, started]).then(() => undefined);
    tail.catch(() => undefined);
    this.tail = tail;
    while (this.running.length > (this.options.depth ?? 2)) await this.running.shift();
  }

  /** Waits for every write; throws the first failure. */
  async drain(): Promise<void> {
    await this.tail;
  }

  /** Waits until no write is running, whatever their outcome: call before aborting the units. */
  async settled(): Promise<void> {
    await Promise.allSettled([this.tail, ...this.running]);
  }
}
