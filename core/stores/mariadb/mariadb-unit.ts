/**
 * The common machinery of a MariaDB unit of work (a snapshot replace, one file's keyed rows):
 * its connection and InnoDB transaction, the replay log, recovery after a transient error, and
 * the COMMIT that asks the server what happened when the connection drops during it. See the
 * comment of `mariadb-store.ts` for the whole story.
 *
 * Units know the store only through `MariaDbUnitHost`: the handful of settings and services they
 * use, so a unit can be read (and tested) without the store class.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PoolConnection, UpsertResult } from 'mariadb';
import type { TableDef } from '../../domain/schema-types.js';
import { LoadError, PdsError } from '../../errors/index.js';
import { isConnectionLost, isTransientMariaDbError, toMariaDbLoadError, type MariaDbErrorContext, type MariaDbOperation } from './mariadb-errors.js';
import type { MariaDbBulkMethod, UnencodableValueError } from './mariadb-load-data.js';

/** What a unit uses of the store that opened it. */
export interface MariaDbUnitHost {
  /** A pooled connection; the unit keeps it for its transaction. */
  acquire(): Promise<PoolConnection>;
  /** READ COMMITTED for the unit's transaction (false: the server's REPEATABLE READ stays). */
  readonly readCommitted: boolean;
  /** Attempts after a transient error. */
  readonly retryAttempts: number;
  /** Back-off before retry `attempt` (0-based), ms. */
  retryDelay(attempt: number): number;
  /** A unit whose sent data stays below this many bytes can be replayed after a transient error. */
  readonly replayLimitBytes: number;
  /** Target bytes of one bulk statement. */
  readonly chunkBytes: number;
  /** Largest payload one statement may carry (`max_allowed_packet` less protocol room). */
  readonly maxPayloadBytes: number;
  /** The bulk method loads use now. */
  readonly bulkMethod: MariaDbBulkMethod;
  /** The server refused LOAD DATA LOCAL: use `batch()` from now on, and say so. */
  fallBackToBatch(): void;
  /**
   * Creates the table or adds the columns it lacks, outside the unit's transaction. With
   * `allowAlter` false a needed ALTER is refused (the unit's transaction holds the table).
   */
  ensureTable(def: TableDef, extra: readonly string[], file: string | undefined, allowAlter?: boolean): Promise<void>;
  /** Context for error messages. */
  errorContext(file?: string): MariaDbErrorContext;
  /** `host:port/database`, for messages. */
  describeTarget(): string;
  /** Whether the unit `unitId` committed, asked on a fresh connection; `undefined` when the server cannot be asked. */
  wasCommitted(unitId: string): Promise<boolean | undefined>;
  /** The unit has ended (committed, aborted or failed): the store forgets it. */
  unitDone(unit: MariaDbUnit): void;
}

/** Bytes JS rows take per encoded byte, roughly: the replay buffer keeps rows for the batch path too. */
export const ROW_MEMORY_FACTOR = 2;

/** Rows and warnings a write statement (or a `batch()` of them) reports. */
export function affected(result: UpsertResult | UpsertResult[]): { rows: number; warnings: number } {
  const list = Array.isArray(result) ? result : [result];
  let rows = 0;
  let warnings = 0;
  for (const r of list) {
    rows += Number(r.affectedRows);
    warnings += Number(r.warningStatus ?? 0);
  }
  return { rows, warnings };
}

/** A value the encoder could not send: values arrive typed, so the loader has a bug. */
export function valueBug(error: UnencodableValueError, file: string): LoadError {
  return new LoadError(`A row has an unusable value (${error.message}); this is a bug in the loader.`, { code: 'ROW_VALUE_INVALID', file });
}

export type UnitState = 'open' | 'stale' | 'committed' | 'aborted' | 'failed';

/** Common machinery of a unit: its connection and transaction, the replay log, recovery. */
export abstract class MariaDbUnit {
  protected conn: PoolConnection | undefined;
  protected state: UnitState = 'open';
  /** Sent in this transaction and re-sendable after a transient error; null once past the replay limit. */
  private log: unknown[] | null = [];
  private logBytes = 0;
  private inflight: Promise<unknown> | undefined;
  private recoveries = 0;
  /** Key of this unit's `pds_loads` row. */
  protected readonly unitId = randomUUID();

  constructor(
    protected readonly store: MariaDbUnitHost,
    protected readonly file: string,
  ) {}

  /** Runs right after START TRANSACTION (locks, deletes). Returns 'stale' to end the unit as a no-op. */
  protected abstract prologue(conn: PoolConnection): Promise<'ok' | 'stale'>;
  /** Sends one recorded operation. */
  protected abstract send(conn: PoolConnection, op: unknown): Promise<unknown>;
  /** Bytes an operation holds in memory, for the replay limit. */
  protected abstract opBytes(op: unknown): number;
  /** Bookkeeping written in the transaction just before COMMIT. */
  protected abstract epilogue(conn: PoolConnection): Promise<void>;

  /** Opens the transaction (with retries: nothing has been sent yet). */
  async open(): Promise<void> {
    await this.guarded({ what: 'start a load', privileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] }, () => this.startTransaction());
  }

  private async startTransaction(): Promise<void> {
    const conn = await this.store.acquire();
    this.conn = conn;
    if (this.store.readCommitted) await conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
    await conn.query('START TRANSACTION');
    if ((await this.prologue(conn)) === 'stale') {
      await this.dropConnection(false);
      this.state = 'stale';
    }
  }

  protected assertUsable(what: string): void {
    if (this.state === 'open' || this.state === 'stale') return;
    if (this.state === 'failed') {
      throw new LoadError(`Cannot ${what}: an earlier error ended this load and rolled it back; nothing of it was committed.`, {
        code: 'TRANSACTION_LOST',
        file: this.file,
        retryable: true,
        hint: 'Load the file again.',
      });
    }
    throw new LoadError(`Cannot ${what}: this load was already ${this.state}.`, { code: 'UNIT_FINISHED', file: this.file });
  }

  /**
   * Runs `fn`; on a transient error starts a new transaction, re-sends the log and runs `fn`
   * again. Any other error (or no replay possible) ends the unit and is thrown as a LoadError.
   */
  protected async guarded<T>(op: MariaDbOperation, fn: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await fn();
      } catch (error) {
        const outcome = error instanceof PdsError ? error : await this.recover(error);
        if (outcome === 'recovered') continue;
        await this.fail();
        throw toMariaDbLoadError(outcome, op, this.store.errorContext(this.file));
      }
    }
  }

  /**
   * After a transient error: a new transaction with the log re-sent, up to `retryAttempts` times.
   * Returns 'recovered', or the error to report (the latest one) when that is not possible.
   */
  private async recover(error: unknown): Promise<'recovered' | unknown> {
    let current = error;
    while (isTransientMariaDbError(current) && this.log !== null && this.recoveries < this.store.retryAttempts) {
      const delay = this.store.retryDelay(this.recoveries);
      this.recoveries++;
      await this.dropConnection(isConnectionLost(current));
      this.inflight = undefined;
      await sleep(delay);
      try {
        await this.startTransaction();
        if (this.state === 'stale') return 'recovered';
        for (const op of this.log) await this.send(this.conn!, op);
        return 'recovered';
      } catch (again) {
        current = again;
      }
    }
    return current;
  }

  /** Keeps `op` for replay while the log stays under the limit. */
  protected record(op: unknown): void {
    if (this.log === null) return;
    this.logBytes += this.opBytes(op);
    if (this.logBytes > this.store.replayLimitBytes) this.log = null;
    else this.log.push(op);
  }

  /** Sends `op` without waiting for it (one statement in flight), after the previous one succeeded. */
  protected async dispatch(op: unknown): Promise<void> {
    await this.settle();
    if (this.state !== 'open') return;
    this.record(op);
    const p = this.send(this.conn!, op);
    p.catch(() => undefined); // observed by settle()
    this.inflight = p;
  }

  /** Waits for the statement in flight; throws its error. */
  protected async settle(): Promise<void> {
    const p = this.inflight;
    this.inflight = undefined;
    if (p) await p;
  }

  /** Sends `op` and waits, recording it for replay only once it succeeded. */
  protected async execute<T>(op: unknown): Promise<T> {
    await this.settle();
    const result = (await this.send(this.conn!, op)) as T;
    this.record(op);
    return result;
  }

  /** Bookkeeping + COMMIT; when the connection drops during COMMIT, asks the server what happened. */
  protected async finish(): Promise<void> {
    const conn = this.conn!;
    await this.epilogue(conn);
    try {
      await conn.query('COMMIT');
    } catch (error) {
      if (!isConnectionLost(error)) throw error;
      await this.dropConnection(true);
      const committed = await this.store.wasCommitted(this.unitId);
      if (committed === true) {
        this.done('committed');
        return;
      }
      if (committed === undefined) {
        this.done('failed');
        throw new LoadError(`The connection to MariaDB (${this.store.describeTarget()}) was lost during COMMIT and the server could not be asked whether it committed.`, {
          code: 'COMMIT_UNCERTAIN',
          file: this.file,
          retryable: true,
          hint: 'Run the load again: a snapshot replaces itself and keyed rows skip ids already present, so nothing is doubled either way.',
        });
      }
      throw error; // not committed: recover() replays the unit
    }
    await this.dropConnection(false);
    this.done('committed');
  }

  /** Ends the unit after an error: rolls back what the server still holds. */
  private async fail(): Promise<void> {
    await this.dropConnection(false, true);
    this.done('failed');
  }

  /** Rolls back the transaction; the previous state stays. Safe to repeat and after errors. */
  async abort(): Promise<void> {
    if (this.state === 'committed' || this.state === 'aborted' || this.state === 'failed') {
      if (this.state === 'failed') this.done('aborted');
      return;
    }
    const p = this.inflight;
    this.inflight = undefined;
    if (p) await p.catch(() => undefined);
    await this.dropConnection(false, true);
    this.done('aborted');
  }

  /** Returns the connection: destroyed when lost (the server rolls back), else rolled back and released. */
  private async dropConnection(lost: boolean, rollback = true): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    if (!conn) return;
    if (lost || !conn.isValid()) {
      conn.destroy();
      return;
    }
    try {
      if (rollback) await conn.query('ROLLBACK');
      await conn.release();
    } catch {
      conn.destroy();
    }
  }

  protected done(state: UnitState): void {
    this.state = state;
    this.store.unitDone(this);
  }
}
