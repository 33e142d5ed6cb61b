/** Ledger migrations, append-only and applied in order. */
import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-run-events.js';
import * as m0003 from './0003-unattended.js';
import * as m0004 from './0004-privacy.js';
import * as m0005 from './0005-run-user.js';
import * as m0006 from './0006-config-seen.js';

export interface Migration {
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [m0001, m0002, m0003, m0004, m0005, m0006];
