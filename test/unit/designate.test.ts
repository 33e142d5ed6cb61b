/**
 * Designated event rows from realistic tracking-log lines (docs/edx-formats.md §5.4 shapes, §5.6
 * acceptance-fixture lines), read with the real line parser.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { designate, eventRow } from '../../core/domain/designate.js';
import type { EventRecord, SqlValue } from '../../core/domain/records.js';
import { DESIGNATED_TABLES, getTableDef } from '../../core/domain/tables.js';
import { parseEventLine } from '../../core/formats/tracking-log.js';

const COURSE = 'course-v1:AcceptanceX+DemoX+T1_2014';
const PROBLEM = 'block-v1:AcceptanceX+DemoX+T1_2014+type@problem+block@9cee77a606ea4c1aa5440e0ea5d0f618';
const VIDEO = 'i4x-AcceptanceX-DemoX-video-58424a0f7e5b4c0b8d5b1e1c22cc6a3b';

function parse(envelope: Record<string, unknown>, line = 1): EventRecord {
  const result = parseEventLine(Buffer.from(JSON.stringify(envelope)), line);
  assert.ok(result.ok, 'fixture line must parse');
  return result.event;
}

/** A browser event: `event` is a JSON-encoded string (§5.3). */
function browser(eventType: string, payload: unknown, extra: Record<string, unknown> = {}): EventRecord {
  return parse({
    username: 'staff',
    event_source: 'browser',
    event_type: eventType,
    event: typeof payload === 'string' ? payload : JSON.stringify(payload),
    context: { user_id: 4, org_id: 'AcceptanceX', course_id: COURSE, path: '/event' },
    time: '2014-05-15T17:56:09.582128+00:00',
    page: `http://acceptance.m.sandbox.edx.org/courses/${COURSE}/courseware/interactive_demonstrations/basic_questions/`,
    host: 'acceptance.m.sandbox.edx.org',
    ip: '127.0.0.1',
    agent: 'Mozilla/5.0',
    session: '3759e59e2ad11c7bf9b8d0ad2a1d4dcf',
    ...extra,
  });
}

/** A server (or mobile) event: `event` is an object. */
function server(type: { event_type: string; name?: string }, payload: unknown, extra: Record<string, unknown> = {}): EventRecord {
  return parse({
    username: 'staff',
    event_source: 'server',
    ...type,
    event: payload,
    context: { user_id: 4, org_id: 'AcceptanceX', course_id: COURSE, path: '/courses/…/handler', module: { display_name: 'Interactive Questions' } },
    time: '2014-05-15T17:56:09.634241+00:00',
    page: null,
    host: 'acceptance.m.sandbox.edx.org',
    ip: '127.0.0.1',
    agent: 'python-requests',
    ...extra,
  });
}

/** The single designated row of `e`, as column → value. */
function only(e: EventRecord): { table: string; values: Record<string, SqlValue> } {
  const rows = designate(e);
  assert.equal(rows.length, 1, `expected one designated row for ${e.canonicalType}`);
  const def = getTableDef(rows[0].table)!;
  assert.equal(rows[0].row.length, def.columns.length);
  return { table: rows[0].table, values: Object.fromEntries(def.columns.map((c, i) => [c.name, rows[0].row[i]])) };
}

describe('designate: video (§5.4)', () => {
  test('browser play_video: id, code, currentTime from the JSON string payload', () => {
    const { table, values } = only(browser('play_video', { id: VIDEO, currentTime: 243, code: 'iOOYGgLADj8' }));
    assert.equal(table, 'video_events');
    assert.equal(values.event_type, 'play_video');
    assert.equal(values.video_id, VIDEO);
    assert.equal(values.code, 'iOOYGgLADj8');
    assert.equal(values.current_position, 243);
    assert.equal(values.course_id, COURSE);
    assert.equal(values.user_id, 4);
    assert.equal(values.username, 'staff');
    assert.equal(values.time, '2014-05-15 17:56:09.582128');
    assert.equal(values.event_source, 'browser');
  });

  test('seek_video keeps old_time, new_time and the seek type', () => {
    const { values } = only(browser('seek_video', { id: VIDEO, old_time: 10.5, new_time: 60, type: 'onSlideSeek', code: 'html5' }));
    assert.deepEqual([values.old_time, values.new_time, values.seek_type], [10.5, 60, 'onSlideSeek']);
  });

  test('speed_change_video keeps the speeds sent as strings', () => {
    const { values } = only(browser('speed_change_video', { id: VIDEO, current_time: 12, old_speed: '1.0', new_speed: '1.50', code: 'html5' }));
    assert.deepEqual([values.current_position, values.old_speed, values.new_speed], [12, 1, 1.5]);
    assert.equal(values.seek_type, null);
  });

  test('mobile edx.video.* names map to the legacy names; names without one stay as given', () => {
    const mobile = (name: string, eventType: string) =>
      parse({
        username: 'learner',
        event_source: 'mobile',
        name,
        event_type: eventType,
        event: JSON.stringify({ id: `block-v1:AcceptanceX+DemoX+T1_2014+type@video+block@abc`, code: 'mobile', currentTime: 5 }),
        context: { user_id: 9, org_id: 'AcceptanceX', course_id: COURSE, path: '/segment/event', received_at: '2014-05-16T00:00:00Z' },
        time: '2014-05-15T17:56:09+00:00',
        ip: '',
        agent: '',
        host: 'courses.edx.org',
        page: null,
      });
    assert.equal(only(mobile('edx.video.played', 'play_video')).values.event_type, 'play_video');
    assert.equal(only(mobile('edx.video.position.changed', 'edx.video.position.changed')).values.event_type, 'seek_video');
    const cc = only(mobile('edx.video.closed_captions.shown', 'edx.video.closed_captions.shown'));
    assert.equal(cc.table, 'video_events');
    assert.equal(cc.values.event_type, 'edx.video.closed_captions.shown');
    assert.equal(cc.values.code, 'mobile');
  });

  test('a video id too long for its column becomes NULL; the raw line keeps it', () => {
    const e = browser('pause_video', { id: 'v'.repeat(300), currentTime: 1, code: 'html5' });
    assert.equal(only(e).values.video_id, null);
    assert.ok(e.raw.includes('v'.repeat(300)));
  });
});

describe('designate: problems (§5.4, §5.6)', () => {
  test('browser problem_check (URL-encoded answers in a JSON string) is stored and flagged browser', () => {
    const form = `input_${PROBLEM.slice(-32)}_2_1%5B%5D=choice_0&input_${PROBLEM.slice(-32)}_2_1%5B%5D=choice_1`;
    const { table, values } = only(browser('problem_check', JSON.stringify(form)));
    assert.equal(table, 'problem_events');
    assert.equal(values.event_source, 'browser');
    assert.equal(values.attempts, null);
    assert.equal(values.problem_id, null);
    assert.equal(JSON.parse(String(values.answers)), form);
  });

  test('server problem_check: problem id, attempts, grade, max_grade, success, answers', () => {
    const answers = { [`${PROBLEM.slice(-32)}_2_1`]: ['choice_0', 'choice_1'] };
    const { values } = only(
      server({ event_type: 'problem_check' }, {
        submission: {},
        success: 'incorrect',
        grade: 0,
        max_grade: 1,
        attempts: 2,
        problem_id: PROBLEM,
        answers,
        correct_map: {},
        state: {},
      }),
    );
    assert.deepEqual(
      [values.problem_id, values.attempts, values.grade, values.max_grade, values.success, values.event_source],
      [PROBLEM, 2, 0, 1, 'incorrect', 'server'],
    );
    assert.deepEqual(JSON.parse(String(values.answers)), answers);
  });

  test('browser problem_graded: the list [answers, html] keeps the answers, not the HTML', () => {
    const { values } = only(browser('problem_graded', ['input_abc_2_1=choice_2', '<div class="problem">…</div>']));
    assert.equal(JSON.parse(String(values.answers)), 'input_abc_2_1=choice_2');
  });

  test('edx.grades.problem.submitted: weighted earned/possible as grade/max_grade', () => {
    const { values } = only(
      server({ event_type: 'edx.grades.problem.submitted', name: 'edx.grades.problem.submitted' }, {
        problem_id: PROBLEM,
        weighted_earned: 1,
        weighted_possible: 2,
        weight: null,
        event_transaction_id: 'x',
        event_transaction_type: 'edx.grades.problem.submitted',
      }),
    );
    assert.deepEqual([values.event_type, values.problem_id, values.grade, values.max_grade], ['edx.grades.problem.submitted', PROBLEM, 1, 2]);
  });

  test('showanswer names the problem', () => {
    const { values } = only(server({ event_type: 'showanswer' }, { problem_id: PROBLEM }));
    assert.equal(values.problem_id, PROBLEM);
    assert.equal(values.event_type, 'showanswer');
  });
});

describe('designate: navigation, enrollment, forum, certificates (§5.4)', () => {
  test('browser seq_goto: old/new tab and the sequence id', () => {
    const { table, values } = only(browser('seq_goto', { old: 1, new: 3, id: 'block-v1:AcceptanceX+DemoX+T1_2014+type@sequential+block@s1' }));
    assert.equal(table, 'navigation_events');
    assert.deepEqual([values.event_type, values.old_tab, values.new_tab, values.sequence_id], ['seq_goto', 1, 3, 'block-v1:AcceptanceX+DemoX+T1_2014+type@sequential+block@s1']);
  });

  test('since May 2016 seq_* carry edx.ui.lms.sequence.* names and tab fields; the legacy type is kept', () => {
    const e = browser('seq_next', { current_tab: 2, tab_count: 5, target_tab: 3, widget_placement: 'top', id: 'seq-1', old: 2, new: 3 }, { name: 'edx.ui.lms.sequence.next_selected' });
    const { values } = only(e);
    assert.deepEqual([values.event_type, values.old_tab, values.new_tab, values.target_tab], ['seq_next', 2, 3, 3]);
  });

  test('edx.ui.lms.outline.selected keeps the URLs', () => {
    const e = browser('edx.ui.lms.outline.selected', { current_url: 'https://x/courses/c/course/', target_name: 'Week 1', target_url: 'https://x/courses/c/jump_to/b', widget_placement: 'accordion' }, { name: 'edx.ui.lms.outline.selected' });
    const { values } = only(e);
    assert.deepEqual([values.event_type, values.target_url, values.sequence_id], ['edx.ui.lms.outline.selected', 'https://x/courses/c/jump_to/b', null]);
  });

  test('enrollment by an external tool: course and user from the event when the context has none (§5.5)', () => {
    const e = server(
      { event_type: 'edx.course.enrollment.activated', name: 'edx.course.enrollment.activated' },
      { course_id: COURSE, user_id: 77, mode: 'audit' },
      { context: { user_id: '', org_id: '', course_id: null, path: '/api/enrollment/v1/enrollment' }, username: 'enrollment_api' },
    );
    const { table, values } = only(e);
    assert.equal(table, 'enrollment_events');
    assert.deepEqual([values.course_id, values.user_id, values.mode], [COURSE, 77, 'audit']);
  });

  test('forum response: thread id from discussion.id; no body copied', () => {
    const body = 'A private learner answer that must not be copied';
    const e = server(
      { event_type: 'edx.forum.response.created', name: 'edx.forum.response.created' },
      { id: 'r1', discussion: { id: 't1' }, commentable_id: 'topic-1', body, truncated: false, category_id: 'cat', category_name: 'Week 1', options: { followed: false } },
    );
    const { table, values } = only(e);
    assert.equal(table, 'forum_events');
    assert.deepEqual([values.post_id, values.thread_id, values.commentable_id, values.category_name], ['r1', 't1', 'topic-1', 'Week 1']);
    assert.ok(!Object.values(values).includes(body));
  });

  test('forum thread: its own id is the thread id, title kept', () => {
    const { values } = only(server({ event_type: 'edx.forum.thread.created', name: 'edx.forum.thread.created' }, { id: 't9', title: 'Hello', commentable_id: 'c', body: 'x', thread_type: 'discussion' }));
    assert.deepEqual([values.post_id, values.thread_id, values.title], ['t9', 't9', 'Hello']);
  });

  test('edx.certificate.created: certificate id and modes', () => {
    const { table, values } = only(
      server({ event_type: 'edx.certificate.created', name: 'edx.certificate.created' }, {
        certificate_id: 'd8e3a1f0c1234abcd',
        certificate_url: 'https://x/certificates/d8e3',
        course_id: COURSE,
        enrollment_mode: 'verified',
        generation_mode: 'batch',
        user_id: 4,
      }),
    );
    assert.equal(table, 'certificate_events');
    assert.deepEqual([values.certificate_id, values.enrollment_mode, values.generation_mode], ['d8e3a1f0c1234abcd', 'verified', 'batch']);
  });

  test('other events (page views, page_close, ORA) are not designated', () => {
    const implicit = server({ event_type: `/courses/edX/Open_DemoX/edx_demo_course/info` }, '{"POST": {}, "GET": {}}');
    assert.deepEqual(designate(implicit), []);
    assert.deepEqual(designate(browser('page_close', '')), []);
    assert.deepEqual(designate(server({ event_type: 'openassessmentblock.create_submission', name: 'openassessmentblock.create_submission' }, { submission_uuid: 'u' })), []);
  });

  test('every designated table is reachable', () => {
    const reached = new Set(
      [
        browser('play_video', { id: 'v' }),
        browser('problem_check', '"a=b"'),
        browser('seq_prev', { old: 2, new: 1, id: 's' }),
        server({ event_type: 'edx.course.enrollment.deactivated', name: 'edx.course.enrollment.deactivated' }, { mode: 'audit' }),
        server({ event_type: 'edx.forum.searched', name: 'edx.forum.searched' }, { query: 'q' }),
        server({ event_type: 'edx.certificate.shared', name: 'edx.certificate.shared' }, {}),
      ].flatMap((e) => designate(e).map((d) => d.table)),
    );
    assert.deepEqual([...reached].sort(), [...DESIGNATED_TABLES].sort());
  });
});

describe('eventRow', () => {
  test('the §5.6 implicit server event: URL event_type, decoded payload, raw line kept', () => {
    const line = {
      username: 'staff',
      host: 'acceptance.m.sandbox.edx.org',
      event_source: 'server',
      event_type: '/courses/edX/Open_DemoX/edx_demo_course/info',
      context: { username: 'staff', course_user_tags: {}, user_id: 4, org_id: 'edX', session: '3759e59e', course_id: 'edX/Open_DemoX/edx_demo_course', path: '/courses/edX/Open_DemoX/edx_demo_course/info' },
      time: '2014-05-16T18:52:20.302431+00:00',
      ip: '127.0.0.1',
      event: '{"POST": {}, "GET": {}}',
      agent: 'Mozilla/5.0',
      page: null,
    };
    const e = parse(line, 17);
    const def = getTableDef('events')!;
    const row = eventRow(e, 'edx/edx-events-2014-05-16.log.gz');
    assert.equal(row.length, def.columns.length);
    const v = Object.fromEntries(def.columns.map((c, i) => [c.name, row[i]]));
    assert.equal(v.event_id, e.id);
    assert.equal(v.time, '2014-05-16 18:52:20.302431');
    assert.equal(v.event_type, '/courses/edX/Open_DemoX/edx_demo_course/info');
    assert.equal(v.canonical_type, '/courses/edX/Open_DemoX/edx_demo_course/info');
    assert.equal(v.name, null);
    assert.equal(v.course_id, 'edX/Open_DemoX/edx_demo_course');
    assert.equal(v.user_id, 4);
    assert.equal(v.session, null);
    assert.equal(v.raw, e.raw);
    assert.ok(!('event' in v) && !('ip' in v), 'fields kept only in the raw line are not copied into columns');
    assert.equal(v.file_key, 'edx/edx-events-2014-05-16.log.gz');
    assert.equal(v.line, 17);
  });
});
