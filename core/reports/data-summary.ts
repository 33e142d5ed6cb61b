/**
 * What has landed in an environment's stores: rows per table and course count, events per
 * type. Used by `pds demo` and the console's overview.
 */
import type { DataSummary } from '../contract/console-api.js';
import { TABLES_BY_NAME, isSnapshotTable } from '../domain/tables.js';
import type { EventStore, RelationalStore } from '../stores/ports.js';

export async function dataSummary(relational: RelationalStore, events: EventStore): Promise<DataSummary> {
  const tables: DataSummary['tables'] = [];
  for (const table of TABLES_BY_NAME.values()) {
    if (table.group === 'events' && table.name === 'events') continue;
    const snapshot = isSnapshotTable(table);
    const sql = snapshot
      ? `SELECT COUNT(*) AS n, COUNT(DISTINCT course_key) AS c FROM ${table.name}`
      : `SELECT COUNT(*) AS n, COUNT(DISTINCT course_id) AS c FROM ${table.name}`;
    const rows = await relational.query<{ n: number; c: number }>(sql).catch(() => [{ n: 0, c: 0 }]);
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
