/**
 * The environment's data-protection records in its ledger (migration 0004-privacy): erasures,
 * the keyed hashes of erased learners' ids (so later loads keep them out without the ledger
 * holding their values), and the audit log.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { EnvironmentConfig } from '../config/config-schema.js';
import { resolveSecret, type EnvironmentPaths } from '../config/config-store.js';
import type { LearnerKey } from '../domain/personal-data.js';
import { openLedgerDatabase } from '../ledger/ledger.js';
import { preparePrivateFile } from './private-files.js';
import { runActor } from '../ledger/actor.js';

/** Who does something: the OS user running the CLI, or a console session. */

/** The file holding a generated privacy secret when the environment configures none. */
export function privacySecretPath(paths: EnvironmentPaths): string {
  return join(paths.root, 'privacy.secret');
}

/**
 * The environment's privacy secret: `privacy.secret` (a secret reference) when configured, else a
 * random one generated once into `envs/ENV/privacy.secret` (0600). It keys the hashes of erased
 * learners and the pseudonyms; changing it changes every pseudonym and forgets who was erased.
 */
export async function privacySecret(home: string, env: string, config: EnvironmentConfig, paths: EnvironmentPaths): Promise<string> {
  const ref = config.privacy?.secret;
  if (ref) return resolveSecret(ref, home, `environments.${env}.privacy.secret`);
  const path = privacySecretPath(paths);
  if (!existsSync(path)) {
    preparePrivateFile(path);
    await writeFile(path, randomBytes(32).toString('hex'), { mode: 0o600 });
  }
  return (await readFile(path, 'utf8')).trim();
}

/** The keys an erased learner is remembered by (hashed): user id, username, e-mail, and the ids derived from them. */
export type LearnerKeyKind = LearnerKey;

/** Normalises a learner value the way it is hashed (e-mails are case-insensitive). */
export function normaliseLearnerValue(kind: LearnerKeyKind, value: string | number): string {
  const s = String(value).trim();
  return kind === 'email' ? s.toLowerCase() : s;
}

/** HMAC-SHA-256 of `kind:value` under the secret, hex. */
export function learnerHash(secret: string, kind: LearnerKeyKind, value: string | number): string {
  return createHmac('sha256', secret).update(`${kind}:${normaliseLearnerValue(kind, value)}`).digest('hex');
}

export interface ErasureStoreCount {
  store: string;
  target: string;
  rows: number;
}

export interface ErasureRecord {
  id: string;
  at: string;
  actor: string;
  reason: string;
  stores: ErasureStoreCount[];
  totalRows: number;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  detail: Record<string, unknown>;
}

/** The privacy tables of one environment's ledger. */
export class PrivacyLedger {
  private constructor(private readonly db: Database.Database) {}

  /** Opens (creating and migrating) the environment's ledger. */
  static open(path: string): PrivacyLedger {
    return new PrivacyLedger(openLedgerDatabase(path));
  }

  close(): void {
    this.db.close();
  }

  /** Records an erasure and the hashes of the erased ids; returns the record. */
  recordErasure(entry: { actor: string; reason: string; stores: ErasureStoreCount[]; hashes: { hash: string; kind: LearnerKeyKind }[] }): ErasureRecord {
    const record: ErasureRecord = {
      id: randomUUID(),
      at: new Date().toISOString(),
      actor: entry.actor,
      reason: entry.reason,
      stores: entry.stores,
      totalRows: entry.stores.reduce((n, s) => n + s.rows, 0),
    };
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO erasures (id, at, actor, reason, stores, total_rows) VALUES (?, ?, ?, ?, ?, ?)')
        .run(record.id, record.at, record.actor, record.reason, JSON.stringify(record.stores), record.totalRows);
      const add = this.db.prepare('INSERT OR IGNORE INTO erased_learners (hash, kind, erasure_id, at) VALUES (?, ?, ?, ?)');
      for (const h of entry.hashes) add.run(h.hash, h.kind, record.id, record.at);
      this.appendAudit(entry.actor, 'erasure', { erasureId: record.id, reason: record.reason, stores: record.stores.length, rows: record.totalRows }, record.at);
    })();
    return record;
  }

  erasures(): ErasureRecord[] {
    return (this.db.prepare('SELECT * FROM erasures ORDER BY at').all() as { id: string; at: string; actor: string; reason: string; stores: string; total_rows: number }[]).map((r) => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      reason: r.reason,
      stores: JSON.parse(r.stores) as ErasureStoreCount[],
      totalRows: r.total_rows,
    }));
  }

  /** Every erased learner's hashes (the load filter). */
  erasedHashes(): Set<string> {
    return new Set((this.db.prepare('SELECT hash FROM erased_learners').all() as { hash: string }[]).map((r) => r.hash));
  }

  /** The fingerprints of the settings as pds last saw them (config-audit.ts); undefined before the first run. */
  configSeen(): Record<string, string> | undefined {
    const row = this.db.prepare('SELECT fingerprints FROM config_seen WHERE id = 1').get() as { fingerprints: string } | undefined;
    return row ? (JSON.parse(row.fingerprints) as Record<string, string>) : undefined;
  }

  saveConfigSeen(fingerprints: Record<string, string>, at = new Date().toISOString()): void {
    this.db
      .prepare('INSERT INTO config_seen (id, at, fingerprints) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET at = excluded.at, fingerprints = excluded.fingerprints')
      .run(at, JSON.stringify(fingerprints));
  }

  appendAudit(actor: string, action: string, detail: Record<string, unknown>, at = new Date().toISOString()): void {
    this.db.prepare('INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)').run(at, actor, action, JSON.stringify(detail));
  }

  /**
   * The log, newest first. With `withRuns`, every run of the ledger is listed too (action `run`,
   * actor the account that ran it and how: `os:<user>` from the CLI, `console:<user>`,
   * `scheduler:<user>`, `desktop:<user>`), `seq` 0: runs are recorded in their own table.
   */
  audit(options: { since?: string; limit?: number; withRuns?: boolean } = {}): AuditEntry[] {
    const limit = options.limit ?? 1000;
    const rows = this.db
      .prepare('SELECT * FROM audit_log WHERE at >= ? ORDER BY seq DESC LIMIT ?')
      .all(options.since ?? '', limit) as { seq: number; at: string; actor: string; action: string; detail: string }[];
    const entries = rows.map((r) => ({ seq: r.seq, at: r.at, actor: r.actor, action: r.action, detail: JSON.parse(r.detail) as Record<string, unknown> }));
    if (!options.withRuns) return entries;
    const runs = this.db
      .prepare('SELECT id, started_at, finished_at, status, origin, os_user, options FROM runs WHERE started_at >= ? ORDER BY started_at DESC LIMIT ?')
      .all(options.since ?? '', limit) as { id: string; started_at: string; finished_at: string | null; status: string; origin: string | null; os_user: string | null; options: string }[];
    const runEntries: AuditEntry[] = runs.map((r) => ({
      seq: 0,
      at: r.started_at,
      // The account and how it started the run; a run recorded before accounts were kept: its origin.
      actor: r.os_user ? runActor(r.origin, r.os_user) : (r.origin ?? 'cli'),
      action: 'run',
      detail: { runId: r.id, status: r.status, finishedAt: r.finished_at, origin: r.origin ?? 'cli', options: JSON.parse(r.options) as unknown },
    }));
    return [...entries, ...runEntries].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : b.seq - a.seq)).slice(0, limit);
  }
}

/** Appends one entry to the audit log of the ledger at `path`. */
export function appendAuditEntry(path: string, actor: string, action: string, detail: Record<string, unknown>): void {
  const ledger = PrivacyLedger.open(path);
  try {
    ledger.appendAudit(actor, action, detail);
  } finally {
    ledger.close();
  }
}
