/**
 * Recognises an OpenPGP message from its first bytes, without a parser, so a file that is not
 * encrypted at all (a plain `.sql`, a gzip, a zip, an HTML error page saved as `.gpg`) is reported
 * as such instead of as a confusing decryption failure.
 *
 * edX writes binary messages (docs/edx-formats.md §2: python-gnupg with `armor=False`); armored ones are
 * accepted too, since a data czar may re-encrypt files by hand.
 */

/** How an OpenPGP message is encoded, or `null` when the bytes do not start one. */
export type OpenPgpEncoding = 'binary' | 'armored';

/** Number of leading bytes `detectOpenPgpEncoding` wants to see for a confident answer. */
export const SNIFF_BYTES = 64;

const ARMOR_HEADER = '-----BEGIN PGP MESSAGE-----';

/**
 * Packet tags that may open an OpenPGP message (RFC 9580 §10.3): session key packets (1, 3),
 * encrypted data (9, 18, 20), a marker (10), or an unencrypted message (2, 4, 8, 11).
 */
const MESSAGE_START_TAGS = new Set([1, 2, 3, 4, 8, 9, 10, 11, 18, 20]);

/**
 * Reads the packet header at the start of `bytes`: its tag and where its body starts, or `null`
 * when the first byte is not a packet header. `bodyOffset` is `undefined` when too few bytes were
 * given to know it.
 */
function readPacketHeader(bytes: Uint8Array): { tag: number; bodyOffset?: number } | null {
  const first = bytes[0];
  // Bit 7 is always set in a packet header. This alone rejects text, JSON, gzip (0x1f) and zip (0x50).
  if (first === undefined || (first & 0x80) === 0) return null;
  if (first & 0x40) {
    // New format: tag in bits 5..0; one-, two- or five-octet length, or a partial body length.
    const tag = first & 0x3f;
    const lengthOctet = bytes[1];
    if (lengthOctet === undefined) return { tag };
    if (lengthOctet < 192 || lengthOctet >= 224) return { tag, bodyOffset: 2 };
    if (lengthOctet < 255) return { tag, bodyOffset: 3 };
    return { tag, bodyOffset: 6 };
  }
  // Old format: tag in bits 5..2, length type in bits 1..0 (1, 2, 4 octets or indeterminate).
  const tag = (first >> 2) & 0x0f;
  const lengthType = first & 0x03;
  return { tag, bodyOffset: [2, 3, 5, 1][lengthType] };
}

/**
 * Tells whether `firstBytes` (ideally at least `SNIFF_BYTES` of them) start an OpenPGP message, and
 * how it is encoded. Binary messages are recognised by their first packet's tag and, for session key
 * packets, their version byte; armored ones by the `-----BEGIN PGP MESSAGE-----` line (after
 * optional whitespace or a UTF-8 byte order mark).
 */
export function detectOpenPgpEncoding(firstBytes: Uint8Array): OpenPgpEncoding | null {
  const header = readPacketHeader(firstBytes);
  if (header !== null) {
    if (!MESSAGE_START_TAGS.has(header.tag)) return null;
    const version = header.bodyOffset === undefined ? undefined : firstBytes[header.bodyOffset];
    if (version !== undefined) {
      // PKESK v3 (RFC 4880) or v6 (RFC 9580); SKESK v4, v5 (draft) or v6. Anything else is random
      // binary data whose first byte merely happens to look like a header.
      if (header.tag === 1 && version !== 3 && version !== 6) return null;
      if (header.tag === 3 && (version < 4 || version > 6)) return null;
    }
    return 'binary';
  }
  let start = 0;
  if (firstBytes[0] === 0xef && firstBytes[1] === 0xbb && firstBytes[2] === 0xbf) start = 3;
  while (start < firstBytes.length && isAsciiSpace(firstBytes[start])) start += 1;
  for (let i = 0; i < ARMOR_HEADER.length; i += 1) {
    const byte = firstBytes[start + i];
    // Too few bytes to see the whole header line: a matching prefix is the best we can say.
    if (byte === undefined) return i > 0 ? 'armored' : null;
    if (byte !== ARMOR_HEADER.charCodeAt(i)) return null;
  }
  return 'armored';
}

/** True when `firstBytes` start an OpenPGP message, binary or armored. */
export function isOpenPgpMessage(firstBytes: Uint8Array): boolean {
  return detectOpenPgpEncoding(firstBytes) !== null;
}

/**
 * The stricter test for a file whose name does not say `.gpg`: an armor header, or a binary
 * message that opens with a session key packet of a known version, as every encrypted edX file
 * does. About one random byte in five looks like some other packet header, so a damaged or
 * mislabelled plain file (random bytes named `.log.gz`) must not be taken for a message on that
 * alone: it is reported for what it is (not gzip, not a zip) instead of as a decryption failure.
 */
export function isEncryptedMessage(firstBytes: Uint8Array): boolean {
  const encoding = detectOpenPgpEncoding(firstBytes);
  if (encoding !== 'binary') return encoding === 'armored';
  const header = readPacketHeader(firstBytes);
  return (header?.tag === 1 || header?.tag === 3) && header.bodyOffset !== undefined && firstBytes[header.bodyOffset] !== undefined;
}

function isAsciiSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}
