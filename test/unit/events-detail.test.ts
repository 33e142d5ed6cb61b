import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEventLine } from '../../core/formats/tracking-log.js';
import { SqliteStore } from '../../core/stores/sqlite/sqlite-store.js';
import type { EventRecord } from '../../core/domain/records.js';

function event(line: string, n: number): EventRecord {
  const parsed = parseEventLine(Buffer.from(line), n);
  assert.ok(parsed.ok);
  return parsed.event;
}

test('the events_detail view reads event, context, agent, page and ip out of the raw line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pds-detail-'));
  const store = new SqliteStore({ path: join(dir, 'data.sqlite') });
  try {
    await store.init();
    const browser = event(
      JSON.stringify({ username: 'amy', event_type: 'play_video', event_source: 'browser', time: '2026-06-01T10:00:00.5+00:00', ip: '10.0.0.1', agent: 'Mozilla/5.0', page: 'https://courses.edx.org/courses/course-v1:X+Y+Z/courseware', context: { user_id: 7, course_id: 'course-v1:X+Y+Z', org_id: 'X', path: '/event' }, event: '{"id":"v1","currentTime":12}' }),
      1,
    );
    // A syslog-prefixed line (§7.2): stored verbatim, so JSON functions cannot read it; the view gives NULL rather than failing.
    const prefixed = event(`Sep  9 00:00:48 localhost ${JSON.stringify({ username: 'bob', event_type: 'page_close', event_source: 'browser', time: '2012-09-09T00:00:48+00:00', context: {}, event: '' })}`, 2);
    assert.deepEqual(prefixed.repairs, ['syslog-prefix']);
    const writer = await store.beginEvents({ fileKey: 'f.log.gz', loadId: 'l1' });
    await writer.write([browser, prefixed]);
    await writer.commit();
    const rows = await store.query<Record<string, unknown>>('SELECT event_id, ip, page, agent, event, context FROM events_detail ORDER BY time');
    const byId = new Map(rows.map((r) => [r.event_id, r]));
    const b = byId.get(browser.id)!;
    assert.equal(b.ip, '10.0.0.1');
    assert.equal(b.agent, 'Mozilla/5.0');
    assert.equal(b.page, 'https://courses.edx.org/courses/course-v1:X+Y+Z/courseware');
    assert.equal(b.event, '{"id":"v1","currentTime":12}', 'a JSON-encoded event string comes back as written');
    assert.deepEqual(JSON.parse(String(b.context)), { user_id: 7, course_id: 'course-v1:X+Y+Z', org_id: 'X', path: '/event' });
    const p = byId.get(prefixed.id)!;
    assert.equal(p.event, null);
    const raw = await store.query<{ raw: string }>('SELECT raw FROM events WHERE event_id = ?', [prefixed.id]);
    assert.ok(raw[0]!.raw.startsWith('Sep  9 00:00:48 localhost {'), 'the raw line is kept exactly');
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
