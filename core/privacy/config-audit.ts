/**
 * Changes to an environment's settings made outside pds (config.yaml edited by hand) reach the
 * audit log too. The ledger keeps a fingerprint of each top-level setting as written in the file
 * when pds last saw it (`config_seen`: a SHA-256 of the setting's canonical JSON, which holds
 * secret references, never secret values; as written, so that a default a new release of pds
 * changes is no edit); at the start of each run, and before the console changes the settings, the
 * file is compared with it, and the settings that changed are recorded as a `config` entry by
 * `outside pds`, with the file's modification time and what noticed it. Changes made through pds
 * (the console) record themselves and update the fingerprints, so they are not reported twice.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { parse } from 'yaml';
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

/** The environment's settings as written in config.yaml (no defaults filled in); {} when absent. */
function writtenSettings(configFile: string, env: string): Record<string, unknown> {
  if (!existsSync(configFile)) return {};
  const raw = parse(readFileSync(configFile, 'utf8')) as { environments?: Record<string, unknown> } | null;
  const block = raw?.environments?.[env];
  return block !== null && typeof block === 'object' && !Array.isArray(block) ? (block as Record<string, unknown>) : {};
}

/** One fingerprint per top-level setting of the environment, as written. */
export function settingFingerprints(settings: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (value === undefined) continue;
    out[key] = createHash('sha256').update(canonical(value)).digest('hex');
  }
  return out;
}

function changedSettings(before: Record<string, string>, now: Record<string, string>): string[] {
  return [...new Set([...Object.keys(before), ...Object.keys(now)])].filter((k) => before[k] !== now[k]).sort();
}

export interface SettingsCheck {
  ledgerPath: string;
  configFile: string;
  env: string;
}

/** Records the settings as written now (after pds itself changed them). */
export function recordSettingsSeen(check: SettingsCheck): void {
  const ledger = PrivacyLedger.open(check.ledgerPath);
  try {
    ledger.saveConfigSeen(settingFingerprints(writtenSettings(check.configFile, check.env)));
  } finally {
    ledger.close();
  }
}

/**
 * When the settings as written differ from those pds last saw, records which changed as made
 * outside pds (`noticedBy`: the run, or the console's change about to be made), and remembers the
 * settings now written. The first look only remembers. Returns the names of the settings that changed.
 */
export function auditSettingsEditedOutside(check: SettingsCheck & { noticedBy: string }): string[] {
  const now = settingFingerprints(writtenSettings(check.configFile, check.env));
  const ledger = PrivacyLedger.open(check.ledgerPath);
  try {
    const seen = ledger.configSeen();
    const changed = seen ? changedSettings(seen, now) : [];
    if (changed.length > 0) {
      const modifiedAt = existsSync(check.configFile) ? statSync(check.configFile).mtime.toISOString() : undefined;
      ledger.appendAudit(OUTSIDE_PDS, 'config', { env: check.env, method: 'edited outside pds', settings: changed, ...(modifiedAt ? { fileModifiedAt: modifiedAt } : {}), noticedBy: check.noticedBy });
    }
    if (!seen || changed.length > 0) ledger.saveConfigSeen(now);
    return changed;
  } finally {
    ledger.close();
  }
}
