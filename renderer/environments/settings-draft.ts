/**
 * The environment form's draft: flat fields the operator edits, turned into the environment's
 * `settings` (the block of config.yaml) and back. Settings the form does not show (course
 * filters, the window, timeouts, other buckets) are carried over untouched.
 */
import type { SecretField } from '../../core/contract/methods.js';

export interface Draft {
  description: string;
  sourceType: 's3' | 'local';
  org: string;
  region: string;
  endpoint: string;
  forcePathStyle: boolean;
  weeklyBucket: string;
  weeklyPrefix: string;
  eventsBucket: string;
  eventsPrefix: string;
  localPath: string;
  relationalType: 'sqlite' | 'mariadb';
  sqlitePath: string;
  dbHost: string;
  dbPort: string;
  dbUser: string;
  dbName: string;
  eventsType: 'sqlite' | 'mongodb';
  mongoDatabase: string;
}

/** Which settings path each draft field edits: validation issues are shown beside these. */
export const FIELD_PATHS: Partial<Record<keyof Draft, string>> = {
  description: 'description',
  org: 'source.org',
  region: 'source.region',
  endpoint: 'source.endpoint',
  weeklyBucket: 'source.weekly.bucket',
  weeklyPrefix: 'source.weekly.prefix',
  eventsBucket: 'source.events.bucket',
  eventsPrefix: 'source.events.prefix',
  localPath: 'source.path',
  sqlitePath: 'targets.relational.path',
  dbHost: 'targets.relational.host',
  dbPort: 'targets.relational.port',
  dbUser: 'targets.relational.user',
  dbName: 'targets.relational.database',
  mongoDatabase: 'targets.events.database',
};

/** The form's label of each settings path, for the list of mistakes above the form. */
export const FIELD_LABELS: Record<string, string> = {
  name: 'Name',
  description: 'Description',
  'source.org': 'edX organisation',
  'source.region': 'Region',
  'source.endpoint': 'Endpoint',
  'source.weekly.bucket': 'Weekly packages bucket',
  'source.weekly.prefix': 'Weekly packages prefix',
  'source.events.bucket': 'Daily event logs bucket',
  'source.events.prefix': 'Daily event logs prefix',
  'source.path': 'Folder',
  'targets.relational.path': 'SQLite file',
  'targets.relational.host': 'MariaDB host',
  'targets.relational.port': 'MariaDB port',
  'targets.relational.user': 'MariaDB user',
  'targets.relational.database': 'MariaDB database',
  'targets.events.database': 'MongoDB database',
  'source.accessKeyId': 'S3 access key id',
  'source.secretAccessKey': 'S3 secret access key',
  'key.passphrase': 'Key passphrase',
  'targets.relational.password': 'MariaDB password',
  'targets.events.uri': 'MongoDB URI',
};

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string => (v == null ? '' : String(v));

export const EMPTY_DRAFT: Draft = {
  description: '',
  sourceType: 's3',
  org: '',
  region: 'us-east-1',
  endpoint: '',
  forcePathStyle: false,
  weeklyBucket: 'course-data',
  weeklyPrefix: '',
  eventsBucket: 'edx-course-data',
  eventsPrefix: '',
  localPath: '',
  relationalType: 'sqlite',
  sqlitePath: '',
  dbHost: '',
  dbPort: '',
  dbUser: '',
  dbName: '',
  eventsType: 'sqlite',
  mongoDatabase: 'pds',
};

export function draftFromSettings(settings: Obj): Draft {
  const source = obj(settings.source);
  const targets = obj(settings.targets);
  const rel = obj(targets.relational);
  const ev = obj(targets.events);
  return {
    description: str(settings.description),
    sourceType: source.type === 'local' ? 'local' : 's3',
    org: str(source.org),
    region: str(source.region) || 'us-east-1',
    endpoint: str(source.endpoint),
    forcePathStyle: source.forcePathStyle === true,
    weeklyBucket: str(obj(source.weekly).bucket),
    weeklyPrefix: str(obj(source.weekly).prefix),
    eventsBucket: str(obj(source.events).bucket),
    eventsPrefix: str(obj(source.events).prefix),
    localPath: str(source.path),
    relationalType: rel.type === 'mariadb' ? 'mariadb' : 'sqlite',
    sqlitePath: rel.type === 'mariadb' ? '' : str(rel.path),
    dbHost: str(rel.host),
    dbPort: str(rel.port),
    dbUser: str(rel.user),
    dbName: str(rel.database),
    eventsType: ev.type === 'mongodb' ? 'mongodb' : 'sqlite',
    mongoDatabase: str(ev.database) || 'pds',
  };
}

/** Sets `key` when `value` is not empty, else removes it (the config file then uses its default). */
function put(target: Obj, key: string, value: unknown): void {
  if (value === '' || value === undefined || value === false) delete target[key];
  else target[key] = value;
}

export function settingsFromDraft(draft: Draft, base: Obj = {}): Obj {
  const settings: Obj = structuredClone(base);
  put(settings, 'description', draft.description.trim());
  const oldSource = obj(settings.source);
  if (draft.sourceType === 's3') {
    const source: Obj = oldSource.type === 's3' ? { ...oldSource } : { type: 's3' };
    put(source, 'org', draft.org.trim());
    put(source, 'region', draft.region.trim());
    put(source, 'endpoint', draft.endpoint.trim());
    put(source, 'forcePathStyle', draft.forcePathStyle);
    source.weekly = { ...obj(source.weekly), bucket: draft.weeklyBucket.trim(), prefix: draft.weeklyPrefix.trim() };
    if (draft.eventsBucket.trim()) source.events = { ...obj(source.events), bucket: draft.eventsBucket.trim(), prefix: draft.eventsPrefix.trim() };
    else delete source.events;
    settings.source = source;
  } else {
    settings.source = { type: 'local', path: draft.localPath.trim() };
  }
  const targets = obj(settings.targets);
  const oldRel = obj(targets.relational);
  if (draft.relationalType === 'sqlite') {
    const rel: Obj = { type: 'sqlite' };
    put(rel, 'path', draft.sqlitePath.trim());
    targets.relational = rel;
  } else {
    const rel: Obj = oldRel.type === 'mariadb' ? { ...oldRel } : { type: 'mariadb' };
    put(rel, 'host', draft.dbHost.trim());
    put(rel, 'port', draft.dbPort.trim() === '' ? '' : /^\d+$/.test(draft.dbPort.trim()) ? Number(draft.dbPort.trim()) : draft.dbPort.trim());
    put(rel, 'user', draft.dbUser.trim());
    put(rel, 'database', draft.dbName.trim());
    targets.relational = rel;
  }
  const oldEv = obj(targets.events);
  if (draft.eventsType === 'sqlite') targets.events = { type: 'sqlite' };
  else {
    const ev: Obj = oldEv.type === 'mongodb' ? { ...oldEv } : { type: 'mongodb' };
    put(ev, 'database', draft.mongoDatabase.trim());
    targets.events = ev;
  }
  settings.targets = targets;
  return settings;
}

/** The write-only secret inputs the form shows for a draft, with their labels. */
export function secretFieldsFor(draft: Draft): { field: SecretField; label: string; help: string }[] {
  const out: { field: SecretField; label: string; help: string }[] = [];
  if (draft.sourceType === 's3') {
    out.push({ field: 'source.accessKeyId', label: 'S3 access key id', help: 'Leave both S3 keys unset to use the machine’s AWS profile or role.' });
    out.push({ field: 'source.secretAccessKey', label: 'S3 secret access key', help: 'Stored in a file only this user can read; the console never shows it again.' });
  }
  out.push({ field: 'key.passphrase', label: 'Key passphrase', help: 'Unlocks your private key; needed when the key is passphrase-protected.' });
  if (draft.relationalType === 'mariadb') out.push({ field: 'targets.relational.password', label: 'MariaDB password', help: 'The password of the database user above.' });
  if (draft.eventsType === 'mongodb') out.push({ field: 'targets.events.uri', label: 'MongoDB URI', help: 'mongodb://user:password@host:27017/ — kept as a secret because it may carry a password.' });
  return out;
}
