/**
 * Data protection after each run that loaded: the pseudonym map and the `pseudo_*` views are
 * brought up to date in the relational store, and learners edX has retired are reported — and,
 * with `privacy.eraseRetired`, erased (`forgetLearner`, recorded with reason `retired`). Retired
 * means either of what edX does when a learner asks to be forgotten: the account renamed
 * `retired__user_…` (docs/edx-formats.md §7.14), or the learner gone from every course of the
 * weekly snapshot while the events pds loaded still carry them (departed-learners.ts). Scheduled
 * runs also apply the retention ages (`pds purge`), after the departures are read, so that rows
 * the purge removes are not taken for learners edX removed. Never fails the run: a problem is a
 * notice.
 */
import type { EnvironmentConfig } from '../config/config-schema.js';
import type { EnvironmentPaths } from '../config/config-store.js';
import { departedLearners } from './departed-learners.js';
import { openErasureTargets, type ErasureTargets } from './erasure-targets.js';
import { forgetLearner, type ForgetResult } from './forget.js';
import { privacySecret } from './privacy-ledger.js';
import { purge } from './purge.js';
import { refreshPseudonyms } from './pseudonyms.js';

export interface PrivacyNotice {
  level: 'info' | 'warning';
  message: string;
}

type PrivacyOptions = { home: string; env: string; config: EnvironmentConfig; paths: EnvironmentPaths; actor: string };

/** User ids of the learners edX renamed `retired__user_…` that the relational store still holds. */
async function renamedLearners(targets: ErasureTargets): Promise<number[]> {
  if (!(await targets.relational.tables()).includes('auth_user')) return [];
  // `!` escapes LIKE's wildcards alike in SQLite and MariaDB (a backslash would escape the quote in MariaDB).
  const rows = await targets.relational.all<{ id: unknown }>("SELECT DISTINCT id FROM auth_user WHERE username LIKE 'retired!_!_user!_%' ESCAPE '!' OR email LIKE 'retired!_!_user!_%' ESCAPE '!'");
  return rows.map((r) => Number(r.id)).filter((n) => Number.isSafeInteger(n));
}

/** The learners edX has retired that the stores still hold, both kinds (see the module comment). */
export interface RetiredLearners {
  renamed: number[];
  departed: number[];
}

async function findRetired(targets: ErasureTargets): Promise<RetiredLearners> {
  const departed = await departedLearners(targets);
  const renamed = (await renamedLearners(targets)).filter((id) => !departed.includes(id));
  return { renamed, departed };
}

function describeRetired(r: RetiredLearners): string {
  return [
    r.renamed.length > 0 ? `${r.renamed.length} renamed retired__user_…` : '',
    r.departed.length > 0 ? `${r.departed.length} gone from every course of the weekly snapshot while their events remain` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/**
 * `pds forget --retired`: erases (or, in a dry run, counts) every learner edX has retired that the
 * stores still hold, each recorded as an erasure with reason `retired`.
 */
export async function forgetRetired(opts: PrivacyOptions & { dryRun?: boolean }): Promise<{ env: string; dryRun: boolean; learners: number; description: string; totalRows: number; results: ForgetResult[] }> {
  const targets = await openErasureTargets(opts.home, opts.env, opts.config, opts.paths);
  let retired: RetiredLearners = { renamed: [], departed: [] };
  if (targets) {
    try {
      retired = await findRetired(targets);
    } finally {
      await targets.close();
    }
  }
  const results: ForgetResult[] = [];
  for (const id of [...retired.renamed, ...retired.departed]) results.push(await forgetLearner({ ...opts, user: String(id), dryRun: opts.dryRun, reason: 'retired' }));
  return { env: opts.env, dryRun: opts.dryRun === true, learners: results.length, description: describeRetired(retired), totalRows: results.reduce((n, r) => n + r.totalRows, 0), results };
}

/** Refreshes the pseudonyms; reports (or erases) retired learners; scheduled runs purge. */
export async function afterRunPrivacy(opts: PrivacyOptions): Promise<PrivacyNotice[]> {
  const notices: PrivacyNotice[] = [];
  let retired: RetiredLearners | undefined;
  try {
    const secret = await privacySecret(opts.home, opts.env, opts.config, opts.paths);
    const targets = await openErasureTargets(opts.home, opts.env, opts.config, opts.paths);
    if (targets) {
      try {
        await refreshPseudonyms(targets.relational, secret);
        // Before the purge below: its removals are not departures.
        retired = await findRetired(targets);
      } finally {
        await targets.close();
      }
    }
  } catch (error) {
    notices.push({ level: 'warning', message: `The pseudonymised views or the record of the snapshot's learners could not be brought up to date: ${(error as Error).message}` });
  }
  const r = opts.config.retention;
  if (opts.actor === 'scheduler' && (r?.events || r?.designated || r?.snapshots)) {
    // Scheduled loads also apply the retention ages (what pds purge does by hand).
    try {
      const purged = await purge({ ...opts, dryRun: false });
      if (purged.totalRows > 0) notices.push({ level: 'info', message: `Retention removed ${purged.totalRows} row(s) older than the environment's retention ages (see pds audit).` });
    } catch (error) {
      notices.push({ level: 'warning', message: `Retention could not purge old rows: ${(error as Error).message}` });
    }
  }
  const ids = retired ? [...retired.renamed, ...retired.departed] : [];
  if (retired && ids.length > 0) {
    const what = describeRetired(retired);
    if (opts.config.privacy?.eraseRetired) {
      try {
        let rows = 0;
        for (const id of ids) rows += (await forgetLearner({ ...opts, user: String(id), reason: 'retired' })).totalRows;
        notices.push({ level: 'info', message: `${ids.length} learner(s) edX has retired (${what}) were erased (privacy.eraseRetired): ${rows} row(s) removed; see pds audit.` });
      } catch (error) {
        notices.push({ level: 'warning', message: `Learners edX has retired could not be erased: ${(error as Error).message}` });
      }
    } else {
      notices.push({
        level: 'info',
        message: `${ids.length} learner(s) edX has retired (${what}) are still held with their events. Erase them with pds forget --env ${opts.env} --retired (--dry-run first to see what goes), or set privacy.eraseRetired: true to erase them after each run.`,
      });
    }
  }
  return notices;
}
