/**
 * Secrets set from the console: each one a file `PDS_HOME/secrets/ENV/FIELD` readable by its
 * owner only (mode 0600 in 0700 folders), referenced from the config as `file:secrets/ENV/FIELD`
 * (file references are relative to the home folder: `resolveSecret`). Values are written and
 * checked, never returned, logged or put in a message.
 */
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig, resolveSecret } from './config-store.js';
import { SECRET_FIELD_PATHS, writeFileAtomically, type SecretFieldPath } from './config-document.js';

/** A secret as the console sees it: set or not, and where it comes from (never its value). */
export interface SecretState {
  field: SecretFieldPath;
  state: 'set' | 'not set';
  via: 'env' | 'file' | 'keychain';
  /** The variable name or the file path the reference names. */
  name: string;
}

/** The home-relative path of the file holding an environment's secret. */
export function secretFilePath(env: string, field: SecretFieldPath): string {
  return `secrets/${env}/${field}`;
}

/** Writes a secret's value to its file under the home folder (0600, folders 0700, atomically); returns its `file:` reference. */
export async function writeSecretFile(home: string, env: string, field: SecretFieldPath, value: string): Promise<string> {
  const relative = secretFilePath(env, field);
  const folder = join(home, 'secrets', env);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  // mkdir's mode is masked by the umask and not applied to folders that existed already.
  await chmod(join(home, 'secrets'), 0o700);
  await chmod(folder, 0o700);
  await writeFileAtomically(join(home, relative), value, 0o600);
  return `file:${relative}`;
}

/** Where the desktop app keeps a secret set from its console: returns its `keychain:` reference, or undefined when it has no keychain. */
type SecretStore = (name: string, value: string) => Promise<string | undefined>;
let secretStore: SecretStore | undefined;

/** Lets the desktop app's engine host keep secrets set from the console in the OS keychain (undefined: files again). */
export function setSecretStore(store: SecretStore | undefined): void {
  secretStore = store;
}

/**
 * Stores a secret set from the console and returns its reference: `keychain:ENV/FIELD` in the
 * desktop app where the OS keychain can encrypt it, else a 0600 file (`file:secrets/ENV/FIELD`).
 */
export async function storeSecret(home: string, env: string, field: SecretFieldPath, value: string): Promise<string> {
  const ref = secretStore ? await secretStore(`${env}/${field}`, value) : undefined;
  return ref ?? writeSecretFile(home, env, field, value);
}

/**
 * Whether the reference `ref` of `field` resolves (an environment variable that is set, a file
 * that can be read), and where it points. The value read is dropped at once.
 */
export async function secretStateOf(home: string, field: SecretFieldPath, ref: string): Promise<SecretState> {
  const via = ref.startsWith('env:') ? 'env' : ref.startsWith('keychain:') ? 'keychain' : 'file';
  const name = ref.slice(ref.indexOf(':') + 1);
  const state = await resolveSecret(ref, home, field).then(
    (value) => (value === '' ? 'not set' : 'set'),
    () => 'not set' as const,
  );
  return { field, state, via, name };
}

/**
 * Per environment, its secret fields held in the desktop app's keychain (`keychain:` references):
 * an environment with any cannot be run by the CLI alone (`pds env` says so).
 */
export async function keychainSecretsByEnvironment(home: string): Promise<Record<string, SecretFieldPath[]>> {
  const config = await loadConfig(home);
  const out: Record<string, SecretFieldPath[]> = {};
  for (const [name, env] of Object.entries(config.environments)) {
    out[name] = SECRET_FIELD_PATHS.filter((field) => {
      let at: unknown = env;
      for (const part of field.split('.')) at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined;
      return typeof at === 'string' && at.startsWith('keychain:');
    });
  }
  return out;
}
