/**
 * The MongoDB event document (core/stores/mongodb/event-document.ts) and its key escaping,
 * without a server: documents are pushed through a real BSON serialise/deserialise round trip
 * with key checking on, which is what the driver and server do to them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BSON, ObjectId } from 'mongodb';
import type { EventRecord } from '../../core/domain/records.js';
import { parseEventLine } from '../../core/formats/tracking-log.js';
import { envelopeFromDocument, lineFromDocument, toEventDocument, type EventDocument } from '../../core/stores/mongodb/event-document.js';
import { escapeKey, escapeKeys, unescapeKey, unescapeKeys } from '../../core/stores/mongodb/key-escaping.js';
import { courseStructureBlocks } from '../../core/stores/mongodb/course-structure-store.js';
import type { LoadOrigin } from '../../core/stores/ports.js';

const ORIGIN: LoadOrigin = { fileKey: 'orgx/edx/events/2014/orgx-edx-events-2014-05-16.log.gz.gpg', loadId: 'load-1' };

function parse(line: string, n = 1): EventRecord {
  const result = parseEventLine(Buffer.from(line, 'utf8'), n);
  assert.ok(result.ok, `line ${n} should parse`);
  return result.event;
}

/** What the store does to a document: BSON with key checks (rejects `.`/`$` keys), and back. */
function throughBson(doc: EventDocument): Record<string, unknown> {
  return BSON.deserialize(BSON.serialize(doc, { checkKeys: true }));
}

/** Asserts that `line` comes back from the stored document with the same JSON, key order included. */
function assertReconstructs(line: string, n = 1): Record<string, unknown> {
  const stored = throughBson(toEventDocument(parse(line, n), ORIGIN));
  const back = lineFromDocument(stored);
  assert.deepEqual(JSON.parse(back), JSON.parse(line));
  assert.equal(back, JSON.stringify(JSON.parse(line)), 'same keys, values and order');
  return stored;
}

// Lines in the shapes of docs/edx-formats.md §5.2–§5.6 (Python-style separators, as edX writes them).
const BROWSER =
  '{"username": "learner1", "event_source": "browser", "name": "play_video", "accept_language": "en-US,en;q=0.9", "time": "2014-12-23T14:26:53.723188+00:00", "agent": "Mozilla/5.0", "page": "https://courses.edx.org/courses/course-v1:OrgX+CS101+2014_T3/courseware/ch1/seq1/", "host": "courses.edx.org", "session": "0123456789abcdef0123456789abcdef", "referer": "https://courses.edx.org/", "context": {"user_id": 42, "org_id": "OrgX", "course_id": "course-v1:OrgX+CS101+2014_T3", "path": "/event"}, "ip": "10.0.0.1", "event": "{\\"id\\":\\"i4x-OrgX-CS101-video-58424\\",\\"currentTime\\":243,\\"code\\":\\"iOOYGgLADj8\\"}", "event_type": "play_video"}';
const SERVER =
  '{"username": "staff", "event_type": "problem_check", "event_source": "server", "context": {"username": "staff", "course_user_tags": {"xblock.partition_service.partition_0": "1", "$weird": "x", "100%": "y"}, "user_id": 4, "org_id": "AcceptanceX", "module": {"display_name": "Interactive Questions", "usage_key": "block-v1:AcceptanceX+DemoX+T1_2014+type@problem+block@9cee"}, "course_id": "course-v1:AcceptanceX+DemoX+T1_2014", "path": "/courses/course-v1:AcceptanceX+DemoX+T1_2014/xblock/block-v1:AcceptanceX+DemoX+T1_2014+type@problem+block@9cee/handler/xmodule_handler/problem_check"}, "time": "2014-05-15T17:56:09.634241+00:00", "ip": "127.0.0.1", "event": {"submission": {"i4x-AcceptanceX-DemoX-problem-9cee_2_1": {"answer": "choice_0", "correct": false}}, "success": "incorrect", "grade": 0, "max_grade": 1, "attempts": 1, "correct_map": {"i4x-AcceptanceX-DemoX-problem-9cee_2_1": {"correctness": "incorrect", "hint": ""}}, "answers": {"i4x-AcceptanceX-DemoX-problem-9cee_2_1": ["choice_0", "choice_1"]}, "state": {"seed": 1, "input_state": {"i4x.dotted.key": {}}}}, "agent": "Mozilla/5.0", "page": null, "host": "courses.edx.org"}';
const MOBILE =
  '{"username": "mobile1", "event_type": "play_video", "name": "edx.video.played", "event_source": "mobile", "time": "2016-03-01T09:00:00+00:00", "context": {"user_id": "77", "org_id": "OrgX", "course_id": "course-v1:OrgX+CS101+2016_T1\\n", "path": "/segment/event", "received_at": "2016-03-04T10:00:00.123+00:00", "application": {"name": "edx.mobileapp.android", "version": "2.4"}, "component": "videoplayer"}, "ip": "", "agent": "Dalvik/2.1.0", "host": "courses.edx.org", "page": "https://courses.edx.org/xblock/block-v1:OrgX+CS101+2016_T1+type@video+block@abc", "event": "{\\"currentTime\\": 12.5, \\"code\\": \\"mobile\\", \\"id\\": \\"block-v1:OrgX+CS101+2016_T1+type@video+block@abc\\"}"}';

describe('key escaping (docs/edx-formats.md §7.10)', () => {
  const tricky = ['a.b', '$set', '$', '%', '%2E', '100%', 'a%b.c', '..', '$.%', 'x$y', 'nul\u0000inside', '', '__proto__', '日本.語', 'i4x-Org-Course-problem-9cee_2_1', 'xblock.partition_service.partition_0'];

  test('every tricky key round-trips, and escaped keys are storable (no ".", no leading "$", no NUL)', () => {
    for (const key of tricky) {
      const escaped = escapeKey(key);
      assert.equal(unescapeKey(escaped), key, JSON.stringify(key));
      assert.ok(!escaped.includes('.') && !escaped.startsWith('$') && !escaped.includes('\u0000'), JSON.stringify(escaped));
    }
    assert.equal(new Set(tricky.map((k) => escapeKey(k))).size, tricky.length, 'distinct keys stay distinct');
  });

  test('ordinary keys are left exactly as they are', () => {
    for (const key of ['username', 'event_type', 'x$y', 'i4x-Org-Course-problem-9cee_2_1', 'input_9cee_2_1[]', 'ünï 😀']) assert.equal(escapeKey(key), key);
    assert.equal(escapeKey('a.b'), 'a%2Eb');
    assert.equal(escapeKey('$set'), '%24set');
    assert.equal(escapeKey('100%'), '100%25');
  });

  test('escaping a first character is decoded by the same rule', () => {
    assert.equal(escapeKey('_id', true), '%5Fid');
    assert.equal(unescapeKey(escapeKey('_a.b', true)), '_a.b');
  });

  test('deep objects and lists round-trip; clean values are returned as the same object; inputs are not changed', () => {
    const clean = { a: [{ b: 1 }, 'x'], c: { d: null } };
    assert.equal(escapeKeys(clean), clean);
    const date = new Date('2024-01-01T00:00:00Z');
    const oid = new ObjectId('5f0c9e2b8f1b2c3d4e5f6a7b');
    const value = JSON.parse('{"__proto__": {"x.y": 1}, "2": [{"$k": [{"a.b": true}]}], "z": {"%": "v"}}') as Record<string, unknown>;
    value.when = date;
    value.oid = oid;
    const before = JSON.stringify(value);
    const escaped = escapeKeys(value);
    assert.equal(JSON.stringify(value), before, 'input unchanged');
    BSON.serialize(escaped, { checkKeys: true });
    const back = unescapeKeys(escaped);
    assert.deepEqual(Object.keys(back), Object.keys(value));
    assert.equal(Object.getPrototypeOf(back), Object.prototype, '"__proto__" stays a plain key');
    assert.deepEqual(back, value);
    assert.equal(back.when, date);
    assert.equal(back.oid, oid);
  });
});

describe('event document shape', () => {
  test('browser event: envelope kept, event string kept plus event_parsed, time as Date, derived fields', () => {
    const record = parse(BROWSER, 7);
    const doc = throughBson(toEventDocument(record, ORIGIN));
    assert.equal(doc._id, record.id);
    assert.equal(doc.event, JSON.parse(BROWSER).event, 'event exactly as it came (§5.3)');
    assert.deepEqual(doc.event_parsed, { id: 'i4x-OrgX-CS101-video-58424', currentTime: 243, code: 'iOOYGgLADj8' });
    assert.ok(doc.time instanceof Date);
    assert.equal((doc.time as Date).toISOString(), '2014-12-23T14:26:53.723Z');
    assert.equal(doc._time, '2014-12-23T14:26:53.723188+00:00', 'original string, microseconds included');
    assert.equal(doc._type, 'play_video');
    assert.equal(doc._course, 'course-v1:OrgX+CS101+2014_T3');
    assert.equal(doc._user, 42);
    assert.equal(doc._file, ORIGIN.fileKey);
    assert.equal(doc._load, 'load-1');
    assert.equal(doc._line, 7);
    assert.equal(doc._raw, undefined, 'a clean line is not stored twice');
    for (const field of ['username', 'event_source', 'name', 'accept_language', 'agent', 'page', 'host', 'session', 'referer', 'context', 'ip', 'event_type']) {
      assert.deepEqual(doc[field], JSON.parse(BROWSER)[field], field);
    }
  });

  test('server event: object event has no event_parsed copy; dotted and $ keys are escaped', () => {
    const doc = throughBson(toEventDocument(parse(SERVER), ORIGIN));
    assert.equal(doc.event_parsed, undefined);
    const context = doc.context as { course_user_tags: Record<string, string> };
    assert.deepEqual(Object.keys(context.course_user_tags), ['xblock%2Epartition_service%2Epartition_0', '%24weird', '100%25']);
    assert.equal(doc._type, 'problem_check');
    assert.equal(doc._course, 'course-v1:AcceptanceX+DemoX+T1_2014');
    assert.equal(doc._user, 4);
    assert.equal(doc.page, null);
  });

  test('mobile event: canonical type is name (§7.5), course id trimmed and user id numeric (§5.5, §7.7)', () => {
    const doc = throughBson(toEventDocument(parse(MOBILE), ORIGIN));
    assert.equal(doc._type, 'edx.video.played');
    assert.equal(doc.event_type, 'play_video');
    assert.equal(doc.name, 'edx.video.played');
    assert.equal(doc._course, 'course-v1:OrgX+CS101+2016_T1');
    assert.equal((doc.context as { course_id: string }).course_id, 'course-v1:OrgX+CS101+2016_T1\n', 'original value kept');
    assert.equal(doc._user, 77);
    assert.equal((doc.time as Date).toISOString(), '2016-03-01T09:00:00.000Z');
    assert.deepEqual(doc.event_parsed, { currentTime: 12.5, code: 'mobile', id: 'block-v1:OrgX+CS101+2016_T1+type@video+block@abc' });
  });

  test('an unreadable time stays as it came and gets no _time', () => {
    const doc = throughBson(toEventDocument(parse('{"event_type": "x", "time": "yesterday", "event": ""}'), ORIGIN));
    assert.equal(doc.time, 'yesterday');
    assert.equal(doc._time, undefined);
  });

  test('envelope keys that look like ours are stored escaped, never colliding', () => {
    const line = '{"_id": "theirs", "_type": 1, "event_parsed": "theirs too", "event": "{\\"a\\": 1}", "time": "2014-05-16T18:52:20+00:00"}';
    const doc = throughBson(toEventDocument(parse(line), ORIGIN));
    assert.notEqual(doc._id, 'theirs');
    assert.equal(doc['%5Fid'], 'theirs');
    assert.equal(doc['%5Ftype'], 1);
    assert.equal(doc['%65vent_parsed'], 'theirs too');
    assert.deepEqual(doc.event_parsed, { a: 1 });
    assertReconstructs(line);
  });

  test('keepRawLine stores the line as read', () => {
    const record = parse(SERVER);
    assert.equal(toEventDocument(record, ORIGIN, { keepRawLine: true })._raw, SERVER);
  });
});

describe('reconstructing the original line from the stored document', () => {
  test('browser, server and mobile lines come back with the same JSON (keys, values, order)', () => {
    assertReconstructs(BROWSER);
    assertReconstructs(SERVER);
    assertReconstructs(MOBILE);
  });

  test('awkward lines: unicode, integer-like keys, __proto__, NUL in keys, lists, empty event, no time', () => {
    const lines = [
      '{"username": "ünï 😀", "event_type": "/courses/x/\\u200bzero-width", "event": "", "time": "2014-12-09T03:57:24", "page": null}',
      '{"event_type": "problem_graded", "event": ["input_1=a", "<p>html</p>"], "context": {"10": 1, "2": 2, "b": 3, "a.b": {"$c": ["x", {"d.e": null}]}}}',
      '{"event_type": "x", "event": {"__proto__": {"polluted": true}, "k\\u0000ey": 1}}',
      '{"event_type": "implicit", "event": "{\\"POST\\": {}, \\"GET\\": {\\"a.b\\": [\\"1\\"]}}", "time": "2014-05-16T18:52:20.302431Z"}',
      '{"event_type": "nested", "event": {"a": {"b": {"c": {"d": [[[1.5, 0, 1e300, true, false]]]}}}}}',
    ];
    lines.forEach((line, i) => assertReconstructs(line, i + 1));
    // BSON stores the integer -0 as 0; the JSON text is the same either way (JSON.stringify(-0) is "0").
    const negativeZero = '{"event_type": "x", "event": {"v": -0}}';
    const back = lineFromDocument(throughBson(toEventDocument(parse(negativeZero), ORIGIN)));
    assert.equal(back, JSON.stringify(JSON.parse(negativeZero)));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('a repaired line (syslog prefix, §7.2) comes back byte for byte from _raw', () => {
    const line = 'Sep  9 00:00:48 localhost {"username": "a", "event_type": "seq_goto", "event": "{}", "time": "2012-09-09T00:00:48+00:00"}';
    const record = parse(line);
    assert.deepEqual(record.repairs, ['syslog-prefix']);
    const stored = throughBson(toEventDocument(record, ORIGIN));
    assert.deepEqual(stored._repairs, ['syslog-prefix']);
    assert.equal(lineFromDocument(stored), line);
    assert.deepEqual(envelopeFromDocument(stored), JSON.parse(line.slice(line.indexOf('{'))));
  });
});

describe('course structure blocks', () => {
  test('the §4.10 object becomes an ordered blocks array keyed by block_id, storable after escaping', () => {
    const structure = JSON.parse(
      '{"block-v1:O+C+R+type@course+block@course": {"category": "course", "children": ["block-v1:O+C+R+type@chapter+block@c1"], "metadata": {"display_name": "Course", "discussion_topics": {"General. Q&A": {"id": "i4x-O-C-course-R"}}}}, "block-v1:O+C+R+type@chapter+block@c1": {"category": "chapter", "children": [], "metadata": {}}}',
    ) as Record<string, unknown>;
    const blocks = courseStructureBlocks(structure);
    assert.deepEqual(blocks.map((b) => [b.block_id, b.category]), [
      ['block-v1:O+C+R+type@course+block@course', 'course'],
      ['block-v1:O+C+R+type@chapter+block@c1', 'chapter'],
    ]);
    const stored = blocks.map((b) => escapeKeys(b));
    BSON.serialize({ blocks: stored }, { checkKeys: true });
    assert.deepEqual(stored.map((b) => unescapeKeys(b)), blocks);
  });
});
