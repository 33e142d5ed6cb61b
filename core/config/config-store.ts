/**
 * Loading, validating and saving `$PDS_HOME/config.yaml`, and resolving secret references.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors/index.js';
import { configSchema, environmentSchema, type EnvironmentConfig, type PdsConfig } from './config-schema.js';

/** The home folder: `$PDS_HOME`, else `~/.pds`. */
export function resolveHome(explicit?: string): string {
  return resolve(explicit ?? process.env.PDS_HOME ?? join(homedir(), '.pds'));
}

/** Where one environment keeps its ledger, keys, landing folder and embedded database. */
export interface EnvironmentPaths {
  root: string;
  ledger: string;
  keys: string;
  landing: string;
  sqlite: string;
}

export function environmentPaths(home: string, env: string): EnvironmentPaths {
  const root = join(home, 'envs', env);
  return {
    root,
    ledger: join(root, 'ledger.sqlite'),
    keys: join(root, 'keys'),
    landing: join(root, 'landing'),
    sqlite: join(root, 'data.sqlite'),
  };
}

export function configPath(home: string): string {
  return join(home, 'config.yaml');
}

const EXAMPLES: Record<string, string> = {
  'source.type': 'type: s3   (or: type: local)',
  'source.org': 'org: MITx',
  'source.accessKeyId': 'accessKeyId: env:PDS_AWS_ACCESS_KEY_ID',
  'source.secretAccessKey': 'secretAccessKey: env:PDS_AWS_SECRET_ACCESS_KEY',
  'key.passphrase': 'passphrase: env:PDS_LIVE_PASSPHRASE',
  'targets.relational': 'relational: { type: mariadb, host: db1, user: pds, password: env:PDS_DB_PASSWORD, database: edx }',
  'targets.events': 'events: { type: mongodb, uri: env:PDS_MONGO_URI, database: edx }',
  programs:
    'programs: [{ name: sds, modules: { prob: [MITx-6.431x-1T2026, MITx-6.431x-3T2026], stats: [MITx-18.6501x-1T2026] }, pass: { rule: certificate, modes: [verified] }, versions: [{ from: 2026-01-01, core: [prob], electives: [stats], electivesRequired: 1 }] }]',
  schedules: 'schedules: [{ name: nightly, cron: "30 2 * * *", timezone: Europe/London, load: events }]',
  'alerts.email': 'email: { host: smtp.example.edu, port: 587, user: pds, password: env:PDS_SMTP_PASSWORD, from: pds@example.edu, to: [czar@example.edu] }',
  'alerts.webhook': 'webhook: { url: https://hooks.example.edu/pds, secret: env:PDS_WEBHOOK_SECRET }',
  retention: 'retention: { landingDays: 30, quarantineDays: 0, diskFactor: 3 }',
  watch: 'watch: { eventsMaxDays: 3, weeklyMaxDays: 9 }',
};

/** zod's default wording, made plain for the config file's reader. */
function plainMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_key') return 'environment names are lower-case words like dev, test, live';
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return `is required (${issue.expected})`;
  // The message of unknown keys comes from `namingKnownSettings`, which still sees the schema.
  if (issue.code === 'unrecognized_keys') return issue.message.startsWith('unknown setting') ? issue.message : `unknown setting(s) ${issue.keys.join(', ')}`;
  return issue.message;
}

/**
 * Parse-time message for unknown keys: names the settings the object at that place accepts, so a
 * misspelt key is answered in the message itself. Only the raw issue carries the schema that
 * raised it; zod strips it from the issues it returns.
 */
function namingKnownSettings(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== 'unrecognized_keys') return undefined;
  const shape = (issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
  const unknown = `unknown setting(s) ${issue.keys.join(', ')}`;
  return shape ? `${unknown}; the settings here are ${Object.keys(shape).join(', ')}` : unknown;
}

/** One config mistake worded for a person: the loader's message and, where one helps, an example. */
export interface ConfigIssue {
  /** Dotted path from where the checked object starts (`source.org` within an environment). */
  path: string;
  message: string;
  example?: string;
}

/** The example for a mistake at `envPath` (a path within one environment). */
function exampleAt(envPath: string[]): string | undefined {
  return (
    EXAMPLES[envPath.join('.')] ??
    EXAMPLES[envPath.slice(0, 2).join('.')] ??
    (['programs', 'schedules', 'retention', 'watch'].includes(envPath[0] ?? '') ? EXAMPLES[envPath[0]!] : undefined)
  );
}

/**
 * Checks one environment's settings (a draft from the console's form, say) and words every
 * mistake as the loader does, with its path within the environment. Empty when the draft is valid.
 */
export function environmentIssues(raw: unknown): ConfigIssue[] {
  const result = environmentSchema.safeParse(raw, { error: namingKnownSettings });
  if (result.success) return [];
  return result.error.issues.map((issue) => {
    const path = issue.path.map(String);
    const example = exampleAt(path);
    return { path: path.join('.'), message: plainMessage(issue), ...(example ? { example } : {}) };
  });
}

/** `envDepth`: how many leading path segments name the environment (2 for `environments.NAME`, 0 for one environment). */
function describeIssues(issues: z.core.$ZodIssue[], prefix: string, file: string, envDepth = 2): ConfigError {
  const lines = issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    const example = exampleAt(issue.path.slice(envDepth).map(String));
    return `- ${path || '(top level)'}: ${plainMessage(issue)}${example ? ` (example: ${example})` : ''}`;
  });
  const first = issues[0];
  return new ConfigError(`${file} has ${issues.length === 1 ? 'a mistake' : `${issues.length} mistakes`}:\n${lines.join('\n')}`, {
    code: 'CONFIG_INVALID',
    file,
    path: first ? [prefix, ...first.path.map(String)].filter(Boolean).join('.') : undefined,
    hint: 'Edit the file and run again.',
  });
}

/** Validates a parsed config object; throws one ConfigError listing every mistake. */
export function validateConfig(raw: unknown, file = 'config.yaml'): PdsConfig {
  const result = configSchema.safeParse(raw ?? { environments: {} }, { error: namingKnownSettings });
  if (!result.success) throw describeIssues(result.error.issues, '', file);
  return result.data;
}

/** Validates one environment's settings. */
export function validateEnvironment(name: string, raw: unknown): EnvironmentConfig {
  const result = environmentSchema.safeParse(raw, { error: namingKnownSettings });
  if (!result.success) throw describeIssues(result.error.issues, `environments.${name}`, 'environment', 0);
  return result.data;
}

/** Reads and validates the config file; a missing file is an empty configuration. */
export async function loadConfig(home: string): Promise<PdsConfig> {
  const file = configPath(home);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { environments: {} };
    throw new ConfigError(`Cannot read ${file}.`, { code: 'CONFIG_UNREADABLE', file, cause: error });
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line;
    throw new ConfigError(`${file}${line ? ` line ${line}` : ''}: not valid YAML (${e.code}).`, {
      code: 'CONFIG_YAML',
      file,
      line,
      hint: 'Fix the YAML syntax (indentation, colons, quotes) and run again.',
    });
  }
  return validateConfig(doc.toJS(), file);
}

/** Writes the config file atomically (temp file + rename). */
export async function saveConfig(home: string, config: PdsConfig): Promise<void> {
  const valid = validateConfig(config);
  await mkdir(home, { recursive: true });
  const file = configPath(home);
  const tmp = `${file}.${process.pid}.tmp`;
  const header = '# Platform Data Store configuration. Secrets are references: env:NAME or file:PATH.\n';
  await writeFile(tmp, header + stringify(valid), { mode: 0o600 });
  await rename(tmp, file);
}

/** Returns one environment or a ConfigError naming the ones that exist. */
export function getEnvironment(config: PdsConfig, name: string): EnvironmentConfig {
  const env = config.environments[name];
  if (!env) {
    const known = Object.keys(config.environments);
    throw new ConfigError(`There is no environment "${name}".`, {
      code: 'CONFIG_NO_ENVIRONMENT',
      path: `environments.${name}`,
      hint: known.length > 0 ? `Known environments: ${known.join(', ')}.` : 'Create one in config.yaml, or run `pds demo` to make a demo environment.',
    });
  }
  return env;
}

/** Reads a `keychain:NAME` secret: set only in the desktop app's engine host (the OS keychain is the app's). */
type KeychainResolver = (name: string, fieldPath: string) => Promise<string>;
let keychainResolver: KeychainResolver | undefined;

/** Lets this process read `keychain:` references (the desktop app's engine host); undefined turns it off again. */
export function setKeychainResolver(resolver: KeychainResolver | undefined): void {
  keychainResolver = resolver;
}

/** The home-relative file holding the encrypted value of `keychain:NAME` (written by the desktop app). */
export function keychainFilePath(name: string): string {
  return `keychain/${name}.enc`;
}

/**
 * Resolves `env:NAME`, `file:PATH` (relative to the home folder) or, in the desktop app,
 * `keychain:NAME`. The value is returned to the caller only: never log it.
 */
export async function resolveSecret(ref: string, home: string, fieldPath: string): Promise<string> {
  if (ref.startsWith('keychain:')) {
    const name = ref.slice(9);
    if (keychainResolver === undefined) {
      throw new ConfigError(`${fieldPath} is stored in the desktop app's keychain (${ref}); this process cannot read it.`, {
        code: 'SECRET_IN_KEYCHAIN',
        path: fieldPath,
        hint: 'Run this environment from the desktop app, or set the secret as env:NAME or file:PATH for the CLI.',
      });
    }
    return keychainResolver(name, fieldPath);
  }
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const value = process.env[name];
    if (value === undefined || value === '') {
      throw new ConfigError(`The environment variable ${name} (referenced by ${fieldPath}) is not set.`, {
        code: 'SECRET_MISSING',
        path: fieldPath,
        hint: `Set ${name} in the environment of the process that runs pds.`,
      });
    }
    return value;
  }
  if (ref.startsWith('file:')) {
    const path = ref.slice(5);
    const full = isAbsolute(path) ? path : join(home, path);
    try {
      return (await readFile(full, 'utf8')).replace(/\r?\n$/, '');
    } catch (error) {
      throw new ConfigError(`Cannot read the secret file ${full} (referenced by ${fieldPath}).`, {
        code: 'SECRET_MISSING',
        path: fieldPath,
        cause: error,
        hint: 'Check that the file exists and is readable by this user.',
      });
    }
  }
  throw new ConfigError(`${fieldPath} must be a secret reference (env:NAME or file:PATH).`, { code: 'SECRET_INLINE', path: fieldPath });
}

/** Resolves a path from the config: absolute as is, relative under `base`. */
export function resolvePath(base: string, path: string): string {
  return isAbsolute(path) ? path : join(base, path);
}
