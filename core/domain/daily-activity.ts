/**
 * Per course and UTC day activity counts of one daily log, accumulated while its events stream
 * through the loader and written to `course_daily_activity` in the same unit of work. Pure.
 */
import type { EventRecord, SqlValue } from './records.js';
import type { DesignatedRow } from './designate.js';

interface DayCounts {
  events: number;
  users: Set<number>;
  video_events: number;
  problem_checks: number;
  forum_events: number;
  enrollment_events: number;
}

export class DailyActivity {
  private readonly days = new Map<string, DayCounts>();
  /**
   * Events already counted, by the first 52 bits of their id: a line repeated in the file (§7.9)
   * is stored once, so it is counted once. Numbers keep the set small (~40 bytes an event).
   */
  private readonly seen = new Set<number>();

  /** Counts one event and the designated rows made from it. Events with no course or time are not counted. */
  add(event: EventRecord, designated: readonly DesignatedRow[]): void {
    if (!event.courseId || !event.time) return;
    const id = Number.parseInt(event.id.slice(0, 13), 16);
    if (this.seen.has(id)) return;
    this.seen.add(id);
    const key = `${event.courseId}\u0000${event.time.slice(0, 10)}`;
    let day = this.days.get(key);
    if (!day) this.days.set(key, (day = { events: 0, users: new Set(), video_events: 0, problem_checks: 0, forum_events: 0, enrollment_events: 0 }));
    day.events++;
    if (event.userId !== null) day.users.add(event.userId);
    for (const d of designated) {
      if (d.table === 'video_events') day.video_events++;
      else if (d.table === 'forum_events') day.forum_events++;
      else if (d.table === 'enrollment_events') day.enrollment_events++;
    }
    if (event.canonicalType === 'problem_check' && event.eventSource === 'server') day.problem_checks++;
  }

  /** Rows of `course_daily_activity` for this file, in its column order. */
  rows(fileKey: string): SqlValue[][] {
    return [...this.days.entries()].map(([key, d]) => {
      const [courseId, date] = key.split('\u0000') as [string, string];
      return [courseId, date, fileKey, d.events, d.users.size, d.video_events, d.problem_checks, d.forum_events, d.enrollment_events];
    });
  }
}
