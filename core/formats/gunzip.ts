/**
 * Gunzip for the daily tracking logs (`.log.gz` after decryption, docs/edx-formats.md §2).
 */
import { createGunzip, type Gunzip } from 'node:zlib';
import { ParseError } from '../errors/index.js';

/** docs/architecture.md §6: 52 MB/s with 256 KiB output chunks against 27 MB/s with the 16 KiB default. */
export const GUNZIP_CHUNK_SIZE = 256 * 1024;

export interface GunzipOptions {
  /** File name for error messages. */
  fileName?: string;
}

/** Turns a zlib error into a ParseError with a stable code; other errors pass through. */
export function gzipError(error: unknown, fileName?: string): unknown {
  if (error instanceof ParseError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('Z_')) return error;
  const file = fileName ?? 'The file';
  // zlib reports a stream that stops before the gzip trailer as Z_BUF_ERROR
  // "unexpected end of file": the download or the decrypted data is incomplete.
  if (code === 'Z_BUF_ERROR') {
    return new ParseError(`${file}: the gzip data ends early (unexpected end of file); the file is truncated.`, {
      code: 'GZIP_TRUNCATED',
      stage: 'decode',
      file: fileName,
      cause: error,
      hint: 'Fetch the file again. If the copy at the source is also short, ask edX to re-export that day.',
    });
  }
  const detail = error instanceof Error ? ` (${error.message})` : '';
  return new ParseError(`${file}: the data is not valid gzip${detail}.`, {
    code: 'GZIP_CORRUPT',
    stage: 'decode',
    file: fileName,
    cause: error,
    hint: 'Fetch the file again; if it persists, the file at the source is damaged or is not gzip-compressed.',
  });
}

/**
 * A gunzip transform (`chunkSize` 256 KiB) whose errors are ParseErrors: `GZIP_TRUNCATED` when
 * the input stops early, `GZIP_CORRUPT` when it is not gzip or is damaged. Concatenated gzip
 * members are read as one stream, as gzip(1) does.
 */
export function gunzipStream(options: GunzipOptions = {}): Gunzip {
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_SIZE });
  // zlib reports failures through destroy(err); mapping the error there means every consumer
  // (pipeline(), for await, 'error' listeners) sees the ParseError.
  const destroyImpl = gunzip._destroy.bind(gunzip);
  gunzip._destroy = (error: Error | null, callback: (error?: Error | null) => void): void => {
    destroyImpl(error, (err?: Error | null) => callback(err == null ? err : (gzipError(err, options.fileName) as Error)));
  };
  return gunzip;
}
