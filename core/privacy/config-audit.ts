/**
 * Changes to an environment's settings made outside pds (config.yaml edited by hand) reach the
 * audit log too. The ledger keeps a fingerprint of each top-level setting as pds last saw it
 * (`config_seen`: a SHA-256 of the setting's canonical JSON, which holds secret references, never
 * secret values); at the start of each run the settings in force are compared with it, and the
 * settings that changed are recorded as a `config` entry by `outside pds`, with the file's
 * modification time and the run that noticed it. Changes made through pds (the console) record
 * themselves and update the fingerprints, so they are not reported twice.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import type { EnvironmentConfig } from '../config/config-schema.js';
import { PrivacyLedger } from './privacy-ledger.js';

/** The actor of a change pds did not make. */
export const OUTSIDE_PDS = 'outside pds';

/** JSON with object keys sorted, so that equal settings give equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** One fingerprint per top-level setting of the environment. */
export function settingFingerprints(config: EnvironmentConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    out[key] = createHash('sha256').update(canonical(value)).digest('hex');
  }
  return out;
}

function changedSettings(before: Record<string, string>, now: Record<string, string>): string[] {
  return [...new Set([...Object.keys(before), ...Object.keys(now)])].filter((k) => before[k] !== now[k]).sort();
}

/** Records the settings as pds sees them now (after pds itself changed them). */
export function recordSettingsSeen(ledgerPath: string, config: EnvironmentConfig): void {
  const ledger = PrivacyLedger.open(ledgerPath);
  try {
    ledger.saveConfigSeen(settingFingerprints(config));
  } finally {
    ledger.close();
  }
}

/**
 * At the start of a run: when the settings differ from those pds last saw, records which changed
 * as made outside pds, and remembers the settings in force. The first run only remembers.
 * Returns the names of the settings that changed.
 */
export function auditSettingsEditedOutside(opts: { ledgerPath: string; configFile: string; env: string; config: EnvironmentConfig; runId: string }): string[] {
  const now = settingFingerprints(opts.config);
  const ledger = PrivacyLedger.open(opts.ledgerPath);
  try {
    const seen = ledger.configSeen();
    const changed = seen ? changedSettings(seen, now) : [];
    if (changed.length > 0) {
      const modifiedAt = existsSync(opts.configFile) ? statSync(opts.configFile).mtime.toISOString() : undefined;
      ledger.appendAudit(OUTSIDE_PDS, 'config', { env: opts.env, method: 'edited outside pds', settings: changed, ...(modifiedAt ? { fileModifiedAt: modifiedAt } : {}), noticedByRun: opts.runId });
    }
    if (!seen || changed.length > 0) ledger.saveConfigSeen(now);
    return changed;
  } finally {
    ledger.close();
  }
}
