/**
 * Key methods of the console: import a secret key pasted as armored text or uploaded as a file
 * (its bytes as base64), list the imported keys, remove one by fingerprint. Keys are kept in the
 * environment's key folder exactly as `pds key import` keeps them (core/crypto/keys.ts).
 */
import { importKeyData, listKeys, removeKeyFile } from '../crypto/keys.js';
import type { KeyInfo } from '../crypto/ports.js';
import type { ConsoleHandlers, ResultOf } from '../contract/methods.js';
import { ConfigError, DecryptError } from '../errors/index.js';
import type { HandlerContext } from './handler-context.js';

export type KeyMethods = Pick<ConsoleHandlers, 'importKey' | 'listKeys' | 'removeKey'>;

type KeySummaryData = ResultOf<'listKeys'>[number];

/** A key as the console shows it (ids, user ids, dates: never secret material). */
export function keySummaryData(k: KeyInfo): KeySummaryData {
  return { keyId: k.keyId, fingerprint: k.fingerprint, userIds: k.userIds, algorithm: k.algorithm, created: k.created, expires: k.expires, protected: k.locked };
}

/** Standard base64 (line breaks allowed, as `base64` writes it). */
const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

function decodeBase64(text: string): Uint8Array {
  const stripped = text.replace(/^data:[^,]*;base64,/, '');
  if (!BASE64.test(stripped) || stripped.replace(/\s/g, '').length === 0) {
    throw new DecryptError('The uploaded key file did not arrive as base64, so it cannot be read.', {
      code: 'DECRYPT_KEY_INVALID',
      stage: 'config',
      hint: 'Choose the key file again; if it still fails, paste the armored key text instead.',
    });
  }
  return Buffer.from(stripped, 'base64');
}

export function keyMethods(ctx: Pick<HandlerContext, 'environment'>): KeyMethods {
  const keyFolder = async (env: string): Promise<string> => (await ctx.environment(env)).paths.keys;
  const keysIn = async (dir: string): Promise<KeySummaryData[]> => (await listKeys(dir)).map(keySummaryData);

  return {
    async importKey({ env, armored, base64 }) {
      const dir = await keyFolder(env);
      const imported =
        armored !== undefined && armored !== ''
          ? await importKeyData(armored, dir, 'the pasted key')
          : await importKeyData(decodeBase64(base64 ?? ''), dir, 'the uploaded key file');
      return imported.map(keySummaryData);
    },

    async listKeys({ env }) {
      return keysIn(await keyFolder(env));
    },

    async removeKey({ env, fingerprint }) {
      const dir = await keyFolder(env);
      const compact = fingerprint.replace(/\s+/g, '');
      if (!(await removeKeyFile(dir, compact))) {
        throw new ConfigError(`Environment ${env} has no key with fingerprint ${compact.toUpperCase()}.`, {
          code: 'KEY_NOT_FOUND',
          hint: 'Choose the key from the list of imported keys; it may have been removed already.',
        });
      }
      return keysIn(dir);
    },
  };
}
