/**
 * A MariaDB unit of keyed inserts (the designated event rows of one file): one InnoDB
 * transaction of `INSERT IGNORE` batches, idempotent on the primary key, so a re-load adds
 * nothing. See the comment of `mariadb-store.ts`.
 */
import type { PoolConnection, UpsertResult } from 'mariadb';
import type { SqlValue } from '../../domain/records.js';
import type { TableDef } from '../../domain/schema-types.js';
import { isSnapshotTable } from '../../domain/tables.js';
import { LoadError } from '../../errors/index.js';
import type { KeyedRowsWriter, KeyedWriteResult, LoadOrigin } from '../ports.js';
import { LOADS_TABLE } from './mariadb-ddl.js';
import { approximateRowBytes, insertSql } from './mariadb-load-data.js';
import { MariaDbUnit, ROW_MEMORY_FACTOR, affected, type MariaDbUnitHost } from './mariadb-unit.js';

/** Rows per `batch()` call of a keyed write (bounds the 16-bit warning count we check). */
const KEYED_BATCH_ROWS = 5000;

/** One recorded keyed insert. */
interface KeyedOp {
  def: TableDef;
  rows: SqlValue[][];
  bytes: number;
}

/** A unit of keyed inserts (designated events of one file), idempotent on the primary key. */
export class KeyedUnit extends MariaDbUnit implements KeyedRowsWriter {
  private readonly origin: LoadOrigin;
  private inserted = 0;
  /** Tables this unit has written: altering them now would wait on our own metadata lock. */
  private readonly touched = new Set<string>();
  private readonly statements = new Map<string, string>();

  constructor(store: MariaDbUnitHost, origin: LoadOrigin) {
    super(store, origin.fileKey);
    this.origin = origin;
  }

  protected async prologue(): Promise<'ok'> {
    return 'ok';
  }

  /** Overlapping calls run one at a time, in the order made (ports: KeyedRowsWriter). */
  private queue: Promise<unknown> = Promise.resolve();

  write(def: TableDef, rows: SqlValue[][]): Promise<KeyedWriteResult> {
    const run = this.queue.then(() => this.writeNow(def, rows));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async writeNow(def: TableDef, rows: SqlValue[][]): Promise<KeyedWriteResult> {
    this.assertUsable('write');
    if (isSnapshotTable(def)) {
      throw new LoadError(`${def.name} is a weekly snapshot table, not a keyed table.`, { code: 'WRONG_TABLE_KIND', file: this.file });
    }
    if (rows.length === 0) return { inserted: 0, duplicates: 0 };
    const width = def.columns.length;
    for (const row of rows) {
      if (row.length !== width) {
        throw new LoadError(`A row for ${def.name} has ${row.length} values for ${width} columns (a loader bug).`, { code: 'ROW_WIDTH', file: this.file });
      }
    }
    await this.store.ensureTable(def, [], this.file, !this.touched.has(def.name));
    this.touched.add(def.name);
    let inserted = 0;
    for (let i = 0; i < rows.length; i += KEYED_BATCH_ROWS) {
      const slice = rows.slice(i, i + KEYED_BATCH_ROWS);
      let bytes = 0;
      for (const r of slice) bytes += approximateRowBytes(r);
      const op: KeyedOp = { def, rows: slice, bytes };
      inserted += await this.guarded({ what: `write rows to ${def.name}`, privileges: ['INSERT'] }, () => this.execute<number>(op));
    }
    this.inserted += inserted;
    return { inserted, duplicates: rows.length - inserted };
  }

  protected opBytes(op: unknown): number {
    return (op as KeyedOp).bytes * ROW_MEMORY_FACTOR;
  }

  protected async send(conn: PoolConnection, raw: unknown): Promise<number> {
    const op = raw as KeyedOp;
    let sql = this.statements.get(op.def.name);
    if (sql === undefined) {
      sql = insertSql(op.def.name, op.def.columns.map((c) => c.name), [], true);
      this.statements.set(op.def.name, sql);
    }
    const result = (await conn.batch(sql, op.rows)) as UpsertResult | UpsertResult[];
    const { rows, warnings } = affected(result);
    // INSERT IGNORE warns once per duplicate (1062); any other warning is a value MariaDB
    // adjusted, which strict mode would have refused: treat it as the error it is.
    if (warnings > op.rows.length - rows) {
      const list = (await conn.query('SHOW WARNINGS LIMIT 64')) as { Code: number }[];
      const codes = [...new Set(list.map((w) => Number(w.Code)).filter((c) => c !== 1062))];
      if (codes.length > 0) {
        throw new LoadError(`MariaDB adjusted values while inserting into ${op.def.name} (warning codes ${codes.join(', ')}).`, {
          code: 'DB_VALUE_REJECTED',
          file: this.file,
          dbCode: codes[0],
          hint: 'Values are fitted to their columns before loading, so this is a bug in pds; please report it with the file name.',
        });
      }
    }
    return rows;
  }

  protected async epilogue(conn: PoolConnection): Promise<void> {
    await conn.query(
      `INSERT INTO ${LOADS_TABLE} (unit_id, kind, load_id, file_key, table_name, course_key, row_count, committed_at) VALUES (?, 'keyed', ?, ?, NULL, NULL, ?, UTC_TIMESTAMP(6))`,
      [this.unitId, this.origin.loadId, this.origin.fileKey, this.inserted],
    );
  }

  async commit(): Promise<void> {
    this.assertUsable('commit');
    await this.guarded({ what: 'commit keyed rows', privileges: ['INSERT'] }, () => this.finish());
  }
}
