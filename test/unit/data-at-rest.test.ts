/**
 * No clear text at rest outside the databases: the SQLite database and the ledger (and their
 * WAL and shared-memory files) are readable by their owner only, and quarantine files are
 * encrypted to the environment's own key, readable only with it, decrypting to exactly the
 * rejected lines.
 */
import assert from 'node:assert/strict';
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { generateKey } from 'openpgp';
import { createOpenPgpDecryptor } from '../../core/crypto/openpgp-decryptor.js';
import type { RejectedLine } from '../../core/domain/records.js';
import { Ledger } from '../../core/ledger/ledger.js';
import { Quarantine, isEncryptedQuarantine, quarantineIndexPath } from '../../core/pipeline/quarantine.js';
import { readQuarantineLines, readQuarantinePage } from '../../core/pipeline/quarantine-reader.js';
import { SqliteStore } from '../../core/stores/sqlite/sqlite-store.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pds-at-rest-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('file modes', () => {
  const previous = process.umask(0o022);
  after(() => process.umask(previous));

  test('data.sqlite and its WAL and shared-memory files are 0600 under a 022 umask', async () => {
    const path = join(await tempDir(), 'data.sqlite');
    const store = new SqliteStore({ path });
    await store.init();
    await store.query('SELECT 1');
    for (const p of [path, `${path}-wal`, `${path}-shm`]) assert.equal(mode(p), 0o600, p);
    await store.close();
    assert.equal(mode(path), 0o600);
  });

  test('the ledger and its WAL are 0600, and a ledger an older version left 0644 is narrowed', async () => {
    const dir = await tempDir();
    const path = join(dir, 'ledger.sqlite');
    const ledger = Ledger.open(path);
    for (const p of [path, `${path}-wal`, `${path}-shm`]) assert.equal(mode(p), 0o600, p);
    ledger.close();
    const old = join(dir, 'old.sqlite');
    writeFileSync(old, '');
    chmodSync(old, 0o644);
    Ledger.open(old).close();
    assert.equal(mode(old), 0o600);
  });
});

describe('encrypted quarantine', () => {
  const lines: RejectedLine[] = [
    { line: 3, code: 'JSON_INVALID', reason: 'not JSON', raw: '{"username": "ada.lovelace", "ip": "192.0.2.7", "event_type": "problem_check"' },
    { line: 9, code: 'TOO_LARGE', reason: 'too long', raw: Buffer.from('{"username":"grace.hopper","email":"grace@example.edu"} \u00e9') },
    ...Array.from({ length: 300 }, (_, i): RejectedLine => ({ line: 100 + i, code: 'JSON_INVALID', reason: 'cut', raw: `{"username":"learner${i}","event":"${'x'.repeat(2000)}` })),
  ];
  const expected = ['course_id\tuser_id', ...lines.map((l) => (typeof l.raw === 'string' ? l.raw : Buffer.from(l.raw).toString('utf8')))];

  async function keys(name: string): Promise<{ privateKey: string; publicKey: string }> {
    return generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name, email: `${name}@university.example` }], format: 'armored' });
  }

  test('is an OpenPGP message to the environment\'s key, 0600, that only that key opens, decrypting to exactly the rejected lines', async () => {
    const dir = await tempDir();
    const own = await keys('czar');
    const other = await keys('stranger');
    const q = new Quarantine(dir, 'MITx-6.00x-2026-01-01.log.gz', 'course_id\tuser_id', async () => [own.privateKey]);
    await q.add(lines.slice(0, 100));
    await q.add(lines.slice(100));
    await q.close();
    assert.ok(isEncryptedQuarantine(q.path), q.path);
    assert.equal(mode(q.path), 0o600);
    assert.equal(mode(quarantineIndexPath(q.path)), 0o600);

    // Without the key: the bytes hold none of the lines, and another key cannot open it.
    const bytes = await readFile(q.path);
    for (const needle of ['ada.lovelace', 'grace.hopper', 'grace@example.edu', '192.0.2.7', 'learner1', 'course_id']) assert.ok(!bytes.includes(needle), needle);
    const index = await readFile(quarantineIndexPath(q.path), 'utf8');
    assert.ok(!index.includes('ada.lovelace'), 'the index holds numbers, codes and reasons only');
    const stranger = async () => createOpenPgpDecryptor({ armoredKeys: [other.privateKey] });
    await assert.rejects(readQuarantineLines(q.path, stranger), (e: Error & { code?: string }) => /^DECRYPT_/.test(e.code ?? ''));
    await assert.rejects(readQuarantineLines(q.path), (e: Error & { code?: string }) => e.code === 'DECRYPT_NO_KEY');

    // With it: exactly the preamble and the rejected lines, byte for byte.
    const decryptor = async () => createOpenPgpDecryptor({ armoredKeys: [own.privateKey] });
    const read = await readQuarantineLines(q.path, decryptor);
    assert.deepEqual(read.map((b) => b.toString('utf8')), expected);
    const page = await readQuarantinePage(q.path, { offset: 1, limit: 2 }, [], decryptor);
    assert.equal(page.total, lines.length);
    assert.deepEqual(page.lines.map((l) => [l.line, l.code, l.text]), [[9, 'TOO_LARGE', expected[2]], [100, 'JSON_INVALID', expected[3]]]);
  });

  test('without a key (plain deliveries) the file is written in clear, 0600; clear() removes either form', async () => {
    const dir = await tempDir();
    const q = new Quarantine(dir, 'MITx-6.00x-2026-01-02.log.gz', undefined, async () => []);
    await q.add(lines.slice(0, 2));
    await q.close();
    assert.ok(!isEncryptedQuarantine(q.path));
    assert.equal(mode(q.path), 0o600);
    assert.deepEqual((await readQuarantineLines(q.path)).map((b) => b.toString('utf8')), expected.slice(1, 3));
    const own = await keys('czar');
    const enc = new Quarantine(dir, 'MITx-6.00x-2026-01-02.log.gz', undefined, async () => [own.publicKey]);
    await enc.clear();
    await assert.rejects(readFile(q.path));
  });
});
