/**
 * "Test connection" methods of the console, each changing nothing: the source (each bucket and
 * prefix listed, edX files counted, the newest one dated), the key (imported, unlocked by the
 * passphrase, ids, expiry) and each target (connects, privileges, schema version: read-only
 * probes, core/stores/probe-targets.ts). Every failed step says what to do.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import { decryptKey, type Key, type PrivateKey } from 'openpgp';
import { timeoutsOf, type EnvironmentConfig } from '../config/config-schema.js';
import { resolvePath, resolveSecret, type EnvironmentPaths } from '../config/config-store.js';
import { s3SourceConfigFor, type S3SourceSettings } from '../config/s3-settings.js';
import type { ConsoleHandlers, ResultOf } from '../contract/methods.js';
import { encryptionKeyIdsOf, formatKeyId, keyInfoOf, readOpenPgpKeys } from '../crypto/inspect-keys.js';
import { loadKeyFiles } from '../crypto/keys.js';
import { recognizeFileName } from '../domain/file-names.js';
import { PdsError } from '../errors/index.js';
import { createLocalSource } from '../sources/local/local-source.js';
import { classify, nameOf, safeEndpoint, statusOf } from '../sources/s3/s3-errors.js';
import { createS3Client, type S3Location } from '../sources/s3/s3-source.js';
import { probeTargets } from '../stores/probe-targets.js';
import type { HandlerContext } from './handler-context.js';

export type ConnectionMethods = Pick<ConsoleHandlers, 'testSource' | 'testKey' | 'testTargets'>;

type ConnectionCheck = ResultOf<'testSource'>;
type Step = ConnectionCheck['steps'][number];

/** A key expiring within this many days is a warning: edX stops delivering when it expires. */
export const KEY_EXPIRY_WARNING_DAYS = 30;
/** Listing pages read per location at most (1,000 keys each): the test counts, it does not plan. */
const MAX_PAGES = 20;
const DAY_MS = 24 * 60 * 60 * 1000;

/** S3 error names that mean the keys themselves were refused (rather than their rights). */
const CREDENTIAL_ERRORS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired', 'InvalidClientTokenId', 'CredentialsProviderError']);

function check(target: ConnectionCheck['target'], engine: string, steps: Step[], okSummary: string): ConnectionCheck {
  const failed = steps.find((s) => !s.ok);
  const warned = steps.find((s) => s.warning);
  const summary = failed ? `${failed.name}: ${failed.detail}` : warned ? `${okSummary} Warning: ${warned.detail}` : okSummary;
  return { target, engine, ok: failed === undefined, summary, steps };
}

function failedStep(name: string, error: unknown): Step {
  if (error instanceof PdsError) return { name, ok: false, detail: error.message, ...(error.hint ? { fix: error.hint } : {}) };
  return { name, ok: false, detail: error instanceof Error ? error.message : String(error) };
}

const day = (d: Date): string => d.toISOString().slice(0, 10);

// ---------------------------------------------------------------------------------------------
// Source

interface Listed {
  objects: number;
  edxFiles: number;
  newest?: { key: string; at: Date };
  truncated: boolean;
}

async function testS3(env: string, settings: S3SourceSettings, home: string, config: EnvironmentConfig): Promise<ConnectionCheck> {
  const steps: Step[] = [];
  const timeouts = timeoutsOf(config);
  let sourceConfig;
  try {
    sourceConfig = await s3SourceConfigFor(env, settings, home, timeouts);
  } catch (error) {
    steps.push(failedStep('credentials accepted', error));
    return check('source', 's3', steps, '');
  }
  const endpoint = settings.endpoint ? safeEndpoint(settings.endpoint) : `AWS S3 (${settings.region})`;
  // Two attempts at most: a test answers in seconds, it does not ride out an outage.
  const client = createS3Client({ ...sourceConfig, maxAttempts: 2 });
  const listed = new Map<S3Location, Listed>();
  try {
    for (const location of sourceConfig.locations) {
      const where = `s3://${location.bucket}/${location.prefix}`;
      const result: Listed = { objects: 0, edxFiles: 0, truncated: false };
      let token: string | undefined;
      let pages = 0;
      try {
        do {
          const startedAt = Date.now();
          let page;
          try {
            page = await client.send(new ListObjectsV2Command({ Bucket: location.bucket, Prefix: location.prefix || undefined, ContinuationToken: token }));
          } catch (error) {
            throw { error, startedAt };
          }
          pages += 1;
          for (const entry of page.Contents ?? []) {
            if (entry.Key === undefined || entry.Key.endsWith('/')) continue;
            result.objects += 1;
            if (location.match && !location.match(entry.Key)) continue;
            result.edxFiles += 1;
            if (entry.LastModified && (!result.newest || entry.LastModified > result.newest.at)) result.newest = { key: entry.Key, at: entry.LastModified };
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token !== undefined && pages < MAX_PAGES);
        result.truncated = token !== undefined;
      } catch (thrown) {
        const { error, startedAt } = thrown as { error: unknown; startedAt: number };
        const e = classify(error, { action: 'Listing', bucket: location.bucket, key: location.prefix, environment: env, stage: 'plan', endpoint: settings.endpoint ? safeEndpoint(settings.endpoint) : undefined, requestSeconds: timeouts.requestSeconds, startedAt });
        const answered = statusOf(error) !== undefined;
        if (!answered) {
          steps.push({ name: 'reachable', ok: false, detail: e.message, ...(e.hint ? { fix: e.hint } : {}) });
          return check('source', 's3', steps, '');
        }
        if (listed.size === 0 && !steps.some((s) => s.name === 'reachable')) steps.push({ name: 'reachable', ok: true, detail: `${endpoint} answered.` });
        if (CREDENTIAL_ERRORS.has(nameOf(error) ?? '')) {
          steps.push({
            name: 'credentials accepted',
            ok: false,
            detail: `S3 refused the configured keys (${nameOf(error)}).`,
            fix: settings.accessKeyId
              ? `Set the access key id and the secret access key of environment ${env} again: one of them is wrong, or the key was deactivated.`
              : `Set an access key id and secret access key for environment ${env}: the AWS default credentials of this machine were refused.`,
          });
          return check('source', 's3', steps, '');
        }
        if (!steps.some((s) => s.name === 'credentials accepted')) steps.push(credentialsOk(settings));
        steps.push({ name: `listing ${location.name}`, ok: false, detail: e.message, ...(e.hint ? { fix: e.hint } : {}) });
        continue;
      }
      if (!steps.some((s) => s.name === 'reachable')) steps.push({ name: 'reachable', ok: true, detail: `${endpoint} answered.` });
      if (!steps.some((s) => s.name === 'credentials accepted')) steps.push(credentialsOk(settings));
      listed.set(location, result);
      steps.push({
        name: `listing ${location.name}`,
        ok: true,
        detail: `${where}: ${result.truncated ? 'more than ' : ''}${result.objects} object${result.objects === 1 ? '' : 's'}, ${result.edxFiles} edX file${result.edxFiles === 1 ? '' : 's'} of ${settings.org}.`,
      });
    }
  } finally {
    client.destroy();
  }
  if (steps.some((s) => !s.ok)) return check('source', 's3', steps, '');
  const total = [...listed.values()].reduce((n, l) => n + l.edxFiles, 0);
  const newest = [...listed.values()].map((l) => l.newest).filter((n) => n !== undefined).sort((a, b) => b.at.getTime() - a.at.getTime())[0];
  steps.push(
    total > 0
      ? { name: 'objects found', ok: true, detail: `${total} edX file${total === 1 ? '' : 's'} of ${settings.org}.` }
      : {
          name: 'objects found',
          ok: false,
          detail: `No edX file of ${settings.org} in any of the buckets and prefixes.`,
          fix: `Check the org (as edX spells it in file names, e.g. MITx), the buckets and the prefixes; if they are right, edX has not delivered yet.`,
        },
  );
  if (newest) steps.push({ name: 'newest file', ok: true, detail: `${newest.key}, ${day(newest.at)}.` });
  return check('source', 's3', steps, `S3 ${endpoint}: ${total} edX files${newest ? `, the newest of ${day(newest.at)}` : ''}.`);
}

function credentialsOk(settings: S3SourceSettings): Step {
  return {
    name: 'credentials accepted',
    ok: true,
    detail: settings.accessKeyId ? 'S3 accepted the configured access key.' : 'No keys configured: the AWS default credentials of this machine were used and accepted.',
  };
}

async function testLocal(folder: string): Promise<ConnectionCheck> {
  const steps: Step[] = [];
  let files = 0;
  let edx = 0;
  let newest: { key: string; at: Date } | undefined;
  try {
    for await (const object of createLocalSource({ root: folder }).list()) {
      if (files === 0) steps.push({ name: 'folder readable', ok: true, detail: `${folder} exists and can be read.` });
      files += 1;
      if (recognizeFileName(object.key).kind === 'unknown') continue;
      edx += 1;
      if (object.lastModified && (!newest || object.lastModified > newest.at)) newest = { key: object.key, at: object.lastModified };
    }
  } catch (error) {
    steps.push({ ...failedStep('folder readable', error), fix: `Check that ${folder} exists and this user may read it, or set the source's path to the folder edX files are copied to.` });
    return check('source', 'local', steps, '');
  }
  if (files === 0) steps.push({ name: 'folder readable', ok: true, detail: `${folder} exists and can be read.` });
  steps.push(
    edx > 0
      ? { name: 'files found', ok: true, detail: `${edx} edX file${edx === 1 ? '' : 's'} among ${files} file${files === 1 ? '' : 's'}.` }
      : { name: 'files found', ok: false, detail: `${folder} holds ${files} file${files === 1 ? '' : 's'}, none named like an edX file.`, fix: 'Copy the files edX delivered into the folder with their names unchanged, or point the source at the folder that holds them.' },
  );
  if (newest) steps.push({ name: 'newest file', ok: true, detail: `${newest.key}, ${day(newest.at)}.` });
  return check('source', 'local', steps, `Local folder ${folder}: ${edx} edX files${newest ? `, the newest of ${day(newest.at)}` : ''}.`);
}

// ---------------------------------------------------------------------------------------------
// Key

async function testKeyOf(env: string, config: EnvironmentConfig, paths: EnvironmentPaths, home: string, now: Date): Promise<ConnectionCheck> {
  const steps: Step[] = [];
  let keys: Key[] = [];
  try {
    const files = config.key.files?.map((f) => resolvePath(home, f));
    const texts = files ? await Promise.all(files.map((f) => readFile(f))) : await loadKeyFiles(paths.keys);
    for (const [i, text] of texts.entries()) keys.push(...(await readOpenPgpKeys(text, files?.[i] ?? 'an imported key')));
  } catch (error) {
    steps.push(failedStep('keys imported', error));
    return check('key', 'openpgp', steps, '');
  }
  keys = keys.filter((k) => k.isPrivate());
  if (keys.length === 0) {
    steps.push({ name: 'keys imported', ok: false, detail: `Environment ${env} has no secret key.`, fix: "Import the data czar's secret key on the Keys screen." });
    return check('key', 'openpgp', steps, '');
  }
  steps.push({ name: 'keys imported', ok: true, detail: `${keys.length} secret key${keys.length === 1 ? '' : 's'}: ${keys.map((k) => formatKeyId(k.getKeyID().toHex())).join(', ')}.` });

  const locked = keys.filter((k) => !(k as PrivateKey).isDecrypted());
  let passphrase: string | undefined;
  if (config.key.passphrase) {
    try {
      passphrase = await resolveSecret(config.key.passphrase, home, 'key.passphrase');
      steps.push({ name: 'passphrase', ok: true, detail: 'The passphrase reference resolves.' });
    } catch (error) {
      steps.push(failedStep('passphrase', error));
      return check('key', 'openpgp', steps, '');
    }
  } else if (locked.length > 0) {
    steps.push({ name: 'passphrase', ok: false, detail: 'The keys are protected by a passphrase, and none is configured.', fix: "Set the key's passphrase in the environment's settings." });
    return check('key', 'openpgp', steps, '');
  } else {
    steps.push({ name: 'passphrase', ok: true, detail: 'The keys are not passphrase-protected; none is needed.' });
  }

  for (const key of keys) {
    const id = formatKeyId(key.getKeyID().toHex());
    if ((key as PrivateKey).isDecrypted()) continue;
    try {
      await decryptKey({ privateKey: key as PrivateKey, passphrase: passphrase ?? '' });
      steps.push({ name: `unlocks ${id}`, ok: true, detail: `The passphrase unlocks key ${id}.` });
    } catch {
      steps.push({ name: `unlocks ${id}`, ok: false, detail: `The passphrase does not unlock key ${id}.`, fix: "Set the key's passphrase again: it is not the one this key was protected with." });
    }
  }

  for (const key of keys) {
    const info = await keyInfoOf(key);
    const ids = encryptionKeyIdsOf(key);
    steps.push({ name: `key ids ${info.keyId}`, ok: true, detail: `${info.userIds.join(', ') || 'no user id'}; fingerprint ${info.fingerprint}; edX encrypts to ${ids.join(', ') || 'no encryption subkey'}.` });
    if (info.expires === null) {
      steps.push({ name: `expiry ${info.keyId}`, ok: true, detail: `Key ${info.keyId} does not expire.` });
      continue;
    }
    const expires = new Date(info.expires);
    const days = Math.floor((expires.getTime() - now.getTime()) / DAY_MS);
    if (expires <= now) {
      steps.push({
        name: `expiry ${info.keyId}`,
        ok: false,
        detail: `Key ${info.keyId} expired on ${day(expires)}: edX stops delivering to an expired key.`,
        fix: 'Extend the key (in Kleopatra or GnuPG), send edX the renewed public key, and import the renewed secret key.',
      });
    } else if (days < KEY_EXPIRY_WARNING_DAYS) {
      steps.push({
        name: `expiry ${info.keyId}`,
        ok: true,
        warning: true,
        detail: `Key ${info.keyId} expires on ${day(expires)}, in ${days} day${days === 1 ? '' : 's'}: edX stops delivering when it expires.`,
        fix: 'Extend the key (in Kleopatra or GnuPG), send edX the renewed public key, and import the renewed secret key.',
      });
    } else {
      steps.push({ name: `expiry ${info.keyId}`, ok: true, detail: `Key ${info.keyId} expires on ${day(expires)}.` });
    }
  }
  return check('key', 'openpgp', steps, `${keys.length} key${keys.length === 1 ? '' : 's'} ready to decrypt.`);
}

// ---------------------------------------------------------------------------------------------

export function connectionMethods(ctx: Pick<HandlerContext, 'home' | 'environment'>, options: { now?: () => Date } = {}): ConnectionMethods {
  const now = options.now ?? (() => new Date());
  return {
    async testSource({ env }) {
      const { config } = await ctx.environment(env);
      return config.source.type === 's3' ? testS3(env, config.source, ctx.home, config) : testLocal(resolvePath(ctx.home, config.source.path));
    },

    async testKey({ env }) {
      const { config, paths } = await ctx.environment(env);
      return testKeyOf(env, config, paths, ctx.home, now());
    },

    async testTargets({ env }) {
      const { config, paths } = await ctx.environment(env);
      const probes = await probeTargets(env, config, paths, (ref, path) => resolveSecret(ref, ctx.home, path), ctx.home);
      return probes.map((p) => ({ target: p.target, engine: p.engine, ok: p.ok, summary: p.summary, steps: p.steps }));
    },
  };
}
