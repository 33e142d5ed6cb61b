/**
 * Units of work of the SQLite store as savepoints of one shared transaction.
 *
 * One connection has one write transaction, yet the pipeline keeps several units open at once
 * (an events writer and a keyed writer for one file, interleaving their batches). So the first
 * unit opened starts the transaction (`BEGIN IMMEDIATE`) and each unit gets a SAVEPOINT. The
 * transaction commits when the last open unit finishes and at least one of them committed; when
 * every unit aborted it rolls back. Aborting a unit undoes exactly its own writes: with
 * `ROLLBACK TO` its savepoint when no other unit wrote since that savepoint was taken, otherwise
 * by deleting the rows it inserted (tracked by rowid), so an interleaved sibling never loses rows.
 */
import type Database from 'better-sqlite3';
import { LoadError } from '../../errors/index.js';
import { quoteIdent } from './sqlite-ddl.js';

type Db = Database.Database;

interface RowidRange {
  start: number;
  end: number;
}

type UnitState = 'open' | 'committed' | 'aborted' | 'lost';

/** One unit of work (snapshot, keyed rows, events) inside the shared transaction. */
export interface SavepointUnit {
  readonly savepoint: string;
  state: UnitState;
  /** Another unit wrote after this unit's savepoint was taken: `ROLLBACK TO` would undo it too. */
  foreignWrites: boolean;
  /** Rowids this unit inserted, per table, as ranges (inserts are mostly consecutive). */
  readonly inserted: Map<string, RowidRange[]>;
}

/** What the savepoint stack needs of its store. */
export interface SavepointHost {
  /** The database file, for messages. */
  readonly path: string;
  /** The open connection (throws when the store is closed or not initialised). */
  conn(): Db;
  /** A rollback may have undone schema changes: cached columns and statements are stale. */
  forgetSchema(): void;
}

/** The savepoint stack of the store's open transaction. */
export class SavepointUnits {
  /** Oldest first; finished units stay until released. */
  private stack: SavepointUnit[] = [];
  private txOpen = false;
  private committedInTx = false;
  private unitSeq = 0;

  constructor(private readonly host: SavepointHost) {}

  /** True while units of work are open (their transaction is not committed yet). */
  get inTransaction(): boolean {
    return this.txOpen;
  }

  /** Opens a unit: the transaction when it is the first, and its savepoint. */
  begin(): SavepointUnit {
    const db = this.host.conn();
    const unit: SavepointUnit = { savepoint: `pds_u${++this.unitSeq}`, state: 'open', foreignWrites: false, inserted: new Map() };
    if (!this.txOpen) {
      db.exec('BEGIN IMMEDIATE');
      this.txOpen = true;
      this.committedInTx = false;
    }
    db.exec(`SAVEPOINT ${unit.savepoint}`);
    this.stack.push(unit);
    return unit;
  }

  /** Throws unless `unit` is open: it was finished, or SQLite dropped its transaction. */
  assertOpen(unit: SavepointUnit, what: string): void {
    if (unit.state === 'open') return;
    if (unit.state === 'lost') {
      throw new LoadError(`SQLite lost the transaction of this load in ${this.host.path} (an earlier error rolled it back); nothing of it was kept.`, {
        code: 'TRANSACTION_LOST',
        file: this.host.path,
        retryable: true,
        hint: 'Load the file again.',
      });
    }
    throw new LoadError(`Cannot ${what}: this load was already ${unit.state}.`, { code: 'UNIT_FINISHED', file: this.host.path });
  }

  /** Every other unit now holds writes of `unit` inside its savepoint scope. */
  markWrite(unit: SavepointUnit): void {
    for (const u of this.stack) if (u !== unit) u.foreignWrites = true;
  }

  /** Records a row `unit` inserted, so that an abort can delete exactly it. */
  track(unit: SavepointUnit, table: string, rowid: number | bigint): void {
    const id = Number(rowid);
    let ranges = unit.inserted.get(table);
    if (!ranges) unit.inserted.set(table, (ranges = []));
    const last = ranges[ranges.length - 1];
    if (last !== undefined && id === last.end + 1) last.end = id;
    else ranges.push({ start: id, end: id });
  }

  /** Deletes exactly the rows `unit` inserted. */
  private undo(unit: SavepointUnit): void {
    const db = this.host.conn();
    for (const [table, ranges] of unit.inserted) {
      const del = db.prepare(`DELETE FROM ${quoteIdent(table)} WHERE rowid BETWEEN ? AND ?`);
      for (const r of ranges) del.run(r.start, r.end);
    }
    unit.inserted.clear();
    this.markWrite(unit);
  }

  /** Ends a unit; releases finished savepoints from the top; ends the transaction with the last unit. */
  finish(unit: SavepointUnit, outcome: 'commit' | 'abort'): void {
    const db = this.host.conn();
    if (outcome === 'abort') {
      const top = this.stack[this.stack.length - 1];
      if (top === unit && !unit.foreignWrites) {
        db.exec(`ROLLBACK TO ${unit.savepoint}`);
        db.exec(`RELEASE ${unit.savepoint}`);
        this.stack.pop();
        this.host.forgetSchema();
      } else if (this.stack.some((u) => u !== unit && u.state === 'open') || this.committedInTx) {
        this.undo(unit);
      }
      // Otherwise every other unit has aborted too: the ROLLBACK below discards everything.
      unit.state = 'aborted';
    } else {
      unit.state = 'committed';
      this.committedInTx = true;
    }
    while (this.stack.length > 0 && this.stack[this.stack.length - 1].state !== 'open') {
      db.exec(`RELEASE ${this.stack.pop()!.savepoint}`);
    }
    if (this.stack.length === 0 && this.txOpen) {
      this.txOpen = false;
      if (this.committedInTx) {
        db.exec('COMMIT');
      } else {
        db.exec('ROLLBACK');
        this.host.forgetSchema();
      }
    }
  }

  /** After SQLite rolled the transaction back by itself (e.g. SQLITE_FULL), every open unit is lost. */
  loseAll(): void {
    for (const u of this.stack) if (u.state === 'open') u.state = 'lost';
    this.stack = [];
    this.txOpen = false;
    this.host.forgetSchema();
  }
}
