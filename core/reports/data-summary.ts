/**
 * What has landed in an environment's stores: rows per table and course count, events per
 * type. Used by `pds demo` and the console's overview.
 */
import type { DataSummary } from '../contract/console-api.js';
import { TABLES_BY_NAME, isSnapshotTable } from '../domain/tables.js';
import { LoadError, PdsError } from '../errors/index.js';
import type { EventStore, RelationalStore } from '../stores/ports.js';

/** The error of a count that failed on an existing table: its table, the store's reason, the remedy. */
function summaryError(table: string, engine: string, error: unknown): PdsError {
  const cause = error instanceof PdsError ? error : undefined;
  return new LoadError(`The data summary could not count the rows of ${table} in the ${engine} store: ${cause?.message ?? 'the query failed.'}`, {
    code: 'SUMMARY_QUERY_FAILED',
    retryable: cause?.retryable ?? false,
    dbCode: cause instanceof LoadError ? cause.dbCode : undefined,
    cause: error,
    hint: cause?.hint ?? `Check the ${table} table (pds db check), then ask again.`,
  });
}

/** Rows and courses per loaded table, and events per type. */
export async function dataSummary(relational: RelationalStore, events: EventStore): Promise<DataSummary> {
  const tables: DataSummary['tables'] = [];
  // A table the store has not created holds nothing yet; any other failure is reported, never read as 0 rows.
  const existing = new Set(await relational.tableNames());
  for (const table of TABLES_BY_NAME.values()) {
    if (table.group === 'events' && table.name === 'events') continue;
    if (!existing.has(table.name)) continue;
    const snapshot = isSnapshotTable(table);
    const sql = snapshot
      ? `SELECT COUNT(*) AS n, COUNT(DISTINCT course_key) AS c FROM ${table.name}`
      : `SELECT COUNT(*) AS n, COUNT(DISTINCT course_id) AS c FROM ${table.name}`;
    let rows: { n: number; c: number }[];
    try {
      rows = await relational.query<{ n: number; c: number }>(sql);
    } catch (error) {
      throw summaryError(table.name, relational.engine, error);
    }
    const r = rows[0] ?? { n: 0, c: 0 };
    if (Number(r.n) > 0) tables.push({ table: table.name, group: table.group, rows: Number(r.n), courses: Number(r.c) });
  }
  const byType = await events.countByCourseAndType();
  const total = byType.reduce((n, r) => n + r.count, 0);
  const courses = new Set(byType.map((r) => r.courseId).filter((c) => c !== null)).size;
  const types = new Map<string, number>();
  for (const r of byType) types.set(r.type ?? '(none)', (types.get(r.type ?? '(none)') ?? 0) + r.count);
  const topTypes = [...types.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([type, count]) => ({ type, count }));
  return { tables, events: { total, courses, topTypes } };
}
