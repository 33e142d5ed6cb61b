/**
 * Decrypt → decode → parse → load for one file's content (a downloaded object or a zip member).
 * Each function returns counts and warnings, or throws a PdsError naming the stage; the executor
 * (`run-file.ts`) turns that into a FileResult. Every load is one unit of work on the store:
 * committed only after the whole input was read cleanly (docs/architecture.md §6: openpgp reports a
 * modified or truncated message only at the end of the stream).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isEncryptedMessage, isOpenPgpMessage } from '../crypto/sniff.js';
import { DailyActivity } from '../domain/daily-activity.js';
import { designateBatch } from '../domain/designate.js';
import { namedPacking } from '../domain/file-names.js';
import { mapHeader } from '../domain/drift.js';
import { createRowCoercer } from '../domain/coerce.js';
import type { RecognizedFile } from '../domain/files.js';
import type { EventRecord, RejectedLine, SqlValue } from '../domain/records.js';
import type { FileCounts, FileWarning } from '../domain/results.js';
import { getTableDef, textTableDef } from '../domain/tables.js';
import { LoadError, ParseError, PdsError } from '../errors/index.js';
import { readCourseStructure } from '../formats/course-structure.js';
import { readEmailOptIn } from '../formats/email-opt-in.js';
import { forumRow, readForum } from '../formats/forum.js';
import { gunzipStream, hasGzipSignature, notGzipError } from '../formats/gunzip.js';
import { readLines } from '../formats/lines.js';
import { TAR_BLOCK, isTarHeader, notTarError } from '../formats/tar-header.js';
import { readTsv } from '../formats/tsv.js';
import { readEvents } from '../formats/tracking-log.js';
import type { KeyedWriteResult, LoadOrigin } from '../stores/ports.js';
import type { PipelineContext } from './context.js';
import { Quarantine } from './quarantine.js';
import { WriteBehind, peek, readAll } from './stream-utils.js';

/** Rows per store write. */
const BATCH_ROWS = 2000;
/** Rejected line numbers kept in the result (all lines are in the quarantine file). */
const MAX_REPORTED_REJECTS = 200;

export interface ContentOutcome {
  counts: Omit<FileCounts, 'bytes'>;
  warnings: FileWarning[];
  rejected: RejectedLine[];
  quarantine?: string;
  courseKey?: string;
  table?: string;
  snapshotDate?: string;
  /**
   * Lines were read and every one was rejected: nothing was committed (the previous snapshot is
   * kept) and the file fails (`NO_LINE_READABLE`), its rejected lines quarantined and listed.
   */
  noLineLoaded?: boolean;
  /** A newer snapshot is already in place: the file's lines were read and deliberately changed nothing. */
  stale?: boolean;
}

/** True when lines were read and every one of them was rejected (none loaded or already present). */
function everyLineRejected(counts: { read: number; rejected: number }): boolean {
  return counts.read > 0 && counts.rejected >= counts.read;
}

export interface ContentInput {
  /** Ledger key of the file. */
  key: string;
  file: RecognizedFile;
  /** The raw (possibly encrypted) bytes. */
  stream: Readable;
  /** Snapshot date for weekly content. */
  snapshotDate?: string;
  /** Course key override (email opt-in: the org). */
  courseKey?: string;
}

/** Decrypts when the content is an OpenPGP message; otherwise passes it through. */
async function decryptIfNeeded(ctx: PipelineContext, input: ContentInput): Promise<Readable> {
  const { head, stream } = await peek(input.stream, 64);
  // A name ending in .gpg promises a message; without it, only a clear one is decrypted.
  if (!(input.file.encrypted ? isOpenPgpMessage(head) : isEncryptedMessage(head))) {
    if (input.file.encrypted) {
      throw new ParseError(`${input.file.name} is named .gpg but is not an OpenPGP message.`, {
        code: 'NOT_ENCRYPTED',
        stage: 'decrypt',
        file: input.key,
        hint: 'The file may be damaged or mislabelled; download it again from edX.',
      });
    }
    return stream;
  }
  const decryptor = await ctx.decryptor();
  return decryptor.decrypt(stream, input.file.name);
}

/**
 * The gunzipped content as an async iterable. The gunzip starts only when the consumer starts
 * reading: a stream that fails before anyone iterates it (a short file, while the store is still
 * opening) would otherwise end silently for the late reader, and a truncated file would look
 * complete. pipeline() destroys the gunzip with an upstream error (DecryptError), so the reader
 * sees that too.
 */
function gunzipped(stream: Readable, fileName: string): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      const gunzip = gunzipStream({ fileName });
      const piping = pipeline(stream, gunzip).catch(() => undefined);
      try {
        yield* gunzip;
      } finally {
        gunzip.destroy();
        stream.destroy();
        await piping;
      }
    },
  };
}

/**
 * Gunzips a daily log as its name says: a `.log.gz` must be gzip data (`NOT_GZIP` otherwise; it is
 * never read as text). A `.log` is plain text, but one that turns out gzip-compressed is still
 * decompressed, since the signature cannot be mistaken for a tracking-log line.
 */
async function gunzipAsNamed(input: Readable, file: RecognizedFile, key: string): Promise<AsyncIterable<Uint8Array>> {
  const { head, stream } = await peek(input, 2);
  if (hasGzipSignature(head)) return gunzipped(stream, file.name);
  if (namedPacking(file) === 'gzip') {
    stream.destroy();
    throw notGzipError(head, { name: file.name, key, encrypted: file.encrypted });
  }
  return stream;
}

/**
 * Checks an OLX course export (kept, not loaded): decrypted, it must be gzip data whose content
 * starts with a tar header. The whole file is read, so a truncated or tampered one fails
 * (GZIP_TRUNCATED, DECRYPT_*) instead of being called kept. Throws `NOT_TAR_GZ` otherwise.
 */
export async function checkOlxExport(ctx: PipelineContext, input: ContentInput): Promise<{ bytes: number }> {
  const { file, key } = input;
  const { head, stream } = await peek(await decryptIfNeeded(ctx, input), 2);
  if (!hasGzipSignature(head)) {
    stream.destroy();
    throw notGzipError(head, { name: file.name, key, encrypted: file.encrypted, packedAs: 'tar.gz' });
  }
  const first: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of gunzipped(stream, file.name)) {
    if (bytes < TAR_BLOCK) first.push(Buffer.from(chunk));
    bytes += chunk.length;
  }
  if (!isTarHeader(Buffer.concat(first).subarray(0, TAR_BLOCK))) throw notTarError(bytes, { name: file.name, key });
  return { bytes };
}

function newOrigin(key: string): LoadOrigin {
  return { fileKey: key, loadId: randomUUID() };
}

function quarantineFor(ctx: PipelineContext, key: string, preamble?: string): Quarantine {
  return new Quarantine(join(ctx.paths.landing, 'quarantine'), key, preamble, ctx.quarantineKeys);
}

/**
 * Rows and lines of erased learners (`pds forget`) are withheld: not loaded, not counted as read,
 * and reported in one warning, so the counts still add up.
 */
const WITHHELD = new WeakMap<object, number>();
function withhold(counts: { read: number }): void {
  counts.read--;
  WITHHELD.set(counts, (WITHHELD.get(counts) ?? 0) + 1);
}
function withheldWarning(counts: object, warnings: FileWarning[]): void {
  const n = WITHHELD.get(counts) ?? 0;
  if (n > 0) warnings.push({ code: 'ERASED_WITHHELD', message: `${n} line(s) of learners erased with pds forget were not loaded (the delivery still carries them).` });
}
/** Forum posts: an erased learner's are withheld, their votes and flags on others' posts removed. */
function keepUnerasedPosts<T extends { doc: Record<string, unknown>; raw?: string }>(ctx: PipelineContext, docs: T[], counts: { read: number }): T[] {
  const out: T[] = [];
  for (const d of docs) {
    const f = ctx.erased!.forumDocument(d.doc);
    if (f.erased) withhold(counts);
    else out.push(f.doc ? { ...d, doc: f.doc, raw: undefined } : d);
  }
  return out;
}

function outcome(partial: Partial<ContentOutcome> & Pick<ContentOutcome, 'counts'>): ContentOutcome {
  return { warnings: [], rejected: [], ...partial };
}

/** Counts rejected lines, keeps them verbatim in quarantine, and reports the first of them. */
async function keepRejected(bad: RejectedLine[], quarantine: Quarantine, counts: { rejected: number }, reported: RejectedLine[]): Promise<void> {
  if (bad.length === 0) return;
  counts.rejected += bad.length;
  await quarantine.add(bad);
  for (const b of bad) if (reported.length < MAX_REPORTED_REJECTS) reported.push(b);
}

/** Loads an edX TSV table dump as the new snapshot of its course (§3, §4). */
export async function loadWeeklyTable(ctx: PipelineContext, input: ContentInput): Promise<ContentOutcome> {
  const { file, key } = input;
  const tableName = file.table!;
  const courseKey = input.courseKey ?? file.courseKey!;
  const snapshotDate = input.snapshotDate!;
  const plain = await decryptIfNeeded(ctx, input);
  const warnings: FileWarning[] = [];
  const rejected: RejectedLine[] = [];
  const counts = { read: 0, loaded: 0, rejected: 0, duplicates: 0 };
  let stale = false;

  const items = readTsv(readLines(plain), { fileName: file.name });
  const first = await items.next();
  if (first.done || first.value.kind !== 'header') throw new ParseError(`${file.name}: no header row.`, { code: 'TSV_NO_HEADER', file: key, line: 1 });
  const header = first.value;
  if (header.empty) {
    warnings.push({ code: 'EMPTY_FILE', message: `${file.name} is 0 bytes (no header): edX wrote empty tables this way before Nov 2015; loaded as an empty snapshot.` });
  }
  if (header.bytesRepr) {
    warnings.push({ code: 'BYTES_REPR', message: `${file.name} has every value written as a Python b'…' literal (edX export bug of Nov–Dec 2022); the values were unwrapped.` });
  }
  const table = getTableDef(tableName) ?? textTableDef(tableName, header.columns);
  if (!getTableDef(tableName)) {
    warnings.push({ code: 'UNKNOWN_TABLE', message: `${tableName} is not a documented edX table; loaded with every column as text.` });
  }
  const drift = mapHeader(table, header.columns);
  if (drift.unknown.length > 0) {
    warnings.push({ code: 'COLUMNS_ADDED', message: `${file.name}: columns not in the documented schema were kept: ${drift.unknown.join(', ')}.` });
  }
  if (drift.missing.length > 0 && !header.empty) {
    warnings.push({ code: 'COLUMNS_MISSING', message: `${file.name}: documented columns absent from the file are NULL: ${drift.missing.join(', ')}.` });
  }
  for (const r of drift.renamed) {
    warnings.push({ code: 'COLUMN_RENAMED', message: `${file.name}: header ${r.from} read as ${r.to}.` });
  }
  if (drift.duplicates.length > 0) {
    throw new ParseError(`${file.name}: the header repeats column(s) ${drift.duplicates.join(', ')}.`, {
      code: 'TSV_DUPLICATE_COLUMN',
      file: key,
      line: 1,
      hint: 'Report the file to edX; it cannot be mapped by column name.',
    });
  }

  const coerce = createRowCoercer(table, drift.columns);
  const quarantine = quarantineFor(ctx, key, header.columns.join('\t'));
  await quarantine.clear();
  const writer = await ctx.relational.beginSnapshot({ table, courseKey, snapshotDate, columns: drift.columns, origin: newOrigin(key) });
  const behind = new WriteBehind({ queued: ctx.relational.queuesWrites });
  try {
    let pending: SqlValue[][] = [];
    for await (const item of items) {
      if (item.kind !== 'rows') continue;
      const bad: RejectedLine[] = [...item.rejected];
      for (const row of item.rows) {
        counts.read++;
        const result = coerce(row.values);
        if (result.ok && ctx.erased?.rowErased(table.name, drift.columns, result.row)) withhold(counts);
        else if (result.ok) pending.push(result.row);
        else bad.push({ line: row.line, code: result.code, reason: result.reason, raw: rawTsvLine(row.values) });
      }
      counts.read += item.rejected.length;
      await keepRejected(bad, quarantine, counts, rejected);
      if (pending.length >= BATCH_ROWS) {
        const rows = pending;
        const read = counts.read;
        await behind.push(async () => {
          await writer.write(rows);
          ctx.onProgress({ type: 'file-progress', key, stage: 'load', rows: read });
        });
        pending = [];
      }
    }
    const last = pending;
    if (last.length > 0) await behind.push(() => writer.write(last));
    await behind.drain();
    if (everyLineRejected(counts)) {
      // Committing would replace the course's previous snapshot with an empty one.
      await writer.abort();
      return outcome({ counts, warnings, rejected, quarantine: quarantine.path, courseKey, table: tableName, snapshotDate, noLineLoaded: true });
    }
    const committed = await writer.commit();
    counts.loaded = committed.stale ? 0 : committed.rows;
    stale = committed.stale;
    if (committed.stale) {
      warnings.push({ code: 'STALE_SNAPSHOT', message: `A newer snapshot of ${tableName} for ${courseKey} is already loaded; this ${snapshotDate} file changed nothing.` });
    } else if (committed.rows === 0 && committed.replacedRows > 0) {
      warnings.push({ code: 'EMPTY_SNAPSHOT', message: `${file.name} is empty: it replaced ${committed.replacedRows} rows of ${tableName} for ${courseKey} with none. Check the package if this is unexpected.` });
    }
  } catch (error) {
    await behind.settled();
    await writer.abort().catch(() => undefined);
    throw error;
  } finally {
    await quarantine.close();
  }
  withheldWarning(counts, warnings);
  return outcome({ counts, warnings, rejected, quarantine: quarantine.count > 0 ? quarantine.path : undefined, courseKey, table: tableName, snapshotDate, stale });
}

/** Re-encodes decoded TSV values the way edX wrote them (for the quarantine file). */
function rawTsvLine(values: (string | null)[]): string {
  return values
    .map((v) => (v === null ? 'NULL' : v.replace(/\\/g, '\\\\').replace(/\r/g, '\\r').replace(/\t/g, '\\t').replace(/\n/g, '\\n')))
    .join('\t');
}

/** Loads a daily tracking log: raw events plus the designated event tables (§5). */
export async function loadEventLog(ctx: PipelineContext, input: ContentInput): Promise<ContentOutcome> {
  const { key, file } = input;
  const plain = await gunzipAsNamed(await decryptIfNeeded(ctx, input), file, key);
  const counts = { read: 0, loaded: 0, rejected: 0, duplicates: 0 };
  const rejected: RejectedLine[] = [];
  const warnings: FileWarning[] = [];
  const quarantine = quarantineFor(ctx, key);
  await quarantine.clear();
  const origin = newOrigin(key);
  const events = await ctx.events.beginEvents(origin);
  let keyed: Awaited<ReturnType<PipelineContext['relational']['beginKeyed']>> | undefined;
  let repaired = 0;
  const activity = new DailyActivity();
  const behind = new WriteBehind({ queued: ctx.relational.queuesWrites && ctx.events.queuesWrites });
  try {
    const keyedWriter = (keyed = await ctx.relational.beginKeyed(origin));
    for await (const batch of readEvents(readLines(plain), { fileName: file.name })) {
      counts.read += batch.events.length + batch.rejected.length;
      if (ctx.erased) batch.events = batch.events.filter((e) => !ctx.erased!.eventErased(e) || (withhold(counts), false));
      await keepRejected(batch.rejected, quarantine, counts, rejected);
      if (batch.events.length === 0) continue;
      for (const e of batch.events) if (e.repairs.length > 0) repaired++;
      const byTable = designateBatch(batch.events, activity);
      const read = counts.read;
      // The closure lets go of the batch once its writes have started: the parsed events hold
      // every line's whole JSON, and kept alive until the store answers (one or two batches
      // later) they outlive the young generation. Measured: garbage collection took 4.1 s of a
      // 500k-event load when they were kept, 1.7 s when released.
      let toWrite: { events: EventRecord[]; byTable: Map<string, SqlValue[][]> } | undefined = { events: batch.events, byTable };
      const start = (): Promise<KeyedWriteResult[]> => {
        const { events: records, byTable: tables } = toWrite!;
        toWrite = undefined;
        return Promise.all([events.write(records), ...[...tables].map(([name, rows]) => keyedWriter.write(getTableDef(name)!, rows))]);
      };
      await behind.push(async () => {
        const [written] = await start();
        counts.loaded += written.inserted;
        counts.duplicates += written.duplicates;
        // Lines the server refused one by one: quarantined like unreadable lines.
        if (written.failed) await keepRejected(written.failed, quarantine, counts, rejected);
        ctx.onProgress({ type: 'file-progress', key, stage: 'load', rows: read });
      });
    }
    await behind.drain();
    if (everyLineRejected(counts)) {
      await keyed.abort();
      await events.abort();
      return outcome({ counts, warnings, rejected, quarantine: quarantine.path, snapshotDate: file.date, noLineLoaded: true });
    }
    // The day's summary goes in with the designated rows: both commit with the file or not at all.
    const summary = activity.rows(key);
    if (summary.length > 0) await keyed.write(getTableDef('course_daily_activity')!, summary);
    await keyed.commit();
    await events.commit();
  } catch (error) {
    await behind.settled();
    await keyed?.abort().catch(() => undefined);
    await events.abort().catch(() => undefined);
    throw error;
  } finally {
    await quarantine.close();
  }
  withheldWarning(counts, warnings);
  if (repaired > 0) warnings.push({ code: 'LINES_REPAIRED', message: `${repaired} lines were read after a repair: a log prefix before the JSON was dropped, or backslashes JSON does not allow were doubled; the lines are stored as written.` });
  return outcome({ counts, warnings, rejected, quarantine: quarantine.count > 0 ? quarantine.path : undefined, snapshotDate: file.date });
}

/** Loads a forum `.mongo` dump as the course's forum snapshot (§4.11). */
export async function loadForum(ctx: PipelineContext, input: ContentInput): Promise<ContentOutcome> {
  const { key, file } = input;
  const courseKey = file.courseKey!;
  const snapshotDate = input.snapshotDate!;
  const plain = await decryptIfNeeded(ctx, input);
  const table = getTableDef('forum_contents')!;
  const columns = table.columns.map((c) => c.name);
  const counts = { read: 0, loaded: 0, rejected: 0, duplicates: 0 };
  let stale = false;
  const rejected: RejectedLine[] = [];
  const quarantine = quarantineFor(ctx, key);
  await quarantine.clear();
  const origin = newOrigin(key);
  const writer = await ctx.relational.beginSnapshot({ table, courseKey, snapshotDate, columns, origin });
  let documents: Awaited<ReturnType<NonNullable<PipelineContext['documents']>['beginForumSnapshot']>> | undefined;
  try {
    documents = await ctx.documents?.beginForumSnapshot({ courseKey, snapshotDate, origin });
    for await (const batch of readForum(readLines(plain), { fileName: file.name })) {
      counts.read += batch.docs.length + batch.rejected.length;
      await keepRejected(batch.rejected, quarantine, counts, rejected);
      if (ctx.erased) batch.docs = keepUnerasedPosts(ctx, batch.docs, counts);
      const rows = batch.docs.map((d) => {
        const r = forumRow(d.doc, d.raw) as Record<string, SqlValue>;
        return columns.map((c) => r[c] ?? null);
      });
      if (rows.length > 0) await writer.write(rows);
      if (documents && batch.docs.length > 0) await documents.write(batch.docs.map((d) => d.doc));
    }
    if (everyLineRejected(counts)) {
      await documents?.abort();
      await writer.abort();
      return outcome({ counts, rejected, quarantine: quarantine.path, courseKey, table: 'forum_contents', snapshotDate, noLineLoaded: true });
    }
    // The document snapshot switches first: if it fails, the relational one is still abortable.
    if (documents) await documents.commit();
    const committed = await writer.commit();
    counts.loaded = committed.stale ? 0 : committed.rows;
    stale = committed.stale;
  } catch (error) {
    await documents?.abort();
    await writer.abort().catch(() => undefined);
    throw error;
  } finally {
    await quarantine.close();
  }
  const warnings: FileWarning[] = [];
  withheldWarning(counts, warnings);
  return outcome({ counts, warnings, rejected, quarantine: quarantine.count > 0 ? quarantine.path : undefined, courseKey, table: 'forum_contents', snapshotDate, stale });
}

/** Loads a course structure JSON as the course's blocks snapshot (§4.10). */
export async function loadCourseStructure(ctx: PipelineContext, input: ContentInput): Promise<ContentOutcome> {
  const { key, file } = input;
  const courseKey = file.courseKey!;
  const snapshotDate = input.snapshotDate!;
  const plain = await decryptIfNeeded(ctx, input);
  const text = (await readAll(plain)).toString('utf8');
  const { blocks, courseId } = readCourseStructure(text, file.name);
  const table = getTableDef('course_blocks')!;
  const columns = table.columns.map((c) => c.name);
  const origin = newOrigin(key);
  const writer = await ctx.relational.beginSnapshot({ table, courseKey, snapshotDate, columns, origin });
  let committedRows = 0;
  let stale = false;
  try {
    const rows = blocks.map((b) => columns.map((c) => ((b as unknown as Record<string, SqlValue>)[c] ?? null)));
    for (let i = 0; i < rows.length; i += BATCH_ROWS) await writer.write(rows.slice(i, i + BATCH_ROWS));
    // Kept as a document too (issue: MongoDB target); readCourseStructure validated the JSON.
    await ctx.documents?.replaceCourseStructure({ courseKey, snapshotDate, courseId: courseId ?? undefined, structure: JSON.parse(text) as Record<string, unknown>, origin });
    const committed = await writer.commit();
    committedRows = committed.stale ? 0 : committed.rows;
    stale = committed.stale;
  } catch (error) {
    await writer.abort().catch(() => undefined);
    throw error;
  }
  return outcome({ counts: { read: blocks.length, loaded: committedRows, rejected: 0, duplicates: 0 }, courseKey, table: 'course_blocks', snapshotDate, stale });
}

/** Loads the email opt-in CSV as the org's opt-in snapshot (§3). */
export async function loadEmailOptIn(ctx: PipelineContext, input: ContentInput): Promise<ContentOutcome> {
  const { key, file } = input;
  const courseKey = input.courseKey ?? file.org ?? 'unknown-org';
  const snapshotDate = input.snapshotDate!;
  const plain = await decryptIfNeeded(ctx, input);
  const table = getTableDef('email_opt_in')!;
  const columns = table.columns.map((c) => c.name);
  const coerce = createRowCoercer(table, columns);
  const counts = { read: 0, loaded: 0, rejected: 0, duplicates: 0 };
  let stale = false;
  const rejected: RejectedLine[] = [];
  const quarantine = quarantineFor(ctx, key);
  await quarantine.clear();
  const writer = await ctx.relational.beginSnapshot({ table, courseKey, snapshotDate, columns, origin: newOrigin(key) });
  try {
    for await (const batch of readEmailOptIn(plain, { fileName: file.name })) {
      const bad: RejectedLine[] = [...batch.rejected];
      const rows: SqlValue[][] = [];
      for (const r of batch.rows) {
        counts.read++;
        // The reader already typed the values; the coercer still checks them against the column
        // definitions (lengths) so every store accepts the row.
        const values = r.values as unknown as Record<string, string | number | null | undefined>;
        const result = coerce(columns.map((c) => (values[c] == null ? null : String(values[c]))));
        if (result.ok && ctx.erased?.rowErased('email_opt_in', columns, result.row)) withhold(counts);
        else if (result.ok) rows.push(result.row);
        else bad.push({ line: r.line, code: result.code, reason: result.reason, raw: r.raw });
      }
      counts.read += batch.rejected.length;
      await keepRejected(bad, quarantine, counts, rejected);
      if (rows.length > 0) await writer.write(rows);
    }
    if (everyLineRejected(counts)) {
      await writer.abort();
      return outcome({ counts, rejected, quarantine: quarantine.path, courseKey, table: 'email_opt_in', snapshotDate, noLineLoaded: true });
    }
    const committed = await writer.commit();
    counts.loaded = committed.stale ? 0 : committed.rows;
    stale = committed.stale;
  } catch (error) {
    await writer.abort().catch(() => undefined);
    throw error;
  } finally {
    await quarantine.close();
  }
  const warnings: FileWarning[] = [];
  withheldWarning(counts, warnings);
  return outcome({ counts, warnings, rejected, quarantine: quarantine.count > 0 ? quarantine.path : undefined, courseKey, table: 'email_opt_in', snapshotDate, stale });
}

/** Wraps a non-PdsError thrown while loading (driver errors) as a LoadError. */
export function asLoadError(error: unknown, key: string): PdsError {
  if (error instanceof PdsError) return error;
  const e = error as { code?: string; errno?: number; message?: string };
  return new LoadError(`Writing ${key} to the database failed${e.code ? ` (${e.code})` : ''}.`, {
    code: 'LOAD_FAILED',
    file: key,
    dbCode: e.code ?? e.errno,
    cause: error,
    retryable: true,
    hint: 'Check that the database is reachable and has space.',
  });
}
