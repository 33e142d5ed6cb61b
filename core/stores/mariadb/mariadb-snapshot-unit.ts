/**
 * A MariaDB snapshot replace: one InnoDB transaction per course and table. It claims and locks
 * the course's `pds_snapshots` row (a concurrent load of the same course and table waits),
 * refuses a stale date, deletes the course's rows, streams the new rows in chunks (LOAD DATA
 * LOCAL or `batch()`, one statement in flight while the next chunk fills) and commits; readers
 * see the old rows until COMMIT. See the comment of `mariadb-store.ts`.
 */
import { Readable } from 'node:stream';
import type { PoolConnection, UpsertResult } from 'mariadb';
import type { SqlValue } from '../../domain/records.js';
import { LoadError } from '../../errors/index.js';
import type { SnapshotCommitResult, SnapshotSpec, SnapshotWriter } from '../ports.js';
import { LOAD_ID_COLUMN, SNAPSHOTS_TABLE } from '../sql-schema.js';
import { LOADS_TABLE, quoteIdent } from './mariadb-ddl.js';
import { classifyMariaDbError, type MariaDbOperation } from './mariadb-errors.js';
import { UnencodableValueError, approximateRowBytes, encodeLoadDataRows, insertSql, loadDataSql, type ConstantColumn } from './mariadb-load-data.js';
import { MariaDbUnit, ROW_MEMORY_FACTOR, affected, valueBug, type MariaDbUnitHost } from './mariadb-unit.js';

/** One chunk of a snapshot: rows and, for LOAD DATA, their encoding. */
interface SnapshotOp {
  rows: SqlValue[][];
  /** LOAD DATA payload; undefined when the chunk goes through `batch()`. */
  payload: Buffer[] | undefined;
  bytes: number;
  /** 1-based index of the chunk, for messages. */
  index: number;
}

/** A snapshot replace: one transaction per course and table (see the file comment). */
export class SnapshotUnit extends MariaDbUnit implements SnapshotWriter {
  private readonly spec: SnapshotSpec;
  private readonly table: string;
  private readonly width: number;
  private replaced = 0;
  private staleRows = 0;
  /** Rows sent in this unit (replays not counted twice): the snapshot's row count. */
  private rowsSent = 0;
  private chunks = 0;
  private pending: SnapshotOp | undefined;
  private constants: ConstantColumn[] | undefined;
  private loadSqlText: string | undefined;
  private insertSqlText: string | undefined;

  constructor(store: MariaDbUnitHost, spec: SnapshotSpec) {
    super(store, spec.origin.fileKey);
    this.spec = spec;
    this.table = spec.table.name;
    this.width = spec.columns.length;
  }

  protected async prologue(conn: PoolConnection): Promise<'ok' | 'stale'> {
    const { courseKey, snapshotDate, origin } = this.spec;
    // Claim the (table, course) row: inserted when new, locked when present. A concurrent load of
    // the same course and table waits here until this one commits or rolls back.
    await conn.query(
      `INSERT INTO ${SNAPSHOTS_TABLE} (table_name, course_key, snapshot_date, row_count, file_key, load_id, loaded_at)
       VALUES (?, ?, ?, 0, ?, ?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE table_name = table_name`,
      [this.table, courseKey, snapshotDate, origin.fileKey, origin.loadId],
    );
    const [stored] = (await conn.query(`SELECT snapshot_date, row_count FROM ${SNAPSHOTS_TABLE} WHERE table_name = ? AND course_key = ? FOR UPDATE`, [
      this.table,
      courseKey,
    ])) as { snapshot_date: string; row_count: number }[];
    if (stored !== undefined && String(stored.snapshot_date) > snapshotDate) {
      this.staleRows = Number(stored.row_count);
      return 'stale';
    }
    const result = (await conn.query(`DELETE FROM ${quoteIdent(this.table)} WHERE course_key = ?`, [courseKey])) as UpsertResult;
    this.replaced = Number(result.affectedRows);
    this.constants = [
      { column: 'course_key', literal: conn.escape(courseKey) },
      { column: 'snapshot_date', literal: conn.escape(snapshotDate) },
      { column: LOAD_ID_COLUMN.name, literal: conn.escape(origin.loadId) },
    ];
    return 'ok';
  }

  private get op(): MariaDbOperation {
    return { what: `write rows to ${this.table}`, privileges: ['INSERT', 'DELETE', 'UPDATE'] };
  }

  async write(rows: SqlValue[][]): Promise<void> {
    this.assertUsable('write');
    if (this.state === 'stale' || rows.length === 0) return;
    for (const row of rows) {
      if (row.length !== this.width) {
        throw new LoadError(`A row for ${this.table} has ${row.length} values for ${this.width} columns (a loader bug).`, { code: 'ROW_WIDTH', file: this.file });
      }
    }
    let ready: SnapshotOp[];
    try {
      ready = this.chunksOf(rows);
    } catch (error) {
      throw error instanceof UnencodableValueError ? valueBug(error, this.file) : error;
    }
    for (const op of ready) await this.guarded(this.op, () => this.dispatch(op));
  }

  /** Adds rows to the pending chunk; returns the chunks that are full and ready to send. */
  private chunksOf(rows: SqlValue[][]): SnapshotOp[] {
    const ready: SnapshotOp[] = [];
    const target = this.store.chunkBytes;
    const add = (slice: SqlValue[][], payload: Buffer | undefined, bytes: number): void => {
      if (this.pending && this.pending.bytes + bytes > target) ready.push(this.takePending()!);
      if (!this.pending) this.pending = { rows: [], payload: payload ? [] : undefined, bytes: 0, index: 0 };
      for (const r of slice) this.pending.rows.push(r);
      if (payload) this.pending.payload?.push(payload);
      this.pending.bytes += bytes;
      if (this.pending.bytes >= target) ready.push(this.takePending()!);
    };
    if (this.store.bulkMethod === 'load-data') {
      this.encode(rows, add);
    } else {
      let bytes = 0;
      for (const r of rows) bytes += approximateRowBytes(r);
      add(rows, undefined, bytes);
    }
    return ready;
  }

  /** Encodes rows for LOAD DATA, splitting a batch whose encoding would not fit one statement. */
  private encode(rows: SqlValue[][], add: (slice: SqlValue[][], payload: Buffer, bytes: number) => void): void {
    const payload = Buffer.from(encodeLoadDataRows(rows), 'utf8');
    if (payload.length <= this.store.chunkBytes || (rows.length === 1 && payload.length <= this.store.maxPayloadBytes)) {
      add(rows, payload, payload.length);
      return;
    }
    if (rows.length === 1) {
      throw new LoadError(`A row for ${this.table} is ${payload.length} bytes, more than the server's max_allowed_packet allows.`, {
        code: 'DB_PACKET_TOO_LARGE',
        file: this.file,
        hint: 'The DBA must raise max_allowed_packet (e.g. SET GLOBAL max_allowed_packet = 1073741824, and the same under [mariadbd]); then run again.',
      });
    }
    const half = Math.ceil(rows.length / 2);
    this.encode(rows.slice(0, half), add);
    this.encode(rows.slice(half), add);
  }

  private takePending(): SnapshotOp | undefined {
    const op = this.pending;
    this.pending = undefined;
    if (op) op.index = ++this.chunks;
    return op;
  }

  protected opBytes(op: unknown): number {
    return (op as SnapshotOp).bytes * (1 + ROW_MEMORY_FACTOR);
  }

  protected async send(conn: PoolConnection, raw: unknown): Promise<void> {
    const op = raw as SnapshotOp;
    if (op.payload !== undefined && this.store.bulkMethod === 'load-data') {
      try {
        await this.sendLoadData(conn, op, op.payload);
        return;
      } catch (error) {
        // local_infile switched off under us: the statement did nothing, the transaction goes on.
        if (classifyMariaDbError(error) !== 'local-infile') throw error;
        this.store.fallBackToBatch();
      }
    }
    await this.sendBatch(conn, op);
  }

  private async sendLoadData(conn: PoolConnection, op: SnapshotOp, payload: Buffer[]): Promise<void> {
    this.loadSqlText ??= loadDataSql(this.table, this.spec.columns, this.constants!);
    const result = (await conn.query({ sql: this.loadSqlText, infileStreamFactory: () => Readable.from(payload) }, [])) as UpsertResult;
    // LOAD DATA LOCAL turns refusals into warnings (the server cannot stop the client mid-file),
    // so a warning is an error here: values arrive checked, and none is expected.
    const { rows, warnings } = affected(result);
    if (warnings > 0) await this.refuseWarnings(conn, op);
    this.checkStored(rows, op);
  }

  /** Every row of a chunk must have been stored: values are checked before they are sent. */
  private checkStored(rows: number, op: SnapshotOp): void {
    if (rows === op.rows.length) return;
    throw new LoadError(`MariaDB stored ${rows} of ${op.rows.length} rows of chunk ${op.index} for ${this.table}.`, {
      code: 'DB_ROW_COUNT_MISMATCH',
      file: this.file,
      batch: op.index,
      hint: 'Values are checked before loading, so this is a bug in pds; please report it with the file name.',
    });
  }

  private async refuseWarnings(conn: PoolConnection, op: SnapshotOp): Promise<never> {
    const list = (await conn.query('SHOW WARNINGS LIMIT 10')) as { Code: number }[];
    const codes = [...new Set(list.map((w) => Number(w.Code)))].join(', ');
    throw new LoadError(`MariaDB adjusted values while loading chunk ${op.index} into ${this.table} (warning codes ${codes}).`, {
      code: 'DB_VALUE_REJECTED',
      file: this.file,
      batch: op.index,
      dbCode: list[0]?.Code,
      hint: 'Values are checked before loading, so this is a bug in pds (or the table was changed by hand); please report it with the file name.',
    });
  }

  private async sendBatch(conn: PoolConnection, op: SnapshotOp): Promise<void> {
    this.insertSqlText ??= insertSql(this.table, this.spec.columns, this.constants!);
    const result = (await conn.batch(this.insertSqlText, op.rows)) as UpsertResult | UpsertResult[];
    const { rows } = affected(result);
    this.checkStored(rows, op);
  }

  protected async epilogue(conn: PoolConnection): Promise<void> {
    const { courseKey, snapshotDate, origin } = this.spec;
    await conn.query(
      `UPDATE ${SNAPSHOTS_TABLE} SET snapshot_date = ?, row_count = ?, file_key = ?, load_id = ?, loaded_at = UTC_TIMESTAMP(6) WHERE table_name = ? AND course_key = ?`,
      [snapshotDate, this.rowsSent, origin.fileKey, origin.loadId, this.table, courseKey],
    );
    await conn.query(
      `INSERT INTO ${LOADS_TABLE} (unit_id, kind, load_id, file_key, table_name, course_key, row_count, committed_at) VALUES (?, 'snapshot', ?, ?, ?, ?, ?, UTC_TIMESTAMP(6))`,
      [this.unitId, origin.loadId, origin.fileKey, this.table, courseKey, this.rowsSent],
    );
  }

  async commit(): Promise<SnapshotCommitResult> {
    this.assertUsable('commit');
    if (this.state === 'open') {
      const last = this.takePending();
      if (last) await this.guarded(this.op, () => this.dispatch(last));
      await this.guarded(this.op, () => this.settle());
    }
    // A recovery may also find the snapshot stale (a newer one committed meanwhile): then stop.
    if (this.state === 'open') {
      await this.guarded({ what: `replace the ${this.table} snapshot`, privileges: ['INSERT', 'UPDATE', 'DELETE'] }, async () => {
        if (this.state === 'open') await this.finish();
      });
    }
    if (this.state === 'stale') {
      this.done('committed');
      return { rows: this.staleRows, replacedRows: 0, stale: true };
    }
    return { rows: this.rowsSent, replacedRows: this.replaced, stale: false };
  }

  protected override async dispatch(op: unknown): Promise<void> {
    await super.dispatch(op);
    if (this.state === 'open') this.rowsSent += (op as SnapshotOp).rows.length;
  }
}
