/**
 * An environment's S3 source settings turned into what the S3 source needs: the three locations
 * edX delivers to (weekly packages, email opt-in packages, daily tracking logs) with edX's
 * defaults, each keeping only the org's files, and the resolved credentials.
 */
import { recognizeFileName } from '../domain/file-names.js';
import type { FileKind } from '../domain/files.js';
import { ConfigError } from '../errors/index.js';
import type { S3Location, S3SourceConfig } from '../sources/s3/s3-source.js';
import type { EnvironmentConfig, Timeouts } from './config-schema.js';
import { resolveSecret } from './config-store.js';

/** The `source` of an environment that reads S3. */
export type S3SourceSettings = Extract<EnvironmentConfig['source'], { type: 's3' }>;

/** Bucket edX delivers daily tracking logs to, unless the environment names another. */
const DEFAULT_EVENTS_BUCKET = 'edx-course-data';

/** The bucket and prefix of each location (edX's defaults filled in). */
function placesOf(settings: S3SourceSettings): Record<'weekly' | 'email-opt-in' | 'events', { bucket: string; prefix: string }> {
  const org = settings.org.toLowerCase();
  return {
    weekly: { bucket: settings.weekly.bucket, prefix: settings.weekly.prefix },
    'email-opt-in': {
      bucket: settings.emailOptIn?.bucket ?? settings.weekly.bucket,
      prefix: settings.emailOptIn?.prefix ?? `${settings.weekly.prefix}email-opt-in/`,
    },
    events: { bucket: settings.events?.bucket ?? DEFAULT_EVENTS_BUCKET, prefix: settings.events?.prefix ?? `${org}/` },
  };
}

/** Where the environment's files are, each location keeping only the org's files of its kind (and, for logs, its sites). */
export function s3LocationsFor(settings: S3SourceSettings): S3Location[] {
  const org = settings.org.toLowerCase();
  const sites = new Set<string>(settings.sites);
  const places = placesOf(settings);
  const orgFile = (key: string, kind: FileKind): ReturnType<typeof recognizeFileName> | undefined => {
    const f = recognizeFileName(key);
    return f.kind === kind && (f.org ?? '').toLowerCase() === org ? f : undefined;
  };
  return [
    { name: 'weekly', ...places.weekly, match: (key) => orgFile(key, 'weekly-package') !== undefined },
    { name: 'email-opt-in', ...places['email-opt-in'], match: (key) => orgFile(key, 'email-opt-in-package') !== undefined },
    {
      name: 'events',
      ...places.events,
      match: (key) => {
        const f = orgFile(key, 'event-log');
        return f !== undefined && sites.has(f.site ?? 'edx');
      },
    },
  ];
}

/** One line naming where the environment reads, e.g. `s3://course-data/ + s3://edx-course-data/mitx/ (us-east-1)`. */
export function describeS3Source(settings: S3SourceSettings): string {
  const { weekly, events } = placesOf(settings);
  return `s3://${weekly.bucket}/${weekly.prefix} + s3://${events.bucket}/${events.prefix} (${settings.region})`;
}

/**
 * Everything `createS3Source` needs for environment `env`: locations, endpoint and the
 * credentials, resolved from their secret references (none: the AWS default credentials).
 */
export async function s3SourceConfigFor(env: string, settings: S3SourceSettings, home: string, timeouts: Timeouts): Promise<S3SourceConfig> {
  const base = `environments.${env}.source`;
  let credentials: S3SourceConfig['credentials'];
  if (settings.accessKeyId || settings.secretAccessKey) {
    if (!settings.accessKeyId || !settings.secretAccessKey) {
      throw new ConfigError(`${base}: set both accessKeyId and secretAccessKey, or neither (to use the AWS default credentials).`, { code: 'CONFIG_INVALID', path: base });
    }
    credentials = {
      accessKeyId: await resolveSecret(settings.accessKeyId, home, `${base}.accessKeyId`),
      secretAccessKey: await resolveSecret(settings.secretAccessKey, home, `${base}.secretAccessKey`),
    };
  }
  return {
    environment: env,
    timeouts,
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle ?? Boolean(settings.endpoint),
    credentials,
    locations: s3LocationsFor(settings),
  };
}
