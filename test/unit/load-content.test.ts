import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { recognizeFileName } from '../../core/domain/file-names.js';
import { hasCode } from '../../core/errors/index.js';
import { environmentPaths } from '../../core/config/config-store.js';
import { validateEnvironment } from '../../core/config/config-store.js';
import { Ledger } from '../../core/ledger/ledger.js';
import type { PipelineContext } from '../../core/pipeline/context.js';
import { loadEventLog } from '../../core/pipeline/load-content.js';
import { createLocalSource } from '../../core/sources/local/local-source.js';
import { SqliteStore } from '../../core/stores/sqlite/sqlite-store.js';
import type { EventStore } from '../../core/stores/ports.js';

test('a truncated gzip is reported even when the store is slow to open (the stream fails before it is read)', async () => {
  const home = await mkdtemp(join(tmpdir(), 'pds-lc-'));
  const paths = environmentPaths(home, 'dev');
  const store = new SqliteStore({ path: paths.sqlite });
  await store.init();
  const ledger = Ledger.open(paths.ledger);
  // An event store that takes its time to open, as a remote database does.
  const slowEvents: EventStore = Object.assign(Object.create(store) as SqliteStore, {
    beginEvents: async (origin: Parameters<EventStore['beginEvents']>[0]) => {
      await new Promise((r) => setTimeout(r, 300));
      return store.beginEvents(origin);
    },
  });
  const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ username: 'u', event_type: 'x', time: '2026-01-01T00:00:00Z', context: { user_id: i }, event: {} })).join('\n');
  const gz = gzipSync(lines);
  const ctx: PipelineContext = {
    env: 'dev',
    config: validateEnvironment('dev', { source: { type: 'local', path: home } }),
    paths,
    source: createLocalSource({ root: home }),
    ledger,
    relational: store,
    events: slowEvents,
    decryptor: () => Promise.reject(new Error('no key needed')),
    onProgress: () => undefined,
  };
  try {
    const name = 'orgx-edx-events-2026-01-01.log.gz';
    await assert.rejects(
      loadEventLog(ctx, { key: name, file: recognizeFileName(name), stream: Readable.from([gz.subarray(0, Math.floor(gz.length / 2))]) }),
      (e: unknown) => hasCode(e, 'GZIP_TRUNCATED'),
    );
    const [row] = await store.query<{ n: number }>('SELECT COUNT(*) AS n FROM events');
    assert.equal(Number(row!.n), 0, 'nothing of the truncated file is loaded');
  } finally {
    ledger.close();
    await store.close();
    await rm(home, { recursive: true, force: true });
  }
});
