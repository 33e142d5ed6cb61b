/**
 * The quarantine file keeps rejected lines verbatim, one per line, even when two adds overlap (a
 * loader quarantines the lines it could not read while a write behind it reports lines the
 * database refused).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RejectedLine } from '../../core/domain/records.js';
import { Quarantine } from '../../core/pipeline/quarantine.js';

test('overlapping adds keep every line whole, text and bytes alike', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pds-quarantine-'));
  try {
    const q = new Quarantine(dir, 'org-edx-events-2026-01-01.log.gz', 'header');
    // Large enough that the stream pushes back (the adds wait for 'drain' half-way).
    const textLines: RejectedLine[] = Array.from({ length: 400 }, (_, i) => ({ line: i + 1, code: 'JSON_INVALID', reason: 'x', raw: `text-${i}-${'a'.repeat(20_000)}` }));
    const byteLines: RejectedLine[] = Array.from({ length: 400 }, (_, i) => ({ line: i + 1, code: 'TOO_LARGE', reason: 'y', raw: Buffer.from(`bytes-${i}-${'b'.repeat(20_000)}`) }));
    await Promise.all([q.add(textLines), q.add(byteLines)]);
    await q.close();
    const lines = (await readFile(q.path, 'utf8')).split('\n');
    assert.equal(lines.shift(), 'header');
    assert.equal(lines.pop(), '');
    assert.equal(q.count, 800);
    const expected = new Set([...textLines, ...byteLines].map((l) => (typeof l.raw === 'string' ? l.raw : Buffer.from(l.raw).toString('utf8'))));
    assert.equal(lines.length, 800);
    for (const line of lines) assert.ok(expected.has(line), `a line was cut or mixed: ${line.slice(0, 40)}…`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
