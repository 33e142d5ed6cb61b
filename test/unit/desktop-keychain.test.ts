/**
 * Secrets in the desktop app: set from its console, a secret is encrypted by the keychain (here a
 * stand-in for Electron's safeStorage: AES-GCM with a key of this test) into PDS_HOME/keychain and
 * referenced as `keychain:ENV/FIELD`; the engine host reads it back through main; the CLI reports
 * such a reference as SECRET_IN_KEYCHAIN and `pds env` says the environment runs from the app only.
 * Without a keychain, secrets set in the app are 0600 files as with `pds serve`.
 */
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { resolveSecret } from '../../core/config/config-store.js';
import { PdsError } from '../../core/errors/index.js';
import { createEngineClient, type EngineClient } from '../../electron/main/engine-client.js';
import { createKeychain, type SafeStorageLike } from '../../electron/main/keychain.js';
import { createConsoleHome, type ConsoleHome } from '../support/console-home.js';
import { forkHost } from '../support/electron-harness.js';
import { runPds } from '../support/pds-cli.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Stands in for safeStorage: AES-256-GCM under a key only this test holds. */
function fakeSafeStorage(available = true): SafeStorageLike {
  const key = randomBytes(32);
  return {
    isEncryptionAvailable: () => available,
    encryptString(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    decryptString(data) {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(12, 28));
      return Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

async function setup(safeStorage: SafeStorageLike): Promise<{ home: ConsoleHome; client: EngineClient }> {
  const home = await createConsoleHome({ files: 1 });
  const keychain = createKeychain(home.home, safeStorage);
  const client = createEngineClient({
    spawn: () => forkHost(home.home),
    onEvent: () => {},
    readKeychain: (name) => keychain.read(name),
    storeSecret: keychain.available() ? (name, value) => keychain.write(name, value) : undefined,
  });
  await client.ready();
  cleanups.push(async () => {
    await client.close();
    await home.remove();
  });
  return { home, client };
}

const SECRET = 'correct horse battery staple';

describe('desktop app secrets', () => {
  test('a secret set in the app is encrypted into the keychain folder, referenced as keychain:, and read back by the engine', async () => {
    const { home, client } = await setup(fakeSafeStorage());
    const set = await client.call('setSecret', { env: 'local', field: 'key.passphrase', value: SECRET });
    assert.deepEqual(set, { ok: true, value: { field: 'key.passphrase', state: 'set', via: 'keychain', name: 'local/key.passphrase' } });
    const config = await readFile(join(home.home, 'config.yaml'), 'utf8');
    assert.match(config, /passphrase: keychain:local\/key\.passphrase/);
    const file = join(home.home, 'keychain', 'local', 'key.passphrase.enc');
    const stored = await readFile(file);
    assert.ok(!stored.toString('latin1').includes(SECRET), 'encrypted on disk');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(home.home, 'keychain'))).mode & 0o777, 0o700);
    assert.ok(!(await readdir(home.home)).includes('secrets'), 'no plain file was written');

    const view = await client.call('getEnvironment', { env: 'local' });
    assert.ok(view.ok);
    assert.deepEqual((view.value as { secrets: unknown[] }).secrets, [{ field: 'key.passphrase', state: 'set', via: 'keychain', name: 'local/key.passphrase' }]);
    assert.ok(!JSON.stringify(view).includes(SECRET));

    // Outside the app (this process has no keychain resolver), the reference is a clear error.
    await assert.rejects(resolveSecret('keychain:local/key.passphrase', home.home, 'environments.local.key.passphrase'), (e: unknown) => {
      assert.ok(e instanceof PdsError);
      assert.equal(e.code, 'SECRET_IN_KEYCHAIN');
      assert.equal(e.message, "environments.local.key.passphrase is stored in the desktop app's keychain (keychain:local/key.passphrase); this process cannot read it.");
      assert.match(e.hint ?? '', /Run this environment from the desktop app, or set the secret as env:NAME or file:PATH for the CLI/);
      return true;
    });

    // pds env says which environments the CLI can run alone.
    const text = await runPds(['env'], { PDS_HOME: home.home });
    assert.match(text.stdout, /local: .*key\.passphrase in the desktop app's keychain.*desktop app only \(key\.passphrase in its keychain: set them as env: or file: for the CLI\)/);
    const json = await runPds(['env', '--json'], { PDS_HOME: home.home });
    const [local] = JSON.parse(json.stdout) as { name: string; cliCanRun: boolean; keychainSecrets: string[] }[];
    assert.deepEqual([local!.name, local!.cliCanRun, local!.keychainSecrets], ['local', false, ['key.passphrase']]);
  });

  test('a keychain secret that cannot be decrypted (another machine) or a name outside the keychain is SECRET_MISSING with its remedy', async () => {
    const first = fakeSafeStorage();
    const { home, client } = await setup(first);
    assert.ok((await client.call('setSecret', { env: 'local', field: 'key.passphrase', value: SECRET })).ok);
    const other = createKeychain(home.home, fakeSafeStorage());
    await assert.rejects(other.read('local/key.passphrase'), (e: unknown) => (e as { code?: string }).code === 'SECRET_MISSING' && /cannot be decrypted/.test((e as Error).message));
    await assert.rejects(other.read('../../etc/passwd'), (e: unknown) => (e as { code?: string }).code === 'SECRET_MISSING');
  });

  test('without a keychain (no secret service), a secret set in the app is a 0600 file, as with pds serve', async () => {
    const { home, client } = await setup(fakeSafeStorage(false));
    const set = await client.call('setSecret', { env: 'local', field: 'key.passphrase', value: SECRET });
    assert.deepEqual(set, { ok: true, value: { field: 'key.passphrase', state: 'set', via: 'file', name: 'secrets/local/key.passphrase' } });
    assert.equal(await readFile(join(home.home, 'secrets', 'local', 'key.passphrase'), 'utf8'), SECRET);
    const text = await runPds(['env'], { PDS_HOME: home.home });
    assert.doesNotMatch(text.stdout, /desktop app only/);
  });
});
