/**
 * Store ports: small interfaces the pipeline writes through. One folder per
 * engine implements them (`sqlite/`, `mariadb/`, `mongodb/`). Every load is a unit of work that
 * is either committed whole or aborted leaving the previous state readable (docs/architecture.md §3.4).
 */
import type { EventRecord, RejectedLine, SqlValue } from '../domain/records.js';
import type { TableDef } from '../domain/schema-types.js';

/** Which file a load comes from, for attribution and bookkeeping. */
export interface LoadOrigin {
  /** Ledger key of the file (S3 key, or `package.zip!member`). */
  fileKey: string;
  /** Unique id of this attempt at loading the file. */
  loadId: string;
}

export interface SnapshotSpec {
  table: TableDef;
  /** `{org}-{course}-{run}` from the file name: the unit a snapshot replaces. */
  courseKey: string;
  /** `YYYY-MM-DD` of the package. */
  snapshotDate: string;
  /** Column names in the order `write()` rows carry them (canonical names, drift included). */
  columns: string[];
  origin: LoadOrigin;
}

export interface SnapshotCommitResult {
  /** Rows now visible for this course and table. */
  rows: number;
  /** Rows the snapshot replaced. */
  replacedRows: number;
  /** True when an older-or-equal snapshot was already newer than this one and nothing changed. */
  stale: boolean;
}

/** A weekly table snapshot being written; invisible to readers until `commit()`. */
export interface SnapshotWriter {
  /** Appends typed rows (values aligned with `SnapshotSpec.columns`). */
  write(rows: SqlValue[][]): Promise<void>;
  /** Makes the new snapshot visible atomically, replacing the course's previous one. */
  commit(): Promise<SnapshotCommitResult>;
  /** Drops what was written; the previous snapshot stays. Safe to call after a failed write. */
  abort(): Promise<void>;
}

/** Rows keyed by an id (events, designated events): inserting an existing id changes nothing. */
export interface KeyedWriteResult {
  inserted: number;
  /** Already present (same id): re-loads and duplicate lines. */
  duplicates: number;
  /** Lines the server refused one by one (e.g. a document over MongoDB's size limit), with the reason. */
  failed?: RejectedLine[];
}

export interface KeyedRowsWriter {
  /**
   * Inserts rows of one derived/event table, ignoring ids already present. Calls may overlap (a
   * loader issues one batch's tables together): the writer runs them one at a time, in order.
   */
  write(table: TableDef, rows: SqlValue[][]): Promise<KeyedWriteResult>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** Outcome of a store's self-check (`pds db check`, the console's "test connection"). */
export interface StoreCheck {
  ok: boolean;
  /** What was checked and, when something is wrong, what to do (e.g. the GRANT to run). */
  detail: string;
}

/** The relational target: weekly tables, designated event tables, blocks, summaries. */
export interface RelationalStore {
  /** Short engine name for messages: `sqlite`, `mariadb`. */
  readonly engine: string;
  /**
   * Writes on one unit may be made without waiting for earlier ones: the store queues them and
   * runs them in order. Loaders then keep several batches in flight (`WriteBehind`).
   */
  readonly queuesWrites?: boolean;
  /** Creates or migrates the schema. Idempotent. */
  init(): Promise<void>;
  /**
   * Starts replacing one course's snapshot of one table. A store may start the unit in the
   * background: a unit that cannot start then fails its first write or its commit.
   */
  beginSnapshot(spec: SnapshotSpec): Promise<SnapshotWriter>;
  /** Starts a unit of keyed inserts (designated events for one file). */
  beginKeyed(origin: LoadOrigin): Promise<KeyedRowsWriter>;
  /** Runs a read-only query for reports (`?` placeholders). */
  query<T = Record<string, unknown>>(sql: string, params?: SqlValue[]): Promise<T[]>;
  /**
   * Names of the tables and views the database holds, so that a report tells a table that was
   * never created (nothing loaded yet) from a query that failed.
   */
  tableNames(): Promise<string[]>;
  /** Connectivity, privileges and schema version; never throws. */
  check?(): Promise<StoreCheck>;
  close(): Promise<void>;
}

export interface EventWriter {
  /** Inserts events, ignoring ids already present. */
  write(events: EventRecord[]): Promise<KeyedWriteResult>;
  /** Makes this file's events durable/visible. */
  commit(): Promise<void>;
  /** Removes what this attempt inserted (and only that). */
  abort(): Promise<void>;
}

/** The raw clickstream target: one record per tracking-log line. */
export interface EventStore {
  readonly engine: string;
  /** As `RelationalStore.queuesWrites`. */
  readonly queuesWrites?: boolean;
  init(): Promise<void>;
  beginEvents(origin: LoadOrigin): Promise<EventWriter>;
  /** Event counts grouped by course and canonical type (reports, cross-store checks). */
  countByCourseAndType(): Promise<{ courseId: string | null; type: string | null; count: number }[]>;
  /** Connectivity, rights and indexes; never throws. */
  check?(): Promise<StoreCheck>;
  close(): Promise<void>;
}

/** A forum snapshot being written to a document store; invisible to readers until `commit()`. */
export interface ForumDocumentsWriter {
  write(docs: Record<string, unknown>[]): Promise<void>;
  commit(): Promise<{ rows: number; stale: boolean }>;
  /** Drops what was written; the previous snapshot stays. Never throws. */
  abort(): Promise<void>;
}

/**
 * Documents kept as documents (docs/edx-formats.md §4.10, §4.11) beside their relational tables, when the
 * events target is a document database: forum dumps per course snapshot and course structures.
 */
export interface DocumentStore {
  beginForumSnapshot(spec: { courseKey: string; snapshotDate: string; origin: LoadOrigin }): Promise<ForumDocumentsWriter>;
  replaceCourseStructure(spec: {
    courseKey: string;
    snapshotDate: string;
    courseId?: string;
    /** The §4.10 object turned into blocks by the store's own mapping. */
    structure: Record<string, unknown>;
    origin: LoadOrigin;
  }): Promise<{ blocks: number; stale: boolean }>;
}

/** The SQL dialects the reports render their queries in (`core/reports/report-dialect.ts`). */
export type SqlDialect = 'sqlite' | 'mariadb';

/**
 * Read-only access to a relational store for the reports (`core/reports/`): SELECTs only, on a
 * connection of its own. SQLite opens the file read-only as a WAL reader, so a report never waits
 * for a load and a load never waits for a report; MariaDB runs each query in a READ ONLY
 * transaction (consistent snapshot).
 */
export interface ReportQueries {
  readonly dialect: SqlDialect;
  /** Where the data is, for messages (a file path, `host:port/database`). */
  readonly target: string;
  query<T = Record<string, unknown>>(sql: string, params?: SqlValue[]): Promise<T[]>;
  /** Names of the tables and views the database holds. */
  tableNames(): Promise<string[]>;
  close(): Promise<void>;
}
