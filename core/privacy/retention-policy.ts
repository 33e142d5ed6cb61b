/**
 * The retention policy in force for one environment, worded for the inventory
 * (docs/data-protection.md): how long landing copies, quarantine files, snapshots and events are
 * kept under its configuration. The default keeps everything: nothing expires silently.
 */
import type { EnvironmentConfig } from '../config/config-schema.js';
import { DEFAULT_RETENTION } from '../config/unattended-schema.js';

export interface RetentionLine {
  what: string;
  rule: string;
}

export interface RetentionPolicy {
  landing: string;
  quarantine: string;
  snapshots: string;
  events: string;
  lines: RetentionLine[];
}

function days(n: number, what: string): string {
  return n === 0 ? 'kept until removed by the operator' : `${n} days ${what}`;
}

export function retentionPolicy(config: EnvironmentConfig): RetentionPolicy {
  const r = config.retention ?? DEFAULT_RETENTION;
  const landing = days(r.landingDays, 'after a successful load');
  const quarantine = days(r.quarantineDays, 'after they were written');
  const snapshots = `the newest weekly snapshot of each course (each package replaces the previous one)${r.snapshots ? `; a course whose newest snapshot is older than ${r.snapshots} is removed by \`pds purge\` and scheduled runs` : ''}`;
  const events = r.events ? `${r.events}, then removed by \`pds purge\` and scheduled runs` : 'kept until erased (no expiry configured)';
  const designated = r.designated ?? r.events;
  return {
    landing,
    quarantine,
    snapshots,
    events,
    lines: [
      { what: 'Landing copies (encrypted)', rule: `${landing} (\`retention.landingDays\`)` },
      { what: 'Quarantine files', rule: `${quarantine} (\`retention.quarantineDays\`)` },
      { what: 'Weekly tables', rule: `${snapshots} (\`retention.snapshots\`)` },
      { what: 'Raw events (`events`)', rule: `${events} (\`retention.events\`)` },
      { what: 'Designated event tables', rule: `${designated ? `${designated}, then removed by \`pds purge\` and scheduled runs` : 'kept until erased (no expiry configured)'} (\`retention.designated\`)` },
    ],
  };
}
