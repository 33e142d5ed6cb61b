import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { gunzipStream, hasGzipSignature, notGzipError } from '../../core/formats/gunzip.js';
import { isTarHeader, notTarError } from '../../core/formats/tar-header.js';
import { tarArchive } from '../../core/demo/tar-gz.js';
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

describe('content named .gz that is not gzip', () => {
  const name = 'orgx-edx-events-2026-01-01.log.gz.gpg';
  const random = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 7919 + 101) % 256));

  test('the signature check', () => {
    assert.equal(hasGzipSignature(gzipSync('x')), true);
    assert.equal(hasGzipSignature(random), false);
    assert.equal(hasGzipSignature(Buffer.from([0x1f])), false);
  });

  test('NOT_GZIP names the file and what it is named, once, with a remedy', () => {
    const e = notGzipError(random, { name, key: `demox/${name}`, encrypted: true });
    assert.equal(e.code, 'NOT_GZIP');
    assert.equal(e.stage, 'decode');
    assert.equal(e.file, `demox/${name}`);
    assert.equal(e.message, `${name} is named .gz but its decrypted content is not gzip data (it does not start with the gzip signature 1f 8b).`);
    assert.match(e.hint ?? '', /^Fetch the file again/);
    assert.ok(!e.hint!.includes('not gzip data'), 'the hint does not repeat the reason');
  });

  test('an OLX export is NOT_TAR_GZ; an empty or 1-byte file is GZIP_TRUNCATED', () => {
    assert.equal(notGzipError(random, { name: 'c-course-prod-analytics.xml.tar.gz', key: 'k', encrypted: false, packedAs: 'tar.gz' }).code, 'NOT_TAR_GZ');
    assert.equal(notGzipError(Buffer.alloc(0), { name, key: 'k', encrypted: true }).code, 'GZIP_TRUNCATED');
    const oneByte = notGzipError(Buffer.from([0x1f]), { name, key: 'k', encrypted: true });
    assert.equal(oneByte.code, 'GZIP_TRUNCATED');
    assert.equal(oneByte.message, `${name}: its decrypted content ends after 1 byte(s), before the gzip header; the file is truncated.`);
  });
});

describe('tar header check (OLX exports)', () => {
  const tar = tarArchive([{ path: 'course/course.xml', content: '<course/>' }], new Date('2026-01-01T00:00:00Z'));

  test('a real ustar header passes; its checksum is verified', () => {
    assert.equal(isTarHeader(tar.subarray(0, 512)), true);
    const damaged = Buffer.from(tar.subarray(0, 512));
    damaged[0] = damaged[0]! ^ 1;
    assert.equal(isTarHeader(damaged), false);
  });

  test('text, random bytes and short data are not tar', () => {
    assert.equal(isTarHeader(Buffer.from('<course/>\n'.repeat(100))), false);
    assert.equal(isTarHeader(Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 31) % 256))), false);
    assert.equal(isTarHeader(tar.subarray(0, 300)), false);
    const e = notTarError(9, { name: 'c-course-prod-analytics.xml.tar.gz', key: 'k' });
    assert.equal(e.code, 'NOT_TAR_GZ');
    assert.equal(e.message, 'c-course-prod-analytics.xml.tar.gz is named .tar.gz and is gzip data, but it decompresses to 9 byte(s), less than one tar header.');
  });
});
