/**
 * Realistic tracking-log lines (docs/edx-formats.md §5) for the demo and the benchmark, generated as a
 * stream: nothing is held but the line being built.
 *
 * Shapes follow §5.2–§5.4: Python-style envelopes (`", "` separators) with server, browser and
 * mobile sources; browser payloads as compact JSON strings; `problem_check` browser (URL-encoded
 * string) + server (object) pairs; `problem_graded` lists; legacy video names, mobile
 * `edx.video.*` names; `seq_goto` with `name = edx.ui.lms.sequence.tab_selected`; enrollment with
 * `context.course_id = null` and `event.course_id` set; forum, certificate, grades and ORA
 * events; implicit URL events whose `{"POST": …}` string is cut at 512 characters; `page_close`
 * with `""`.
 *
 * Every line is distinct by construction: the UTC day is cut into one time block per two lines,
 * blocks are visited in a scrambled order (lines are not time-sorted, §5.1), and each line's
 * microsecond timestamp lies inside its own block. Quirky and broken lines (§7) are not made
 * here; `generateDemoData` adds them around these lines. What the lines are made of is in
 * `event-line-vocabulary.ts`, their times in `event-times.ts`.
 */
import { ConfigError } from '../errors/index.js';
import { courseOutline, type CourseOutline, type OutlineBlock } from './course-outline.js';
import { pythonJson, type JsonValue } from './python-json.js';
import { SeededRandom, hashLabel } from './seeded-random.js';
import { AGENTS, ESSAY_TEXT, EVENT_KINDS, FORUM_TEXT, KIND_WEIGHTS, LANGUAGES, MOBILE_APPS, PAIR_SHARE, VIDEO_TYPES, type EventKind } from './event-line-vocabulary.js';
import { eventTime, parseDay, scramble } from './event-times.js';

export { EVENT_KINDS, type EventKind } from './event-line-vocabulary.js';

/** A learner whose activity the lines show. */
export interface EventLineUser {
  id: number;
  username: string;
  /** The courses this user is active in; when absent, any of `courseIds`. */
  courses?: readonly string[];
}

/** Options for `generateEventLines`. */
export interface GenerateEventLinesOptions {
  /** Number of lines to yield. */
  count: number;
  /** PRNG seed; the same options give the same lines. Default 1. */
  seed?: number;
  /** UTC day `YYYY-MM-DD` the event times fall in. */
  date: string;
  /** Course ids (`course-v1:…` or `Org/Course/Run`) the events belong to. */
  courseIds: readonly string[];
  users: readonly EventLineUser[];
  /** LMS host name, `courses.edx.org` by default. */
  host?: string;
}

/** A tracking-log envelope before serialisation (key order is kept). */
export type EventEnvelope = { [key: string]: JsonValue | undefined };

interface UserState {
  session: string;
  ip: string;
  agent: string;
  mobile: (typeof MOBILE_APPS)[number];
  language: string;
  tags: Map<string, { [key: string]: JsonValue }>;
}

function uuidFromHex(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Builds single events and problem_check pairs for one UTC day. `generateEventLines` drives it
 * for plain streams; `generateDemoData` also asks it for envelopes it then bends into the §7
 * quirks.
 */
export class EventLineFactory {
  readonly dayStartMicros: number;
  readonly host: string;
  private readonly rng: SeededRandom;
  private readonly users: readonly EventLineUser[];
  private readonly courseIds: readonly string[];
  private readonly outlines = new Map<string, CourseOutline>();
  private readonly userCourses = new Map<number, readonly string[]>();
  private readonly state = new Map<number, UserState>();

  constructor(options: Omit<GenerateEventLinesOptions, 'count'>) {
    if (options.courseIds.length === 0) {
      throw new ConfigError('Event lines need at least one course id.', { code: 'DEMO_NO_COURSES', hint: 'Pass `courseIds`.' });
    }
    if (options.users.length === 0) {
      throw new ConfigError('Event lines need at least one user.', { code: 'DEMO_NO_USERS', hint: 'Pass `users`.' });
    }
    this.dayStartMicros = parseDay(options.date, 'date') * 1000;
    this.host = options.host ?? 'courses.edx.org';
    this.rng = new SeededRandom(hashLabel(options.date, (options.seed ?? 1) >>> 0));
    this.users = options.users;
    this.courseIds = options.courseIds;
    for (const id of options.courseIds) this.outlines.set(id, courseOutline(id));
    for (const user of options.users) {
      const own = (user.courses ?? []).filter((c) => this.outlines.has(c));
      this.userCourses.set(user.id, own.length > 0 ? own : options.courseIds);
    }
  }

  /**
   * `count` serialised lines (no terminator) for the day, every one distinct, times scattered
   * over the day in a scrambled order.
   */
  *lines(count: number): Generator<string> {
    if (!Number.isInteger(count) || count < 0) {
      throw new ConfigError('The number of event lines must be a whole number ≥ 0.', { code: 'DEMO_COUNT', hint: 'Pass a non-negative integer `count`.' });
    }
    const blocks = Math.ceil(count / 2);
    if (blocks === 0) return;
    const width = Math.floor(86_400_000_000 / blocks);
    if (width < 4) {
      throw new ConfigError('Too many event lines for one day: times would collide.', { code: 'DEMO_COUNT', hint: 'Ask for at most 40 billion lines per day.' });
    }
    // Every block is visited exactly once, in scrambled order: lines are not time-sorted (§5.1).
    const order = scramble(blocks, this.rng);
    const half = Math.floor(width / 2);
    let emitted = 0;
    let singles = 0;
    for (let b = 0; b < blocks; b++) {
      const start = this.dayStartMicros + order(b) * width;
      const t1 = start + this.rng.int(0, half - 1);
      const t2 = start + half + this.rng.int(0, half - 1);
      // The first block is a problem_check pair and the first single events go through every
      // family once, so even a small log shows each shape.
      if (count - emitted >= 2 && (b === 0 || this.rng.chance(PAIR_SHARE))) {
        for (const line of this.problemCheckPair(t1, t2)) yield line;
        emitted += 2;
        continue;
      }
      yield pythonJson(this.envelope(this.nextKind(singles++), t1));
      emitted++;
      if (emitted < count) {
        yield pythonJson(this.envelope(this.nextKind(singles++), t2));
        emitted++;
      }
    }
  }

  private nextKind(single: number): EventKind {
    return single < EVENT_KINDS.length ? EVENT_KINDS[single] : this.rng.weighted(KIND_WEIGHTS);
  }

  /** A random learner (or the one given) and one of their courses. */
  pickActor(user?: EventLineUser, courseId?: string): { user: EventLineUser; outline: CourseOutline } {
    const actor = user ?? this.rng.pick(this.users);
    const courses = this.userCourses.get(actor.id) ?? this.courseIds;
    const id = courseId !== undefined && this.outlines.has(courseId) ? courseId : this.rng.pick(courses);
    return { user: actor, outline: this.outlines.get(id) as CourseOutline };
  }

  private userState(user: EventLineUser): UserState {
    let s = this.state.get(user.id);
    if (!s) {
      s = {
        session: this.rng.hex(32),
        ip: `${this.rng.int(11, 223)}.${this.rng.int(0, 255)}.${this.rng.int(0, 255)}.${this.rng.int(1, 254)}`,
        agent: this.rng.pick(AGENTS),
        mobile: this.rng.pick(MOBILE_APPS),
        language: this.rng.pick(LANGUAGES),
        tags: new Map(),
      };
      this.state.set(user.id, s);
    }
    return s;
  }

  /** `course_user_tags` of a user in a course; half the learners sit in a content experiment, whose key has dots (§7.10). */
  private tags(user: EventLineUser, outline: CourseOutline): { [key: string]: JsonValue } {
    const s = this.userState(user);
    let tags = s.tags.get(outline.courseId);
    if (!tags) {
      tags = this.rng.chance(0.5) ? { [`xblock.partition_service.partition_${hashLabel(outline.courseId) % 900 + 100}`]: String(this.rng.int(0, 1)) } : {};
      s.tags.set(outline.courseId, tags);
    }
    return tags;
  }

  private courseUrl(outline: CourseOutline, suffix = ''): string {
    return `https://${this.host}/courses/${outline.courseId}${suffix}`;
  }

  /** The courseware URL of the sequence holding `block` (or of a random sequence). */
  private pageOf(outline: CourseOutline, block?: OutlineBlock): string {
    let sequential = block;
    while (sequential && sequential.category !== 'sequential') sequential = outline.parentOf.get(sequential.usageId);
    sequential ??= this.rng.pick(outline.sequentials);
    const chapter = outline.parentOf.get(sequential.usageId) ?? outline.chapters[0];
    const target = block ? `?activate_block_id=${encodeURIComponent(block.usageId)}` : '';
    return this.courseUrl(outline, `/courseware/${chapter.hex}/${sequential.hex}/${this.rng.int(1, 2)}${target}`);
  }

  private context(user: EventLineUser, outline: CourseOutline, path: string, extra: { [key: string]: JsonValue } = {}): { [key: string]: JsonValue } {
    return {
      course_user_tags: this.tags(user, outline),
      user_id: user.id,
      org_id: outline.org,
      enterprise_uuid: '',
      course_id: outline.courseId,
      path,
      ...extra,
    };
  }

  private server(
    user: EventLineUser,
    outline: CourseOutline,
    time: number,
    fields: { eventType: string; name?: string; event: JsonValue; path: string; context?: { [key: string]: JsonValue }; session?: boolean; referer?: string },
  ): EventEnvelope {
    const s = this.userState(user);
    return {
      name: fields.name,
      context: this.context(user, outline, fields.path, fields.context),
      username: user.username,
      session: fields.session === false ? '' : s.session,
      ip: s.ip,
      agent: s.agent,
      host: this.host,
      referer: fields.referer ?? this.courseUrl(outline, '/course/'),
      accept_language: s.language,
      event: fields.event,
      time: eventTime(time),
      event_type: fields.eventType,
      event_source: 'server',
      page: null,
    };
  }

  private browser(user: EventLineUser, outline: CourseOutline, time: number, fields: { eventType: string; name?: string; event: JsonValue; page: string }): EventEnvelope {
    const s = this.userState(user);
    return {
      username: user.username,
      event_source: 'browser',
      name: fields.name,
      accept_language: s.language,
      time: eventTime(time),
      agent: s.agent,
      page: fields.page,
      host: this.host,
      session: s.session,
      referer: fields.page,
      context: this.context(user, outline, '/event'),
      ip: s.ip,
      event: fields.event,
      event_type: fields.eventType,
    };
  }

  private inputIds(outline: CourseOutline, problem: OutlineBlock): string[] {
    const base = outline.style === 'opaque' ? problem.hex : problem.browserId;
    return Array.from({ length: problem.inputs ?? 1 }, (_, i) => `${base}_${i + 2}_1`);
  }

  /** A browser `problem_check` (URL-encoded form inside a JSON string) and its server twin (object), §5.3/§7.9. */
  problemCheckPair(browserTime: number, serverTime: number, user?: EventLineUser): [string, string] {
    const actor = this.pickActor(user);
    const { outline } = actor;
    const problem = this.rng.pick(outline.problems);
    const ids = this.inputIds(outline, problem);
    const answers: { [key: string]: JsonValue } = {};
    const correctMap: { [key: string]: JsonValue } = {};
    const submission: { [key: string]: JsonValue } = {};
    const query: string[] = [];
    let earned = 0;
    for (const id of ids) {
      const multi = this.rng.chance(0.3);
      const picked = multi ? [`choice_${this.rng.int(0, 1)}`, `choice_${this.rng.int(2, 3)}`] : [`choice_${this.rng.int(0, 3)}`];
      const correct = this.rng.chance(0.6);
      if (correct) earned++;
      answers[id] = multi ? picked : picked[0];
      for (const p of picked) query.push(`input_${id}${multi ? '%5B%5D' : ''}=${p}`);
      correctMap[id] = { hint: '', hintmode: null, correctness: correct ? 'correct' : 'incorrect', msg: '', answervariable: null, npoints: null, queuestate: null };
      submission[id] = {
        question: `${problem.displayName}: which statement is true?`,
        answer: multi ? picked.map((p) => `Option ${p.slice(-1)}`) : `Option ${picked[0].slice(-1)}`,
        response_type: multi ? 'choiceresponse' : 'multiplechoiceresponse',
        input_type: multi ? 'checkboxgroup' : 'choicegroup',
        correct,
        variant: '',
        group_label: '',
      };
    }
    const page = this.pageOf(outline, problem);
    const browserLine = pythonJson(
      this.browser(actor.user, outline, browserTime, { eventType: 'problem_check', event: JSON.stringify(query.join('&')), page }),
    );
    const handler =
      outline.style === 'opaque'
        ? `/courses/${outline.courseId}/xblock/${problem.usageId}/handler/xmodule_handler/problem_check`
        : `/courses/${outline.courseId}/modx/${problem.usageId}/problem_check`;
    const serverLine = pythonJson(
      this.server(actor.user, outline, serverTime, {
        eventType: 'problem_check',
        name: 'problem_check',
        path: handler,
        referer: page,
        context: { module: { display_name: problem.displayName, usage_key: problem.usageId } },
        event: {
          state: { seed: 1, student_answers: {}, done: null, correct_map: {}, input_state: Object.fromEntries(ids.map((id) => [id, {}])) },
          problem_id: problem.usageId,
          answers,
          grade: earned,
          max_grade: ids.length,
          correct_map: correctMap,
          success: earned === ids.length ? 'correct' : 'incorrect',
          attempts: this.rng.int(1, 3),
          submission,
        },
      }),
    );
    return [browserLine, serverLine];
  }

  /** One event of `kind` at `time` (epoch µs), for `user` in `courseId` when given. */
  envelope(kind: EventKind, time: number, user?: EventLineUser, courseId?: string): EventEnvelope {
    const actor = this.pickActor(user, courseId);
    const { outline } = actor;
    const who = actor.user;
    const rng = this.rng;
    switch (kind) {
      case 'video': {
        const video = rng.pick(outline.videos.length > 0 ? outline.videos : outline.problems);
        const [legacy] = rng.pick(VIDEO_TYPES);
        const duration = video.duration ?? 300;
        const current = Math.round(rng.next() * duration * 1000) / 1000;
        const payload: { [key: string]: JsonValue } =
          legacy === 'seek_video'
            ? { id: video.browserId, old_time: current, new_time: Math.round(rng.next() * duration), type: rng.pick(['onSlideSeek', 'onSkipSeek']), code: video.youtubeId ?? 'html5', duration }
            : legacy === 'speed_change_video'
              ? { id: video.browserId, current_time: current, old_speed: '1.0', new_speed: rng.pick(['0.75', '1.25', '1.50', '2.0']), code: video.youtubeId ?? 'html5', duration }
              : { id: video.browserId, currentTime: current, code: video.youtubeId ?? 'html5', duration };
        return this.browser(who, outline, time, { eventType: legacy, event: JSON.stringify(payload), page: this.pageOf(outline, video) });
      }
      case 'mobile-video': {
        const video = rng.pick(outline.videos.length > 0 ? outline.videos : outline.problems);
        const [legacy, name] = rng.pick(VIDEO_TYPES.filter(([, n]) => n.startsWith('edx.video.')));
        const s = this.userState(who);
        // Mobile events are bucketed by received_at (§1.1); time is when the phone recorded them.
        const receivedAt = eventTime(Math.min(time + rng.int(200_000, 90_000_000), this.dayStartMicros + 86_399_999_999));
        return {
          username: who.username,
          event_source: 'mobile',
          name,
          event_type: legacy,
          context: this.context(who, outline, '/segment/event', {
            received_at: receivedAt,
            application: { name: s.mobile.name, version: s.mobile.version },
            client: { library: { name: s.mobile.library, version: '4.10.4' }, network: { wifi: rng.chance(0.7), carrier: 'Demo Mobile' }, screen: { density: 2.625, width: 1080, height: 2400 } },
            component: 'videoplayer',
          }),
          time: eventTime(time),
          ip: '',
          agent: s.mobile.agent,
          host: this.host,
          page: `https://${this.host}/xblock/${video.usageId}`,
          session: '',
          event: JSON.stringify({ currentTime: Math.round(rng.next() * (video.duration ?? 300)), code: 'mobile', id: video.usageId }),
        };
      }
      case 'sequence': {
        const seq = rng.pick(outline.sequentials);
        const tabs = seq.children.length;
        const current = rng.int(1, tabs);
        const which = rng.weighted([
          ['seq_goto', 3],
          ['seq_next', 2],
          ['seq_prev', 1],
        ] as const);
        const target = which === 'seq_next' ? Math.min(current + 1, tabs) : which === 'seq_prev' ? Math.max(current - 1, 1) : rng.int(1, tabs);
        const name =
          which === 'seq_goto' ? 'edx.ui.lms.sequence.tab_selected' : which === 'seq_next' ? 'edx.ui.lms.sequence.next_selected' : 'edx.ui.lms.sequence.previous_selected';
        const payload =
          which === 'seq_goto'
            ? { target_tab: target, tab_count: tabs, current_tab: current, widget_placement: 'top', id: seq.usageId, old: current, new: target }
            : { current_tab: current, tab_count: tabs, widget_placement: rng.pick(['top', 'bottom']), id: seq.usageId, old: current, new: target };
        return this.browser(who, outline, time, { eventType: which, name, event: JSON.stringify(payload), page: this.pageOf(outline, this.rng.pick(outline.verticals)) });
      }
      case 'implicit': {
        const sequential = rng.pick(outline.sequentials);
        const chapter = outline.parentOf.get(sequential.usageId) ?? outline.chapters[0];
        const path = rng.weighted([
          [`/courses/${outline.courseId}/courseware/${chapter.hex}/${sequential.hex}/`, 5],
          [`/courses/${outline.courseId}/course/`, 3],
          [`/courses/${outline.courseId}/progress`, 2],
          [`/courses/${outline.courseId}/info`, 1],
          [`/courses/${outline.courseId}/discussion/forum/`, 1],
          [`/courses/${outline.courseId}/xblock/${rng.pick(outline.problems).usageId}/handler/xmodule_handler/problem_get`, 2],
        ] as const);
        const get: { [key: string]: JsonValue } = rng.chance(0.3) ? { activate_block_id: [rng.pick(outline.verticals).usageId] } : {};
        return this.server(who, outline, time, { eventType: path, path, event: pythonJson({ POST: {}, GET: get }) });
      }
      case 'implicit-post': {
        // The tracking middleware cuts the request dump at 512 characters, so the string is usually broken JSON (§5.3).
        const discussion = outline.discussions[0] ?? outline.root;
        const path = `/courses/${outline.courseId}/discussion/${discussion.hex}/threads/create`;
        const post = {
          POST: {
            thread_type: ['discussion'],
            title: [rng.pick(['Question about week 2', 'Dataset link broken?', 'Study group', 'Help with the lab'])],
            body: [`${rng.pick(FORUM_TEXT)}\n\n${ESSAY_TEXT} ${ESSAY_TEXT}`],
            anonymous: ['false'],
            anonymous_to_peers: ['false'],
            auto_subscribe: ['true'],
          },
          GET: {},
        };
        return this.server(who, outline, time, { eventType: path, path, event: pythonJson(post).slice(0, 512), referer: this.courseUrl(outline, '/discussion/forum/') });
      }
      case 'page-close':
        return this.browser(who, outline, time, { eventType: 'page_close', event: '', page: this.pageOf(outline, this.rng.pick(outline.verticals)) });
      case 'outline': {
        const seq = rng.pick(outline.sequentials);
        const current = this.courseUrl(outline, '/course/');
        if (rng.chance(0.7)) {
          return this.browser(who, outline, time, {
            eventType: 'edx.ui.lms.outline.selected',
            name: 'edx.ui.lms.outline.selected',
            event: { current_url: current, target_name: seq.displayName, target_url: this.courseUrl(outline, `/jump_to/${seq.usageId}`), widget_placement: 'accordion' },
            page: current,
          });
        }
        return this.browser(who, outline, time, {
          eventType: 'edx.ui.lms.link_clicked',
          name: 'edx.ui.lms.link_clicked',
          event: { current_url: current, target_url: `https://${this.host}/courses/${outline.courseId}/progress` },
          page: current,
        });
      }
      case 'problem-graded': {
        const problem = rng.pick(outline.problems);
        const ids = this.inputIds(outline, problem);
        const query = ids.map((id) => `input_${id}=choice_${rng.int(0, 3)}`).join('&');
        const html =
          `<h3 class="hd hd-3 problem-header" id="${problem.hex}-problem-title">${problem.displayName}</h3>\n` +
          `<div class="problem-progress" id="${problem.hex}-problem-progress"></div>\n<div class="problem">\n` +
          ids.map((id) => `<div class="choicegroup capa_inputtype" id="inputtype_${id}"><fieldset aria-describedby="status_${id}"><label for="input_${id}_choice_0">Option 0</label><span class="status correct" id="status_${id}"></span></fieldset></div>`).join('\n') +
          `\n</div>\n<div class="action"><button type="button" class="submit btn-brand" data-submitting="Submitting" data-value="Submit">Submit</button></div>`;
        return this.browser(who, outline, time, { eventType: 'problem_graded', event: [query, html], page: this.pageOf(outline, problem) });
      }
      case 'problem-show': {
        const problem = rng.pick(outline.problems);
        return this.browser(who, outline, time, { eventType: 'problem_show', event: JSON.stringify({ problem: problem.usageId }), page: this.pageOf(outline, problem) });
      }
      case 'showanswer': {
        const problem = rng.pick(outline.problems);
        return this.server(who, outline, time, {
          eventType: 'showanswer',
          name: 'showanswer',
          path: `/courses/${outline.courseId}/xblock/${problem.usageId}/handler/xmodule_handler/problem_show`,
          context: { module: { display_name: problem.displayName, usage_key: problem.usageId } },
          event: { problem_id: problem.usageId },
        });
      }
      case 'grades': {
        const problem = rng.pick(outline.problems);
        const possible = problem.inputs ?? 1;
        return this.server(who, outline, time, {
          eventType: 'edx.grades.problem.submitted',
          name: 'edx.grades.problem.submitted',
          path: `/courses/${outline.courseId}/xblock/${problem.usageId}/handler/xmodule_handler/problem_check`,
          context: { module: { display_name: problem.displayName, usage_key: problem.usageId } },
          event: {
            user_id: String(who.id),
            course_id: outline.courseId,
            problem_id: problem.usageId,
            event_transaction_id: uuidFromHex(rng.hex(32)),
            event_transaction_type: 'edx.grades.problem.submitted',
            weighted_earned: rng.int(0, possible),
            weighted_possible: possible,
          },
        });
      }
      case 'enrollment': {
        const activated = rng.chance(0.7);
        const name = activated ? 'edx.course.enrollment.activated' : 'edx.course.enrollment.deactivated';
        // An external tool (e.g. the enrollment API) leaves context.course_id null; event.course_id is set (§5.4).
        const external = rng.chance(0.35);
        const envelope = this.server(who, outline, time, {
          eventType: name,
          name,
          path: external ? '/api/enrollment/v1/enrollment' : '/change_enrollment',
          event: { course_id: outline.courseId, user_id: who.id, mode: rng.pick(['audit', 'verified', 'honor']) },
          referer: `https://${this.host}/dashboard`,
        });
        if (external) (envelope.context as { [key: string]: JsonValue }).course_id = null;
        return envelope;
      }
      case 'forum': {
        const discussion = outline.discussions.length > 0 ? rng.pick(outline.discussions) : outline.root;
        const threadId = rng.hex(24);
        const base = {
          commentable_id: discussion.hex,
          category_id: discussion.hex,
          category_name: discussion.displayName,
          user_forums_roles: ['Student'],
          user_course_roles: [],
          team_id: null,
          url: this.courseUrl(outline, `/discussion/forum/${discussion.hex}/threads/${threadId}`),
        };
        const which = rng.weighted([
          ['edx.forum.thread.viewed', 4],
          ['edx.forum.thread.created', 2],
          ['edx.forum.response.created', 2],
          ['edx.forum.comment.created', 1],
          ['edx.forum.thread.voted', 1],
          ['edx.forum.searched', 1],
        ] as const);
        const body = rng.pick(FORUM_TEXT);
        const event: { [key: string]: JsonValue } =
          which === 'edx.forum.searched'
            ? { query: rng.pick(['median', 'dataset', 'week 2', 'certificat']), page: 1, total_results: rng.int(0, 12), corrected_text: null, group_id: null }
            : which === 'edx.forum.thread.viewed'
              ? { ...base, id: threadId, title: 'Question about week 2', title_truncated: false, target_username: rng.pick(this.users).username }
              : which === 'edx.forum.thread.voted'
                ? { ...base, id: threadId, vote_value: 'up', undo_vote: false, target_username: rng.pick(this.users).username }
                : which === 'edx.forum.thread.created'
                  ? { ...base, id: threadId, title: 'Question about week 2', title_truncated: false, body, truncated: false, thread_type: 'question', anonymous: false, anonymous_to_peers: false, group_id: null, options: { followed: true } }
                  : which === 'edx.forum.response.created'
                    ? { ...base, id: rng.hex(24), body, truncated: false, discussion: { id: threadId }, options: { followed: false } }
                    : { ...base, id: rng.hex(24), body, truncated: false, discussion: { id: threadId }, response: { id: rng.hex(24) }, options: { followed: false } };
        return this.server(who, outline, time, {
          eventType: which,
          name: which,
          path: which === 'edx.forum.searched' ? `/courses/${outline.courseId}/discussion/forum/search` : `/courses/${outline.courseId}/discussion/${discussion.hex}/threads/create`,
          event,
        });
      }
      case 'certificate': {
        const certificateId = rng.hex(32);
        return this.server(who, outline, time, {
          eventType: 'edx.certificate.created',
          name: 'edx.certificate.created',
          path: '/certificates/generate',
          session: false,
          event: {
            user_id: who.id,
            course_id: outline.courseId,
            certificate_id: certificateId,
            certificate_url: `https://${this.host}/certificates/${certificateId}`,
            enrollment_mode: rng.pick(['verified', 'professional', 'honor']),
            generation_mode: rng.pick(['batch', 'self']),
          },
        });
      }
      case 'ora': {
        const ora = outline.openassessments[0];
        if (!ora) return this.envelope('implicit', time, who, outline.courseId);
        const created = eventTime(time - rng.int(1, 5_000_000));
        return this.server(who, outline, time, {
          eventType: 'openassessmentblock.create_submission',
          name: 'openassessmentblock.create_submission',
          path: `/courses/${outline.courseId}/xblock/${ora.usageId}/handler/submit`,
          context: { module: { display_name: ora.displayName, usage_key: ora.usageId } },
          event: {
            submission_uuid: uuidFromHex(rng.hex(32)),
            attempt_number: 1,
            created_at: created,
            submitted_at: created,
            answer: { parts: [{ text: `${ESSAY_TEXT}\n\nIn short: ask where the numbers come from.` }], file_keys: [], files_descriptions: [] },
          },
        });
      }
    }
  }
}

/**
 * Streams `count` realistic tracking-log lines (about 1.5 KB each, no line terminator) for the UTC
 * day `date`, drawn from `users` and `courseIds`. Deterministic for a given seed; every line is
 * distinct and valid JSON; times are scattered over the day, not sorted. Memory stays flat however
 * large `count` is.
 */
export function* generateEventLines(options: GenerateEventLinesOptions): Generator<string> {
  const factory = new EventLineFactory(options);
  yield* factory.lines(options.count);
}
