/**
 * Recognises a tar archive by its first header block, for the OLX course exports
 * (`{course}-course-{env}.xml.tar.gz`, docs/edx-formats.md §1.3), which are kept, not loaded: pds
 * checks only that the decompressed content is a tar archive before calling the file kept.
 */
import { ParseError } from '../errors/index.js';

/** Size of a tar header block. */
export const TAR_BLOCK = 512;

/**
 * True when `block` (the first 512 bytes of the decompressed data) is a POSIX ustar or GNU tar
 * header: `ustar` at offset 257 and a header checksum (offset 148, octal) equal to the sum of the
 * block's bytes counted with the checksum field as spaces.
 */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < TAR_BLOCK) return false;
  const magic = String.fromCharCode(...block.subarray(257, 262));
  if (magic !== 'ustar') return false;
  const field = String.fromCharCode(...block.subarray(148, 156)).replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]{1,8}$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  return sum === parseInt(field, 8);
}

/** The error for gzip data named `.tar.gz` whose decompressed content is not a tar archive. */
export function notTarError(decompressedBytes: number, options: { name: string; key: string }): ParseError {
  const what =
    decompressedBytes < TAR_BLOCK
      ? `decompresses to ${decompressedBytes} byte(s), less than one tar header`
      : 'decompresses to data that does not start with a tar header (no "ustar" at offset 257)';
  return new ParseError(`${options.name} is named .tar.gz and is gzip data, but it ${what}.`, {
    code: 'NOT_TAR_GZ',
    stage: 'decode',
    file: options.key,
    hint: 'Fetch the file again; if the copy at the source is the same, report it to edX.',
  });
}
