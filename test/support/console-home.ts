/**
 * A home folder for console tests: one environment `local` reading plain daily event logs from a
 * local folder into the embedded SQLite file. Each log has `linesPerFile` events; the logs named in
 * `badLines` also hold that many lines that are not JSON (rejected and quarantined).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ConsoleHome {
  home: string;
  source: string;
  /** Source keys of the logs, in date order. */
  keys: string[];
  remove(): Promise<void>;
}

export function eventLine(i: number, day: string): string {
  return JSON.stringify({
    username: `learner${i % 17}`,
    event_type: i % 3 === 0 ? 'play_video' : 'problem_check',
    event_source: 'browser',
    time: `${day}T${String(i % 24).padStart(2, '0')}:00:${String(i % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}000+00:00`,
    context: { course_id: 'course-v1:OrgX+C1+2026', user_id: 1000 + (i % 17), org_id: 'OrgX', path: '/event' },
    event: { id: `block-${i}` },
    page: null,
    session: `s${i}`,
  });
}

export interface ConsoleHomeOptions {
  files?: number;
  linesPerFile?: number;
  badLines?: Record<number, number>;
  /** The environment's `targets:` block as config lines (default: both in the embedded SQLite file). */
  targets?: string[];
}

export async function createConsoleHome(options: ConsoleHomeOptions = {}): Promise<ConsoleHome> {
  const home = await mkdtemp(join(tmpdir(), 'pds-console-'));
  const source = join(home, 'incoming');
  await mkdir(source, { recursive: true });
  const keys: string[] = [];
  const files = options.files ?? 3;
  for (let f = 0; f < files; f++) {
    const day = `2026-01-${String(f + 1).padStart(2, '0')}`;
    const lines = Array.from({ length: options.linesPerFile ?? 50 }, (_, i) => eventLine(f * 100_000 + i, day));
    for (let b = 0; b < (options.badLines?.[f] ?? 0); b++) lines.splice(2 * b + 1, 0, `not json ${b} {`);
    const key = `orgx-edx-events-${day}.log`;
    await writeFile(join(source, key), `${lines.join('\n')}\n`);
    keys.push(key);
  }
  await writeFile(
    join(home, 'config.yaml'),
    [
      'environments:',
      '  local:',
      '    source:',
      '      type: local',
      `      path: ${source}`,
      ...(options.targets ?? ['    targets:', '      relational: { type: sqlite }', '      events: { type: sqlite }']),
      '',
    ].join('\n'),
  );
  return { home, source, keys, remove: () => rm(home, { recursive: true, force: true }) };
}
