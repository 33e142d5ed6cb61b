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
