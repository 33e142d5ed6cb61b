/**
 * Turns AWS SDK and network errors of the S3 source into `SourceError`s.
 *
 * Errors are classified by the SDK's error `name`, HTTP status and Node error code, never by
 * message text, and reported without credentials: the SDK error (which can carry the access key
 * id and the string to sign) is not attached as `cause`, only its name, status and request id.
 */
import { SourceError } from '../../errors/index.js';

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
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);
/** Local file-system failures while writing the landing copy: retrying the download cannot help. */
export const DISK_CODES = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EISDIR', 'ENOTDIR', 'EMFILE']);

/** What was being done when an error happened, for the message and the remedy. */
export interface ClassifyContext {
  action: 'Listing' | 'Downloading';
  bucket: string;
  key: string;
  environment?: string;
  stage: 'plan' | 'fetch';
  /** The S3 endpoint as shown to the user (no credentials); AWS when omitted. */
  endpoint?: string;
  /** The configured wait for one request, in seconds (`timeouts.requestSeconds`). */
  requestSeconds?: number;
  /** When the request (with the SDK's retries) started, `Date.now()`. */
  startedAt?: number;
}

/**
 * The server accepted the request (or the connection) but did not answer in time: the SDK's
 * connection, request and socket time-outs (`TimeoutError`), the OS's `ETIMEDOUT`, or a download
 * that received no bytes for too long (`BodyStalledError`).
 */
export function isNotAnswering(error: unknown): boolean {
  return nameOf(error) === 'TimeoutError' || codeOf(error) === 'ETIMEDOUT' || error instanceof BodyStalledError;
}

/** A download received no bytes for `seconds`: the request is aborted and the download resumed. */
export class BodyStalledError extends Error {
  override readonly name = 'TimeoutError';
  constructor(readonly seconds: number) {
    super(`no bytes arrived for ${seconds} s`);
  }
}

/**
 * The failure of a source that stopped answering (`SOURCE_NOT_ANSWERING`, retryable): which
 * endpoint, for how long, what to check. `what` completes "The S3 server at … ", e.g. "did not
 * answer when listing s3://bucket/prefix"; `note` is a sentence added after the facts.
 */
export function notAnswering(context: ClassifyContext, what: string, cause?: unknown, note?: string): SourceError {
  const server = context.endpoint ? `The S3 server at ${context.endpoint}` : 'S3';
  const env = context.environment ? ` of environment "${context.environment}"` : '';
  const waited = context.startedAt === undefined ? undefined : Math.max(1, Math.round((Date.now() - context.startedAt) / 1000));
  const attempts = (cause as { $metadata?: { attempts?: unknown } } | undefined)?.$metadata?.attempts;
  const details: string[] = [];
  if (typeof attempts === 'number' && attempts > 1) details.push(`${attempts} attempts`);
  if (context.requestSeconds !== undefined) details.push(`each wait limited to ${context.requestSeconds} s by timeouts.requestSeconds${env}`);
  const how = waited === undefined ? '' : ` for ${waited} s`;
  const detail = details.length > 0 ? ` (${details.join('; ')})` : '';
  return new SourceError(`${server} ${what}${how}${detail}.${note ? ` ${note}` : ''}`, {
    code: 'SOURCE_NOT_ANSWERING',
    file: context.key,
    stage: context.stage,
    retryable: true,
    cause: cause === undefined ? undefined : sanitize(cause),
    hint: 'Check that the S3 endpoint is up and reachable from this machine (network, proxy, firewall).',
  });
}

/** Turns an SDK or network error into a `SourceError` by name, HTTP status and error code. */
export function classify(error: unknown, context: ClassifyContext): SourceError {
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
  if (isNotAnswering(error)) {
    return notAnswering(context, `did not answer when ${context.action === 'Listing' ? 'listing' : 'downloading'} ${where}`, error);
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

/** The object's ETag no longer matches the one listed (`If-Match` failed). */
export function isObjectChanged(error: unknown): boolean {
  return nameOf(error) === 'PreconditionFailed' || statusOf(error) === 412;
}

/**
 * Keeps what helps diagnose a failure (error name, HTTP status, request id, Node error code) and
 * drops the rest: SDK errors can hold the access key id, the canonical request and the string to
 * sign.
 */
export function sanitize(error: unknown): Error {
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

export function nameOf(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

export function statusOf(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The endpoint without any user:password part, for display. */
export function safeEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(custom endpoint)';
  }
}
