import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPrivateKey } from 'openpgp';
import { environmentPaths, getEnvironment, loadConfig } from '../../core/config/config-store.js';
import { toContractError } from '../../core/contract/dispatch.js';
import { PdsError } from '../../core/errors/index.js';
import { keyMethods } from '../../core/service/key-methods.js';
import { createGpgHome, type GeneratedKey, type GpgHome } from '../support/gpg.js';

const PASSPHRASE = 'console key passphrase';
let gpg: GpgHome;
let protectedKey: GeneratedKey;
let plainKey: GeneratedKey;

before(async () => {
  gpg = await createGpgHome();
  protectedKey = await gpg.generateKey({ name: 'Data Czar', email: 'czar@example.edu', passphrase: PASSPHRASE });
  plainKey = await gpg.generateKey({ name: 'Second Czar', email: 'czar2@example.edu' });
});
after(async () => gpg.dispose());

async function withEnv(fn: (m: ReturnType<typeof keyMethods>, keysDir: string) => Promise<void>): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'pds-keys-'));
  try {
    await writeFile(join(home, 'config.yaml'), 'environments:\n  dev:\n    source: { type: local, path: in }\n');
    const m = keyMethods({
      environment: async (env) => ({ config: getEnvironment(await loadConfig(home), env), paths: environmentPaths(home, env) }),
    });
    await fn(m, environmentPaths(home, 'dev').keys);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

async function refusal(promise: Promise<unknown>): Promise<ReturnType<typeof toContractError>> {
  const error = await promise.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof PdsError, String(error));
  return toContractError(error);
}

describe('console key methods', () => {
  test('a pasted armored key is imported, listed and removed by fingerprint', async () => {
    await withEnv(async (m, dir) => {
      const armored = await gpg.exportSecretKey(protectedKey.fingerprint, PASSPHRASE);
      const imported = await m.importKey({ env: 'dev', armored });
      assert.equal(imported.length, 1);
      assert.equal(imported[0]!.fingerprint, protectedKey.fingerprint);
      assert.equal(imported[0]!.keyId, protectedKey.keyId);
      assert.equal(imported[0]!.protected, true);
      assert.deepEqual(imported[0]!.userIds, ['Data Czar <czar@example.edu>']);
      assert.equal((await stat(join(dir, `${protectedKey.fingerprint}.asc`))).mode & 0o777, 0o600);
      assert.ok(!JSON.stringify(imported).includes('PRIVATE KEY'));

      assert.deepEqual(
        (await m.listKeys({ env: 'dev' })).map((k) => k.fingerprint),
        [protectedKey.fingerprint],
      );
      // A fingerprint as gpg prints it, in groups of four, is accepted.
      const spaced = protectedKey.fingerprint.toLowerCase().replace(/(.{4})/g, '$1 ').trim();
      assert.deepEqual(await m.removeKey({ env: 'dev', fingerprint: spaced }), []);
      assert.deepEqual(await readdir(dir), []);
    });
  });

  test('an uploaded binary key file arrives as base64 and is imported', async () => {
    await withEnv(async (m) => {
      const armored = await gpg.exportSecretKey(plainKey.fingerprint);
      const binary = (await readPrivateKey({ armoredKey: armored })).write();
      const imported = await m.importKey({ env: 'dev', base64: Buffer.from(binary).toString('base64') });
      assert.deepEqual(
        imported.map((k) => [k.fingerprint, k.protected]),
        [[plainKey.fingerprint, false]],
      );
      // An armored .asc file uploaded the same way works too.
      const again = await m.importKey({ env: 'dev', base64: Buffer.from(await gpg.exportSecretKey(protectedKey.fingerprint, PASSPHRASE)).toString('base64') });
      assert.equal(again[0]!.fingerprint, protectedKey.fingerprint);
      assert.equal((await m.listKeys({ env: 'dev' })).length, 2);
    });
  });

  test('a public key, text that is no key and bad base64 are refused with import-key, nothing stored', async () => {
    await withEnv(async (m, dir) => {
      const publicOnly = await refusal(m.importKey({ env: 'dev', armored: await gpg.exportPublicKey(plainKey.fingerprint) }));
      assert.equal(publicOnly.code, 'DECRYPT_KEY_PUBLIC_ONLY');
      assert.match(publicOnly.message, /the pasted key holds only a public key/);
      assert.equal(publicOnly.action, 'import-key');
      assert.equal((await refusal(m.importKey({ env: 'dev', armored: 'hello' }))).code, 'DECRYPT_KEY_INVALID');
      const badBase64 = await refusal(m.importKey({ env: 'dev', base64: '%%% not base64 %%%' }));
      assert.equal(badBase64.code, 'DECRYPT_KEY_INVALID');
      assert.match(badBase64.message, /uploaded key file/);
      await assert.rejects(readdir(dir));
    });
  });

  test('removing an unknown fingerprint is a clear error', async () => {
    await withEnv(async (m) => {
      const unknown = await refusal(m.removeKey({ env: 'dev', fingerprint: 'A'.repeat(40) }));
      assert.equal(unknown.code, 'KEY_NOT_FOUND');
      assert.match(unknown.message, /Environment dev has no key with fingerprint A{40}/);
      assert.equal((await refusal(m.removeKey({ env: 'dev', fingerprint: 'xyz' }))).code, 'KEY_FINGERPRINT_INVALID');
      assert.equal((await refusal(m.listKeys({ env: 'nope' }))).code, 'CONFIG_NO_ENVIRONMENT');
    });
  });
});
