/**
 * The key folder of an environment: importing GnuPG exports, listing, loading into a decryptor.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReadStream } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { generateKey as generateOpenPgpKey, readPrivateKey } from 'openpgp';

import { importKeyFile, listKeys, loadKeyFiles, removeKeyFile } from '../../core/crypto/keys.js';
import { createOpenPgpDecryptor } from '../../core/crypto/openpgp-decryptor.js';
import { ConfigError, DecryptError } from '../../core/errors/index.js';
import { createGpgHome, type GeneratedKey, type GpgHome } from '../support/gpg.js';

const PASSPHRASE = 'key folder test passphrase';

let gpg: GpgHome;
let work: string;
let czar: GeneratedKey;
let secretPath: string;
let publicPath: string;

before(async () => {
  gpg = await createGpgHome();
  work = await mkdtemp(join(tmpdir(), 'pds-keys-test-'));
  czar = await gpg.generateKey({ name: 'Data Czar', email: 'czar@university.example', passphrase: PASSPHRASE });
  secretPath = join(work, 'czar-secret.asc');
  publicPath = join(work, 'czar-public.asc');
  await writeFile(secretPath, await gpg.exportSecretKey(czar.fingerprint, PASSPHRASE));
  await writeFile(publicPath, await gpg.exportPublicKey(czar.fingerprint));
});

after(async () => {
  await gpg?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

async function freshDir(name: string): Promise<string> {
  return join(await mkdtemp(join(work, `${name}-`)), 'keys');
}

describe('key folder', () => {
  test('imports a GnuPG secret key export as <fingerprint>.asc, owner-only, still protected', async () => {
    const dir = await freshDir('import');
    const [info] = await importKeyFile(secretPath, dir);
    assert.equal(info.fingerprint, czar.fingerprint);
    assert.equal(info.hasSecret, true);
    assert.equal(info.locked, true);

    assert.deepEqual(await readdir(dir), [`${czar.fingerprint}.asc`]);
    const file = join(dir, `${czar.fingerprint}.asc`);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    const stored = await readFile(file, 'utf8');
    assert.match(stored, /^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
    assert.equal((await readPrivateKey({ armoredKey: stored })).isDecrypted(), false, 'stored as exported: protected');

    const [listed] = await listKeys(dir);
    assert.equal(listed.fingerprint, czar.fingerprint);
    assert.deepEqual(listed.encryptionKeyIds, [czar.encryptionKeyId]);
  });

  test('loaded key files decrypt a GnuPG file once the passphrase is given', async () => {
    const dir = await freshDir('load');
    await importKeyFile(secretPath, dir);
    const plain = join(work, 'plain.txt');
    await writeFile(plain, 'course_id\tuser_id\nDemoX\t42\n');
    await gpg.encryptFile(plain, `${plain}.gpg`, [czar.fingerprint]);

    const decryptor = await createOpenPgpDecryptor({ armoredKeys: await loadKeyFiles(dir), passphrase: PASSPHRASE });
    const chunks: Buffer[] = [];
    for await (const chunk of await decryptor.decrypt(createReadStream(`${plain}.gpg`), 'plain.txt.gpg')) chunks.push(chunk as Buffer);
    assert.equal(Buffer.concat(chunks).toString('utf8'), 'course_id\tuser_id\nDemoX\t42\n');
  });

  test('imports a binary export, and importing the same key again keeps one file', async () => {
    const dir = await freshDir('binary');
    const binaryPath = join(work, 'czar-secret.gpg');
    const armored = await readFile(secretPath, 'utf8');
    await writeFile(binaryPath, (await readPrivateKey({ armoredKey: armored })).write());
    await importKeyFile(binaryPath, dir);
    await importKeyFile(secretPath, dir);
    assert.deepEqual(await readdir(dir), [`${czar.fingerprint}.asc`]);
  });

  test('refuses a public key with a message saying the secret key is needed, writing nothing', async () => {
    const dir = await freshDir('public');
    await assert.rejects(importKeyFile(publicPath, dir), (error: unknown) => {
      assert.ok(error instanceof DecryptError);
      assert.equal(error.code, 'DECRYPT_KEY_PUBLIC_ONLY');
      assert.match(error.message, /only a public key/);
      assert.ok(error.message.includes(czar.fingerprint));
      assert.match(error.hint ?? '', /export-secret-keys/);
      return true;
    });
    assert.deepEqual(await listKeys(dir), []);
  });

  test('refuses a secret key that cannot decrypt (signing only)', async () => {
    const dir = await freshDir('signing');
    const { privateKey } = await generateOpenPgpKey({ type: 'ecc', userIDs: [{ email: 'sign@example.org' }], format: 'object' });
    privateKey.subkeys = []; // drop the encryption subkey: what remains can only sign
    const path = join(work, 'signing-only.asc');
    await writeFile(path, privateKey.armor());
    await assert.rejects(importKeyFile(path, dir), (error: unknown) => error instanceof DecryptError && error.code === 'DECRYPT_KEY_NO_ENCRYPTION');
  });

  test('refuses a file that is not a key, and a missing file', async () => {
    const dir = await freshDir('invalid');
    const path = join(work, 'notes.txt');
    await writeFile(path, 'my passphrase is in the safe');
    await assert.rejects(importKeyFile(path, dir), (error: unknown) => error instanceof DecryptError && error.code === 'DECRYPT_KEY_INVALID');
    await assert.rejects(
      importKeyFile(join(work, 'absent.asc'), dir),
      (error: unknown) => error instanceof ConfigError && error.code === 'KEY_FILE_UNREADABLE',
    );
  });

  test('a missing folder holds no keys; stray files are ignored; keys can be removed', async () => {
    const dir = await freshDir('list');
    assert.deepEqual(await listKeys(dir), []);
    assert.deepEqual(await loadKeyFiles(dir), []);
    await importKeyFile(secretPath, dir);
    await mkdir(join(dir, 'backup'));
    await writeFile(join(dir, 'README.txt'), 'keys of the live environment');
    assert.equal((await loadKeyFiles(dir)).length, 1);

    assert.equal(await removeKeyFile(dir, czar.fingerprint.toLowerCase()), true);
    assert.equal(await removeKeyFile(dir, czar.fingerprint), false);
    assert.deepEqual(await listKeys(dir), []);
    await assert.rejects(removeKeyFile(dir, '../etc/passwd'), (error: unknown) => error instanceof ConfigError);
  });
});
