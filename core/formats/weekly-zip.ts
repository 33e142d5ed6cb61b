/**
 * The weekly package `{org}-{date}.zip` (docs/edx-formats.md §1.3): an unencrypted Info-ZIP archive,
 * Zip64 when over 4 GB, holding one GnuPG-encrypted file per course and table under
 * `{org}-{date}/` (ORA tables under `{org}-{date}/ora/`).
 *
 * Members are streamed, never extracted: member names are only ever used as names (ledger keys,
 * `recognizeFileName()` input), never as filesystem paths, so a hostile name (`../x`, `/etc/x`)
 * cannot write anywhere (zip-slip). yauzl additionally refuses such names.
 */
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { ParseError } from '../errors/index.js';

/** One file in the zip (directories are not listed). */
export interface ZipMember {
  /** Full path inside the zip, `/`-separated, e.g. `uqx-2015-01-04/ora/UQx-…-prod-analytics.sql.gpg`. */
  name: string;
  /** Uncompressed size in bytes. */
  size: number;
  compressedSize: number;
  /** CRC-32 of the uncompressed data, as recorded in the central directory. */
  crc32: number;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1) || path;
}

function zipError(zipPath: string, error: unknown, what: string): ParseError {
  if (error instanceof ParseError) return error;
  const detail = error instanceof Error ? ` (${error.message})` : '';
  const file = baseName(zipPath);
  return new ParseError(`${file}: ${what}${detail}.`, {
    code: 'ZIP_CORRUPT',
    stage: 'decode',
    file: zipPath,
    cause: error,
    hint: 'Fetch the package again; if the copy at the source is damaged too, ask edX to re-send it.',
  });
}

/** The first `n` bytes of a file (fewer when it is shorter); undefined when it cannot be read. */
async function headOf(path: string, n: number): Promise<Buffer | undefined> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (handle === undefined) return undefined;
  try {
    const buffer = Buffer.alloc(n);
    const { bytesRead } = await handle.read(buffer, 0, n, 0);
    return buffer.subarray(0, bytesRead);
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

/**
 * Why yauzl could not open the file: `NOT_ZIP` when it does not even start with the zip
 * signature `PK` (random bytes, an OpenPGP message, a web page saved under the name), else
 * `ZIP_CORRUPT` (a zip cut short has no central directory at its end).
 */
async function openError(zipPath: string, error: unknown): Promise<ParseError> {
  const head = await headOf(zipPath, 4);
  if (head !== undefined && !(head.length >= 2 && head[0] === 0x50 && head[1] === 0x4b)) {
    const what = head.length === 0 ? 'it is empty (0 bytes)' : 'it does not start with the zip signature PK';
    return new ParseError(`${baseName(zipPath)} is named .zip but is not a zip archive (${what}).`, {
      code: 'NOT_ZIP',
      stage: 'decode',
      file: zipPath,
      cause: error,
      hint: 'Fetch the package again; if the copy at the source is the same, report it to edX.',
    });
  }
  return zipError(zipPath, error, 'is not a readable zip archive: it is truncated or damaged');
}

function openZip(zipPath: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(
      zipPath,
      // lazyEntries: read the central directory one entry at a time (packages hold thousands).
      // autoClose off: the fd is closed explicitly once listing or reading is done.
      { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true, strictFileNames: false },
      (err, zipfile) => (err || !zipfile ? openError(zipPath, err).then(reject, reject) : resolve(zipfile)),
    );
  });
}

/**
 * Walks the central directory. `visit` returns true to stop early; the zip stays open when it
 * does (the caller then owns closing it).
 */
function walkEntries(zipPath: string, zipfile: ZipFile, visit: (entry: Entry) => boolean): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      zipfile.removeAllListeners('entry');
      zipfile.removeAllListeners('end');
      zipfile.removeAllListeners('error');
    };
    zipfile.on('entry', (entry: Entry) => {
      let stop: boolean;
      try {
        stop = visit(entry);
      } catch (error) {
        cleanup();
        reject(error);
        return;
      }
      if (stop) {
        cleanup();
        resolve(true);
      } else {
        zipfile.readEntry();
      }
    });
    zipfile.once('end', () => {
      cleanup();
      resolve(false);
    });
    zipfile.once('error', (err: unknown) => {
      cleanup();
      reject(zipError(zipPath, err, 'has a damaged central directory'));
    });
    zipfile.readEntry();
  });
}

/**
 * Lists the files of a weekly zip (directories omitted), in central-directory order.
 *
 * @throws ParseError `NOT_ZIP` when the file is not a zip at all; `ZIP_CORRUPT` when it is missing,
 *   truncated or damaged.
 */
export async function listZipMembers(zipPath: string): Promise<ZipMember[]> {
  const zipfile = await openZip(zipPath);
  const members: ZipMember[] = [];
  try {
    await walkEntries(zipPath, zipfile, (entry) => {
      if (!entry.fileName.endsWith('/')) {
        members.push({ name: entry.fileName, size: entry.uncompressedSize, compressedSize: entry.compressedSize, crc32: entry.crc32 });
      }
      return false;
    });
  } finally {
    zipfile.close();
  }
  return members;
}

/**
 * Opens one member for reading by its full name inside the zip. The stream's errors are
 * ParseErrors: `ZIP_CORRUPT` for damaged data, including a CRC-32 that does not match the
 * central directory (checked at the end of the stream, since yauzl does not check it).
 *
 * @throws ParseError `ZIP_MEMBER_MISSING` when no member has that name; `ZIP_CORRUPT` when the
 *   zip cannot be read.
 */
export async function openZipMember(zipPath: string, memberName: string): Promise<Readable> {
  const zipfile = await openZip(zipPath);
  let found: Entry | undefined;
  try {
    await walkEntries(zipPath, zipfile, (entry) => {
      if (entry.fileName === memberName) {
        found = entry;
        return true;
      }
      return false;
    });
  } catch (error) {
    zipfile.close();
    throw error;
  }
  const entry = found;
  if (entry === undefined) {
    zipfile.close();
    throw new ParseError(`${baseName(zipPath)} has no member named ${memberName}.`, {
      code: 'ZIP_MEMBER_MISSING',
      stage: 'decode',
      file: zipPath,
      hint: 'The package changed since it was listed; plan the run again.',
    });
  }
  const stream = await new Promise<Readable>((resolve, reject) => {
    zipfile.openReadStream(entry, (err, readStream) =>
      err || !readStream ? reject(zipError(zipPath, err, `cannot read member ${memberName}`)) : resolve(readStream),
    );
  }).finally(() => {
    // yauzl keeps the fd open until the read stream ends, then releases it.
    zipfile.close();
  });

  const expectedCrc = entry.crc32 >>> 0;
  async function* checked(): AsyncGenerator<Buffer> {
    let crc = 0;
    try {
      for await (const chunk of stream) {
        const buf = chunk as Buffer;
        crc = crc32(buf, crc);
        yield buf;
      }
    } catch (error) {
      throw zipError(zipPath, error, `member ${memberName} is damaged`);
    }
    if (crc >>> 0 !== expectedCrc) {
      throw zipError(zipPath, undefined, `member ${memberName} fails its CRC-32 check`);
    }
  }
  return Readable.from(checked(), { objectMode: false });
}
