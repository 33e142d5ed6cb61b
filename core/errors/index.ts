/**
 * The error tree (docs/architecture.md §4). One shallow hierarchy: every error the engine raises is a
 * `PdsError` with a stable `code`, the pipeline `stage` it belongs to, whether retrying may help,
 * and an optional `cause`. Messages name the file, line and remedy; they never carry learner data,
 * passphrases or credentials.
 *
 * This folder uses no Node API: the renderer may import it.
 */

export const STAGES = ['config', 'plan', 'fetch', 'decrypt', 'decode', 'parse', 'load', 'record'] as const;
export type Stage = (typeof STAGES)[number];

export interface PdsErrorOptions {
  code: string;
  stage: Stage;
  retryable?: boolean;
  cause?: unknown;
  /** Where it happened: the file (ledger key or path), line, column, database code. */
  file?: string;
  line?: number;
  hint?: string;
}

export class PdsError extends Error {
  readonly code: string;
  readonly stage: Stage;
  readonly retryable: boolean;
  readonly file?: string;
  readonly line?: number;
  /** What the user can do about it. */
  readonly hint?: string;

  constructor(message: string, options: PdsErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.stage = options.stage;
    this.retryable = options.retryable ?? false;
    this.file = options.file;
    this.line = options.line;
    this.hint = options.hint;
  }
}

type SubOptions = Omit<PdsErrorOptions, 'stage'> & { stage?: Stage };

/** The configuration is wrong: the run cannot start. */
export class ConfigError extends PdsError {
  /** Dotted path of the offending field, e.g. `environments.live.source.bucket`. */
  readonly path?: string;
  constructor(message: string, options: SubOptions & { path?: string }) {
    super(message, { ...options, stage: options.stage ?? 'config' });
    this.path = options.path;
  }
}

/** Listing or reading the source failed (S3 or a local folder). */
export class SourceError extends PdsError {
  constructor(message: string, options: SubOptions) {
    super(message, { ...options, stage: options.stage ?? 'fetch' });
  }
}

/** OpenPGP decryption failed: wrong key, wrong passphrase, corrupt or tampered data. */
export class DecryptError extends PdsError {
  constructor(message: string, options: SubOptions) {
    super(message, { ...options, stage: options.stage ?? 'decrypt' });
  }
}

/** The content could not be decoded or parsed (gzip, zip, TSV, JSON). */
export class ParseError extends PdsError {
  constructor(message: string, options: SubOptions) {
    super(message, { ...options, stage: options.stage ?? 'parse' });
  }
}

/** Writing to a store failed. */
export class LoadError extends PdsError {
  /** Driver error code (e.g. `ER_ACCESS_DENIED_ERROR`, `SQLITE_FULL`, MongoDB code 13). */
  readonly dbCode?: string | number;
  /** 1-based batch index within the file, where known. */
  readonly batch?: number;
  constructor(message: string, options: SubOptions & { dbCode?: string | number; batch?: number }) {
    super(message, { ...options, stage: options.stage ?? 'load' });
    this.dbCode = options.dbCode;
    this.batch = options.batch;
  }
}

/** The run was cancelled (signal, user request). */
export class CancelledError extends PdsError {
  constructor(message = 'The run was cancelled.', options: Partial<SubOptions> = {}) {
    super(message, { code: 'CANCELLED', ...options, stage: options.stage ?? 'plan', retryable: true });
  }
}

/** A plain object that can cross IPC/HTTP; the envelope's error half. */
export interface SerializedError {
  name: string;
  code: string;
  stage: Stage;
  message: string;
  retryable: boolean;
  file?: string;
  line?: number;
  hint?: string;
}

/** Turns anything thrown into a `SerializedError` without leaking non-PdsError detail. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof PdsError) {
    return {
      name: error.name,
      code: error.code,
      stage: error.stage,
      message: error.message,
      retryable: error.retryable,
      file: error.file,
      line: error.line,
      hint: error.hint,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { name: 'Error', code: 'INTERNAL', stage: 'plan', message, retryable: false };
}

/** True when `error` is a `PdsError` with one of the given codes. */
export function hasCode(error: unknown, ...codes: string[]): error is PdsError {
  return error instanceof PdsError && codes.includes(error.code);
}
