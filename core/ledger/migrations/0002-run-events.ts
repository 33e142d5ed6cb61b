/**
 * Runs seen from other processes: who started a run and in which process, a cancel request the
 * running process picks up, and every run's events (the console's live view of runs started by
 * the CLI or a scheduler on the same home folder).
 */
export const name = '0002-run-events';

export const sql = `
ALTER TABLE runs ADD COLUMN origin TEXT;              -- console | cli | scheduler
ALTER TABLE runs ADD COLUMN pid INTEGER;              -- the process running it
ALTER TABLE runs ADD COLUMN cancel_requested_at TEXT; -- set by another process asking it to stop

CREATE TABLE run_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  type TEXT NOT NULL,              -- run-started | plan | file-started | file-progress | file-finished | notice | run-finished
  at TEXT NOT NULL,
  data TEXT NOT NULL               -- JSON of the event (without seq)
);
CREATE INDEX run_events_run ON run_events(run_id, seq);
CREATE INDEX run_files_key ON run_files(key);
`;
