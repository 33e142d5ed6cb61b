/**
 * Data protection after each run that loaded: the pseudonym map and the `pseudo_*` views are
 * brought up to date in the relational store, and learners edX has retired (usernames of the form
 * `retired__user_…`, docs/edx-formats.md §7.14) are reported — and, with `privacy.eraseRetired`,
 * erased (`forgetLearner`, recorded with reason `retired`); scheduled runs also apply the retention
 * ages (`pds purge`). Never fails the run: a problem is a notice.
 */
import type { EnvironmentConfig } from '../config/config-schema.js';
import type { EnvironmentPaths } from '../config/config-store.js';
import { openErasureTargets } from './erasure-targets.js';
import { forgetLearner } from './forget.js';
import { privacySecret } from './privacy-ledger.js';
import { purge } from './purge.js';
import { refreshPseudonyms } from './pseudonyms.js';

export interface PrivacyNotice {
  level: 'info' | 'warning';
  message: string;
}

/** User ids of the learners edX retired that the relational store still holds. */
async function retiredLearners(home: string, env: string, config: EnvironmentConfig, paths: EnvironmentPaths): Promise<number[]> {
  const targets = await openErasureTargets(home, env, config, paths);
  if (!targets) return [];
  try {
    if (!(await targets.relational.tables()).includes('auth_user')) return [];
    const rows = await targets.relational.all<{ id: unknown }>("SELECT DISTINCT id FROM auth_user WHERE username LIKE 'retired\\_\\_user\\_%' ESCAPE '\\' OR email LIKE 'retired\\_\\_user\\_%' ESCAPE '\\'");
    return rows.map((r) => Number(r.id)).filter((n) => Number.isSafeInteger(n));
  } finally {
    await targets.close();
  }
}

/** Refreshes the pseudonyms; reports (or erases) retired learners. */
export async function afterRunPrivacy(opts: { home: string; env: string; config: EnvironmentConfig; paths: EnvironmentPaths; actor: string }): Promise<PrivacyNotice[]> {
  const notices: PrivacyNotice[] = [];
  try {
    const secret = await privacySecret(opts.home, opts.env, opts.config, opts.paths);
    const targets = await openErasureTargets(opts.home, opts.env, opts.config, opts.paths);
    if (targets) {
      try {
        await refreshPseudonyms(targets.relational, secret);
      } finally {
        await targets.close();
      }
    }
  } catch (error) {
    notices.push({ level: 'warning', message: `The pseudonymised views could not be refreshed: ${(error as Error).message}` });
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
  try {
    const retired = await retiredLearners(opts.home, opts.env, opts.config, opts.paths);
    if (retired.length > 0 && opts.config.privacy?.eraseRetired) {
      let rows = 0;
      for (const id of retired) rows += (await forgetLearner({ ...opts, user: String(id), reason: 'retired' })).totalRows;
      notices.push({ level: 'info', message: `${retired.length} learner(s) edX has retired were erased (privacy.eraseRetired): ${rows} row(s) removed; see pds audit.` });
    } else if (retired.length > 0) {
      notices.push({
        level: 'info',
        message: `${retired.length} learner(s) edX has retired (retired__user_…) are still held with their events. Erase them with pds forget --env ${opts.env} --user ID, or set privacy.eraseRetired: true.`,
      });
    }
  } catch (error) {
    notices.push({ level: 'warning', message: `Retired learners could not be checked or erased: ${(error as Error).message}` });
  }
  return notices;
}
