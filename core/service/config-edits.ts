/**
 * Edits of a home's config.yaml made by this process (environments, schedules) run one at a time:
 * read, change and write of one never interleave with another's, so no edit is lost. (Another
 * process's edit is caught by the revision a save is checked against.)
 */
import { resolve } from 'node:path';

const queues = new Map<string, Promise<unknown>>();

/** Runs `edit` after every edit of `home`'s config already queued here, whatever their outcome. */
export function serializeConfigEdit<T>(home: string, edit: () => Promise<T>): Promise<T> {
  const key = resolve(home);
  const next = (queues.get(key) ?? Promise.resolve()).then(edit, edit);
  const settled = next.catch(() => undefined);
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return next;
}
