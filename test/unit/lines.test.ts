import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readLines, type Line, type ReadLinesOptions } from '../../core/formats/lines.js';
import { ParseError } from '../../core/errors/index.js';

async function* chunksOf(...chunks: (string | Buffer)[]): AsyncGenerator<Buffer> {
  for (const c of chunks) yield Buffer.isBuffer(c) ? c : Buffer.from(c, 'utf8');
}

async function collect(source: AsyncIterable<Buffer>, options?: ReadLinesOptions): Promise<{ batches: Line[][]; lines: { line: number; text: string }[] }> {
  const batches: Line[][] = [];
  for await (const b of readLines(source, options)) batches.push(b);
  return { batches, lines: batches.flat().map((l) => ({ line: l.line, text: l.bytes.toString('utf8') })) };
}

describe('readLines', () => {
  test('splits at LF, numbers lines from 1, keeps CR for the reader', async () => {
    const { lines } = await collect(chunksOf('a\nb\r\n\nc\n'));
    assert.deepEqual(lines, [
      { line: 1, text: 'a' },
      { line: 2, text: 'b\r' },
      { line: 3, text: '' },
      { line: 4, text: 'c' },
    ]);
  });

  test('a final line without LF is emitted', async () => {
    const { lines } = await collect(chunksOf('a\nlast'));
    assert.deepEqual(lines, [
      { line: 1, text: 'a' },
      { line: 2, text: 'last' },
    ]);
  });

  test('an empty source yields nothing', async () => {
    assert.deepEqual((await collect(chunksOf())).batches, []);
    assert.deepEqual((await collect(chunksOf(Buffer.alloc(0)))).batches, []);
  });

  test('lines spanning chunks, including a 4-byte character split between chunks', async () => {
    const emoji = Buffer.from('😀', 'utf8');
    const { lines } = await collect(chunksOf('he', 'llo wo', Buffer.concat([Buffer.from('rld '), emoji.subarray(0, 2)]), emoji.subarray(2), '\nx\n'));
    assert.deepEqual(lines, [
      { line: 1, text: 'hello world 😀' },
      { line: 2, text: 'x' },
    ]);
  });

  test('batches by line count and by bytes', async () => {
    const text = Array.from({ length: 25 }, (_, i) => `line ${i}`).join('\n');
    const byCount = await collect(chunksOf(text), { batchLines: 10 });
    assert.deepEqual(byCount.batches.map((b) => b.length), [10, 10, 5]);
    const byBytes = await collect(chunksOf('x'.repeat(100) + '\n' + 'y'.repeat(100) + '\nz\n'), { batchBytes: 150 });
    assert.deepEqual(byBytes.batches.map((b) => b.length), [2, 1]);
  });

  test('a line over the cap fails naming the line, also before its LF arrives', async () => {
    await assert.rejects(collect(chunksOf('ok\n', 'x'.repeat(20), '\n'), { maxLineBytes: 10, fileName: 'f.log' }), (error: unknown) => {
      assert.ok(error instanceof ParseError);
      assert.equal(error.code, 'LINE_TOO_LONG');
      assert.equal(error.line, 2);
      assert.match(error.message, /f\.log, line 2/);
      return true;
    });
    await assert.rejects(collect(chunksOf('ok\n', 'x'.repeat(8), 'x'.repeat(8)), { maxLineBytes: 10 }), (error: unknown) => {
      assert.ok(error instanceof ParseError);
      assert.equal(error.line, 2);
      return true;
    });
  });

  test('a very long line under the default cap is read whole', async () => {
    const long = 'z'.repeat(3 * 1024 * 1024);
    const parts: string[] = [];
    for (let i = 0; i < long.length; i += 64 * 1024) parts.push(long.slice(i, i + 64 * 1024));
    const { lines } = await collect(chunksOf(...parts, '\nend'));
    assert.equal(lines.length, 2);
    assert.equal(lines[0].text.length, long.length);
    assert.equal(lines[1].text, 'end');
  });
});
