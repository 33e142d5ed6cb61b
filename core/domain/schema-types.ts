/**
 * The logical schema: one definition in code drives every relational store (SQLite, MariaDB).
 * Pure: no Node API.
 */
import type { PersonalClass } from './personal-data.js';

export const COLUMN_TYPES = [
  'int', // 32-bit signed integer
  'bigint', // 64-bit integer (ids that may outgrow int)
  'double',
  'bool', // tinyint 0/1
  'varchar', // with `length`
  'text',
  'longtext', // JSON text and other large values
  'datetime', // `YYYY-MM-DD HH:MM:SS[.ffffff]`, UTC, microsecond precision
  'date', // `YYYY-MM-DD`
] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface ColumnDef {
  name: string;
  type: ColumnType;
  /** For `varchar`. */
  length?: number;
  /** Documentation: what the column holds, the edX quirk it carries. */
  doc?: string;
  /**
   * Present only in some export eras (added or dropped over the years, docs/edx-formats.md §4): a file
   * without it is normal and is not reported as drift.
   */
  optional?: boolean;
  /** GDPR class of the value (`personal-data.ts`); set on every documented column by `tables.ts`. */
  personal?: PersonalClass;
}

/**
 * A column the definitions do not document — a drifted header, a table edX added since: always
 * `longtext`, so any value loads, in every store.
 */
export function textColumn(name: string): ColumnDef {
  return { name, type: 'longtext' };
}

export const TABLE_GROUPS = ['weekly', 'ora', 'events', 'derived', 'summary'] as const;
export type TableGroup = (typeof TABLE_GROUPS)[number];

export interface TableDef {
  name: string;
  group: TableGroup;
  doc: string;
  /** Data columns, in documented order. Store-added bookkeeping columns are not listed here. */
  columns: ColumnDef[];
  /** Secondary indexes (column lists) the reports need. */
  indexes?: string[][];
  /** Primary key columns for tables that have one (events tables: `event_id`). */
  primaryKey?: string[];
  /** Header names that mean a documented column (`avatar_typ` → `avatar_type`, user_id_map `id` → `user_id`). */
  aliases?: Record<string, string>;
}

/**
 * Bookkeeping columns every weekly-snapshot table carries in every store, in this order,
 * before the data columns.
 */
export const SNAPSHOT_COLUMNS: ColumnDef[] = [
  { name: 'course_key', type: 'varchar', length: 255, doc: 'Course part of the file name, `{org}-{course}-{run}` (docs/edx-formats.md §1.2).' },
  { name: 'snapshot_date', type: 'date', doc: 'Date of the weekly package the row came from.' },
];
