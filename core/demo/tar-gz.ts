/**
 * A minimal POSIX ustar writer plus gzip, for the demo's OLX course export
 * (`{c}-course-{env}.xml.tar.gz`, docs/edx-formats.md §1.3). Each entry is a 512-byte header followed
 * by its content padded to 512 bytes; two zero blocks end the archive. The output is
 * deterministic: fixed mtime, owner and modes, and gzip's header mtime is 0.
 */
import { gzipSync } from 'node:zlib';

/** One archive entry; a `content` of `null` makes a directory. Paths use `/`; directories end in `/`. */
export interface TarEntry {
  path: string;
  content: Uint8Array | string | null;
}

const BLOCK = 512;

function writeString(header: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new RangeError(`tar field too long at offset ${offset}: ${bytes.length} > ${length} bytes`);
  bytes.copy(header, offset);
}

/** Octal number padded to `length - 1` digits and NUL-terminated, as ustar expects. */
function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  writeString(header, offset, length, value.toString(8).padStart(length - 1, '0') + '\0');
}

function tarHeader(path: string, size: number, isDirectory: boolean, mtimeSeconds: number): Buffer {
  const header = Buffer.alloc(BLOCK, 0);
  writeString(header, 0, 100, path);
  writeOctal(header, 100, 8, isDirectory ? 0o755 : 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, size);
  writeOctal(header, 136, 12, mtimeSeconds);
  header.write('        ', 148, 'latin1'); // checksum is computed with its own field as spaces
  header.write(isDirectory ? '5' : '0', 156, 'latin1');
  writeString(header, 257, 6, 'ustar\0');
  writeString(header, 263, 2, '00');
  writeString(header, 265, 32, 'edxapp');
  writeString(header, 297, 32, 'edxapp');
  let sum = 0;
  for (const byte of header) sum += byte;
  writeString(header, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return header;
}

/** The uncompressed tar bytes for `entries`, in the order given. */
export function tarArchive(entries: readonly TarEntry[], mtime: Date): Buffer {
  const mtimeSeconds = Math.floor(mtime.getTime() / 1000);
  const parts: Buffer[] = [];
  for (const entry of entries) {
    if (entry.content === null) {
      parts.push(tarHeader(entry.path.endsWith('/') ? entry.path : `${entry.path}/`, 0, true, mtimeSeconds));
      continue;
    }
    const body = typeof entry.content === 'string' ? Buffer.from(entry.content, 'utf8') : Buffer.from(entry.content);
    parts.push(tarHeader(entry.path, body.length, false, mtimeSeconds), body);
    const padding = (BLOCK - (body.length % BLOCK)) % BLOCK;
    if (padding > 0) parts.push(Buffer.alloc(padding, 0));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(parts);
}

/** `tarArchive` gzipped. */
export function tarGz(entries: readonly TarEntry[], mtime: Date): Buffer {
  return gzipSync(tarArchive(entries, mtime), { level: 9 });
}
