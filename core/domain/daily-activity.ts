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

/**
 * A set of 52-bit numbers in one open-addressing Float64Array: ~16 bytes an entry where a `Set`
 * takes ~70, so remembering every event of a large daily file stays small.
 */
class CompactIdSet {
  private slots = new Float64Array(1 << 16);
  private size = 0;

  /** Adds `id` (0 ≤ id < 2^52); returns false when it was already there. */
  add(id: number): boolean {
    if (this.size * 2 >= this.slots.length) this.grow();
    const stored = id + 1; // 0 marks an empty slot
    const mask = this.slots.length - 1;
    for (let i = id % this.slots.length; ; i = (i + 1) & mask) {
      const v = this.slots[i]!;
      if (v === 0) {
        this.slots[i] = stored;
        this.size++;
        return true;
      }
      if (v === stored) return false;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Float64Array(old.length * 2);
    this.size = 0;
    for (const v of old) if (v !== 0) this.add(v - 1);
  }
}

export class DailyActivity {
  private readonly days = new Map<string, DayCounts>();
  /**
   * Events already counted, by the first 52 bits of their id: a line repeated in the file (§7.9)
   * is stored once, so it is counted once.
   */
  private readonly seen = new CompactIdSet();

  /** Counts one event and the designated rows made from it. Events with no course or time are not counted. */
  add(event: EventRecord, designated: readonly DesignatedRow[]): void {
    if (!event.courseId || !event.time) return;
    if (!this.seen.add(Number.parseInt(event.id.slice(0, 13), 16))) return;
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
