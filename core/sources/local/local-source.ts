/**
 * The `ObjectSource` port over the local file system: `pds load FILE...` (files handed over by
 * hand) and environments whose source is a folder (a mounted share, a copy of the S3 bucket made
 * with `aws s3 sync`).
 *
 * Change detection ("etag"): `<size>-<mtime in ms>`, not a content hash. The planner compares key,
 * size and etag on every run (docs/architecture.md §3), and a folder can hold a year of daily logs: several GB
 * (docs/edx-formats.md §7). Hashing them all on each run would read every byte to learn nothing; a stat
 * costs nothing. The fingerprint changes whenever a file is rewritten; the only false positive, a
 * file touched or copied without change, costs a reload, which is harmless because loads are
 * idempotent (events keyed by line hash, snapshots replaced).
 */
import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { CancelledError, ConfigError, SourceError } from '../../errors/index.js';
import type { DownloadOptions, ObjectSource, SourceObject } from '../ports.js';

export interface LocalSourceConfig {
  /** A folder: every file below it, recursively, keyed by its path relative to the folder. */
  root?: string;
  /** Individual files, keyed by file name (edX file names are unique: docs/edx-formats.md §1). */
  files?: string[];
}

/** Location name of every object a local source lists. */
export const LOCAL_LOCATION = 'local';

/**
 * Creates a source over a folder (`root`) and/or individual `files`. Throws `ConfigError`
 * `LOCAL_DUPLICATE_NAME` when two given files share a file name (they would share a ledger key).
 */
export function createLocalSource(config: LocalSourceConfig): ObjectSource {
  const root = config.root === undefined ? undefined : resolve(config.root);
  const files = new Map<string, string>();
  for (const file of config.files ?? []) {
    const path = resolve(file);
    const key = basename(path);
    const existing = files.get(key);
    if (existing !== undefined && existing !== path) {
      throw new ConfigError(`${existing} and ${path} have the same file name; load them in separate runs.`, {
        code: 'LOCAL_DUPLICATE_NAME',
        file: path,
      });
    }
    files.set(key, path);
  }
  if (root === undefined && files.size === 0) {
    throw new ConfigError('A local source needs a folder or at least one file.', { code: 'LOCAL_NOTHING_TO_LOAD' });
  }

  /** Listed objects by key, so `download` finds the path behind a key. */
  const paths = new Map<string, string>(files);

  const describe = (): string => {
    const parts: string[] = [];
    if (root !== undefined) parts.push(`local folder ${root}`);
    if (files.size === 1) parts.push(`local file ${[...files.values()][0]}`);
    else if (files.size > 1) parts.push(`${files.size} local files`);
    return parts.join(' and ');
  };

  async function* list(signal?: AbortSignal): AsyncIterable<SourceObject> {
    for (const [key, path] of files) {
      throwIfAborted(signal);
      const stats = await statOrFail(path);
      if (!stats.isFile()) {
        throw new SourceError(`${path} is not a file.`, { code: 'LOCAL_NOT_A_FILE', stage: 'plan', file: path });
      }
      yield objectOf(key, stats);
    }
    if (root === undefined) return;
    const rootStats = await statOrFail(root);
    if (!rootStats.isDirectory()) {
      throw new SourceError(`${root} is not a folder.`, { code: 'LOCAL_NOT_A_FOLDER', stage: 'plan', file: root });
    }
    for await (const path of walk(root, signal)) {
      let stats: Stats;
      try {
        stats = await stat(path);
      } catch (error) {
        // Removed since the folder was read, or a dangling link: nothing to load.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw readError(error, path, 'plan');
      }
      if (!stats.isFile()) continue;
      // Keys use `/` on every platform, like S3 keys, so a ledger moves between machines.
      const key = relative(root, path).split(sep).join('/');
      paths.set(key, path);
      yield objectOf(key, stats);
    }
  }

  async function download(object: SourceObject, destPath: string, options: DownloadOptions = {}): Promise<void> {
    const { signal, onProgress } = options;
    const source = paths.get(object.key) ?? (root === undefined ? undefined : join(root, ...object.key.split('/')));
    if (source === undefined) {
      throw new SourceError(`${object.key} is not part of ${describe()}.`, { code: 'LOCAL_NOT_FOUND', file: object.key });
    }
    const stats = await statOrFail(source, 'fetch');
    if (object.etag !== undefined && fingerprint(stats) !== object.etag) {
      throw new SourceError(`${source} changed after it was listed.`, {
        code: 'LOCAL_FILE_CHANGED',
        file: source,
        retryable: true,
        hint: 'Run again once the file is no longer being written.',
      });
    }
    const target = resolve(destPath);
    if (target === source) return; // The landing folder is the source folder: nothing to copy.

    const part = `${target}.part`;
    await mkdir(resolve(target, '..'), { recursive: true });
    let copied = 0;
    onProgress?.(0);
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        copied += chunk.length;
        onProgress?.(copied);
        callback(null, chunk);
      },
    });
    try {
      // A local copy is fast and cheap to redo, so an old `.part` is overwritten, not resumed.
      await pipeline(createReadStream(source), counter, createWriteStream(part, { mode: 0o600 }), { signal });
    } catch (error) {
      await rm(part, { force: true });
      if (signal?.aborted) throw new CancelledError(undefined, { stage: 'fetch', file: source, cause: error });
      throw readError(error, source, 'fetch');
    }
    if (copied !== stats.size) {
      await rm(part, { force: true });
      throw new SourceError(`${source} changed while it was copied (${copied} bytes read, ${stats.size} expected).`, {
        code: 'LOCAL_FILE_CHANGED',
        file: source,
        retryable: true,
      });
    }
    await rename(part, target);
  }

  /** Local files are read where they are: no landing copy. */
  function pathOf(object: SourceObject): string | undefined {
    return paths.get(object.key) ?? (root === undefined ? undefined : join(root, ...object.key.split('/')));
  }

  return { describe, list, download, pathOf };
}

function objectOf(key: string, stats: Stats): SourceObject {
  return { key, location: LOCAL_LOCATION, size: stats.size, etag: fingerprint(stats), lastModified: stats.mtime };
}

/** `<size>-<mtime ms>`: see the module comment for why this is not a content hash. */
function fingerprint(stats: Stats): string {
  return `${stats.size}-${Math.floor(stats.mtimeMs)}`;
}

/**
 * Every file path below `dir`, depth first in name order (a stable plan order). Skips names
 * starting with `.` (`.DS_Store`, editor swap files) and unfinished downloads (`.part` and the S3
 * source's `.part.etag` marker), which appear when the landing folder lies inside the source
 * folder. Symbolic links to files are followed; links to folders are not, so a link cycle cannot
 * loop.
 */
async function* walk(dir: string, signal?: AbortSignal): AsyncIterable<string> {
  throwIfAborted(signal);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw readError(error, dir, 'plan');
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name.endsWith('.part') || entry.name.endsWith('.part.etag')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path, signal);
    else if (entry.isFile() || entry.isSymbolicLink()) yield path;
  }
}

async function statOrFail(path: string, stage: 'plan' | 'fetch' = 'plan'): Promise<Stats> {
  try {
    return await stat(path);
  } catch (error) {
    throw readError(error, path, stage);
  }
}

function readError(error: unknown, path: string, stage: 'plan' | 'fetch'): SourceError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    return new SourceError(`${path} does not exist.`, { code: 'LOCAL_NOT_FOUND', stage, file: path, cause: error, hint: 'Check the path.' });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new SourceError(`${path} cannot be read: permission denied.`, {
      code: 'LOCAL_ACCESS_DENIED',
      stage,
      file: path,
      cause: error,
      hint: 'Give the user running pds read access to it.',
    });
  }
  return new SourceError(`${path} could not be read (${code ?? 'I/O error'}).`, {
    code: 'LOCAL_READ_FAILED',
    stage,
    file: path,
    cause: error,
    retryable: true,
  });
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError(undefined, { stage: 'plan', cause: signal.reason });
}
