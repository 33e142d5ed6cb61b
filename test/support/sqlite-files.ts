/**
 * SQLite files for tests: a temporary folder removed after the test file, a fresh path per call,
 * a store factory whose stores all open one shared file (what the store contract needs), and a
 * read-only query for checks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import Database from 'better-sqlite3';

export function temporarySqliteFiles(prefix: string): {
  newPath(): string;
  sharedFile<S extends object>(make: (path: string) => S): () => Promise<S & { drop(): Promise<void> }>;
} {
  const root = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(root, { recursive: true, force: true }));
  let seq = 0;
  const newPath = (): string => join(root, `store-${++seq}`, 'pds.sqlite');
  return {
    newPath,
    sharedFile(make) {
      const path = newPath();
      return async () =>
        Object.assign(make(path), {
          drop: async () => {
            for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
          },
        });
    },
  };
}

/** The rows of one query on a SQLite file opened read-only (and closed again) for a check. */
export function queryFile<T>(path: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}
