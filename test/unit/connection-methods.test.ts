import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { environmentPaths, getEnvironment, loadConfig } from '../../core/config/config-store.js';
import { CONSOLE_METHODS } from '../../core/contract/methods.js';
import { importKeyData } from '../../core/crypto/keys.js';
import { connectionMethods } from '../../core/service/connection-methods.js';
import { SqliteStore } from '../../core/stores/sqlite/sqlite-store.js';
import { SQLITE_SCHEMA_VERSION } from '../../core/stores/sqlite/sqlite-schema.js';
import { createGpgHome, type GeneratedKey, type GpgHome } from '../support/gpg.js';

const PASSPHRASE = 'test connection passphrase';
let gpg: GpgHome;
let lasting: GeneratedKey;
let expiring: GeneratedKey;
let expired: GeneratedKey;

before(async () => {
  gpg = await createGpgHome();
  lasting = await gpg.generateKey({ name: 'Lasting Czar', email: 'lasting@example.edu', passphrase: PASSPHRASE });
  expiring = await gpg.generateKey({ name: 'Expiring Czar', email: 'expiring@example.edu', passphrase: PASSPHRASE, expireDate: '10d' });
  expired = await gpg.generateKey({ name: 'Expired Czar', email: 'expired@example.edu', expireDate: '1d', fakedSystemTime: '20200101T000000' });
});
after(async () => gpg.dispose());

interface Home {
  home: string;
  m: ReturnType<typeof connectionMethods>;
  keys: string;
}

async function withHome(envYaml: string, fn: (h: Home) => Promise<void>): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'pds-conn-'));
  const saved = { ...process.env };
  try {
    await writeFile(join(home, 'config.yaml'), `environments:\n  dev:\n${envYaml.replace(/^/gm, '    ')}\n`);
    const m = connectionMethods({
      home,
      environment: async (env) => ({ config: getEnvironment(await loadConfig(home), env), paths: environmentPaths(home, env) }),
    });
    await fn({ home, m, keys: environmentPaths(home, 'dev').keys });
  } finally {
    process.env = saved;
    await rm(home, { recursive: true, force: true });
  }
}

const stepsOf = (c: { steps: { name: string; ok: boolean; warning?: boolean }[] }): string[] => c.steps.map((s) => `${s.name}:${s.ok ? 'ok' : 'FAIL'}${s.warning ? '!' : ''}`);

describe('test connection: local source', () => {
  test('a folder with edX files: readable, files found, newest file dated', async () => {
    await withHome('source: { type: local, path: incoming }', async ({ home, m }) => {
      await mkdir(join(home, 'incoming'), { recursive: true });
      await writeFile(join(home, 'incoming', 'mitx-edx-events-2026-01-30.log.gz.gpg'), 'x');
      await writeFile(join(home, 'incoming', 'notes.txt'), 'x');
      const result = await m.testSource({ env: 'dev' });
      CONSOLE_METHODS.testSource.result.parse(result);
      assert.equal(result.ok, true);
      assert.deepEqual(stepsOf(result), ['folder readable:ok', 'files found:ok', 'newest file:ok']);
      assert.match(result.steps[1]!.detail, /1 edX file among 2 files/);
      assert.match(result.steps[2]!.detail, /mitx-edx-events-2026-01-30\.log\.gz\.gpg/);
    });
  });

  test('a missing folder fails with its fix; a folder without edX files fails "files found"', async () => {
    await withHome('source: { type: local, path: nowhere }', async ({ home, m }) => {
      const missing = await m.testSource({ env: 'dev' });
      assert.equal(missing.ok, false);
      assert.deepEqual(stepsOf(missing), ['folder readable:FAIL']);
      assert.match(missing.steps[0]!.detail, /nowhere/);
      assert.ok(missing.steps[0]!.fix);
      assert.ok(!existsSync(join(home, 'nowhere')), 'the test creates nothing');

      await mkdir(join(home, 'nowhere'));
      await writeFile(join(home, 'nowhere', 'readme.txt'), 'x');
      const empty = await m.testSource({ env: 'dev' });
      assert.deepEqual(stepsOf(empty), ['folder readable:ok', 'files found:FAIL']);
      assert.ok(empty.steps[1]!.fix);
    });
  });
});

describe('test connection: SQLite targets', () => {
  test('no file yet: "will be created at first load", and nothing is created', async () => {
    await withHome('source: { type: local, path: in }', async ({ home, m }) => {
      const checks = await m.testTargets({ env: 'dev' });
      CONSOLE_METHODS.testTargets.result.parse(checks);
      assert.deepEqual(
        checks.map((c) => [c.target, c.engine, c.ok]),
        [
          ['relational', 'sqlite', true],
          ['events', 'sqlite', true],
        ],
      );
      assert.match(checks[0]!.steps[0]!.detail, /will be created at the first load/);
      assert.ok(!existsSync(join(home, 'envs')), 'no folder or database file was created');
    });
  });

  test('an existing file is read, not migrated: up to date, older (will be migrated), newer (fails)', async () => {
    await withHome('source: { type: local, path: in }', async ({ home, m }) => {
      const file = environmentPaths(home, 'dev').sqlite;
      const store = new SqliteStore({ path: file });
      await store.init();
      await store.close();
      const upToDate = await m.testTargets({ env: 'dev' });
      assert.ok(upToDate[0]!.ok);
      assert.match(upToDate[0]!.steps.find((s) => s.name === 'schema version')!.detail, /up to date/);

      const db = new Database(file);
      db.prepare('DELETE FROM pds_schema_version WHERE version = ?').run(SQLITE_SCHEMA_VERSION);
      db.close();
      const older = await m.testTargets({ env: 'dev' });
      assert.ok(older[0]!.ok);
      assert.match(older[0]!.steps.find((s) => s.name === 'schema version')!.detail, /will be migrated at the next load/);
      const check = new Database(file, { readonly: true });
      assert.equal((check.prepare('SELECT MAX(version) AS v FROM pds_schema_version').get() as { v: number }).v, SQLITE_SCHEMA_VERSION - 1, 'the probe did not migrate');
      check.close();

      const newer = new Database(file);
      newer.prepare("INSERT INTO pds_schema_version (version, name, applied_at) VALUES (?, 'future', '2030-01-01')").run(SQLITE_SCHEMA_VERSION + 5);
      newer.close();
      const tooNew = await m.testTargets({ env: 'dev' });
      assert.equal(tooNew[0]!.ok, false);
      assert.match(tooNew[0]!.summary, /newer pds/);
      assert.match(tooNew[0]!.steps.find((s) => !s.ok)!.fix!, /Upgrade pds/);
    });
  });
});

describe('test connection: key', () => {
  const env = 'source: { type: local, path: in }\nkey: { passphrase: env:PDS_CONN_TEST_PASS }';

  test('no key imported: fails with the import step', async () => {
    await withHome(env, async ({ m }) => {
      const result = await m.testKey({ env: 'dev' });
      CONSOLE_METHODS.testKey.result.parse(result);
      assert.deepEqual(stepsOf(result), ['keys imported:FAIL']);
      assert.match(result.steps[0]!.fix!, /Keys screen/);
    });
  });

  test('the passphrase resolves and unlocks the key; ids and expiry are listed', async () => {
    await withHome(env, async ({ m, keys }) => {
      process.env.PDS_CONN_TEST_PASS = PASSPHRASE;
      await importKeyData(await gpg.exportSecretKey(lasting.fingerprint, PASSPHRASE), keys, 'test key');
      const result = await m.testKey({ env: 'dev' });
      assert.equal(result.ok, true, result.summary);
      assert.deepEqual(stepsOf(result), ['keys imported:ok', 'passphrase:ok', `unlocks ${lasting.keyId}:ok`, `key ids ${lasting.keyId}:ok`, `expiry ${lasting.keyId}:ok`]);
      assert.match(result.steps[3]!.detail, new RegExp(lasting.encryptionKeyId));
      assert.ok(!JSON.stringify(result).includes(PASSPHRASE));
    });
  });

  test('a passphrase variable that is not set, and a wrong passphrase, fail with their fix', async () => {
    await withHome(env, async ({ m, keys }) => {
      await importKeyData(await gpg.exportSecretKey(lasting.fingerprint, PASSPHRASE), keys, 'test key');
      delete process.env.PDS_CONN_TEST_PASS;
      const unset = await m.testKey({ env: 'dev' });
      assert.deepEqual(stepsOf(unset), ['keys imported:ok', 'passphrase:FAIL']);
      assert.match(unset.steps[1]!.detail, /PDS_CONN_TEST_PASS/);

      process.env.PDS_CONN_TEST_PASS = 'not the passphrase';
      const wrong = await m.testKey({ env: 'dev' });
      assert.equal(wrong.ok, false);
      assert.deepEqual(stepsOf(wrong).slice(0, 3), ['keys imported:ok', 'passphrase:ok', `unlocks ${lasting.keyId}:FAIL`]);
      assert.ok(!JSON.stringify(wrong).includes('not the passphrase'));
    });
  });

  test('a key expiring within 30 days is a warning; an expired key fails', async () => {
    await withHome(env, async ({ m, keys }) => {
      process.env.PDS_CONN_TEST_PASS = PASSPHRASE;
      await importKeyData(await gpg.exportSecretKey(expiring.fingerprint, PASSPHRASE), keys, 'test key');
      const soon = await m.testKey({ env: 'dev' });
      assert.equal(soon.ok, true);
      const step = soon.steps.find((s) => s.name === `expiry ${expiring.keyId}`)!;
      assert.equal(step.warning, true);
      assert.match(step.detail, /expires on \d{4}-\d{2}-\d{2}, in (9|10) days: edX stops delivering when it expires/);
      assert.match(soon.summary, /Warning/);

      await importKeyData(await gpg.exportSecretKey(expired.fingerprint), keys, 'test key');
      const past = await m.testKey({ env: 'dev' });
      assert.equal(past.ok, false);
      const failed = past.steps.find((s) => !s.ok)!;
      assert.equal(failed.name, `expiry ${expired.keyId}`);
      assert.match(failed.detail, /expired on 2020-01-02/);
      assert.ok(failed.fix);
      assert.deepEqual((await readdir(keys)).length, 2, 'the test removed nothing');
    });
  });
});
