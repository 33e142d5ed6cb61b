import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readLines } from '../../core/formats/lines.js';
import { parseEventLine, readEvents } from '../../core/formats/tracking-log.js';
import type { EventRecord, RejectedLine } from '../../core/domain/records.js';

function parse(line: string): EventRecord {
  const r = parseEventLine(Buffer.from(line, 'utf8'), 1);
  assert.ok(r.ok, 'line parses');
  return r.event;
}

function ev(fields: Record<string, unknown>): EventRecord {
  return parse(JSON.stringify(fields));
}

async function* bytes(text: string): AsyncGenerator<Buffer> {
  yield Buffer.from(text, 'utf8');
}

async function readAll(text: string): Promise<{ events: EventRecord[]; rejected: RejectedLine[]; skippedBlank: number }> {
  const events: EventRecord[] = [];
  const rejected: RejectedLine[] = [];
  let skippedBlank = 0;
  for await (const b of readEvents(readLines(bytes(text), { batchLines: 2 }), { fileName: 'orgx-edx-events-2015-01-01.log' })) {
    events.push(...b.events);
    rejected.push(...b.rejected);
    skippedBlank += b.skippedBlank;
  }
  return { events, rejected, skippedBlank };
}

// The three lines of the edx-analytics-pipeline acceptance fixture (§5.6), shortened.
const FIXTURE_IMPLICIT =
  '{"username": "staff", "host": "acceptance.m.sandbox.edx.org", "event_source": "server", "event_type": "/courses/edX/Open_DemoX/edx_demo_course/info", "context": {"username": "staff", "course_user_tags": {}, "user_id": 4, "org_id": "edX", "course_id": "edX/Open_DemoX/edx_demo_course", "path": "/courses/edX/Open_DemoX/edx_demo_course/info"}, "time": "2014-05-16T18:52:20.302431+00:00", "ip": "127.0.0.1", "event": "{\\"POST\\": {}, \\"GET\\": {}}", "agent": "Mozilla/5.0", "page": null}';
const FIXTURE_BROWSER =
  '{"username": "staff", "event_type": "problem_check", "event": "\\"input_9cee77a6_2_1%5B%5D=choice_0&input_9cee77a6_2_1%5B%5D=choice_1\\"", "event_source": "browser", "context": {"user_id": 4, "org_id": "AcceptanceX", "course_id": "course-v1:AcceptanceX+DemoX+T1_2014", "path": "/event"}, "time": "2014-05-15T17:56:09.582128+00:00", "page": "http://x/courses/course-v1:AcceptanceX+DemoX+T1_2014/courseware/a/b/"}';
const FIXTURE_SERVER =
  '{"username": "staff", "event_source": "server", "event_type": "problem_check", "context": {"module": {"display_name": "Interactive Questions"}, "course_id": "course-v1:AcceptanceX+DemoX+T1_2014", "path": "/courses/course-v1:AcceptanceX+DemoX+T1_2014/xblock/block-v1:AcceptanceX+DemoX+T1_2014+type@problem+block@9cee/handler/xmodule_handler/problem_check"}, "time": "2014-05-15T17:56:09.634241+00:00", "event": {"success": "incorrect", "grade": 0}}';

describe('parseEventLine: envelope (§5.2)', () => {
  test('the acceptance fixture lines', () => {
    const a = parse(FIXTURE_IMPLICIT);
    assert.equal(a.eventType, '/courses/edX/Open_DemoX/edx_demo_course/info');
    assert.equal(a.canonicalType, '/courses/edX/Open_DemoX/edx_demo_course/info');
    assert.equal(a.courseId, 'edX/Open_DemoX/edx_demo_course');
    assert.equal(a.userId, 4);
    assert.equal(a.username, 'staff');
    assert.equal(a.orgId, 'edX');
    assert.equal(a.host, 'acceptance.m.sandbox.edx.org');
    assert.equal(a.eventSource, 'server');
    assert.equal(a.time, '2014-05-16T18:52:20.302431Z');
    assert.deepEqual(a.eventParsed, { POST: {}, GET: {} });
    assert.deepEqual(a.repairs, []);
    const b = parse(FIXTURE_BROWSER);
    assert.equal(b.courseId, 'course-v1:AcceptanceX+DemoX+T1_2014');
    assert.equal(b.eventSource, 'browser');
    const c = parse(FIXTURE_SERVER);
    assert.deepEqual(c.event, { success: 'incorrect', grade: 0 });
    assert.equal(c.userId, null);
  });

  test('raw is the line exactly (a trailing CR dropped); id is sha256 of those bytes', () => {
    const line = '{"event_type": "x",   "time": "2014-05-16T18:52:20+00:00"}';
    const a = parseEventLine(Buffer.from(`${line}\r`), 3);
    assert.ok(a.ok);
    assert.equal(a.event.raw, line);
    assert.equal(a.event.line, 3);
    assert.equal(a.event.id, createHash('sha256').update(line).digest('hex'));
  });

  test('deterministic id: equal lines give equal ids, different lines different ids', () => {
    assert.equal(parse(FIXTURE_SERVER).id, parse(FIXTURE_SERVER).id);
    assert.notEqual(parse(FIXTURE_SERVER).id, parse(FIXTURE_SERVER.replace('incorrect', 'correct')).id);
  });

  test('4-byte unicode in event_type (§7.6) is kept', () => {
    const e = ev({ event_type: '/courses/x/y/z/wiki/😀\u200b', context: {} });
    assert.equal(e.eventType, '/courses/x/y/z/wiki/😀\u200b');
  });
});

describe('the event field (§5.3, §7.4)', () => {
  test('object: kept, eventParsed is the object', () => {
    const e = ev({ event_type: 'edx.course.enrollment.activated', event: { user_id: 5, course_id: 'c' } });
    assert.deepEqual(e.event, { user_id: 5, course_id: 'c' });
    assert.equal(e.eventParsed, e.event);
  });
  test('JSON string: kept as a string, parsed copy added', () => {
    const e = ev({ event_type: 'play_video', event: '{"id":"i4x-a-b-video-1","currentTime":243,"code":"iOOYGgLADj8"}' });
    assert.equal(e.event, '{"id":"i4x-a-b-video-1","currentTime":243,"code":"iOOYGgLADj8"}');
    assert.deepEqual(e.eventParsed, { id: 'i4x-a-b-video-1', currentTime: 243, code: 'iOOYGgLADj8' });
  });
  test('URL-encoded string stays a string, not parsed', () => {
    const e = parse(FIXTURE_BROWSER);
    assert.equal(e.event, '"input_9cee77a6_2_1%5B%5D=choice_0&input_9cee77a6_2_1%5B%5D=choice_1"');
    assert.equal(e.eventParsed, undefined);
  });
  test('list (browser problem_graded)', () => {
    const e = ev({ event_type: 'problem_graded', event: ['answers', '<div/>'] });
    assert.deepEqual(e.event, ['answers', '<div/>']);
    assert.deepEqual(e.eventParsed, ['answers', '<div/>']);
  });
  test('empty string (page_close)', () => {
    const e = ev({ event_type: 'page_close', event: '' });
    assert.equal(e.event, '');
    assert.equal(e.eventParsed, undefined);
  });
  test('a JSON string cut at 512 characters stays a string', () => {
    const e = ev({ event_type: '/courses/a/b/c/info', event: '{"POST": {"answer": "abcdefg' });
    assert.equal(e.event, '{"POST": {"answer": "abcdefg');
    assert.equal(e.eventParsed, undefined);
  });
});

describe('name vs event_type (§7.5)', () => {
  test('name wins as the canonical type; both kept', () => {
    const e = ev({ event_type: 'seq_goto', name: 'edx.ui.lms.sequence.tab_selected' });
    assert.equal(e.eventType, 'seq_goto');
    assert.equal(e.name, 'edx.ui.lms.sequence.tab_selected');
    assert.equal(e.canonicalType, 'edx.ui.lms.sequence.tab_selected');
  });
  test('event_type when name is missing or empty', () => {
    assert.equal(ev({ event_type: 'play_video' }).canonicalType, 'play_video');
    assert.equal(ev({ event_type: 'play_video', name: '' }).canonicalType, 'play_video');
    assert.equal(ev({ event_type: '' }).canonicalType, null);
  });
});

describe('who (§5.5, §7.7)', () => {
  test('user_id as number, numeric string, "" and missing', () => {
    assert.equal(ev({ context: { user_id: 42 } }).userId, 42);
    assert.equal(ev({ context: { user_id: '42' } }).userId, 42);
    assert.equal(ev({ context: { user_id: '' } }).userId, null);
    assert.equal(ev({ context: {} }).userId, null);
    assert.equal(ev({}).userId, null);
  });
  test('event.user_id fallback for enrollment and certificate events only', () => {
    assert.equal(ev({ name: 'edx.course.enrollment.activated', context: { user_id: '' }, event: { user_id: 7 } }).userId, 7);
    assert.equal(ev({ event_type: 'edx.certificate.created', context: {}, event: { user_id: '8' } }).userId, 8);
    assert.equal(ev({ event_type: 'play_video', context: {}, event: { user_id: 9 } }).userId, null);
  });
  test('username with a trailing newline is trimmed; blank is null', () => {
    assert.equal(ev({ username: 'alice\n' }).username, 'alice');
    assert.equal(ev({ username: '' }).username, null);
    assert.equal(ev({ username: '  ' }).username, null);
  });
});

describe('course id fallback chain (§5.5)', () => {
  test('context.course_id, trimmed; a trailing newline is removed', () => {
    assert.equal(ev({ context: { course_id: 'MITx/6.002x/2012_Fall\n' } }).courseId, 'MITx/6.002x/2012_Fall');
  });
  test('"" and null fall through to event.course_id (external enrollment)', () => {
    assert.equal(ev({ context: { course_id: '' }, event: { course_id: 'course-v1:edX+DemoX+Demo_2014' } }).courseId, 'course-v1:edX+DemoX+Demo_2014');
    assert.equal(ev({ context: { course_id: null }, event: { course_id: 'course-v1:edX+DemoX+Demo_2014' } }).courseId, 'course-v1:edX+DemoX+Demo_2014');
  });
  test('the page URL, both course-id styles', () => {
    assert.equal(ev({ context: {}, page: 'https://courses.edx.org/courses/MITx/6.00x/2013_Spring/courseware/x/' }).courseId, 'MITx/6.00x/2013_Spring');
    assert.equal(ev({ context: {}, page: 'https://courses.edx.org/courses/course-v1:MITx+6.00.1x+2T2017/courseware/x/' }).courseId, 'course-v1:MITx+6.00.1x+2T2017');
    assert.equal(ev({ context: {}, page: 'https://courses.edx.org/courses/course-v1:MITx+6.00.1x+2T2017?x=1' }).courseId, 'course-v1:MITx+6.00.1x+2T2017');
  });
  test('the event_type URL of implicit events: /courses/… and /xblock/block-v1:…', () => {
    assert.equal(ev({ event_type: '/courses/edX/DemoX/Demo_Course/info' }).courseId, 'edX/DemoX/Demo_Course');
    assert.equal(ev({ event_type: '/xblock/block-v1:UQx+Think101x+1T2014+type@problem+block@abc/handler/x' }).courseId, 'course-v1:UQx+Think101x+1T2014');
  });
  test('a prefix of event.problem_id or context.module.usage_key', () => {
    assert.equal(ev({ event_type: 'problem_check', event: { problem_id: 'block-v1:edX+DemoX+Demo_2014+type@problem+block@123' } }).courseId, 'course-v1:edX+DemoX+Demo_2014');
    assert.equal(ev({ event_type: 'problem_check', context: { module: { usage_key: 'block-v1:edX+DemoX+Demo_2014+type@problem+block@9' } } }).courseId, 'course-v1:edX+DemoX+Demo_2014');
  });
  test('old i4x usage keys carry no run: no course id is invented', () => {
    assert.equal(ev({ event_type: 'problem_check', event: { problem_id: 'i4x://MITx/6.002x/problem/H1P1' } }).courseId, null);
  });
  test('nothing anywhere → null', () => {
    assert.equal(ev({ event_type: '/', page: null }).courseId, null);
  });
});

describe('course keys only in a Studio or LMS URL (§5.5)', () => {
  // Real-looking lines: a Studio request logged as an implicit server event (context.course_id
  // empty, the request path in event_type and context.path), as edX writes them.
  const studio = (path: string): string =>
    `{"username": "jdoe", "event_type": "${path}", "ip": "10.0.0.1", "agent": "Mozilla/5.0", "host": "studio.edge.edx.org", "referer": "https://studio.edge.edx.org/course/course-v1:UQx+BIOL1020x+1T2026", "accept_language": "en-AU,en;q=0.9", "event": "{\\"POST\\": {}, \\"GET\\": {}}", "event_source": "server", "context": {"course_user_tags": {}, "user_id": 17, "org_id": "", "course_id": "", "path": "${path}"}, "time": "2026-01-05T03:14:07.112233+00:00", "page": null}`;

  test('Studio outline and container pages: the course of the block-v1 key', () => {
    const outline = parse(studio('/xblock/outline/block-v1:UQx+BIOL1020x+1T2026+type@sequential+block@3b7c2a9f0e'));
    assert.equal(outline.courseId, 'course-v1:UQx+BIOL1020x+1T2026');
    const container = parse(studio('/xblock/container/block-v1:UQx+BIOL1020x+1T2026+type@vertical+block@b1a9'));
    assert.equal(container.courseId, 'course-v1:UQx+BIOL1020x+1T2026');
    assert.equal(parse(studio('/xblock/block-v1:UQx+BIOL1020x+1T2026+type@html+block@0f2')).courseId, 'course-v1:UQx+BIOL1020x+1T2026');
  });

  test('a course-v1 key in a Studio or LMS path', () => {
    assert.equal(parse(studio('/course/course-v1:UQx+BIOL1020x+1T2026')).courseId, 'course-v1:UQx+BIOL1020x+1T2026');
    assert.equal(parse(studio('/settings/details/course-v1:UQx+BIOL1020x+1T2026')).courseId, 'course-v1:UQx+BIOL1020x+1T2026');
    assert.equal(
      parse(studio('/courses/course-v1:UQx+BIOL1020x+1T2026/courseware/9f2c1e/4d7a0b/1')).courseId,
      'course-v1:UQx+BIOL1020x+1T2026',
    );
    assert.equal(parse(studio('/courses/MITx/6.002x/2012_Fall/courseware/Week_1/')).courseId, 'MITx/6.002x/2012_Fall');
  });

  test('only context.path names it (an XBlock handler call under another event name)', () => {
    const e = ev({
      username: 'jdoe',
      event_type: 'edx.done.toggled',
      event_source: 'server',
      context: { course_id: '', user_id: 17, path: '/courses/course-v1:UQx+BIOL1020x+1T2026/xblock/block-v1:UQx+BIOL1020x+1T2026+type@done+block@a1/handler/toggle_button' },
      event: { done: true },
    });
    assert.equal(e.courseId, 'course-v1:UQx+BIOL1020x+1T2026');
  });

  test('a URL-encoded key in page (a ?next= parameter)', () => {
    const e = ev({
      username: '',
      event_type: 'page_close',
      event_source: 'browser',
      context: { course_id: '', user_id: '', org_id: '', path: '/event' },
      page: 'https://courses.edx.org/login?next=%2Fcourses%2Fcourse-v1%3AUQx%2BBIOL1020x%2B1T2026%2Fcourseware%2F',
      event: '',
    });
    assert.equal(e.courseId, 'course-v1:UQx+BIOL1020x+1T2026');
    assert.equal(ev({ page: 'https://studio.edx.org/xblock/container/block-v1%3AUQx%2BBIOL1020x%2B1T2026%2Btype%40vertical%2Bblock%40b1' }).courseId, 'course-v1:UQx+BIOL1020x+1T2026');
    assert.equal(ev({ page: 'https://courses.edx.org/x?q=%E0%A4%A' }).courseId, null, 'a malformed escape is no course');
  });

  test('context.course_id stays first; libraries and CCX block keys name no course-v1 course', () => {
    const e = parse(studio('/xblock/outline/block-v1:UQx+OTHER+1T2026+type@sequential+block@1').replace('"course_id": ""', '"course_id": "course-v1:UQx+BIOL1020x+1T2026"'));
    assert.equal(e.courseId, 'course-v1:UQx+BIOL1020x+1T2026');
    assert.equal(parse(studio('/xblock/lib-block-v1:UQx+BioLib+type@problem+block@1')).courseId, null);
    assert.equal(parse(studio('/library/lib-v1:UQx+BioLib')).courseId, null);
    assert.equal(parse(studio('/xblock/ccx-block-v1:UQx+BIOL1020x+1T2026+ccx@3+type@problem+block@1')).courseId, null);
  });
});

describe('time (§5.2, §7.8)', () => {
  test('with and without fraction, offset or Z; invalid is null, not a reject', () => {
    assert.equal(ev({ time: '2014-12-23T14:26:53.723188+00:00' }).time, '2014-12-23T14:26:53.723188Z');
    assert.equal(ev({ time: '2014-12-09T03:57:24+00:00' }).time, '2014-12-09T03:57:24.000000Z');
    assert.equal(ev({ time: '2014-12-09T03:57:24' }).time, '2014-12-09T03:57:24.000000Z');
    assert.equal(ev({ time: '2014-12-09T03:57:24.5Z' }).time, '2014-12-09T03:57:24.500000Z');
    assert.equal(ev({ time: 'not a time' }).time, null);
    assert.equal(ev({ time: 1418097444 }).time, null);
  });
});

describe('repairs and rejects (§7.1–§7.3)', () => {
  test('syslog prefix (2012) is stripped', () => {
    const line = 'Sep  9 00:00:48 localhost {"username": "bob", "event_type": "page_close", "time": "2012-09-09T00:00:48"}  ';
    const e = parse(line);
    assert.deepEqual(e.repairs, ['syslog-prefix']);
    assert.equal(e.username, 'bob');
    assert.equal(e.raw, line);
    assert.equal(e.id, createHash('sha256').update(line).digest('hex'));
  });

  test("invalid escapes are repaired by doubling the backslash (\\d'Orsay)", () => {
    const e = parse('{"event_type": "x", "event": {"city": "Fontenay\\d\'Orsay", "ok": "a\\nb", "u": "\\u00e9"}}');
    assert.deepEqual(e.repairs, ['invalid-escape']);
    assert.deepEqual(e.event, { city: "Fontenay\\d'Orsay", ok: 'a\nb', u: 'é' });
  });

  test('syslog prefix and invalid escape together', () => {
    const e = parse('Sep  9 00:00:48 localhost {"event_type": "x\\q"}');
    assert.deepEqual(e.repairs, ['syslog-prefix', 'invalid-escape']);
    assert.equal(e.eventType, 'x\\q');
  });

  test('a truncated line is rejected with its line number and no content; later lines still parse', async () => {
    const secret = 'SECRET-learner-text';
    const text = [FIXTURE_SERVER, `{"username": "alice", "event": "${secret}`, '', '   ', FIXTURE_BROWSER, '[1, 2]', '"just a string"'].join('\n');
    const { events, rejected, skippedBlank } = await readAll(text);
    assert.deepEqual(events.map((e) => e.line), [1, 5]);
    assert.equal(skippedBlank, 2);
    assert.deepEqual(rejected.map((r) => [r.line, r.code]), [
      [2, 'JSON_INVALID'],
      [6, 'JSON_NOT_OBJECT'],
      [7, 'JSON_NOT_OBJECT'],
    ]);
    for (const r of rejected) assert.ok(!r.reason.includes(secret) && !r.reason.includes('alice'), r.reason);
    // The line number is the reject's `line`; the reason does not repeat it (reports print `line 2: …`).
    assert.equal(rejected[0].reason, 'not valid JSON at character 52 (truncated or malformed event)');
    assert.equal(rejected[1].reason, 'a list, not an event object');
    for (const r of rejected) assert.doesNotMatch(r.reason, /\bline\b/);
    assert.equal(Buffer.from(rejected[0].raw).toString('utf8'), `{"username": "alice", "event": "${secret}`);
  });

});
