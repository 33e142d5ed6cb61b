/**
 * The environment's settings as pds last saw them, as one SHA-256 fingerprint per top-level setting
 * (never the values): a run that finds them changed by something other than pds (config.yaml
 * edited by hand) writes the change to the audit log.
 */
export const name = '0006-config-seen';

export const sql = `
CREATE TABLE config_seen (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  at TEXT NOT NULL,
  fingerprints TEXT NOT NULL       -- JSON { setting: sha256 of its canonical JSON }
);
`;
