/**
 * Environment methods of the console: one environment for the edit form (secrets as set / not
 * set), validating a draft, creating, updating and deleting environments in `config.yaml` in
 * place (comments and key order kept, a save over a newer file refused), and setting a secret
 * write-only.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  SECRET_FIELD_PATHS,
  environmentBlock,
  environmentNames,
  readConfigDocument,
  saveConfigDocument,
  secretRefAt,
  syncIn,
  withKeptSecretRefs,
  withoutSecretRefs,
  type ConfigDocument,
} from '../config/config-document.js';
import { environmentIssues, environmentPaths } from '../config/config-store.js';
import { secretFilePath, secretStateOf, storeSecret, type SecretState } from '../config/secret-files.js';
import { ContractError, type ConsoleHandlers, type ResultOf } from '../contract/methods.js';
import { ConfigError } from '../errors/index.js';
import { serializeConfigEdit } from './config-edits.js';
import type { HandlerContext } from './handler-context.js';

export type EnvironmentMethods = Pick<
  ConsoleHandlers,
  'getEnvironment' | 'validateEnvironment' | 'createEnvironment' | 'updateEnvironment' | 'deleteEnvironment' | 'setSecret'
>;

type EnvironmentView = ResultOf<'getEnvironment'>;

/** The error of a save whose form was opened on an older content of the file. */
export function configChangedError(): ContractError {
  return new ContractError({
    code: 'CONFIG_CHANGED',
    message: 'config.yaml was changed since this form was opened (by hand or another console); reload the environment and apply your change again.',
    action: 'reload',
  });
}

function noEnvironment(config: ConfigDocument, env: string): ConfigError {
  const known = environmentNames(config.doc);
  return new ConfigError(`${config.file} has no environment "${env}".`, {
    code: 'CONFIG_NO_ENVIRONMENT',
    file: config.file,
    path: `environments.${env}`,
    hint: known.length > 0 ? `Known environments: ${known.join(', ')}.` : 'Create an environment first.',
  });
}

/** The secret states of the references an environment block holds. */
async function secretStates(home: string, block: Record<string, unknown>): Promise<SecretState[]> {
  const states: SecretState[] = [];
  for (const field of SECRET_FIELD_PATHS) {
    const ref = secretRefAt(block, field);
    if (ref !== undefined) states.push(await secretStateOf(home, field, ref));
  }
  return states;
}

async function viewOf(home: string, config: ConfigDocument, env: string): Promise<EnvironmentView> {
  const block = environmentBlock(config.doc, env);
  if (!block) throw noEnvironment(config, env);
  return { name: env, revision: config.revision, settings: withoutSecretRefs(block), secrets: await secretStates(home, block) };
}

/** Refuses a draft that does not pass the config schema, naming every mistake (the first one as the form's field). */
function checkDraft(config: ConfigDocument, env: string, settings: Record<string, unknown>): void {
  const issues = environmentIssues(settings);
  if (issues.length === 0) return;
  const lines = issues.map((i) => `${i.path || '(the environment)'}: ${i.message}${i.example ? ` (example: ${i.example})` : ''}`);
  throw new ConfigError(`The settings of environment ${env} have ${issues.length === 1 ? 'a mistake' : `${issues.length} mistakes`}: ${lines.join('; ')}.`, {
    code: 'CONFIG_INVALID',
    file: config.file,
    path: [`environments.${env}`, issues[0]!.path].filter(Boolean).join('.'),
    hint: 'Correct the fields named and save again; nothing was written.',
  });
}

export function environmentMethods(ctx: Pick<HandlerContext, 'home'>): EnvironmentMethods {
  const home = ctx.home;
  // Edits from this process are made one at a time: read, change, write never interleave.
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => serializeConfigEdit(home, fn);

  return {
    async getEnvironment({ env }) {
      return viewOf(home, await readConfigDocument(home), env);
    },

    async validateEnvironment({ env, settings }) {
      const config = await readConfigDocument(home);
      const issues = environmentIssues(withKeptSecretRefs(settings, environmentBlock(config.doc, env)));
      return { ok: issues.length === 0, issues };
    },

    createEnvironment({ env, settings }) {
      return serialized(async () => {
        const config = await readConfigDocument(home);
        if (environmentBlock(config.doc, env) !== undefined || config.doc.hasIn(['environments', env])) {
          throw new ConfigError(`${config.file} already has an environment "${env}".`, {
            code: 'CONFIG_ENV_EXISTS',
            file: config.file,
            path: `environments.${env}`,
            hint: 'Choose another name, or edit that environment.',
          });
        }
        checkDraft(config, env, settings);
        syncIn(config.doc, ['environments', env], settings);
        await saveConfigDocument(home, config);
        return viewOf(home, await readConfigDocument(home), env);
      });
    },

    updateEnvironment({ env, revision, settings }) {
      return serialized(async () => {
        const config = await readConfigDocument(home);
        const current = environmentBlock(config.doc, env);
        if (!current) throw noEnvironment(config, env);
        if (config.revision !== revision) throw configChangedError();
        const next = withKeptSecretRefs(settings, current);
        checkDraft(config, env, next);
        syncIn(config.doc, ['environments', env], next);
        await saveConfigDocument(home, config);
        return viewOf(home, await readConfigDocument(home), env);
      });
    },

    deleteEnvironment({ env, revision }) {
      return serialized(async (): Promise<ResultOf<'deleteEnvironment'>> => {
        const config = await readConfigDocument(home);
        if (!environmentBlock(config.doc, env)) throw noEnvironment(config, env);
        if (config.revision !== revision) throw configChangedError();
        config.doc.deleteIn(['environments', env]);
        await saveConfigDocument(home, config);
        const dataFolder = environmentPaths(home, env).root;
        const secrets = join(home, 'secrets', env);
        const kept = [existsSync(dataFolder) ? `its data folder ${dataFolder} (ledger, keys, downloaded files, SQLite data)` : undefined, existsSync(secrets) ? `its secret files in ${secrets}` : undefined].filter(Boolean);
        return {
          deleted: true,
          dataFolder,
          message: `Environment ${env} was removed from ${config.file}.${kept.length > 0 ? ` Kept: ${kept.join('; ')}; delete by hand what is no longer needed.` : ''}`,
        };
      });
    },

    setSecret({ env, field, value }) {
      return serialized(async () => {
        const config = await readConfigDocument(home);
        const current = environmentBlock(config.doc, env);
        if (!current) throw noEnvironment(config, env);
        const ref = `file:${secretFilePath(env, field)}`;
        // The field must be one the environment has a place for (no password for a SQLite target, say).
        const next = structuredClone(current);
        const parts = field.split('.');
        let parent: Record<string, unknown> = next;
        for (const part of parts.slice(0, -1)) parent = (parent[part] ??= {}) as Record<string, unknown>;
        parent[parts.at(-1)!] = ref;
        const before = new Set(environmentIssues(current).map((i) => `${i.path}\n${i.message}`));
        const issue = environmentIssues(next).find((i) => !before.has(`${i.path}\n${i.message}`));
        if (issue) {
          throw new ConfigError(`Environment ${env} has no place for ${field}: ${issue.path || 'the environment'} ${issue.message}.`, {
            code: 'CONFIG_INVALID',
            file: config.file,
            path: `environments.${env}.${field}`,
            hint: 'Choose the engine that uses this secret first (an S3 source, a MariaDB or MongoDB target), then set it.',
          });
        }
        // A keychain: reference in the desktop app (OS keychain), else the file: reference above.
        const stored = await storeSecret(home, env, field, value);
        if (secretRefAt(current, field) !== stored) {
          config.doc.setIn(['environments', env, ...parts], stored);
          await saveConfigDocument(home, config);
        }
        return secretStateOf(home, field, stored);
      });
    },
  };
}
