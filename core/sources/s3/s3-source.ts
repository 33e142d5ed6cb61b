/**
 * The `ObjectSource` port over Amazon S3 (or any S3-compatible server), where edX delivers its
 * files (docs/edx-formats.md §1: `s3://edx-course-data/{org}/...`, read with per-data-czar AWS keys):
 * the client, the listing, and the wiring of the download (`s3-download.ts`) and of the error
 * classification (`s3-errors.ts`).
 *
 * Listing pages through ListObjectsV2. Every request has a bounded wait (README "Timeouts"):
 * opening the connection (`timeouts.connectSeconds`), the answer to a request and any silence of
 * the socket (`timeouts.requestSeconds`). The SDK retries a request that timed out, was throttled
 * or failed on the network, up to `maxAttempts`; then the listing fails with its own code
 * (`SOURCE_NOT_ANSWERING` for a server that stopped answering).
 */
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

import { CancelledError, ConfigError, SourceError } from '../../errors/index.js';
import type { DownloadOptions, ObjectSource, SourceObject } from '../ports.js';
import { downloadObject, type DownloadSettings } from './s3-download.js';
import { classify, safeEndpoint } from './s3-errors.js';

/** One place to list: a bucket and key prefix, named after what it holds (`weekly`, `events`…). */
export interface S3Location {
  name: string;
  bucket: string;
  prefix: string;
  /** Keeps only the keys it returns true for (applied after listing). */
  match?: (key: string) => boolean;
}

export interface S3SourceConfig {
  region: string;
  /** Custom endpoint (MinIO, a VPC endpoint); the AWS endpoint of `region` when omitted. */
  endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`), needed by most S3-compatible servers. */
  forcePathStyle?: boolean;
  /** Static keys; the SDK's default chain (environment, profile, instance role) when omitted. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  locations: S3Location[];
  /** Attempts per request (SDK retry) and per interrupted body (resume); default 5. */
  maxAttempts?: number;
  /** Keys per ListObjectsV2 page (S3's maximum, 1000, when omitted). */
  pageSize?: number;
  /** Environment name used in remedies ("check the AWS keys of environment live"). */
  environment?: string;
  /**
   * Bounded waits, in seconds (`timeouts` of the environment): opening a connection, and one
   * request or a download's silence. Defaults 15 and 30.
   */
  timeouts?: { connectSeconds?: number; requestSeconds?: number };
}

export interface S3SourceDeps {
  /** A ready client (tests add middleware to observe requests); built from the config otherwise. */
  client?: S3Client;
}

const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_CONNECT_SECONDS = 15;
const DEFAULT_REQUEST_SECONDS = 30;

/**
 * Builds the S3 client a source uses: adaptive retry (backs off on throttling), `maxAttempts`, and
 * bounded waits: the connection, the answer to a request (an error, not only a warning) and any
 * silence of the socket, including mid-body.
 */
export function createS3Client(config: S3SourceConfig): S3Client {
  // On Node 20 the SDK prints a seven-line `NodeVersionSupportWarning` on stderr when its first client
  // is built: its releases after January 2027 will need Node 22. pds supports Node 20.19+ with the SDK
  // version the lock file pins, so a user has nothing to act on. The SDK's own opt-out silences exactly
  // that warning (it reads the variable when the client is built); a value the user set is kept.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    credentials: config.credentials,
    maxAttempts: config.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    retryMode: 'adaptive',
    requestHandler: {
      connectionTimeout: connectSecondsOf(config) * 1000,
      requestTimeout: requestSecondsOf(config) * 1000,
      throwOnRequestTimeout: true,
      socketTimeout: requestSecondsOf(config) * 1000,
    },
  });
}

/**
 * Creates a source over the configured S3 locations. Throws `ConfigError` when two locations share
 * a name (downloads find their bucket by location name).
 */
export function createS3Source(config: S3SourceConfig, deps: S3SourceDeps = {}): ObjectSource {
  const buckets = new Map<string, S3Location>();
  for (const location of config.locations) {
    if (buckets.has(location.name)) {
      throw new ConfigError(`Two S3 locations are named "${location.name}".`, { code: 'S3_DUPLICATE_LOCATION' });
    }
    buckets.set(location.name, location);
  }
  const client = deps.client ?? createS3Client(config);
  const environment = config.environment;
  const endpoint = config.endpoint ? safeEndpoint(config.endpoint) : undefined;
  const requestSeconds = requestSecondsOf(config);
  const settings: DownloadSettings = {
    client,
    maxAttempts: Math.max(1, config.maxAttempts ?? DEFAULT_MAX_ATTEMPTS),
    stallSeconds: requestSeconds,
    environment,
    endpoint,
  };

  function describe(): string {
    const where = config.locations.map((location) => `s3://${location.bucket}/${location.prefix}`).join(', ');
    const via = endpoint ? ` via ${endpoint}` : '';
    return `${where} (${config.region}${via})`;
  }

  async function* list(signal?: AbortSignal): AsyncIterable<SourceObject> {
    for (const location of config.locations) {
      let token: string | undefined;
      do {
        throwIfAborted(signal);
        let page;
        const startedAt = Date.now();
        try {
          page = await client.send(
            new ListObjectsV2Command({
              Bucket: location.bucket,
              Prefix: location.prefix || undefined,
              ContinuationToken: token,
              MaxKeys: config.pageSize,
            }),
            { abortSignal: signal },
          );
        } catch (error) {
          if (signal?.aborted) throw new CancelledError(undefined, { stage: 'plan' });
          throw classify(error, { action: 'Listing', bucket: location.bucket, key: location.prefix, environment, stage: 'plan', endpoint, requestSeconds, startedAt });
        }
        for (const entry of page.Contents ?? []) {
          const key = entry.Key;
          // Keys ending in "/" are folder markers made by the S3 console, not files.
          if (key === undefined || key.endsWith('/')) continue;
          if (location.match && !location.match(key)) continue;
          yield {
            key,
            location: location.name,
            size: entry.Size ?? 0,
            etag: unquote(entry.ETag),
            lastModified: entry.LastModified,
          };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    }
  }

  async function download(object: SourceObject, destPath: string, options: DownloadOptions = {}): Promise<void> {
    const location = buckets.get(object.location);
    if (location === undefined) {
      throw new SourceError(`${object.key} comes from location "${object.location}", which this S3 source does not have.`, {
        code: 'S3_UNKNOWN_LOCATION',
        file: object.key,
      });
    }
    await downloadObject(settings, location.bucket, object, destPath, options);
  }

  return { describe, list, download };
}

function connectSecondsOf(config: S3SourceConfig): number {
  return config.timeouts?.connectSeconds ?? DEFAULT_CONNECT_SECONDS;
}

function requestSecondsOf(config: S3SourceConfig): number {
  return config.timeouts?.requestSeconds ?? DEFAULT_REQUEST_SECONDS;
}

function unquote(etag: string | undefined): string | undefined {
  return etag?.replace(/^"|"$/g, '');
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError(undefined, { stage: 'plan' });
}
