import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DailyActivity } from '../../core/domain/daily-activity.js';
import { designate } from '../../core/domain/designate.js';
import { parseEventLine } from '../../core/formats/tracking-log.js';

function event(fields: Record<string, unknown>, line: number) {
  const r = parseEventLine(Buffer.from(JSON.stringify(fields)), line);
  assert.ok(r.ok);
  return r.event;
}

test('daily activity counts per course and UTC day: distinct users, repeated lines once, server problem checks only', () => {
  const base = { event_source: 'browser', context: { course_id: 'course-v1:A+B+C', user_id: 1 }, event: '{"id":"v","currentTime":1}' };
  const play = event({ ...base, username: 'a', event_type: 'play_video', time: '2026-06-01T23:59:59.9+00:00' }, 1);
  const again = event({ ...base, username: 'a', event_type: 'play_video', time: '2026-06-01T23:59:59.9+00:00' }, 2); // same line
  const other = event({ ...base, username: 'b', context: { course_id: 'course-v1:A+B+C', user_id: 2 }, event_type: 'pause_video', time: '2026-06-01T10:00:00+00:00' }, 3);
  const nextDay = event({ ...base, username: 'a', event_type: 'play_video', time: '2026-06-02T00:00:00.1+00:00' }, 4);
  const check = event({ username: 'a', event_source: 'server', event_type: 'problem_check', time: '2026-06-01T11:00:00+00:00', context: { course_id: 'course-v1:A+B+C', user_id: 1 }, event: { problem_id: 'p', attempts: 1, success: 'correct', grade: 1, max_grade: 1 } }, 5);
  const browserCheck = event({ ...base, username: 'a', event_type: 'problem_check', time: '2026-06-01T11:00:00.001+00:00', event: '"input_1=a"' }, 6);
  const noCourse = event({ username: 'a', event_source: 'server', event_type: '/dashboard', time: '2026-06-01T12:00:00+00:00', context: { user_id: 1 }, event: '{}' }, 7);
  assert.equal(play.id, again.id);
  const activity = new DailyActivity();
  for (const e of [play, again, other, nextDay, check, browserCheck, noCourse]) activity.add(e, designate(e));
  assert.deepEqual(
    activity.rows('f.log').sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
    [
      // course, date, file, events, active users, video, problem checks, forum, enrollment
      ['course-v1:A+B+C', '2026-06-01', 'f.log', 4, 2, 2, 1, 0, 0],
      ['course-v1:A+B+C', '2026-06-02', 'f.log', 1, 1, 1, 0, 0, 0],
    ],
  );
});

test('repeated lines are counted once across a large file (the id set grows as it fills)', () => {
  const activity = new DailyActivity();
  const base = event({ username: 'a', event_source: 'server', event_type: 'x', time: '2026-06-01T01:00:00+00:00', context: { course_id: 'course-v1:A+B+C', user_id: 1 }, event: {} }, 1);
  const total = 200_000;
  for (let i = 0; i < total; i++) {
    // Every 10th line repeats the one before it.
    const n = i % 10 === 9 ? i - 1 : i;
    const id = n.toString(16).padStart(13, '0').padEnd(64, '0');
    activity.add({ ...base, id, userId: n % 1000 }, []);
  }
  const [row] = activity.rows('big.log');
  assert.equal(row![3], total - total / 10);
  assert.equal(row![4], 900, 'user ids n % 1000 of the lines kept: those ending in 9 are only ever repeats');
});
