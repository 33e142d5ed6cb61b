/**
 * A canonical dump of an embedded SQLite store for equality checks: every data table's rows,
 * sorted, without the per-attempt bookkeeping (load ids, load times) that legitimately differ
 * between two runs that loaded the same data.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';

const BOOKKEEPING = new Set(['load_id', 'loaded_at', 'applied_at']);

/** Table name → { rows, sha256 of the sorted rows }. */
export function dumpSqlite(path: string): Record<string, { rows: number; sha256: string }> {
  const db = new Database(path, { readonly: true });
  try {
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
    const out: Record<string, { rows: number; sha256: string }> = {};
    for (const table of tables) {
      // Pseudonyms are keyed by each home's own privacy secret: two homes never agree on them.
      if (table === 'pds_pseudonyms') continue;
      // Who was in the snapshot at each check: the history of the runs, not the data they loaded.
      if (table === 'pds_snapshot_learners') continue;
      const columns = (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((c) => c.name).filter((c) => !BOOKKEEPING.has(c));
      if (columns.length === 0) continue;
      const list = columns.map((c) => `"${c}"`).join(', ');
      const rows = db.prepare(`SELECT ${list} FROM "${table}" ORDER BY ${list}`).raw().all() as unknown[][];
      const hash = createHash('sha256');
      for (const row of rows) hash.update(JSON.stringify(row)).update('\n');
      out[table] = { rows: rows.length, sha256: hash.digest('hex') };
    }
    return out;
  } finally {
    db.close();
  }
}
