/**
 * Data protection: erasure records (when, by whom, which stores, how many rows; never the erased
 * values), the keyed hashes of erased learners' ids that later loads filter out, and the audit log
 * of who did what (runs, exports, personal-data queries, erasures, purges, configuration and keys).
 */
export const name = '0004-privacy';

export const sql = `
CREATE TABLE erasures (
  id TEXT PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,             -- os:<user> | console:<session>
  reason TEXT NOT NULL,            -- request | retired
  stores TEXT NOT NULL,            -- JSON [{ store, target, rows }]
  total_rows INTEGER NOT NULL
);

CREATE TABLE erased_learners (
  hash TEXT PRIMARY KEY,           -- HMAC-SHA-256 of kind:value under the environment's privacy secret
  kind TEXT NOT NULL,              -- id | username | email
  erasure_id TEXT NOT NULL,
  at TEXT NOT NULL
);

CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,            -- run | export | query | erasure | purge | config | key
  detail TEXT NOT NULL             -- JSON, never learner values
);
CREATE INDEX audit_log_at ON audit_log(at);
`;
