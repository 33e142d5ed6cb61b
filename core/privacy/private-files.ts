/**
 * Files holding learner data or their bookkeeping are readable by their owner only: the SQLite
 * database and the ledger are created with mode 0600 before SQLite opens them (SQLite gives its
 * `-wal` and `-shm` files the mode of the database file), and a file an older version created
 * with the umask's mode (0644) is narrowed when it is next opened.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/** Mode of every file pds writes that holds learner data. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `path` empty with mode 0600 when it does not exist (its folder 0700), and sets 0600 on
 * it and on its SQLite companions (`-wal`, `-shm`, `-journal`) when they exist. In-memory and
 * URI paths are left alone.
 */
export function preparePrivateFile(path: string): void {
  if (path === ':memory:' || path === '' || path.startsWith('file:')) return;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // 'a' creates without truncating; the mode applies only when the file is created (and the umask can only narrow it).
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  for (const p of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    if (existsSync(p)) chmodSync(p, PRIVATE_FILE_MODE);
  }
}
