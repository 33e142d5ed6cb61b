/**
 * Retention of the stored data (`pds purge --env E [--dry-run]`): raw events, designated event rows
 * and weekly snapshot rows older than the environment's `retention` ages are removed from every
 * store, and the purge is recorded in the audit log (what, how many rows, the cut-off dates). The
 * default keeps everything: an age left out removes nothing. Landing copies and quarantine files
 * have their own retention, applied after each run (`core/schedule/retention.ts`).
 */
import type { EnvironmentConfig } from '../config/config-schema.js';
import type { EnvironmentPaths } from '../config/config-store.js';
import { DEFAULT_RETENTION } from '../config/unattended-schema.js';
import { DESIGNATED_TABLES, WEEKLY_TABLES } from '../domain/tables.js';
import { ConfigError } from '../errors/index.js';
import { forgetPurgedSnapshotLearners, purgedSnapshotCandidates } from './departed-learners.js';
import { openErasureTargets, quoteIdent, type SqlTarget } from './erasure-targets.js';
import type { ErasureStoreCount } from './privacy-ledger.js';
import { appendAuditEntry } from './privacy-ledger.js';
import { existsSync } from 'node:fs';

/** The instant `age` (`5y`, `18m`, `12w`, `90d`) before `now`, UTC. */
export function cutoffOf(age: string, now: Date): Date {
  const m = /^(\d+)([dwmy])$/.exec(age);
  if (!m) throw new ConfigError(`retention age ${age} is not an age such as 5y, 18m, 12w or 90d.`, { code: 'CONFIG_INVALID' });
  const n = Number(m[1]);
  const d = new Date(now.getTime());
  if (m[2] === 'd') d.setUTCDate(d.getUTCDate() - n);
  else if (m[2] === 'w') d.setUTCDate(d.getUTCDate() - 7 * n);
  else if (m[2] === 'm') d.setUTCMonth(d.getUTCMonth() - n);
  else d.setUTCFullYear(d.getUTCFullYear() - n);
  return d;
}

/** `YYYY-MM-DD HH:MM:SS`: the stores' datetime text, comparable as text in SQLite. */
function sqlTime(d: Date): string {
  return d.toISOString().replace('T', ' ').slice(0, 19);
}

export interface PurgeResult {
  env: string;
  dryRun: boolean;
  /** The cut-off of each age set: rows before it are (or would be) removed. */
  cutoffs: { events?: string; designated?: string; snapshots?: string };
  stores: ErasureStoreCount[];
  totalRows: number;
}

async function purgeTable(db: SqlTarget, table: string, column: string, before: string, dryRun: boolean): Promise<number> {
  if (!(await db.tables()).includes(table)) return 0;
  const t = quoteIdent(db.dialect, table);
  const c = quoteIdent(db.dialect, column);
  if (dryRun) return Number((await db.all<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${t} WHERE ${c} < ?`, [before]))[0]?.n ?? 0);
  return db.run(`DELETE FROM ${t} WHERE ${c} < ?`, [before]);
}

/** Applies the environment's retention ages to its stores (see the module comment). */
export async function purge(opts: { home: string; env: string; config: EnvironmentConfig; paths: EnvironmentPaths; dryRun?: boolean; actor: string; now?: Date }): Promise<PurgeResult> {
  const dryRun = opts.dryRun === true;
  const now = opts.now ?? new Date();
  const r = opts.config.retention ?? DEFAULT_RETENTION;
  const eventsAge = r.events;
  const designatedAge = r.designated ?? r.events;
  const cutoffs: PurgeResult['cutoffs'] = {};
  if (eventsAge) cutoffs.events = cutoffOf(eventsAge, now).toISOString();
  if (designatedAge) cutoffs.designated = cutoffOf(designatedAge, now).toISOString();
  if (r.snapshots) cutoffs.snapshots = cutoffOf(r.snapshots, now).toISOString().slice(0, 10);
  const stores: ErasureStoreCount[] = [];
  const targets = Object.keys(cutoffs).length > 0 ? await openErasureTargets(opts.home, opts.env, opts.config, opts.paths) : undefined;
  try {
    if (targets) {
      const rel = targets.relational;
      if (cutoffs.designated) {
        for (const table of DESIGNATED_TABLES) {
          const n = await purgeTable(rel, table, 'time', sqlTime(new Date(cutoffs.designated)), dryRun);
          if (n > 0) stores.push({ store: rel.label, target: table, rows: n });
        }
      }
      if (cutoffs.events) {
        if (targets.sqlEvents) {
          const n = await purgeTable(targets.sqlEvents, 'events', 'time', sqlTime(new Date(cutoffs.events)), dryRun);
          if (n > 0) stores.push({ store: targets.sqlEvents.label, target: 'events', rows: n });
        }
        if (targets.mongo) {
          const events = targets.mongo.db.collection(targets.mongo.name('events'));
          const filter = { time: { $lt: new Date(cutoffs.events) } };
          const n = dryRun ? await events.countDocuments(filter) : (await events.deleteMany(filter)).deletedCount;
          if (n > 0) stores.push({ store: targets.mongo.label, target: targets.mongo.name('events'), rows: n });
        }
      }
      if (cutoffs.snapshots) {
        // Learners purged with their last auth_user rows have not left edX's snapshot.
        const purgedLearners = dryRun ? [] : await purgedSnapshotCandidates(rel, cutoffs.snapshots);
        try {
          for (const def of WEEKLY_TABLES) {
            const n = await purgeTable(rel, def.name, 'snapshot_date', cutoffs.snapshots, dryRun);
            if (n > 0) stores.push({ store: rel.label, target: def.name, rows: n });
          }
        } finally {
          // Even when a later table fails: the learners already purged are not taken for departures.
          await forgetPurgedSnapshotLearners(rel, purgedLearners);
        }
      }
      if (!dryRun) {
        await rel.scrub();
        if (targets.sqlEvents && targets.sqlEvents !== rel) await targets.sqlEvents.scrub();
      }
    }
  } finally {
    await targets?.close();
  }
  const totalRows = stores.reduce((n, s) => n + s.rows, 0);
  if (!dryRun && existsSync(opts.paths.ledger)) appendAuditEntry(opts.paths.ledger, opts.actor, 'purge', { env: opts.env, cutoffs, stores, rows: totalRows });
  return { env: opts.env, dryRun, cutoffs, stores, totalRows };
}
