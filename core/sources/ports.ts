/**
 * Source port: where encrypted edX files come from (S3, a local folder).
 */

/** One object as listed by a source. */
export interface SourceObject {
  /** Key within the source (S3 key, or path relative to the local root). */
  key: string;
  /** Which configured location it came from (`weekly`, `events`, `email-opt-in`, `local`). */
  location: string;
  size: number;
  /** S3 ETag without quotes (an MD5 hex for single-part uploads), or a local fingerprint. */
  etag?: string;
  lastModified?: Date;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  /** Called with bytes written so far (including a resumed prefix). */
  onProgress?: (bytes: number) => void;
}

export interface ObjectSource {
  /** Human description without secrets, e.g. `s3://course-data (us-east-1)`. */
  describe(): string;
  /** Lists every object of every configured location. */
  list(signal?: AbortSignal): AsyncIterable<SourceObject>;
  /**
   * Copies the object to `destPath`, writing `destPath + '.part'` first and renaming when
   * complete and verified. Resumes an existing `.part` where the source supports ranges.
   */
  download(object: SourceObject, destPath: string, options?: DownloadOptions): Promise<void>;
  /**
   * For sources whose objects are already local files: the path to read in place, so the
   * pipeline skips the landing copy. Remote sources do not implement it.
   */
  pathOf?(object: SourceObject): string | undefined;
}
