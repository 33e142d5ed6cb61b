/**
 * Editing `$PDS_HOME/config.yaml` in place, for the console's environment forms: the file is
 * parsed as a YAML Document (the `yaml` package), only the nodes whose values change are touched
 * (so the user's comments and key order survive), and the result is written atomically with the
 * file's own mode. Every read carries a `revision` (a hash of the file's bytes); a save made from
 * an older revision is refused, so a hand edit made since a form was opened is never overwritten.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, parseDocument, type Document, type Node, type YAMLMap } from 'yaml';
import { ConfigError } from '../errors/index.js';
import { configPath } from './config-store.js';
import { isSecretRef } from './config-schema.js';
import { SECRET_FIELDS } from '../contract/methods.js';

/** The config fields that hold secret references, as paths within an environment: the contract's `SECRET_FIELDS`. */
export const SECRET_FIELD_PATHS = SECRET_FIELDS;

export type SecretFieldPath = (typeof SECRET_FIELD_PATHS)[number];

/** The config file as read: its text, its revision and its parsed Document. */
export interface ConfigDocument {
  file: string;
  /** Hash of the file's bytes (of no bytes when the file does not exist yet). */
  revision: string;
  doc: Document;
  /** The file's permission bits (0600 for a file not written yet). */
  mode: number;
}

/** The revision of a config file's content: a hash of its bytes. */
export function configRevision(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads and parses `config.yaml`; a missing file is an empty document. Throws CONFIG_YAML on a syntax error. */
export async function readConfigDocument(home: string): Promise<ConfigDocument> {
  const file = configPath(home);
  let bytes: Buffer = Buffer.alloc(0);
  let mode = 0o600;
  try {
    bytes = await readFile(file);
    mode = (await stat(file)).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`Cannot read ${file}.`, { code: 'CONFIG_UNREADABLE', file, cause: error });
  }
  const doc = parseDocument(bytes.toString('utf8'));
  if (doc.errors.length > 0) {
    const line = doc.errors[0]!.linePos?.[0]?.line;
    throw new ConfigError(`${file}${line ? ` line ${line}` : ''}: not valid YAML (${doc.errors[0]!.code}).`, {
      code: 'CONFIG_YAML',
      file,
      line,
      hint: 'Fix the YAML syntax (indentation, colons, quotes) and save again.',
    });
  }
  return { file, revision: configRevision(bytes), doc, mode };
}

/** The environment's block as plain data, or undefined when the file has no such environment. */
export function environmentBlock(doc: Document, env: string): Record<string, unknown> | undefined {
  const node = doc.getIn(['environments', env], true);
  if (!isMap(node)) return undefined;
  return node.toJSON() as Record<string, unknown>;
}

/** Names of the environments in the file, in file order. */
export function environmentNames(doc: Document): string[] {
  const node = doc.get('environments', true);
  return isMap(node) ? node.items.map((pair) => String(isScalar(pair.key) ? pair.key.value : pair.key)) : [];
}

/** The value at a dotted path of a plain object. */
export function valueAt(value: unknown, path: string): unknown {
  let at = value;
  for (const part of path.split('.')) {
    if (at === null || typeof at !== 'object' || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** The secret reference configured at `field` of an environment block, if the field holds one. */
export function secretRefAt(block: unknown, field: SecretFieldPath): string | undefined {
  const value = valueAt(block, field);
  return typeof value === 'string' && isSecretRef(value) ? value : undefined;
}

/**
 * The block with every secret reference left out (plain URLs without a password stay: they are
 * settings, not secrets). A deep copy: the argument is not changed.
 */
export function withoutSecretRefs(block: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(block);
  for (const field of SECRET_FIELD_PATHS) {
    if (secretRefAt(copy, field) === undefined) continue;
    const parts = field.split('.');
    const parent = valueAt(copy, parts.slice(0, -1).join('.')) as Record<string, unknown>;
    delete parent[parts.at(-1)!];
  }
  return copy;
}

/**
 * A draft from the console's form, with the secret references of `current` it leaves out put
 * back: a form never holds secrets, so leaving a secret field out means "keep it". A reference is
 * kept only where the draft still has the object that holds it, of the same `type` (a target
 * switched from MariaDB to SQLite drops its password).
 */
export function withKeptSecretRefs(draft: Record<string, unknown>, current: Record<string, unknown> | undefined): Record<string, unknown> {
  const merged = structuredClone(draft);
  if (!current) return merged;
  for (const field of SECRET_FIELD_PATHS) {
    const ref = secretRefAt(current, field);
    if (ref === undefined) continue;
    const parts = field.split('.');
    const parentPath = parts.slice(0, -1).join('.');
    const leaf = parts.at(-1)!;
    const oldParent = valueAt(current, parentPath) as Record<string, unknown>;
    let parent = valueAt(merged, parentPath);
    if (parent === undefined && parentPath === 'key') parent = merged.key = {};
    if (parent === null || typeof parent !== 'object' || Array.isArray(parent)) continue;
    const p = parent as Record<string, unknown>;
    if (leaf in p) continue;
    if ('type' in oldParent && p.type !== oldParent.type) continue;
    p[leaf] = ref;
  }
  return merged;
}

/**
 * Makes the YAML node at `path` hold `value`, touching only what differs: keys kept keep their
 * place and comments, keys gone are deleted, new keys are appended, equal scalars are left alone.
 */
export function syncIn(doc: Document, path: string[], value: unknown): void {
  const node = doc.getIn(path, true) as Node | undefined;
  if (isPlainObject(value) && isMap(node)) {
    syncMap(doc, node, value);
    return;
  }
  if (node !== undefined && sameValue(node, value)) return;
  doc.setIn(path, doc.createNode(value));
}

function syncMap(doc: Document, map: YAMLMap, value: Record<string, unknown>): void {
  for (const pair of [...map.items]) {
    const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
    if (!(key in value)) map.delete(pair.key);
  }
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const child = map.get(key, true) as Node | undefined;
    if (isPlainObject(v) && isMap(child)) syncMap(doc, child, v);
    else if (child !== undefined && sameValue(child, v)) continue;
    // A changed scalar keeps its node, and with it the comment beside it.
    else if (isScalar(child) && (v === null || typeof v !== 'object')) child.value = v;
    else map.set(key, doc.createNode(v));
  }
}

function sameValue(node: Node, value: unknown): boolean {
  if (isScalar(node)) return node.value === value;
  if (isSeq(node) || isMap(node)) return JSON.stringify(node.toJSON()) === JSON.stringify(value);
  return false;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Writes `text` to `file` atomically (a temp file in the same folder, then rename) with `mode`:
 * a crash leaves the old file or the new one, never half of one.
 */
export async function writeFileAtomically(file: string, text: string, mode: number): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, text, { mode, flag: 'wx' });
    // The mode given to writeFile is masked by the umask; the file keeps exactly its old mode.
    await chmod(temp, mode);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Saves the edited Document over the config file, atomically, keeping the file's mode. */
export async function saveConfigDocument(home: string, config: ConfigDocument): Promise<string> {
  await mkdir(home, { recursive: true });
  const text = config.doc.toString();
  await writeFileAtomically(config.file, text, config.mode);
  return configRevision(text);
}
