/**
 * Gunzip for the daily tracking logs (`.log.gz` after decryption, docs/edx-formats.md §2).
 */
import { createGunzip, type Gunzip } from 'node:zlib';
import { ParseError } from '../errors/index.js';

/** docs/architecture.md §6: 52 MB/s with 256 KiB output chunks against 27 MB/s with the 16 KiB default. */
export const GUNZIP_CHUNK_SIZE = 256 * 1024;

/** True when the bytes start with the gzip signature `1f 8b` (RFC 1952). */
export function hasGzipSignature(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** What the name promised, for the messages below. */
export type PackedAs = 'gzip' | 'tar.gz';

/**
 * The error for content whose name ends in `.gz` (or `.tar.gz`) but which does not start with the
 * gzip signature: `NOT_GZIP` (`NOT_TAR_GZ` for an OLX export); an empty file or one that stops
 * inside the signature is `GZIP_TRUNCATED`. Such content is never read as plain text.
 *
 * @param name the file name as delivered (`….log.gz.gpg`); `key` is its ledger key.
 */
export function notGzipError(head: Uint8Array, options: { name: string; key: string; encrypted: boolean; packedAs?: PackedAs }): ParseError {
  const packedAs = options.packedAs ?? 'gzip';
  const content = options.encrypted ? 'its decrypted content' : 'its content';
  if (head.length === 0 || (head.length === 1 && head[0] === 0x1f)) {
    return new ParseError(`${options.name}: ${content} ends after ${head.length} byte(s), before the gzip header; the file is truncated.`, {
      code: 'GZIP_TRUNCATED',
      stage: 'decode',
      file: options.key,
      hint: 'Fetch the file again. If the copy at the source is also short, ask edX to send it again.',
    });
  }
  return new ParseError(`${options.name} is named .${packedAs === 'gzip' ? 'gz' : 'tar.gz'} but ${content} is not gzip data (it does not start with the gzip signature 1f 8b).`, {
    code: packedAs === 'gzip' ? 'NOT_GZIP' : 'NOT_TAR_GZ',
    stage: 'decode',
    file: options.key,
    hint:
      packedAs === 'gzip'
        ? 'Fetch the file again; if the copy at the source is the same, report it to edX. A daily log already decompressed by hand must be named .log, not .log.gz.'
        : 'Fetch the file again; if the copy at the source is the same, report it to edX.',
  });
}

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
    hint: 'Fetch the file again; if it fails again, the copy at the source is damaged: report it to edX.',
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
