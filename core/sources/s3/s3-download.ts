/**
 * Downloading one S3 object to the landing folder.
 *
 * Downloads go to `dest.part` and are renamed only once the size (and, where the ETag is an MD5,
 * the MD5 of the whole file) matched. An interrupted download resumes with a `Range` request
 * guarded by `If-Match: <etag>`, so the bytes appended always come from the same version of the
 * object as the bytes already on disk. Request-level retries (throttling, 5xx, network, time-outs)
 * are the SDK's; a body that breaks off or stalls mid-way (which the SDK does not retry) is resumed
 * here. A body that sends no bytes for `timeouts.requestSeconds` is aborted by a watchdog.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';

import { GetObjectCommand, HeadObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';

import { CancelledError, SourceError } from '../../errors/index.js';
import type { DownloadOptions, SourceObject } from '../ports.js';
import { BodyStalledError, classify, codeOf, DISK_CODES, isNotAnswering, isObjectChanged, nameOf, notAnswering, sanitize, type ClassifyContext } from './s3-errors.js';

/** Body-resume backoff: 0.5 s, 1 s, 2 s… capped, with jitter so parallel downloads spread out. */
const RESUME_BACKOFF_BASE_MS = 500;
const RESUME_BACKOFF_CAP_MS = 10_000;

/** What a download needs from its source. */
export interface DownloadSettings {
  client: S3Client;
  /** Attempts per interrupted body (resume); at least 1. */
  maxAttempts: number;
  /** A body sending no bytes for this long is aborted and resumed. */
  stallSeconds: number;
  /** For messages: the environment name, the endpoint as shown to users. */
  environment?: string;
  endpoint?: string;
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

/** The response body broke off (connection reset, stall): resume after a pause. */
class BodyInterrupted extends Error {
  constructor(override readonly cause: unknown) {
    super('the response body was interrupted');
  }
}

/** Downloads `object` from `bucket` to `destPath` (through `destPath.part`), resuming and verifying. */
export async function downloadObject(settings: DownloadSettings, bucket: string, object: SourceObject, destPath: string, options: DownloadOptions = {}): Promise<void> {
  const target: DownloadTarget = { bucket, object, part: `${destPath}.part`, marker: `${destPath}.part.etag` };
  await mkdir(dirname(destPath), { recursive: true });

  let restarted = false;
  let interruptions = 0;
  for (;;) {
    throwIfAborted(options.signal, object.key);
    try {
      await fetchOnce(settings, target, options);
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
      if (error instanceof BodyInterrupted && interruptions + 1 < settings.maxAttempts) {
        interruptions += 1;
        const delay = Math.min(RESUME_BACKOFF_CAP_MS, RESUME_BACKOFF_BASE_MS * 2 ** (interruptions - 1));
        await sleep(delay / 2 + Math.random() * (delay / 2), undefined, { signal: options.signal }).catch(() => undefined);
        continue;
      }
      if (error instanceof BodyInterrupted && isNotAnswering(error.cause)) {
        const context = contextOf(settings, target);
        const times = interruptions + 1 === 1 ? '' : ` ${interruptions + 1} times`;
        throw notAnswering(context, `stopped sending s3://${bucket}/${object.key}${times}`, error.cause, 'The partial copy is kept for the next run.');
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

function contextOf(settings: DownloadSettings, target: DownloadTarget): ClassifyContext {
  return {
    action: 'Downloading',
    bucket: target.bucket,
    key: target.object.key,
    environment: settings.environment,
    stage: 'fetch',
    endpoint: settings.endpoint,
    requestSeconds: settings.stallSeconds,
  };
}

/**
 * One attempt: resume or start the `.part`, append the rest of the object, verify. Throws
 * `RestartFromZero` when the existing prefix proves not to belong, `BodyInterrupted` when the
 * connection broke off or stalled mid-body, `SourceError` otherwise.
 */
async function fetchOnce(settings: DownloadSettings, target: DownloadTarget, options: DownloadOptions): Promise<void> {
  const { object, part, bucket } = target;
  const etag = object.etag;
  const start = await prepare(target);
  const context = contextOf(settings, target);

  let offset = start.offset;
  let response: GetObjectCommandOutput | undefined;
  let encryption: { ServerSideEncryption?: string; SSECustomerAlgorithm?: string };
  if (object.size > 0 && offset === object.size) {
    // Complete from an earlier run that stopped before the rename: only verification is left.
    encryption = await headEncryption(settings.client, target, { ...context, startedAt: Date.now() }, options.signal);
  } else {
    const startedAt = Date.now();
    try {
      response = await settings.client.send(
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
        throw new RestartFromZero(classify(error, { ...context, startedAt }));
      }
      throw classify(error, { ...context, startedAt });
    }
    encryption = response;
    if (offset > 0 && response.ContentRange === undefined) {
      // The server ignored the Range and sent the whole object: start the file over.
      await writeFile(part, new Uint8Array(), { mode: 0o600 });
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
    const body = bodyStream(response);
    // Watchdog: a server that stops sending mid-body (a hung host, a half-dead path) would
    // otherwise hold the download for ever; no bytes for `stallSeconds` aborts the request.
    const stallMs = settings.stallSeconds * 1000;
    let watchdog: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => body.destroy(new BodyStalledError(settings.stallSeconds)), stallMs);
    };
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        arm();
        hash?.update(chunk);
        written += chunk.length;
        options.onProgress?.(written);
        callback(null, chunk);
      },
    });
    arm();
    try {
      await pipeline(body, tap, createWriteStream(part, { flags: 'a', mode: 0o600 }), { signal: options.signal });
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
    } finally {
      clearTimeout(watchdog);
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
  await writeFile(part, new Uint8Array(), { mode: 0o600 });
  if (object.etag !== undefined) await writeFile(marker, `${object.etag}\n`);
  return { offset: 0, trusted: true };
}

async function headEncryption(
  client: S3Client,
  target: DownloadTarget,
  context: ClassifyContext,
  signal: AbortSignal | undefined,
): Promise<{ ServerSideEncryption?: string; SSECustomerAlgorithm?: string }> {
  const { bucket, object } = target;
  try {
    return await client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: object.key, IfMatch: object.etag === undefined ? undefined : `"${object.etag}"` }),
      { abortSignal: signal },
    );
  } catch (error) {
    throw isObjectChanged(error) ? new RestartFromZero(classify(error, context)) : classify(error, context);
  }
}

function sizeMismatch(object: SourceObject, size: number): SourceError {
  return new SourceError(`${object.key}: downloaded ${size} bytes but S3 listed ${object.size}; the copy was discarded.`, {
    code: 'S3_SIZE_MISMATCH',
    file: object.key,
    retryable: true,
    hint: 'Run again to download it afresh.',
  });
}

/** An ETag of 32 hex digits is the MD5 of the content; multipart ETags end in `-<parts>`. */
function isPlainMd5(etag: string | undefined): etag is string {
  return etag !== undefined && /^[0-9a-fA-F]{32}$/.test(etag);
}

/** With SSE-KMS or SSE-C, even a single-part object's ETag is not the MD5 of its content. */
function hasOpaqueEtag(headers: { ServerSideEncryption?: string; SSECustomerAlgorithm?: string }): boolean {
  return (headers.ServerSideEncryption?.startsWith('aws:kms') ?? false) || headers.SSECustomerAlgorithm !== undefined;
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

function throwIfAborted(signal: AbortSignal | undefined, file: string): void {
  if (signal?.aborted) throw new CancelledError(undefined, { stage: 'fetch', file });
}
