/**
 * The weekly-package files of one demo course: every table of docs/edx-formats.md §4 as header + rows
 * (rendered to TSV by the caller), three ORA tables (§4.9), the course structure JSON (§4.10),
 * the forum dump (§4.11) and, for one course, the OLX export. Column lists are the exporter's
 * (§4.1–§4.7), including its drift: `allow_certificate` in an old-style profile dump, the two
 * user_id_map headers, an empty credit_crediteligibility.
 */
import { type CourseOutline, courseStructureObject } from './course-outline.js';
import type { DemoCourseSpec, DemoEnrollment, DemoRoster, DemoUser } from './demo-roster.js';
import { pythonJson, type JsonValue } from './python-json.js';
import type { SeededRandom } from './seeded-random.js';
import type { TarEntry } from './tar-gz.js';
import { pythonFloat, sqlDateTime, type TsvCell } from './tsv-line.js';

/** One TSV table file of a course. */
export interface DemoTable {
  /** Table name as in the file name (`auth_user`, `teams`, `submissions_submission`…). */
  table: string;
  /** True for `ora/` members. */
  ora: boolean;
  header: string[];
  rows: TsvCell[][];
}

/** Everything the package holds for one course. */
export interface DemoCourseFiles {
  tables: DemoTable[];
  /** Course structure JSON text and its number of blocks. */
  structure: { text: string; blocks: number };
  /** Forum `.mongo` text (one extended-JSON document per line) and its number of documents. */
  forum: { text: string; documents: number };
  /** OLX tarball entries when the course ships one. */
  olx: TarEntry[] | null;
}

/** Ids that must agree across the files of every course (one id space per table, as in edxapp). */
export interface DemoIdSpaces {
  studentModule: number;
  certificate: number;
  languageProficiency: Map<string, number>;
  nextLanguageProficiency: number;
  team: number;
  teamMembership: number;
  wikiArticle: number;
  wikiRevision: number;
  studentItem: number;
  submission: number;
  assessment: number;
}

/** Fresh id counters for one package. */
export function createIdSpaces(rng: SeededRandom): DemoIdSpaces {
  return {
    studentModule: 910_000_000 + rng.int(0, 9_000_000),
    certificate: 4_200_000 + rng.int(0, 90_000),
    languageProficiency: new Map(),
    nextLanguageProficiency: 180_000 + rng.int(0, 9_000),
    team: 7_000 + rng.int(0, 900),
    teamMembership: 21_000 + rng.int(0, 900),
    wikiArticle: 1_400 + rng.int(0, 90),
    wikiRevision: 29_000 + rng.int(0, 900),
    studentItem: 3_300_000 + rng.int(0, 90_000),
    submission: 5_100_000 + rng.int(0, 90_000),
    assessment: 2_600_000 + rng.int(0, 90_000),
  };
}

const DAY_MS = 86_400_000;

/** Epoch ms of a rendered `YYYY-MM-DD HH:MM:SS[.ffffff]` (microseconds dropped). */
function msOf(datetime: string): number {
  return Date.parse(`${datetime.slice(0, 10)}T${datetime.slice(11, 19)}Z`);
}

/** Options for `buildCourseFiles`. */
export interface BuildCourseFilesOptions {
  spec: DemoCourseSpec;
  outline: CourseOutline;
  roster: DemoRoster;
  ids: DemoIdSpaces;
  rng: SeededRandom;
  packageMs: number;
}

/** Builds every file of one course. */
export function buildCourseFiles(options: BuildCourseFilesOptions): DemoCourseFiles {
  const { spec, outline, roster, ids, packageMs } = options;
  const rng = options.rng.fork(`course:${spec.courseId}`);
  const enrollments = roster.byCourse.get(spec.courseId) ?? [];
  const userOf = (e: DemoEnrollment): DemoUser => roster.usersById.get(e.userId) as DemoUser;
  const members = enrollments.map(userOf);
  const courseId = spec.courseId;
  const ts = (fromMs: number, toMs = packageMs - DAY_MS): string =>
    sqlDateTime(fromMs + rng.next() * Math.max(0, toMs - fromMs), rng.chance(0.3) ? 0 : rng.int(1, 999_999));
  const enrolledMs = (e: DemoEnrollment): number => msOf(e.created);
  /** A timestamp after `earlier` (a rendered datetime) and before the package. */
  const after = (earlier: string): string => ts(msOf(earlier) + 1000);
  // Learners with courseware activity: active (and a few unenrolled) learners, none in a course without studentmodule.
  const active = spec.studentModule ? enrollments.filter((e) => (e.isActive === 1 ? rng.chance(0.9) : rng.chance(0.3)) || userOf(e).username === 'bob') : [];
  const staff = members.filter((u) => u.isStaff === 1);
  const tables: DemoTable[] = [];
  const add = (table: string, header: string[], rows: TsvCell[][], ora = false): void => {
    tables.push({ table, ora, header, rows });
  };

  // §4.1 auth_user: the exporter's explicit 22 columns, Askbot filler constant.
  add(
    'auth_user',
    ['id', 'username', 'first_name', 'last_name', 'email', 'password', 'is_staff', 'is_active', 'is_superuser', 'last_login', 'date_joined', 'status', 'email_key', 'avatar_type', 'country', 'show_country', 'date_of_birth', 'interesting_tags', 'ignored_tags', 'email_tag_filter_strategy', 'display_tag_filter_strategy', 'consecutive_days_visit_count'],
    members.map((u) => [u.id, u.username, u.firstName, u.lastName, u.email, '', u.isStaff, u.isActive, u.isSuperuser, u.lastLogin, u.dateJoined, '', null, '', '', 0, null, '', '', 0, 0, 0]),
  );

  // §4.2 auth_userprofile: explicit list (with `state`) or the pre-2021 `SELECT *` (with `allow_certificate`).
  const profileHeader = spec.profileDrift
    ? ['id', 'user_id', 'name', 'language', 'location', 'meta', 'courseware', 'gender', 'mailing_address', 'year_of_birth', 'level_of_education', 'goals', 'allow_certificate', 'country', 'city', 'bio', 'profile_image_uploaded_at']
    : ['id', 'user_id', 'name', 'language', 'location', 'meta', 'courseware', 'gender', 'mailing_address', 'year_of_birth', 'level_of_education', 'goals', 'country', 'city', 'bio', 'profile_image_uploaded_at', 'state'];
  add(
    'auth_userprofile',
    profileHeader,
    members.map((u) => {
      const p = u.profile;
      const head: TsvCell[] = [u.profileId, u.id, p.name, p.language, p.location, p.meta, p.courseware, p.gender, p.mailingAddress, p.yearOfBirth, p.levelOfEducation, p.goals];
      return spec.profileDrift
        ? [...head, p.allowCertificate, p.country, p.city, p.bio, p.profileImageUploadedAt]
        : [...head, p.country, p.city, p.bio, p.profileImageUploadedAt, p.state];
    }),
  );

  // §4.3: unenrolled rows stay (is_active = 0).
  add('student_courseenrollment', ['id', 'user_id', 'course_id', 'created', 'is_active', 'mode'], enrollments.map((e) => [e.id, e.userId, courseId, e.created, e.isActive, e.mode]));

  // Grades first: certificates follow from them.
  const policyHash = Buffer.from(rng.hex(20), 'hex').toString('base64');
  const courseGrades = active
    .map((e) => ({ e, percent: Math.round(rng.next() * 100) / 100 }))
    .sort((a, b) => a.e.userId - b.e.userId);
  const gradeRows: TsvCell[][] = courseGrades.map(({ e, percent }) => {
    const created = ts(enrolledMs(e));
    return [courseId, e.userId, policyHash, pythonFloat(percent), percent >= 0.5 ? 'Pass' : '', percent >= 0.5 ? ts(enrolledMs(e)) : null, created, after(created)];
  });

  // §4.4 certificates_generatedcertificate (`SELECT *`).
  const certRows: TsvCell[][] = [];
  for (const { e, percent } of courseGrades) {
    if (!rng.chance(0.55)) continue;
    const user = userOf(e);
    const passed = percent >= 0.5;
    const status = !passed ? 'notpassing' : e.mode === 'audit' ? 'audit_passing' : rng.chance(0.9) ? 'downloadable' : rng.pick(['unverified', 'generating', 'error']);
    const created = ts(enrolledMs(e));
    ids.certificate += rng.int(1, 900);
    certRows.push([
      ids.certificate,
      e.userId,
      '',
      percent.toFixed(2).replace(/0$/, ''),
      courseId,
      '',
      0,
      status,
      status === 'downloadable' ? rng.hex(32) : '',
      status === 'downloadable' ? rng.hex(32) : '',
      user.profile.name,
      created,
      after(created),
      status === 'error' ? 'Error "rendering" the PDF: template missing\\n' : '',
      e.mode,
    ]);
  }
  add('certificates_generatedcertificate', ['id', 'user_id', 'download_url', 'grade', 'course_id', 'key', 'distinction', 'status', 'verify_uuid', 'download_uuid', 'name', 'created_date', 'modified_date', 'error_reason', 'mode'], certRows);

  // §4.5 courseware_studentmodule: JSON state whose own escapes get doubled backslashes (§3).
  if (spec.studentModule) {
    const rows: TsvCell[][] = [];
    for (const e of active) {
      const user = userOf(e);
      const startMs = enrolledMs(e);
      const moduleRow = (type: string, moduleId: string, state: JsonValue, grade: number | null, maxGrade: number | null): void => {
        const created = ts(startMs);
        ids.studentModule += rng.int(1, 60);
        rows.push([ids.studentModule, type, moduleId, e.userId, pythonJson(state), grade === null ? null : pythonFloat(grade), created, after(created), maxGrade === null ? null : pythonFloat(maxGrade), 'na', courseId]);
      };
      moduleRow('course', outline.root.usageId, { position: rng.int(1, outline.chapters.length) }, null, null);
      for (const chapter of rng.sample(outline.chapters, rng.int(1, outline.chapters.length))) {
        moduleRow('chapter', chapter.usageId, { position: rng.int(1, chapter.children.length) }, null, null);
      }
      for (const seq of rng.sample(outline.sequentials, rng.int(1, 3))) moduleRow('sequential', seq.usageId, { position: rng.int(1, seq.children.length) }, null, null);
      for (const video of rng.sample(outline.videos, rng.int(0, 2))) {
        const position = rng.int(0, video.duration ?? 300);
        moduleRow('video', video.usageId, { saved_video_position: `00:${String(Math.floor(position / 60)).padStart(2, '0')}:${String(position % 60).padStart(2, '0')}`, speed: rng.pick([1.0, 1.25, 1.5]), youtube_is_available: true }, null, null);
      }
      const problems = rng.sample(outline.problems, rng.int(1, Math.min(4, outline.problems.length)));
      problems.forEach((problem, index) => {
        const inputs = Array.from({ length: problem.inputs ?? 1 }, (_, i) => `${problem.hex}_${i + 2}_1`);
        // bob's first problem carries the pipeline test's escaped code answer (§3 "Escaping example").
        const code = user.username === 'bob' && index === 0;
        const answers = Object.fromEntries(inputs.map((id, i) => [id, code && i === 0 ? "print('hello world')\r\n\t" : `choice_${rng.int(0, 3)}`]));
        const earned = rng.int(0, inputs.length);
        moduleRow(
          'problem',
          problem.usageId,
          {
            correct_map: Object.fromEntries(inputs.map((id, i) => [id, { hint: '', hintmode: null, correctness: i < earned ? 'correct' : 'incorrect', msg: '', answervariable: null, npoints: null, queuestate: null }])),
            input_state: Object.fromEntries(inputs.map((id) => [id, {}])),
            last_submission_time: `${ts(startMs).slice(0, 19).replace(' ', 'T')}Z`,
            attempts: rng.int(1, 3),
            seed: 1,
            done: true,
            student_answers: answers,
          },
          earned,
          inputs.length,
        );
      });
      if (outline.openassessments.length > 0 && rng.chance(0.4)) {
        const ora = outline.openassessments[0];
        moduleRow('openassessment', ora.usageId, { has_saved: true, saved_response: pythonJson({ parts: [{ text: 'Draft:\n"first" idea' }] }), saved_date: `${ts(startMs).slice(0, 19).replace(' ', 'T')}Z` }, null, null);
      }
    }
    add('courseware_studentmodule', ['id', 'module_type', 'module_id', 'student_id', 'state', 'grade', 'created', 'modified', 'max_grade', 'done', 'course_id'], rows);
  }

  // §4.6 user_id_map: enrolled learners plus the service account that every course lists.
  const mapRows: TsvCell[][] = members.map((u) => [spec.userIdMapIdColumn === 'user_id' ? u.siteAnonymousId : u.legacyHash, u.id, u.username]);
  const service = roster.serviceUser;
  mapRows.push([spec.userIdMapIdColumn === 'user_id' ? service.siteAnonymousId : service.legacyHash, service.id, service.username]);
  mapRows.sort((a, b) => (a[1] as number) - (b[1] as number));
  add('user_id_map', ['hash_id', spec.userIdMapIdColumn, 'username'], mapRows);

  add('student_anonymoususerid', ['id', 'user_id', 'anonymous_user_id', 'course_id'], enrollments.map((e) => [e.anonymousRowId, e.userId, e.anonymousId, courseId]));

  // §4.7: languageproficiency points at auth_userprofile.id, not the user id; ids are shared across courses.
  const langRows: TsvCell[][] = [];
  for (const u of members) {
    for (const code of u.languages) {
      const key = `${u.profileId}:${code}`;
      let id = ids.languageProficiency.get(key);
      if (id === undefined) {
        ids.nextLanguageProficiency += rng.int(1, 40);
        id = ids.nextLanguageProficiency;
        ids.languageProficiency.set(key, id);
      }
      langRows.push([id, u.profileId, code]);
    }
  }
  langRows.sort((a, b) => (a[0] as number) - (b[0] as number));
  add('student_languageproficiency', ['id', 'user_profile_id', 'code'], langRows);

  const roleRows: TsvCell[][] = [];
  for (const u of staff) roleRows.push([outline.org, courseId, u.id, 'instructor'], [outline.org, courseId, u.id, 'staff']);
  const learners = enrollments.filter((e) => userOf(e).isStaff === 0 && e.isActive === 1);
  const beta = learners.length > 0 ? rng.pick(learners) : undefined;
  if (beta) roleRows.push([outline.org, courseId, beta.userId, 'beta_testers']);
  add('student_courseaccessrole', ['org', 'course_id', 'user_id', 'role'], roleRows);

  const forumRoleRows: TsvCell[][] = [];
  const ta = learners.length > 1 ? learners[learners.length - 1] : undefined;
  for (const e of enrollments) {
    forumRoleRows.push([courseId, e.userId, 'Student']);
    if (userOf(e).isStaff) forumRoleRows.push([courseId, e.userId, 'Administrator'], [courseId, e.userId, 'Moderator']);
    if (ta && e.id === ta.id) forumRoleRows.push([courseId, e.userId, 'Community TA']);
  }
  add('django_comment_client_role_users', ['course_id', 'user_id', 'name'], forumRoleRows);

  // Content-experiment tags: the key has dots (§7.10).
  const partition = `xblock.partition_service.partition_${(outline.courseKey.length * 37) % 900 + 100}`;
  add('user_api_usercoursetag', ['user_id', 'course_id', 'key', 'value'], active.filter(() => rng.chance(0.5)).map((e) => [e.userId, courseId, partition, String(rng.int(0, 1))]));

  // Teams.
  const teamRows: TsvCell[][] = [];
  const membershipRows: TsvCell[][] = [];
  if (spec.teams) {
    const pool = rng.shuffle(learners);
    const teams = [
      { name: 'Data Detectives', description: 'We meet on "Tuesdays" at 18:00 UTC', country: 'US', language: 'en' },
      { name: 'Les Statisticiens', description: '', country: 'FR', language: 'fr' },
      { name: '数据小组 🚀', description: 'Study group for learners in Asia', country: '', language: '' },
    ];
    teams.forEach((team, index) => {
      const teamMembers = pool.slice(index * 3, index * 3 + rng.int(1, 3));
      ids.team += rng.int(1, 20);
      const created = ts(packageMs - 120 * DAY_MS, packageMs - 60 * DAY_MS);
      teamRows.push([ids.team, `${team.name.toLowerCase().replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '') || 'team'}-${rng.hex(32)}`, team.name, courseId, `topic-${index % 2}`, created, team.description, team.country, team.language, rng.hex(32), ts(packageMs - 30 * DAY_MS), teamMembers.length]);
      for (const m of teamMembers) {
        ids.teamMembership += rng.int(1, 9);
        membershipRows.push([ids.teamMembership, m.userId, ids.team, ts(packageMs - 60 * DAY_MS, packageMs - 30 * DAY_MS), ts(packageMs - 30 * DAY_MS)]);
      }
    });
  }
  add('teams', ['id', 'team_id', 'name', 'course_id', 'topic_id', 'date_created', 'description', 'country', 'language', 'discussion_topic_id', 'last_activity_at', 'team_size'], teamRows);
  add('teams_membership', ['id', 'user_id', 'team_id', 'date_joined', 'last_activity_at'], membershipRows);

  add('grades_persistentcoursegrade', ['course_id', 'user_id', 'grading_policy_hash', 'percent_grade', 'letter_grade', 'passed_timestamp', 'created', 'modified'], gradeRows);

  // Ordered by user_id, first_attempted (MySQL puts NULL first).
  const graded = outline.sequentials.filter((s) => s.metadata.graded === true);
  const subsectionRows: { userId: number; first: string | null; row: TsvCell[] }[] = [];
  for (const { e } of courseGrades) {
    for (const seq of graded) {
      const possible = rng.int(1, 6);
      const attempted = rng.chance(0.75);
      const earned = attempted ? rng.int(0, possible) : 0;
      const first = attempted ? ts(enrolledMs(e)) : null;
      const created = ts(enrolledMs(e));
      subsectionRows.push({ userId: e.userId, first, row: [courseId, e.userId, seq.usageId, pythonFloat(earned), pythonFloat(possible), pythonFloat(earned), pythonFloat(possible), first, created, created] });
    }
  }
  subsectionRows.sort((a, b) => a.userId - b.userId || (a.first === b.first ? 0 : a.first === null ? -1 : b.first === null ? 1 : a.first < b.first ? -1 : 1));
  add('grades_persistentsubsectiongrade', ['course_id', 'user_id', 'usage_key', 'earned_all', 'possible_all', 'earned_graded', 'possible_graded', 'first_attempted', 'created', 'modified'], subsectionRows.map((r) => r.row));

  // Usually empty (§1.3): the header alone.
  add('credit_crediteligibility', ['id', 'created', 'modified', 'username', 'deadline', 'course_id'], []);

  add(
    'course_groups_cohortmembership',
    ['user_id', 'course_id', 'group_type', 'name'],
    spec.cohorts ? learners.filter(() => rng.chance(0.8)).map((e) => [e.userId, courseId, 'cohort', rng.pick(['Default Group', 'Cohort A', 'Cohort B'])]) : [],
  );

  // Wiki: articles with revisions whose markdown holds newlines and a backslash.
  const articleRows: TsvCell[][] = [];
  const revisionRows: TsvCell[][] = [];
  if (spec.studentModule) {
    for (let a = 0; a < 2; a++) {
      ids.wikiArticle += rng.int(1, 30);
      const articleId = ids.wikiArticle;
      const revisions = rng.int(1, 3);
      let previous: number | null = null;
      const created = ts(packageMs - 300 * DAY_MS, packageMs - 200 * DAY_MS);
      let modified = created;
      for (let r = 1; r <= revisions; r++) {
        ids.wikiRevision += rng.int(1, 50);
        modified = ts(msOf(modified) + DAY_MS, packageMs - 2 * DAY_MS);
        const author = r === 1 && staff[0] ? staff[0] : userOf(rng.pick(enrollments));
        revisionRows.push([
          ids.wikiRevision,
          r,
          r === 1 ? '' : rng.pick(['Fixed a typo', 'Added the dataset link', '']),
          '',
          rng.chance(0.8) ? `10.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}` : null,
          rng.chance(0.9) ? author.id : null,
          modified,
          modified,
          previous,
          0,
          0,
          articleId,
          `# ${a === 0 ? outline.course : 'Resources'}\r\n\r\nWelcome to the course wiki.\n\n* Dataset: see the Resources page\n* Formula: \\frac{a}{b}\t(inline)\n`,
          a === 0 ? outline.course : 'Resources',
        ]);
        previous = ids.wikiRevision;
      }
      articleRows.push([articleId, previous, created, modified, staff[0]?.id ?? null, null, 1, 1, 1, a === 0 ? 1 : 0]);
    }
  }
  add('wiki_article', ['id', 'current_revision_id', 'created', 'modified', 'owner_id', 'group_id', 'group_read', 'group_write', 'other_read', 'other_write'], articleRows);
  add('wiki_articlerevision', ['id', 'revision_number', 'user_message', 'automatic_log', 'ip_address', 'user_id', 'modified', 'created', 'previous_revision_id', 'deleted', 'locked', 'article_id', 'content', 'title'], revisionRows);

  // §4.9 ORA: identities are course-specific anonymous ids; raw_answer is JSON text, so its escapes get TSV-escaped again.
  const itemRows: TsvCell[][] = [];
  const submissionRows: TsvCell[][] = [];
  const assessmentRows: TsvCell[][] = [];
  const ora = outline.openassessments[0];
  if (ora && active.length > 0) {
    const writers = active.filter((e) => e.isActive === 1 && rng.chance(0.6));
    if (writers.length < 3) writers.push(...active.filter((e) => !writers.includes(e)).slice(0, 3 - writers.length));
    const rubricId = 40_000 + (outline.courseKey.length * 131) % 9_000;
    const staffAnon = enrollments.find((e) => userOf(e).isStaff === 1)?.anonymousId;
    writers.forEach((e, index) => {
      ids.studentItem += rng.int(1, 40);
      itemRows.push([ids.studentItem, e.anonymousId, courseId, ora.usageId, 'openassessment']);
      const attempts = index === 0 ? 2 : 1;
      let submitted = ts(enrolledMs(e));
      for (let attempt = 1; attempt <= attempts; attempt++) {
        ids.submission += rng.int(1, 40);
        const uuid = rng.hex(32);
        if (attempt > 1) submitted = after(submitted);
        const text =
          index === 0 && attempt === 1
            ? 'My first draft.\nIt has two lines, a "quoted" word, a tab\there and a backslash \\ too.'
            : `${['Data literacy', 'Evidence', 'Sampling bias'][index % 3]} matters because…\n\nSecond paragraph — 𠮷 and 😀 included.`;
        submissionRows.push([ids.submission, uuid, ids.studentItem, attempt, submitted, submitted, pythonJson({ parts: [{ text }] }), attempt < attempts ? 'D' : 'A', null]);
        if (attempt < attempts) continue;
        const scorers: [string, string][] = [[e.anonymousId, 'SE']];
        const peer = writers[(index + 1) % writers.length];
        if (peer !== e) scorers.push([peer.anonymousId, 'PE']);
        if (staffAnon && index % 3 === 0) scorers.push([staffAnon, 'ST']);
        for (const [scorer, type] of scorers) {
          ids.assessment += rng.int(1, 40);
          assessmentRows.push([ids.assessment, uuid, rubricId, ts(msOf(submitted) + 3_600_000), scorer, type, rng.pick(['', 'Clear argument.', 'Good start;\nadd a source for the second claim.'])]);
        }
      }
    });
  }
  add('submissions_studentitem', ['id', 'student_id', 'course_id', 'item_id', 'item_type'], itemRows, true);
  add('submissions_submission', ['id', 'uuid', 'student_item_id', 'attempt_number', 'submitted_at', 'created_at', 'raw_answer', 'status', 'team_submission_id'], submissionRows, true);
  add('assessment_assessment', ['id', 'submission_uuid', 'rubric_id', 'scored_at', 'scorer_id', 'score_type', 'feedback'], assessmentRows, true);

  return {
    tables,
    structure: { text: pythonJson(courseStructureObject(outline)), blocks: outline.blocks.length },
    forum: buildForum(spec, outline, enrollments.filter((e) => e.isActive === 1).map(userOf), rng, packageMs),
    olx: spec.olx ? buildOlx(outline) : null,
  };
}

/** §4.11: mongoexport lines with `$oid`, `$date` as epoch-ms number or ISO string, and string `author_id`. */
function buildForum(spec: DemoCourseSpec, outline: CourseOutline, authors: DemoUser[], rng: SeededRandom, packageMs: number): { text: string; documents: number } {
  if (authors.length === 0) return { text: '', documents: 0 };
  let docIndex = 0;
  const date = (ms: number): JsonValue => {
    docIndex++;
    const form = spec.forumDates === 'mixed' ? (docIndex % 5 === 0 ? 'long' : docIndex % 2 === 0 ? 'iso' : 'number') : spec.forumDates;
    if (form === 'number') return { $date: Math.floor(ms) };
    if (form === 'long') return { $date: { $numberLong: String(Math.floor(ms)) } };
    return { $date: new Date(Math.floor(ms)).toISOString() };
  };
  const votes = (): JsonValue => {
    const up = rng.sample(authors, rng.int(0, 2)).map((u) => String(u.id));
    return { up, down: [], up_count: up.length, down_count: 0, count: up.length, point: up.length };
  };
  const lines: string[] = [];
  const topics = outline.discussions.length > 0 ? outline.discussions : [outline.root];
  const threads = rng.int(3, 5);
  for (let t = 0; t < threads; t++) {
    const author = rng.pick(authors);
    const threadId = rng.hex(24);
    const createdMs = packageMs - rng.int(3, 90) * DAY_MS - rng.int(0, DAY_MS - 1);
    const comments: string[] = [];
    const responses = rng.int(0, 3);
    for (let c = 0; c < responses; c++) {
      const commenter = rng.pick(authors);
      const commentId = rng.hex(24);
      const commentMs = createdMs + rng.int(1, 48) * 3_600_000;
      const endorsed = c === 0 && rng.chance(0.3);
      comments.push(
        JSON.stringify({
          _id: { $oid: commentId },
          votes: votes(),
          visible: true,
          abuse_flaggers: [],
          historical_abuse_flaggers: [],
          endorsed,
          endorsement: endorsed ? { user_id: String(author.id), time: date(commentMs + 3_600_000) } : undefined,
          parent_ids: [],
          at_position_list: [],
          body: c === 0 ? 'Try plotting it first:\n```\nplot(x, y)\n```\nThe outlier is obvious then. 😀' : 'Same question here — 谢谢!',
          course_id: outline.courseId,
          anonymous: false,
          anonymous_to_peers: false,
          author_id: String(commenter.id),
          comment_thread_id: { $oid: threadId },
          author_username: commenter.username,
          sk: commentId,
          updated_at: date(commentMs),
          created_at: date(commentMs),
          _type: 'Comment',
        }),
      );
      if (c === 0 && rng.chance(0.6)) {
        const childId = rng.hex(24);
        const childMs = commentMs + 1_800_000;
        comments.push(
          JSON.stringify({
            _id: { $oid: childId },
            votes: votes(),
            visible: true,
            abuse_flaggers: [],
            historical_abuse_flaggers: [],
            endorsed: false,
            parent_id: { $oid: commentId },
            parent_ids: [{ $oid: commentId }],
            at_position_list: [],
            body: 'Thanks, that worked.',
            course_id: outline.courseId,
            anonymous: false,
            anonymous_to_peers: false,
            author_id: String(author.id),
            comment_thread_id: { $oid: threadId },
            author_username: author.username,
            sk: `${commentId}-${childId}`,
            updated_at: date(childMs),
            created_at: date(childMs),
            _type: 'Comment',
          }),
        );
      }
    }
    const topic = rng.pick(topics);
    const anonymous = t === threads - 1;
    lines.push(
      JSON.stringify({
        _id: { $oid: threadId },
        votes: votes(),
        visible: true,
        abuse_flaggers: [],
        historical_abuse_flaggers: [],
        thread_type: t % 2 === 0 ? 'discussion' : 'question',
        context: 'course',
        comment_count: comments.length,
        at_position_list: [],
        title: ['Where is the dataset?', 'Week 2 problem 3', 'Introduce yourself! 👋', 'Erreur dans la vidéo ?', '作业截止日期'][t % 5],
        body: `${['Hi all,', 'Hello,', 'Bonjour,'][t % 3]}\nI could not find the "data" folder.\nThanks!`,
        course_id: outline.courseId,
        commentable_id: topic.category === 'course' ? 'course' : topic.hex,
        anonymous,
        anonymous_to_peers: anonymous,
        closed: false,
        author_id: String(author.id),
        author_username: author.username,
        updated_at: date(createdMs),
        created_at: date(createdMs),
        last_activity_at: date(createdMs + 3_600_000),
        tags_array: [],
        _type: 'CommentThread',
      }),
      ...comments,
    );
  }
  return { text: lines.map((l) => `${l}\n`).join(''), documents: lines.length };
}

function xmlAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A small but real OLX tree (`export_olx`): one top-level folder with course.xml and a file per block. */
function buildOlx(outline: CourseOutline): TarEntry[] {
  const top = 'course';
  const entries: TarEntry[] = [{ path: `${top}/`, content: null }];
  const folders = new Set<string>();
  const file = (path: string, content: string): void => {
    // Directory entries for every missing ancestor, as tar writes them before their files.
    const parts = path.split('/');
    for (let i = 2; i < parts.length; i++) {
      const folder = `${parts.slice(0, i).join('/')}/`;
      if (!folders.has(folder)) {
        folders.add(folder);
        entries.push({ path: folder, content: null });
      }
    }
    entries.push({ path, content });
  };
  file(`${top}/course.xml`, `<course url_name="${xmlAttr(outline.run)}" org="${xmlAttr(outline.org)}" course="${xmlAttr(outline.course)}"/>\n`);
  const children = (ids: string[]): string =>
    ids.map((id) => {
      const b = outline.byId.get(id);
      return b ? `  <${b.category} url_name="${b.hex}"/>\n` : '';
    }).join('');
  file(`${top}/course/${outline.run}.xml`, `<course display_name="${xmlAttr(outline.root.displayName)}" start="&quot;2026-01-12T00:00:00+00:00&quot;">\n${children(outline.root.children)}</course>\n`);
  for (const block of outline.blocks) {
    if (block.category === 'course') continue;
    const name = xmlAttr(block.displayName);
    switch (block.category) {
      case 'chapter':
      case 'sequential':
      case 'vertical':
        file(`${top}/${block.category}/${block.hex}.xml`, `<${block.category} display_name="${name}"${block.metadata.graded === true ? ` graded="true" format="${xmlAttr(String(block.metadata.format))}"` : ''}>\n${children(block.children)}</${block.category}>\n`);
        break;
      case 'html':
        file(`${top}/html/${block.hex}.xml`, `<html filename="${block.hex}" display_name="${name}"/>\n`);
        file(`${top}/html/${block.hex}.html`, `<p>${name}: read the notes &amp; try the examples.</p>\n`);
        break;
      case 'video':
        file(`${top}/video/${block.hex}.xml`, `<video youtube="1.00:${block.youtubeId ?? ''}" url_name="${block.hex}" display_name="${name}" youtube_id_1_0="${block.youtubeId ?? ''}"/>\n`);
        break;
      case 'problem':
        file(
          `${top}/problem/${block.hex}.xml`,
          `<problem display_name="${name}" markdown="null">\n  <multiplechoiceresponse>\n    <label>Which statement is true?</label>\n    <choicegroup type="MultipleChoice">\n      <choice correct="false">Option 0</choice>\n      <choice correct="true">Option 1</choice>\n    </choicegroup>\n  </multiplechoiceresponse>\n</problem>\n`,
        );
        break;
      case 'discussion':
        file(`${top}/discussion/${block.hex}.xml`, `<discussion discussion_id="${block.hex}" display_name="${name}" discussion_category="${xmlAttr(String(block.metadata.discussion_category))}" discussion_target="Week discussion"/>\n`);
        break;
      case 'openassessment':
        file(`${top}/openassessment/${block.hex}.xml`, `<openassessment submission_due="2026-05-30T23:59:00+00:00">\n  <title>${name}</title>\n  <assessments>\n    <assessment name="peer-assessment" must_grade="1" must_be_graded_by="1"/>\n    <assessment name="self-assessment"/>\n  </assessments>\n</openassessment>\n`);
        break;
    }
  }
  file(`${top}/policies/${outline.run}/policy.json`, `${JSON.stringify({ [`course/${outline.run}`]: { display_name: outline.root.displayName, start: '2026-01-12T00:00:00Z', tabs: outline.root.metadata.tabs } }, null, 4)}\n`);
  file(`${top}/policies/${outline.run}/grading_policy.json`, `${JSON.stringify({ GRADER: [{ type: 'Homework', min_count: 2, drop_count: 0, weight: 0.4 }, { type: 'Exam', min_count: 1, drop_count: 0, weight: 0.6 }], GRADE_CUTOFFS: { Pass: 0.5 } }, null, 4)}\n`);
  file(`${top}/about/overview.html`, `<section class="about"><h2>About This Course</h2><p>${xmlAttr(outline.root.displayName)}</p></section>\n`);
  return entries;
}
