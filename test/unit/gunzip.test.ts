import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { gunzipStream } from '../../core/formats/gunzip.js';
import { ParseError } from '../../core/errors/index.js';

async function gunzipAll(input: Buffer): Promise<string> {
  const out: Buffer[] = [];
  await pipeline(Readable.from([input]), gunzipStream({ fileName: 'orgx-edx-events-2015-01-01.log.gz' }), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) out.push(chunk);
  });
  return Buffer.concat(out).toString('utf8');
}

describe('gunzipStream', () => {
  const text = '{"event_type":"play_video"}\n'.repeat(2000);

  test('decompresses, including concatenated gzip members', async () => {
    assert.equal(await gunzipAll(gzipSync(text)), text);
    assert.equal(await gunzipAll(Buffer.concat([gzipSync('a\n'), gzipSync('b\n')])), 'a\nb\n');
  });

  test('a truncated file is GZIP_TRUNCATED', async () => {
    const gz = gzipSync(text);
    await assert.rejects(gunzipAll(gz.subarray(0, gz.length - 12)), (error: unknown) => {
      assert.ok(error instanceof ParseError);
      assert.equal(error.code, 'GZIP_TRUNCATED');
      assert.equal(error.stage, 'decode');
      assert.match(error.message, /orgx-edx-events-2015-01-01\.log\.gz/);
      assert.match(error.message, /unexpected end of file/);
      return true;
    });
  });

  test('data that is not gzip is GZIP_CORRUPT', async () => {
    await assert.rejects(gunzipAll(Buffer.from('{"not": "gzip"}\n')), (error: unknown) => {
      assert.ok(error instanceof ParseError);
      assert.equal(error.code, 'GZIP_CORRUPT');
      return true;
    });
  });

  test('errors surface to for-await consumers too', async () => {
    const g = gunzipStream();
    Readable.from([gzipSync(text).subarray(0, 100)]).pipe(g);
    await assert.rejects(
      (async () => {
        for await (const _ of g) void _;
      })(),
      (error: unknown) => error instanceof ParseError && error.code === 'GZIP_TRUNCATED',
    );
  });
});
