/** Ledger migrations, append-only and applied in order. */
import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-run-events.js';

export interface Migration {
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [m0001, m0002];
