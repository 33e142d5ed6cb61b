/**
 * Raw tracking-log lines on their way to the store thread: moved as bytes in one buffer per
 * batch rather than as strings inside the rows.
 */
import { isUtf8 } from 'node:buffer';
import type { EventRecord, SqlValue } from '../../domain/records.js';
import { getTableDef } from '../../domain/tables.js';

/**
 * The raw lines of a batch of `events` rows as one buffer moved (not copied) to the thread:
 * `ends[i]` is where row i's line ends in `bytes`, or -1 when row i carries its line as text.
 */
export interface PackedLines {
  bytes: Uint8Array;
  ends: Int32Array;
}

const RAW_COLUMN = getTableDef('events')!.columns.findIndex((c) => c.name === 'raw');

/**
 * Moves the lines whose bytes are valid UTF-8 (`EventRecord.rawBytes`; `raw` is then exactly
 * their decoding) out of the rows into one buffer: posting copies bytes once instead of
 * serialising 1.5 KB strings, and SQLite stores the bytes as they are instead of encoding each
 * string to UTF-8 again. Other lines stay in their rows as text.
 */
export function packLines(events: readonly EventRecord[], rows: SqlValue[][]): PackedLines | undefined {
  const ends = new Int32Array(events.length);
  let total = 0;
  for (let i = 0; i < events.length; i++) {
    const line = events[i]!.rawBytes;
    if (line !== undefined && isUtf8(line)) {
      total += line.length;
      ends[i] = total;
    } else {
      ends[i] = -1;
    }
  }
  if (total === 0) return undefined;
  const bytes = new Uint8Array(total);
  for (let i = 0, at = 0; i < events.length; i++) {
    if (ends[i]! < 0) continue;
    bytes.set(events[i]!.rawBytes!, at);
    at = ends[i]!;
    rows[i]![RAW_COLUMN] = null;
  }
  return { bytes, ends };
}

/** Puts the packed lines back into their rows, as views of the buffer (the thread's side). */
export function unpackLines(rows: (SqlValue | Uint8Array)[][], lines: PackedLines | undefined): (SqlValue | Uint8Array)[][] {
  if (!lines) return rows;
  const { bytes, ends } = lines;
  let start = 0;
  for (let i = 0; i < rows.length; i++) {
    const end = ends[i]!;
    if (end < 0) continue;
    rows[i]![RAW_COLUMN] = bytes.subarray(start, end);
    start = end;
  }
  return rows;
}
