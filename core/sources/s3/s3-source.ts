/**
 * The `ObjectSource` port over Amazon S3 (or any S3-compatible server), where edX delivers its
 * files (docs/edx-formats.md §1: `s3://edx-course-data/{org}/...`, read with per-data-czar AWS keys).
 *
 * Listing pages through ListObjectsV2. Downloads go to `dest.part` and are renamed only once the
 * size (and, where the ETag is an MD5, the MD5 of the whole file) matched. An interrupted download
 * resumes with a `Range` request guarded by `If-Match: <etag>`, so the bytes appended always come
 * from the same version of the object as the bytes already on disk. Request-level retries
 * (throttling, 5xx, network) are the SDK's; a body that breaks off mid-way (which the SDK does
 * not retry) is resumed here.
 *
 * Errors are classified by the SDK's error `name`, HTTP status and Node error code, never by
 * message text, and reported without credentials: the SDK error (which can carry the access key
 * id and the string to sign) is not attached as `cause`, only its name, status and request id.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';

import { CancelledError, ConfigError, SourceError } from '../../errors/index.js';
import type { DownloadOptions, ObjectSource, SourceObject } from '../ports.js';

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
}

export interface S3SourceDeps {
  /** A ready client (tests add middleware to observe requests); built from the config otherwise. */
  client?: S3Client;
}

const DEFAULT_MAX_ATTEMPTS = 5;
/** Body-resume backoff: 0.5 s, 1 s, 2 s… capped, with jitter so parallel downloads spread out. */
const RESUME_BACKOFF_BASE_MS = 500;
const RESUME_BACKOFF_CAP_MS = 10_000;

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'Forbidden',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
  'AccountProblem',
  'InvalidClientTokenId',
]);
const WRONG_REGION = new Set(['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException']);
const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalError',
  'NetworkingError',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);
/** Local file-system failures while writing the landing copy: retrying the download cannot help. */
const DISK_CODES = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EISDIR', 'ENOTDIR', 'EMFILE']);

/** Builds the S3 client a source uses: adaptive retry (backs off on throttling) and `maxAttempts`. */
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
  const maxAttempts = Math.max(1, config.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
  const environment = config.environment;

  function describe(): string {
    const where = config.locations.map((location) => `s3://${location.bucket}/${location.prefix}`).join(', ');
    const via = config.endpoint ? ` via ${safeEndpoint(config.endpoint)}` : '';
    return `${where} (${config.region}${via})`;
  }

  async function* list(signal?: AbortSignal): AsyncIterable<SourceObject> {
    for (const location of config.locations) {
      let token: string | undefined;
      do {
        throwIfAborted(signal, 'plan');
        let page;
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
          throw classify(error, { action: 'Listing', bucket: location.bucket, key: location.prefix, environment, stage: 'plan' });
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
    const target: DownloadTarget = {
      bucket: location.bucket,
      object,
      part: `${destPath}.part`,
      marker: `${destPath}.part.etag`,
    };
    await mkdir(dirname(destPath), { recursive: true });

    let restarted = false;
    let interruptions = 0;
    for (;;) {
      throwIfAborted(options.signal, 'fetch', object.key);
      try {
        await fetchOnce(target, options);
        await rename(target.part, destPath);
        await rm(target.marker, { force: true });
        return;
      } catch (error) {
        if (error instanceof RestartFromZero && !restarted) {
          // The bytes already on disk do not belong to this object (version): start over, once.
          restarted = true;
          await discard(target);
          continue;
        }
        if (error instanceof RestartFromZero) {
          await discard(target);
          throw error.failure;
        }
        if (options.signal?.aborted) {
          // Keep the `.part`: the next run resumes from it.
          throw new CancelledError(undefined, { stage: 'fetch', file: object.key });
        }
        if (error instanceof BodyInterrupted && interruptions + 1 < maxAttempts) {
          interruptions += 1;
          const delay = Math.min(RESUME_BACKOFF_CAP_MS, RESUME_BACKOFF_BASE_MS * 2 ** (interruptions - 1));
          await sleep(delay / 2 + Math.random() * (delay / 2), undefined, { signal: options.signal }).catch(() => undefined);
          continue;
        }
        if (error instanceof BodyInterrupted) {
          throw new SourceError(`Downloading ${object.key} broke off ${interruptions + 1} times; the partial copy is kept for the next run.`, {
            code: 'S3_UNREACHABLE',
            file: object.key,
            retryable: true,
            cause: sanitize(error.cause),
            hint: 'Check the network connection; the download resumes where it stopped.',
          });
        }
        throw error;
      }
    }
  }

  /**
   * One attempt: resume or start the `.part`, append the rest of the object, verify. Throws
   * `RestartFromZero` when the existing prefix proves not to belong, `BodyInterrupted` when the
   * connection broke off mid-body, `SourceError` otherwise.
   */
  async function fetchOnce(target: DownloadTarget, options: DownloadOptions): Promise<void> {
    const { object, part, bucket } = target;
    const etag = object.etag;
    const start = await prepare(target);
    const context: ClassifyContext = { action: 'Downloading', bucket, key: object.key, environment, stage: 'fetch' };

    let offset = start.offset;
    let response: GetObjectCommandOutput | undefined;
    let encryption: { ServerSideEncryption?: string; SSECustomerAlgorithm?: string };
    if (object.size > 0 && offset === object.size) {
      // Complete from an earlier run that stopped before the rename: only verification is left.
      encryption = await headEncryption(bucket, object.key, etag, context, options.signal);
    } else {
      try {
        response = await client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: object.key,
            Range: offset > 0 ? `bytes=${offset}-` : undefined,
            IfMatch: etag === undefined ? undefined : `"${etag}"`,
          }),
          { abortSignal: options.signal },
        );
      } catch (error) {
        if (isObjectChanged(error)) await discard(target);
        if (offset > 0 && nameOf(error) === 'InvalidRange') {
          throw new RestartFromZero(classify(error, context));
        }
        throw classify(error, context);
      }
      encryption = response;
      if (offset > 0 && response.ContentRange === undefined) {
        // The server ignored the Range and sent the whole object: start the file over.
        await writeFile(part, new Uint8Array());
        offset = 0;
      }
    }

    const verifyMd5 = isPlainMd5(etag) && !hasOpaqueEtag(encryption);
    if (start.offset > 0 && !start.trusted && !verifyMd5) {
      // Resumed on the ETag alone, but this ETag cannot confirm the prefix after all (SSE-KMS).
      throw new RestartFromZero(
        new SourceError(`${object.key}: a partial copy of unknown origin could not be verified.`, {
          code: 'S3_CHECKSUM_MISMATCH',
          file: object.key,
          retryable: true,
        }),
      );
    }
    const hash = verifyMd5 ? createHash('md5') : undefined;
    if (hash && offset > 0) await hashPrefix(part, offset, hash);

    if (response !== undefined) {
      let written = offset;
      options.onProgress?.(written);
      const tap = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash?.update(chunk);
          written += chunk.length;
          options.onProgress?.(written);
          callback(null, chunk);
        },
      });
      try {
        await pipeline(bodyStream(response), tap, createWriteStream(part, { flags: 'a' }), { signal: options.signal });
      } catch (error) {
        if (options.signal?.aborted) throw error;
        if (DISK_CODES.has(codeOf(error) ?? '')) {
          throw new SourceError(`Writing ${part} failed (${codeOf(error)}).`, {
            code: 'LANDING_WRITE_FAILED',
            file: object.key,
            cause: error,
            hint: 'Check free space and permissions of the landing folder.',
          });
        }
        throw new BodyInterrupted(error);
      }
    } else {
      options.onProgress?.(offset);
    }

    const size = (await stat(part)).size;
    if (size !== object.size) {
      const failure = sizeMismatch(object, size);
      if (start.offset > 0) throw new RestartFromZero(failure);
      await discard(target);
      throw failure;
    }
    if (hash && etag !== undefined) {
      const md5 = hash.digest('hex');
      if (md5 !== etag.toLowerCase()) {
        const failure = new SourceError(
          `${object.key}: the downloaded file's MD5 does not match the S3 ETag; the copy is damaged and was discarded.`,
          { code: 'S3_CHECKSUM_MISMATCH', file: object.key, retryable: true, hint: 'Run again to download it afresh.' },
        );
        if (start.offset > 0) throw new RestartFromZero(failure);
        await discard(target);
        throw failure;
      }
    }
  }

  /**
   * Decides whether an existing `.part` can be resumed: it must be shorter than the object and
   * either carry our marker naming the same ETag (we started it for this very version) or, without
   * a marker, the ETag must be an MD5 that will verify the whole file at the end.
   */
  async function prepare(target: DownloadTarget): Promise<{ offset: number; trusted: boolean }> {
    const { part, marker, object } = target;
    const offset = await sizeOf(part);
    const stored = await readFile(marker, 'utf8').then(
      (text) => text.trim(),
      () => undefined,
    );
    const trusted = stored !== undefined && stored === object.etag;
    const resumable =
      offset > 0 && offset <= object.size && object.etag !== undefined && (trusted || (stored === undefined && isPlainMd5(object.etag)));
    if (resumable) return { offset, trusted };
    await discard(target);
    await writeFile(part, new Uint8Array());
    if (object.etag !== undefined) await writeFile(marker, `${object.etag}\n`);
    return { offset: 0, trusted: true };
  }

  async function headEncryption(
    bucket: string,
    key: string,
    etag: string | undefined,
    context: ClassifyContext,
    signal: AbortSignal | undefined,
  ): Promise<{ ServerSideEncryption?: string; SSECustomerAlgorithm?: string }> {
    try {
      return await client.send(
        new HeadObjectCommand({ Bucket: bucket, Key: key, IfMatch: etag === undefined ? undefined : `"${etag}"` }),
        { abortSignal: signal },
      );
    } catch (error) {
      throw isObjectChanged(error) ? new RestartFromZero(classify(error, context)) : classify(error, context);
    }
  }

  return { describe, list, download };
}

interface DownloadTarget {
  bucket: string;
  object: SourceObject;
  part: string;
  /** Holds the ETag the `.part` was started for, so a resume never mixes two versions. */
  marker: string;
}

/** The existing `.part` must be thrown away; carries the error to report if that happens twice. */
class RestartFromZero extends Error {
  constructor(readonly failure: SourceError) {
    super(failure.message);
  }
}

/** The response body broke off (connection reset, timeout): resume after a pause. */
class BodyInterrupted extends Error {
  constructor(override readonly cause: unknown) {
    super('the response body was interrupted');
  }
}

interface ClassifyContext {
  action: 'Listing' | 'Downloading';
  bucket: string;
  key: string;
  environment?: string;
  stage: 'plan' | 'fetch';
}

/** Turns an SDK or network error into a `SourceError` by name, HTTP status and error code. */
function classify(error: unknown, context: ClassifyContext): SourceError {
  const name = nameOf(error);
  const status = statusOf(error);
  const code = codeOf(error);
  const where = `s3://${context.bucket}/${context.key}`;
  const env = context.environment ? ` of environment "${context.environment}"` : '';
  const cause = sanitize(error);
  const base = { file: context.key, stage: context.stage, cause } as const;

  if (name === 'CredentialsProviderError') {
    return new SourceError(`${context.action} ${where} needs AWS credentials, and none are configured${env}.`, {
      ...base,
      code: 'S3_ACCESS_DENIED',
      hint: `Set the AWS access key and secret key${env}.`,
    });
  }
  if (ACCESS_DENIED.has(name ?? '') || status === 403) {
    return new SourceError(`${context.action} ${where} was refused by S3 (${name ?? `HTTP ${status}`}).`, {
      ...base,
      code: 'S3_ACCESS_DENIED',
      hint: `Check the AWS keys${env}: the access key, the secret key, and that edX granted them access to this bucket and prefix.`,
    });
  }
  if (name === 'NoSuchBucket') {
    return new SourceError(`The bucket ${context.bucket} does not exist.`, {
      ...base,
      code: 'S3_NO_SUCH_BUCKET',
      hint: `Check the bucket name${env} (edX delivers to edx-course-data).`,
    });
  }
  if (WRONG_REGION.has(name ?? '') || status === 301) {
    return new SourceError(`The bucket ${context.bucket} is not in the configured region (${name ?? `HTTP ${status}`}).`, {
      ...base,
      code: 'S3_WRONG_REGION',
      hint: `Set the region${env} to the bucket's region.`,
    });
  }
  if (name === 'NoSuchKey' || (name === 'NotFound' && context.action === 'Downloading')) {
    return new SourceError(`${where} no longer exists.`, {
      ...base,
      code: 'S3_NO_SUCH_KEY',
      hint: 'It was removed after it was listed; the next run will not plan it again.',
    });
  }
  if (isObjectChanged(error)) {
    return new SourceError(`${where} changed after it was listed (its ETag differs); the partial copy was discarded.`, {
      ...base,
      code: 'S3_OBJECT_CHANGED',
      retryable: true,
      hint: 'Run again: the new version will be planned and fetched.',
    });
  }
  if (TRANSIENT_NAMES.has(name ?? '') || NETWORK_CODES.has(code ?? '') || (status !== undefined && status >= 500)) {
    return new SourceError(`${context.action} ${where} failed: S3 could not be reached (${name ?? code ?? `HTTP ${status}`}).`, {
      ...base,
      code: 'S3_UNREACHABLE',
      retryable: true,
      hint: 'Check the network connection and the endpoint; the run can be repeated safely.',
    });
  }
  return new SourceError(`${context.action} ${where} failed (${name ?? code ?? 'unknown error'}${status ? `, HTTP ${status}` : ''}).`, {
    ...base,
    code: 'S3_REQUEST_FAILED',
  });
}

function isObjectChanged(error: unknown): boolean {
  return nameOf(error) === 'PreconditionFailed' || statusOf(error) === 412;
}

function sizeMismatch(object: SourceObject, size: number): SourceError {
  return new SourceError(`${object.key}: downloaded ${size} bytes but S3 listed ${object.size}; the copy was discarded.`, {
    code: 'S3_SIZE_MISMATCH',
    file: object.key,
    retryable: true,
    hint: 'Run again to download it afresh.',
  });
}

/**
 * Keeps what helps diagnose a failure (error name, HTTP status, request id, Node error code) and
 * drops the rest: SDK errors can hold the access key id, the canonical request and the string to
 * sign.
 */
function sanitize(error: unknown): Error {
  const name = nameOf(error) ?? 'Error';
  const status = statusOf(error);
  const code = codeOf(error);
  const requestId = (error as { $metadata?: { requestId?: string } } | undefined)?.$metadata?.requestId;
  const parts = [name];
  if (status !== undefined) parts.push(`HTTP ${status}`);
  if (code !== undefined && code !== name) parts.push(code);
  if (requestId) parts.push(`request id ${requestId}`);
  const summary = new Error(parts.join(', '));
  summary.name = 'S3Failure';
  return summary;
}

function nameOf(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** An ETag of 32 hex digits is the MD5 of the content; multipart ETags end in `-<parts>`. */
function isPlainMd5(etag: string | undefined): etag is string {
  return etag !== undefined && /^[0-9a-fA-F]{32}$/.test(etag);
}

/** With SSE-KMS or SSE-C, even a single-part object's ETag is not the MD5 of its content. */
function hasOpaqueEtag(headers: { ServerSideEncryption?: string; SSECustomerAlgorithm?: string }): boolean {
  return (headers.ServerSideEncryption?.startsWith('aws:kms') ?? false) || headers.SSECustomerAlgorithm !== undefined;
}

function unquote(etag: string | undefined): string | undefined {
  return etag?.replace(/^"|"$/g, '');
}

function bodyStream(response: GetObjectCommandOutput): Readable {
  const body = response.Body;
  if (body instanceof Readable) return body;
  if (body === undefined) return Readable.from([]);
  return Readable.fromWeb(body.transformToWebStream() as NodeReadableStream<Uint8Array>);
}

async function hashPrefix(path: string, length: number, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path, { start: 0, end: length - 1, highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function discard(target: DownloadTarget): Promise<void> {
  await rm(target.part, { force: true });
  await rm(target.marker, { force: true });
}

/** The endpoint without any user:password part, for display. */
function safeEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(custom endpoint)';
  }
}

function throwIfAborted(signal: AbortSignal | undefined, stage: 'plan' | 'fetch', file?: string): void {
  if (signal?.aborted) throw new CancelledError(undefined, { stage, file });
}
