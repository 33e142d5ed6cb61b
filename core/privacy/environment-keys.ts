/**
 * The keys of one environment: the secret keys it decrypts deliveries with (`key.files`, or every
 * key imported with `pds key import`), whose public parts also encrypt what pds itself keeps on
 * disk (quarantine files), and a decryptor holding them unlocked with the environment's passphrase.
 */
import { readFile } from 'node:fs/promises';
import type { EnvironmentConfig } from '../config/config-schema.js';
import { resolvePath, resolveSecret, type EnvironmentPaths } from '../config/config-store.js';
import { loadKeyFiles } from '../crypto/keys.js';
import { createOpenPgpDecryptor } from '../crypto/openpgp-decryptor.js';
import type { Decryptor } from '../crypto/ports.js';
import { DecryptError } from '../errors/index.js';

/** The environment's key files as read (armored or binary); empty when it has none. */
export async function environmentKeySources(home: string, config: EnvironmentConfig, paths: EnvironmentPaths): Promise<Array<string | Uint8Array>> {
  const files = config.key.files?.map((f) => resolvePath(home, f));
  return files ? await Promise.all(files.map((f) => readFile(f))) : await loadKeyFiles(paths.keys);
}

/**
 * A decryptor holding the environment's keys, unlocked with its passphrase.
 * @throws DecryptError DECRYPT_NO_KEY when the environment has no key.
 */
export async function environmentDecryptor(home: string, env: string, config: EnvironmentConfig, paths: EnvironmentPaths): Promise<Decryptor> {
  const armoredKeys = await environmentKeySources(home, config, paths);
  if (armoredKeys.length === 0) {
    throw new DecryptError(`Environment ${env} has no secret key to decrypt with.`, {
      code: 'DECRYPT_NO_KEY',
      hint: `Import the data czar's secret key: pds key import --env ${env} KEYFILE.asc`,
    });
  }
  const passphrase = config.key.passphrase ? await resolveSecret(config.key.passphrase, home, `environments.${env}.key.passphrase`) : undefined;
  return createOpenPgpDecryptor({ armoredKeys: armoredKeys as string[] | Uint8Array[], passphrase });
}
