/** The first ledger schema: runs, files (one row per source object or zip member), stage history, rejected lines. */
export const name = '0001-initial';

export const sql = `
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  env TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  status TEXT NOT NULL,            -- running | succeeded | flagged | failed | cancelled
  options TEXT NOT NULL,           -- JSON of the run options
  totals TEXT,                     -- JSON counts by file status
  error TEXT                       -- JSON SerializedError when the run could not run
);

CREATE TABLE files (
  key TEXT PRIMARY KEY,            -- source key, or 'package.zip!member/path'
  parent_key TEXT,                 -- the package for zip members
  location TEXT NOT NULL,
  kind TEXT NOT NULL,
  size INTEGER,
  etag TEXT,                       -- for members: the package etag + member crc32
  status TEXT NOT NULL,            -- pending | fetched | loaded | partial | failed | skipped
  stage TEXT,                      -- last stage that completed, or the stage that failed
  code TEXT,
  reason TEXT,
  hint TEXT,
  course_key TEXT,
  table_name TEXT,
  snapshot_date TEXT,
  bytes INTEGER NOT NULL DEFAULT 0,
  rows_read INTEGER NOT NULL DEFAULT 0,
  rows_loaded INTEGER NOT NULL DEFAULT 0,
  rows_rejected INTEGER NOT NULL DEFAULT 0,
  rows_duplicate INTEGER NOT NULL DEFAULT 0,
  warnings TEXT,                   -- JSON array of { code, message }
  quarantine TEXT,                 -- path of the quarantine file with rejected lines verbatim
  landing TEXT,                    -- path of the landing copy
  attempts INTEGER NOT NULL DEFAULT 0,
  run_id TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX files_parent ON files(parent_key);
CREATE INDEX files_run ON files(run_id);

CREATE TABLE run_files (
  run_id TEXT NOT NULL,
  key TEXT NOT NULL,
  result TEXT NOT NULL,            -- JSON FileResult as reported for that run
  PRIMARY KEY (run_id, key)
);

CREATE TABLE stage_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  key TEXT NOT NULL,
  stage TEXT NOT NULL,
  outcome TEXT NOT NULL,           -- ok | failed
  at TEXT NOT NULL,
  detail TEXT                      -- JSON counts / error code
);
CREATE INDEX stage_log_key ON stage_log(key);

CREATE TABLE rejected_lines (
  run_id TEXT NOT NULL,
  key TEXT NOT NULL,
  line INTEGER NOT NULL,
  code TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX rejected_lines_key ON rejected_lines(run_id, key);
`;
