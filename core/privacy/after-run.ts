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
import { departedLearners, type Departures } from './departed-learners.js';
import { openErasureTargets, type ErasureTargets } from './erasure-targets.js';
import { forgetLearner, type ForgetResult } from './forget.js';
import { privacySecret } from './privacy-ledger.js';
import { purge } from './purge.js';
import { refreshPseudonyms } from './pseudonyms.js';

export interface PrivacyNotice {
  level: 'info' | 'warning';
  message: string;
}

type PrivacyOptions = {
  home: string;
  env: string;
  config: EnvironmentConfig;
  paths: EnvironmentPaths;
  /** Who acts, as the audit log names them (`os:<user>`, `scheduler:<user>`…). */
  actor: string;
  /** How the run was started (`cli`, `console`, `scheduler`, `desktop`): scheduled runs also purge. */
  origin?: string;
};

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
  departed: Departures;
}

async function findRetired(targets: ErasureTargets, dryRun = false): Promise<RetiredLearners> {
  // Renamed learners are still in auth_user: never among the departed.
  return { departed: await departedLearners(targets, { dryRun }), renamed: await renamedLearners(targets) };
}

function describeRetired(renamed: number, departed: number): string {
  return [renamed > 0 ? `${renamed} renamed retired__user_…` : '', departed > 0 ? `${departed} gone from every course of the weekly snapshot while their events remain` : ''].filter(Boolean).join(', ');
}

/** Erases each learner (reason `retired`); one that fails does not stop the others. */
async function eraseEach(opts: PrivacyOptions, ids: readonly number[], dryRun: boolean): Promise<{ results: ForgetResult[]; failed: string[] }> {
  const results: ForgetResult[] = [];
  const failed: string[] = [];
  for (const id of ids) {
    try {
      results.push(await forgetLearner({ ...opts, user: String(id), dryRun, reason: 'retired' }));
    } catch (error) {
      failed.push((error as Error).message);
    }
  }
  return { results, failed };
}

/**
 * `pds forget --retired`: erases (or, in a dry run, counts; the dry run changes nothing, the record
 * of the snapshot's learners included) every learner edX has retired that the stores still hold,
 * each recorded as an erasure with reason `retired`. The operator asked: many departures at once
 * are erased too.
 */
export async function forgetRetired(
  opts: PrivacyOptions & { dryRun?: boolean },
): Promise<{ env: string; dryRun: boolean; learners: number; description: string; totalRows: number; results: ForgetResult[]; failed: string[] }> {
  const dryRun = opts.dryRun === true;
  const targets = await openErasureTargets(opts.home, opts.env, opts.config, opts.paths);
  let retired: RetiredLearners = { renamed: [], departed: { ids: [], newly: 0, review: [] } };
  if (targets) {
    try {
      retired = await findRetired(targets, dryRun);
    } finally {
      await targets.close();
    }
  }
  const { results, failed } = await eraseEach(opts, [...retired.renamed, ...retired.departed.ids], dryRun);
  return { env: opts.env, dryRun, learners: results.length, description: describeRetired(retired.renamed.length, retired.departed.ids.length), totalRows: results.reduce((n, r) => n + r.totalRows, 0), results, failed };
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
  if (opts.origin === 'scheduler' && (r?.events || r?.designated || r?.snapshots)) {
    // Scheduled loads also apply the retention ages (what pds purge does by hand).
    try {
      const purged = await purge({ ...opts, dryRun: false });
      if (purged.totalRows > 0) notices.push({ level: 'info', message: `Retention removed ${purged.totalRows} row(s) older than the environment's retention ages (see pds audit).` });
    } catch (error) {
      notices.push({ level: 'warning', message: `Retention could not purge old rows: ${(error as Error).message}` });
    }
  }
  if (!retired) return notices;
  const { renamed, departed } = retired;
  const held = renamed.length + departed.ids.length;
  if (held === 0) return notices;
  if (departed.review.length > 0) {
    notices.push({
      level: 'warning',
      message: `${departed.review.length} learners left the weekly snapshot at once while their events remain: more than retirements explain. Check the delivery's auth_user, student_courseenrollment and auth_userprofile files (partial or empty?). They are not erased automatically; pds forget --env ${opts.env} --retired --dry-run lists what erasing them would remove.`,
    });
  }
  if (opts.config.privacy?.eraseRetired) {
    // Departures too many at once wait for the operator; renamed learners are certain.
    const waiting = new Set(departed.review);
    const erasable = departed.ids.filter((id) => !waiting.has(id));
    const ids = [...renamed, ...erasable];
    const { results, failed } = await eraseEach(opts, ids, false);
    const rows = results.reduce((n, x) => n + x.totalRows, 0);
    if (results.length > 0) {
      const what = describeRetired(renamed.length, erasable.length);
      notices.push({ level: 'info', message: `${results.length} learner(s) edX has retired (${what}) were erased (privacy.eraseRetired): ${rows} row(s) removed; see pds audit.` });
    }
    if (failed.length > 0) notices.push({ level: 'warning', message: `${failed.length} learner(s) edX has retired could not be erased (the next run tries again): ${failed[0]}` });
    return notices;
  }
  notices.push({
    level: 'info',
    message: `${held} learner(s) edX has retired (${describeRetired(renamed.length, departed.ids.length)}) are still held with their events. Erase them with pds forget --env ${opts.env} --retired (--dry-run first to see what goes), or set privacy.eraseRetired: true to erase them after each run.`,
  });
  return notices;
}
