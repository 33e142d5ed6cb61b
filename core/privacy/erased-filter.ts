/**
 * Keeps erased learners out of later loads (a weekly snapshot or a daily log that still carries
 * them, until edX stops sending them): every learner key of a row, event or forum post is hashed
 * with the environment's privacy secret and looked up among the hashes erasure recorded in the
 * ledger — the ledger never holds the values. Built only when the environment has erasures, so
 * other loads pay nothing.
 */
import type { EnvironmentConfig } from '../config/config-schema.js';
import type { EnvironmentPaths } from '../config/config-store.js';
import { LEARNER_KEY_COLUMNS, LEARNER_KEY_COLUMN_NAMES, type LearnerKey } from '../domain/personal-data.js';
import type { EventRecord, SqlValue } from '../domain/records.js';
import { redactForumDocument } from './forget.js';
import { PrivacyLedger, learnerHash, privacySecret } from './privacy-ledger.js';
import { existsSync } from 'node:fs';

export class ErasedFilter {
  private readonly byTable = new Map<string, [number, LearnerKey][]>();

  constructor(
    private readonly secret: string,
    private readonly hashes: ReadonlySet<string>,
  ) {}

  /** The environment's filter, or undefined when no learner was ever erased there. */
  static async load(home: string, env: string, config: EnvironmentConfig, paths: EnvironmentPaths): Promise<ErasedFilter | undefined> {
    if (!existsSync(paths.ledger)) return undefined;
    const ledger = PrivacyLedger.open(paths.ledger);
    let hashes: Set<string>;
    try {
      hashes = ledger.erasedHashes();
    } finally {
      ledger.close();
    }
    if (hashes.size === 0) return undefined;
    return new ErasedFilter(await privacySecret(home, env, config, paths), hashes);
  }

  /** True when `value` is a key of an erased learner. */
  has(kind: LearnerKey, value: unknown): boolean {
    if (value === null || value === undefined || value === '') return false;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint') return false;
    return this.hashes.has(learnerHash(this.secret, kind, String(value)));
  }

  /** True when a row of `table` (values in `columns` order) belongs to an erased learner. */
  rowErased(table: string, columns: readonly string[], row: readonly (SqlValue | Uint8Array)[]): boolean {
    let keys = this.byTable.get(table);
    if (!keys) {
      keys = [];
      columns.forEach((c, i) => {
        const k = LEARNER_KEY_COLUMN_NAMES[c];
        if (k) keys!.push([i, k]);
      });
      for (const [c, k] of LEARNER_KEY_COLUMNS[table] ?? []) {
        const i = columns.indexOf(c);
        if (i >= 0) keys.push([i, k]);
      }
      this.byTable.set(table, keys);
    }
    return keys.some(([i, k]) => this.has(k, row[i]));
  }

  /** True when a tracking-log line names an erased learner (whose it is, or whom it is about). */
  eventErased(e: EventRecord): boolean {
    if (this.has('id', e.userId) || this.has('username', e.username)) return true;
    const env = e.envelope as Record<string, unknown>;
    const ctx = env.context as Record<string, unknown> | undefined;
    if (ctx && this.has('id', ctx.user_id)) return true;
    const ev = (typeof e.event === 'object' && e.event !== null ? e.event : e.eventParsed) as Record<string, unknown> | undefined;
    if (ev && typeof ev === 'object') return this.has('id', ev.user_id) || this.has('username', ev.target_username) || this.has('username', ev.username);
    return false;
  }

  /** A forum document: `erased` when an erased learner wrote it; else the document with their votes and flags removed (`doc` undefined when unchanged). */
  forumDocument(doc: Record<string, unknown>): { erased: boolean; doc?: Record<string, unknown> } {
    if (this.has('id', doc.author_id) || this.has('username', doc.author_username)) return { erased: true };
    return { erased: false, doc: redactForumDocument(doc, (v) => this.has('id', v) || this.has('username', v)) };
  }
}
