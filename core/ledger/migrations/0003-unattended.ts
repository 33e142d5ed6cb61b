/**
 * Unattended operation (README "Unattended operation"): the scheduler's heartbeat (the console and
 * `pds doctor` show when it last beat and whether it is alive), each schedule slot and what became
 * of it (started, skipped while another load ran, missed during downtime, caught up), the alerts
 * sent (so the same problem is not sent every night) and the files retention removed.
 */
export const name = '0003-unattended';

export const sql = `
CREATE TABLE scheduler_heartbeat (
  id INTEGER PRIMARY KEY CHECK (id = 1),  -- one scheduler per environment
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  started_at TEXT NOT NULL,
  beat_at TEXT NOT NULL,
  next_slot_at TEXT,                      -- the next slot it waits for (UTC)
  stopped_at TEXT                         -- set when it stopped cleanly
);

CREATE TABLE schedule_slots (
  schedule TEXT NOT NULL,
  slot_at TEXT NOT NULL,                  -- the slot's time (UTC)
  outcome TEXT NOT NULL,                  -- started | skipped | missed | caught-up | failed
  run_id TEXT,
  detail TEXT,
  recorded_at TEXT NOT NULL,
  PRIMARY KEY (schedule, slot_at)
);

CREATE TABLE alert_state (
  fingerprint TEXT PRIMARY KEY,           -- the problem (kind and what it is about), never learner data
  kind TEXT NOT NULL,
  first_seen_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  last_sent_at TEXT,
  seen INTEGER NOT NULL DEFAULT 1,
  summary TEXT NOT NULL
);

CREATE TABLE retention_log (
  run_id TEXT,
  path TEXT NOT NULL,
  what TEXT NOT NULL,                     -- landing | quarantine
  bytes INTEGER,
  removed_at TEXT NOT NULL
);
`;
