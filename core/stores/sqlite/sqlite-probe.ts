/**
 * The console's "test connection" for an SQLite target, changing nothing: the file is opened
 * read-only when it exists (never created, never migrated), and its schema version compared with
 * this pds's. A file that does not exist yet is fine: the first load creates it.
 */
import { constants, existsSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ProbeStep } from '../probe.js';
import { SQLITE_SCHEMA_VERSION, schemaVersion, schemaWork } from './sqlite-schema.js';

/** The steps of probing the SQLite file at `path`. Never throws. */
export async function probeSqliteFile(path: string): Promise<ProbeStep[]> {
  if (!existsSync(path)) {
    // The first load creates the folder too: the nearest existing parent must be writable.
    let folder = dirname(path);
    while (!existsSync(folder) && dirname(folder) !== folder) folder = dirname(folder);
    const writable = await access(folder, constants.W_OK).then(
      () => true,
      () => false,
    );
    return [
      writable
        ? { name: 'database file', ok: true, detail: `${path} does not exist yet: it will be created at the first load.` }
        : { name: 'database file', ok: false, detail: `${path} does not exist, and ${folder} is not writable by this user, so the first load cannot create it.`, fix: `Let this user write to ${folder}, or set targets' path to a writable place.` },
    ];
  }
  const steps: ProbeStep[] = [];
  const writable = await access(path, constants.W_OK | constants.R_OK).then(
    () => true,
    () => false,
  );
  steps.push(
    writable
      ? { name: 'database file', ok: true, detail: `${path} exists and this user may read and write it.` }
      : { name: 'database file', ok: false, detail: `${path} exists but this user may not read and write it.`, fix: `Give this user read and write access to ${path} (and its folder).` },
  );
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const version = schemaVersion(db);
    if (version > SQLITE_SCHEMA_VERSION) {
      steps.push({
        name: 'schema version',
        ok: false,
        detail: `The file was written by a newer pds (schema ${version}; this pds knows ${SQLITE_SCHEMA_VERSION}).`,
        fix: 'Upgrade pds, or point this environment at another database file.',
      });
    } else if (version === 0) {
      steps.push({ name: 'schema version', ok: true, detail: 'The file holds no pds schema yet: the first load creates its tables.' });
    } else if (version < SQLITE_SCHEMA_VERSION || schemaWork(db).length > 0) {
      steps.push({ name: 'schema version', ok: true, detail: `Schema ${version}, older than this pds's ${SQLITE_SCHEMA_VERSION} or missing tables: it will be migrated at the next load.` });
    } else {
      steps.push({ name: 'schema version', ok: true, detail: `Schema ${version}: up to date.` });
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    steps.push({
      name: 'schema version',
      ok: false,
      detail: `${path} could not be read as an SQLite database${typeof code === 'string' ? ` (${code})` : ''}.`,
      fix: 'Check that the file is a pds SQLite database and not damaged, or point this environment at another file.',
    });
  } finally {
    db?.close();
  }
  return steps;
}
