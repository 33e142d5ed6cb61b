/**
 * The logical schema: one `TableDef` per table the stores hold (types in `schema-types.ts`).
 * Every relational store creates its tables from these definitions, `docs/schema.md` is
 * generated from them (`build/gen-schema-doc.ts`), and the loaders map file headers onto them.
 * Pure: no Node API.
 *
 * Types follow the MySQL types of the edX platform (docs/edx-formats.md §4) so that a value the
 * platform database held always fits. Where the guide and the live platform disagree, the wider
 * type is used and the column doc says why: rejecting a real row is worse than a wide column.
 */
import type { ColumnDef, ColumnType, TableDef, TableGroup } from './schema-types.js';
import { textColumn } from './schema-types.js';
import { personalClassOf } from './personal-data.js';

// ---------------------------------------------------------------------------------------------
// Column helpers: keep the definitions below one line per column.

function col(name: string, type: Exclude<ColumnType, 'varchar'>, doc?: string): ColumnDef {
  return doc === undefined ? { name, type } : { name, type, doc };
}
/** Marks a column that only some export eras carry (not reported when absent). */
const era = (c: ColumnDef): ColumnDef => ({ ...c, optional: true });
function vc(name: string, length: number, doc?: string): ColumnDef {
  return doc === undefined ? { name, type: 'varchar', length } : { name, type: 'varchar', length, doc };
}
const int = (name: string, doc?: string): ColumnDef => col(name, 'int', doc);
const bigint = (name: string, doc?: string): ColumnDef => col(name, 'bigint', doc);
const dbl = (name: string, doc?: string): ColumnDef => col(name, 'double', doc);
const bool = (name: string, doc?: string): ColumnDef => col(name, 'bool', doc);
const text = (name: string, doc?: string): ColumnDef => col(name, 'text', doc);
const longtext = (name: string, doc?: string): ColumnDef => col(name, 'longtext', doc);
const datetime = (name: string, doc?: string): ColumnDef => col(name, 'datetime', doc);
const date = (name: string, doc?: string): ColumnDef => col(name, 'date', doc);

/** Course ids hold either key format (§1.2); the platform column is varchar(255). */
const courseId = (doc = 'Course id, `Org/Course/Run` or `course-v1:Org+Course+Run` (docs/edx-formats.md §1.2).'): ColumnDef =>
  vc('course_id', 255, doc);
const id = (doc = 'Row id in the platform database.'): ColumnDef => int('id', doc);
const userId = (doc = '`auth_user.id` (= `context.user_id` in events).'): ColumnDef => int('user_id', doc);

/** Each column gets its GDPR class from the inventory (`personal-data.ts`). */
function table(name: string, group: TableGroup, doc: string, columns: ColumnDef[], extra: Partial<TableDef> = {}): TableDef {
  return { name, group, doc, columns: columns.map((c) => withClass(name, c)), ...extra };
}
function withClass(tableName: string, c: ColumnDef): ColumnDef {
  const personal = personalClassOf(tableName, c.name);
  return personal === undefined ? c : { ...c, personal };
}

// ---------------------------------------------------------------------------------------------
// Weekly package tables (docs/edx-formats.md §4.1–§4.7).

const authUser = table(
  'auth_user',
  'weekly',
  'Users enrolled in the course (inner join on student_courseenrollment). The exporter selects 22 explicit columns; those from `status` onward are constant Askbot filler (docs/edx-formats.md §4.1).',
  [
    id('`auth_user.id`; equals `context.user_id` in events.'),
    vc('username', 150, 'Retired (GDPR) users appear as `retired__user_{sha1hex}` (§7.14). varchar(30) in old docs; 150 on the live platform.'),
    vc('first_name', 150, 'Unused (the name lives in auth_userprofile.name). varchar(30) in the guide; Django ≥ 3.1 allows 150.'),
    vc('last_name', 150, 'Unused. varchar(30) in the guide; Django ≥ 2.0 allows 150.'),
    vc('email', 254, 'Real e-mail address (PII); redacted for retired users.'),
    vc('password', 128, 'Always the empty string: the exporter selects `\'\' AS password`.'),
    bool('is_staff'),
    bool('is_active'),
    bool('is_superuser'),
    datetime('last_login', 'Can be NULL (newer Django).'),
    datetime('date_joined'),
    vc('status', 2, 'Exporter filler: always empty.'),
    vc('email_key', 32, 'Exporter filler: always NULL.'),
    vc('avatar_type', 1, 'Exporter filler: always empty. The guide spells it `avatar_typ` (alias).'),
    vc('country', 2, 'Exporter filler: always empty (the real country is in auth_userprofile).'),
    bool('show_country', 'Exporter filler: always 0.'),
    date('date_of_birth', 'Exporter filler: always NULL.'),
    longtext('interesting_tags', 'Exporter filler: always empty.'),
    longtext('ignored_tags', 'Exporter filler: always empty.'),
    int('email_tag_filter_strategy', 'Exporter filler: always 0.'),
    int('display_tag_filter_strategy', 'Exporter filler: always 0.'),
    int('consecutive_days_visit_count', 'Exporter filler: always 0.'),
  ],
  { indexes: [['id'], ['username']], aliases: { avatar_typ: 'avatar_type' } },
);

const authUserProfile = table(
  'auth_userprofile',
  'weekly',
  'Learner profile (demographics). `SELECT *` before Apr 2021, an explicit list since: older files carry `allow_certificate` and any other live columns (docs/edx-formats.md §4.2).',
  [
    id(),
    userId('`auth_user.id` (unique).'),
    vc('name', 255, 'Full name (PII).'),
    vc('language', 255, 'Obsolete.'),
    vc('location', 255, 'Obsolete.'),
    longtext('meta', 'JSON text, e.g. `{"old_emails": [[…]], "old_names": [[…]]}`.'),
    vc('courseware', 255, 'Obsolete (`course.xml`).'),
    vc('gender', 6, '`m`, `f`, `o`, empty or NULL.'),
    longtext('mailing_address'),
    int('year_of_birth'),
    vc('level_of_education', 6, '`p`, `m`, `b`, `a`, `hs`, `jhs`, `el`, `none`, `other`, `p_se`, `p_oth`, empty or NULL.'),
    longtext('goals'),
    era(bool('allow_certificate', 'Only in files exported before Apr 2021 (`SELECT *` era).')),
    vc('country', 2, 'ISO 3166 code or empty.'),
    longtext('city'),
    era(vc('bio', 3000, 'Added Sep 2014 / Apr 2015.')),
    era(datetime('profile_image_uploaded_at', 'Added Apr 2015.')),
    era(vc('state', 255, 'In the export since Apr 2021 but not in the guide (US state code); width not documented, so 255.')),
  ],
  { indexes: [['user_id']] },
);

const studentCourseEnrollment = table(
  'student_courseenrollment',
  'weekly',
  'Enrollments (`SELECT *`). Rows stay after unenrollment with `is_active = 0` (since 20 Aug 2013) (docs/edx-formats.md §4.3).',
  [
    id(),
    userId(),
    courseId(),
    datetime('created', 'When the learner enrolled; can be NULL.'),
    bool('is_active', '0 after unenrollment.'),
    vc('mode', 100, '`audit`, `honor`, `verified`, `professional`, `no-id-professional`, `credit`, `masters`, …'),
  ],
  { indexes: [['user_id'], ['course_id']] },
);

const generatedCertificate = table(
  'certificates_generatedcertificate',
  'weekly',
  'Certificates (`SELECT *`: newer platform columns may appear and are kept as drift) (docs/edx-formats.md §4.4).',
  [
    id(),
    userId(),
    vc('download_url', 128),
    vc('grade', 5, 'Final grade as text, e.g. `0.84`.'),
    courseId(),
    vc('key', 32),
    bool('distinction'),
    vc('status', 32, 'audit_notpassing, audit_passing, deleted, deleting, downloadable, error, generating, notpassing, restricted, unavailable, unverified.'),
    vc('verify_uuid', 32, 'Equals `certificate_id` in `edx.certificate.*` events.'),
    vc('download_uuid', 32),
    vc('name', 255, 'Name printed on the certificate (PII).'),
    datetime('created_date'),
    datetime('modified_date'),
    vc('error_reason', 512),
    vc('mode', 32),
  ],
  { indexes: [['user_id'], ['course_id']] },
);

const studentModule = table(
  'courseware_studentmodule',
  'weekly',
  'Per-learner state of every block a learner touched; the largest table. Made by a separate Sqoop pipeline, absent when the course has no rows (docs/edx-formats.md §3, §4.5).',
  [
    bigint('id', 'int in the guide; the platform widened it to bigint (courseware migration 0011).'),
    vc('module_type', 32, 'problem, video, sequential, chapter, course, openassessment, …'),
    vc('module_id', 255, 'Block usage id (`i4x://…` or `block-v1:…`).'),
    int('student_id', '`auth_user.id`.'),
    longtext('state', 'JSON text.'),
    dbl('grade'),
    datetime('created'),
    datetime('modified'),
    dbl('max_grade'),
    vc('done', 8, 'Always `na`.'),
    courseId(),
  ],
  { indexes: [['student_id'], ['module_id'], ['course_id']] },
);

const userIdMap = table(
  'user_id_map',
  'weekly',
  'Maps user ids to a hashed id. The header changed in Oct 2022 from `hash_id, id, username` to `hash_id, user_id, username` (alias), and the hashing changed with it: old and new hash_ids of one user differ (docs/edx-formats.md §4.6).',
  [
    vc('hash_id', 32, '32 hex characters (the guide says `int(11)`; it is not).'),
    userId('`auth_user.id`; the header said `id` before Oct 2022.'),
    vc('username', 150, 'Service users such as `course_discovery_worker` appear in every course.'),
  ],
  { indexes: [['user_id'], ['hash_id']], aliases: { id: 'user_id' } },
);

const anonymousUserId = table(
  'student_anonymoususerid',
  'weekly',
  'Course-specific anonymous ids, used as `student_id`/`scorer_id` in the ORA tables (since the 13 Dec 2015 export) (docs/edx-formats.md §4.6).',
  [id(), userId(), vc('anonymous_user_id', 32, 'Unique; the id ORA tables use.'), courseId()],
  { indexes: [['user_id'], ['anonymous_user_id']] },
);

const languageProficiency = table(
  'student_languageproficiency',
  'weekly',
  'Languages learners declared (since Apr 2015) (docs/edx-formats.md §4.7).',
  [id(), int('user_profile_id', '→ auth_userprofile.id, not the user id.'), vc('code', 16, 'Language code.')],
  { indexes: [['user_profile_id']] },
);

const courseAccessRole = table(
  'student_courseaccessrole',
  'weekly',
  'Course team roles (since Oct 2016). The exporter selects `org, course_id, user_id, role`; the guide lists only three (docs/edx-formats.md §4.7).',
  [vc('org', 64), courseId(), userId(), vc('role', 64, 'beta_testers, ccx_coach, finance_admin, instructor, library_user, sales_admin, staff.')],
  { indexes: [['user_id'], ['course_id']] },
);

const commentRoleUsers = table(
  'django_comment_client_role_users',
  'weekly',
  'Discussion roles (since Oct 2016). The exporter joins the role table: `course_id, user_id, name` (docs/edx-formats.md §4.7).',
  [courseId(), userId(), vc('name', 30, 'Administrator, Moderator, Community TA, Student, Group Moderator, …')],
  { indexes: [['user_id'], ['course_id']] },
);

const userCourseTag = table(
  'user_api_usercoursetag',
  'weekly',
  'Per-learner course tags such as experiment partitions (since Mar 2014, `SELECT *`) (docs/edx-formats.md §4.7).',
  [era(id('Auto id; trust the header (the guide omits it).')), userId(), courseId(), vc('key', 255, 'e.g. `xblock.partition_service.partition_0`.'), text('value')],
  { indexes: [['user_id'], ['course_id']] },
);

const teams = table(
  'teams',
  'weekly',
  'Teams (`teams_courseteam`, `SELECT *`); the file is named after the exporter task `teams` (docs/edx-formats.md §1.3, §4.7).',
  [
    id(),
    vc('team_id', 255),
    vc('name', 255),
    courseId(),
    vc('topic_id', 255),
    datetime('date_created'),
    vc('description', 300),
    vc('country', 2),
    vc('language', 16),
    vc('discussion_topic_id', 255),
    datetime('last_activity_at'),
    int('team_size'),
  ],
  { indexes: [['course_id'], ['team_id']] },
);

const teamsMembership = table(
  'teams_membership',
  'weekly',
  'Team membership (`teams_courseteammembership.*`; the guide calls the file `teams_courseteammembership`) (docs/edx-formats.md §4.7).',
  [id(), userId(), int('team_id', '→ teams.id (the integer row id, not `teams.team_id`).'), datetime('date_joined'), datetime('last_activity_at')],
  { indexes: [['user_id'], ['team_id']] },
);

const persistentCourseGrade = table(
  'grades_persistentcoursegrade',
  'weekly',
  'Course grades (since mid-2017). Exporter columns; no `id` and no `course_edited_timestamp` although the guide lists it (docs/edx-formats.md §4.7).',
  [
    courseId(),
    userId(),
    vc('grading_policy_hash', 255),
    dbl('percent_grade', '0.0–1.0.'),
    vc('letter_grade', 255, 'Empty when not passed.'),
    datetime('passed_timestamp', 'NULL when not passed.'),
    datetime('created'),
    datetime('modified'),
  ],
  { indexes: [['user_id'], ['course_id']] },
);

const persistentSubsectionGrade = table(
  'grades_persistentsubsectiongrade',
  'weekly',
  'Subsection grades (since mid-2017), ordered by user_id, first_attempted (docs/edx-formats.md §4.7).',
  [
    courseId(),
    userId(),
    vc('usage_key', 255, 'Subsection block usage id.'),
    dbl('earned_all'),
    dbl('possible_all'),
    dbl('earned_graded'),
    dbl('possible_graded'),
    datetime('first_attempted'),
    datetime('created'),
    datetime('modified'),
  ],
  { indexes: [['user_id'], ['course_id'], ['usage_key']] },
);

const creditEligibility = table(
  'credit_crediteligibility',
  'weekly',
  'Credit eligibility (since Jun 2017; usually empty). The guide sample header says `course_key`; the exporter aliases it to `course_id` (docs/edx-formats.md §4.7).',
  [id(), datetime('created'), datetime('modified'), vc('username', 255), datetime('deadline'), courseId()],
  { indexes: [['username'], ['course_id']], aliases: { course_key: 'course_id' } },
);

const cohortMembership = table(
  'course_groups_cohortmembership',
  'weekly',
  'Cohort membership (since Aug 2018) (docs/edx-formats.md §4.7).',
  [userId(), courseId(), vc('group_type', 20, 'Always `cohort`.'), vc('name', 255, 'Cohort name.')],
  { indexes: [['user_id'], ['course_id']] },
);

const verificationStatus = table(
  'verify_student_verificationstatus',
  'weekly',
  'In-course re-verification checkpoints (exported Aug 2015 – Apr 2018 only). The guide sample header wrongly says `checkpoint_name` (alias) (docs/edx-formats.md §4.7).',
  [datetime('timestamp'), vc('status', 32), courseId(), vc('checkpoint_location', 255), userId()],
  { indexes: [['user_id'], ['course_id']], aliases: { checkpoint_name: 'checkpoint_location' } },
);

const wikiArticle = table(
  'wiki_article',
  'weekly',
  'Wiki articles (`a.*`, selected through the wiki slug = course number, so other runs\' articles can appear) (docs/edx-formats.md §4.7).',
  [
    id(),
    int('current_revision_id', '→ wiki_articlerevision.id.'),
    datetime('created'),
    datetime('modified'),
    int('owner_id', '`auth_user.id`.'),
    int('group_id'),
    bool('group_read'),
    bool('group_write'),
    bool('other_read'),
    bool('other_write'),
  ],
  { indexes: [['id']] },
);

const wikiArticleRevision = table(
  'wiki_articlerevision',
  'weekly',
  'Wiki article revisions (`ar.*`) (docs/edx-formats.md §4.7).',
  [
    id(),
    int('revision_number'),
    longtext('user_message'),
    longtext('automatic_log'),
    vc('ip_address', 39, 'char(15) in the guide; 39 holds an IPv6 address should a newer wiki store one.'),
    userId(),
    datetime('modified'),
    datetime('created'),
    int('previous_revision_id'),
    bool('deleted'),
    bool('locked'),
    int('article_id', '→ wiki_article.id.'),
    longtext('content'),
    vc('title', 512),
  ],
  { indexes: [['article_id'], ['user_id']] },
);

// ---------------------------------------------------------------------------------------------
// Tables made from the other weekly members: forum dump, course structure, email opt-in.

const forumContents = table(
  'forum_contents',
  'weekly',
  'Discussion posts from the forum `.mongo` dump (comments-service `contents`, MongoDB extended JSON): one row per thread or comment, the whole document kept in `doc` (docs/edx-formats.md §4.11).',
  [
    vc('id', 64, '`_id` (`$oid`, 24 hex characters).'),
    vc('type', 32, '`_type`: `CommentThread` or `Comment`.'),
    courseId(),
    vc('author_id', 64, '`auth_user.id` as written (a string in the dump, §7.16).'),
    vc('author_username', 150),
    vc('thread_id', 64, 'Comments: `comment_thread_id`; threads: their own id.'),
    vc('parent_id', 64, 'Comments on a response: the response id; otherwise NULL.'),
    text('title', 'Threads only.'),
    longtext('body', 'Post text (learner content).'),
    vc('commentable_id', 255, 'Discussion topic id (threads).'),
    vc('thread_type', 32, '`discussion` or `question` (threads).'),
    datetime('created_at', '`$date` as epoch milliseconds or ISO string, normalised.'),
    datetime('updated_at'),
    bool('anonymous'),
    int('votes_up', '`votes.up_count`.'),
    int('votes_down', '`votes.down_count`.'),
    int('comment_count', 'Threads only.'),
    bool('endorsed', 'Comments only.'),
    longtext('doc', 'The whole document as relaxed extended JSON text.'),
  ],
  { indexes: [['course_id'], ['author_id'], ['thread_id']] },
);

const courseBlocks = table(
  'course_blocks',
  'weekly',
  'The course outline from the course structure JSON: one row per block, with its parent and depth from the course root (docs/edx-formats.md §4.10).',
  [
    vc('block_id', 255, 'Block usage id (`i4x://…` or `block-v1:…`).'),
    vc('category', 64, 'course, chapter, sequential, vertical, html, problem, video, discussion, …'),
    text('display_name'),
    vc('parent_id', 255, 'The block listing this one in `children`; NULL for the root.'),
    int('position', '0-based position among the parent\'s children.'),
    int('depth', '0 for the course, 1 for chapters, …'),
    bool('graded', '`metadata.graded`.'),
    vc('format', 255, 'Assignment type (`metadata.format`), e.g. `Homework`.'),
    datetime('start', '`metadata.start`.'),
    datetime('due', '`metadata.due`.'),
    bool('is_root', '1 for the one `category: "course"` block.'),
  ],
  { indexes: [['block_id'], ['parent_id']] },
);

const emailOptIn = table(
  'email_opt_in',
  'weekly',
  'Email opt-in preferences, one row per enrollment (CSV, CRLF, repeated header rows skipped). Its snapshot unit is the org: `course_key` holds the org (docs/edx-formats.md §3).',
  [
    userId('Added Jan 2017; absent from older files.'),
    vc('username', 150, 'Added Jan 2017.'),
    vc('email', 254, 'PII.'),
    vc('full_name', 255, 'PII.'),
    courseId(),
    bool('is_opted_in_for_email', '`True`/`False`; `True` when no preference was ever set.'),
    datetime('preference_set_datetime', 'tz-aware in the file (`+00:00`), stored as UTC; `2014-12-01 00:00:00` when never set.'),
  ],
  { indexes: [['user_id'], ['course_id']] },
);

// ---------------------------------------------------------------------------------------------
// ORA2 tables (docs/edx-formats.md §4.9): `SELECT *`, Django column names, each with an auto `id`.
// Student identity is the course-specific anonymous id (join student_anonymoususerid).

const anonId = (name: string): ColumnDef => vc(name, 40, 'Course-specific anonymous id (→ student_anonymoususerid.anonymous_user_id).');
const submissionUuid = (): ColumnDef => vc('submission_uuid', 128, '→ submissions_submission.uuid.');
const itemId = (): ColumnDef => vc('item_id', 255, 'ORA block usage id.');

const ORA = (name: string, doc: string, columns: ColumnDef[], indexes?: string[][]): TableDef =>
  table(name, 'ora', doc, columns, indexes ? { indexes } : {});

const ORA_DEFS: TableDef[] = [
  ORA('submissions_studentitem', 'A learner × ORA item pair.', [id(), anonId('student_id'), courseId(), itemId(), vc('item_type', 100, '`openassessment`.')], [['student_id'], ['item_id']]),
  ORA(
    'submissions_submission',
    'Learner submissions.',
    [
      id(),
      vc('uuid', 36),
      int('student_item_id', '→ submissions_studentitem.id.'),
      int('attempt_number'),
      datetime('submitted_at'),
      datetime('created_at'),
      longtext('raw_answer', 'JSON text, doubly encoded in the file (JSON escapes plus TSV escapes, §3).'),
      vc('status', 1, '`A` active, `D` deleted.'),
      int('team_submission_id', 'Newer platforms only.'),
    ],
    [['uuid'], ['student_item_id']],
  ),
  ORA('submissions_score', 'Scores of submissions.', [id(), int('student_item_id'), int('submission_id'), int('points_earned'), int('points_possible'), datetime('created_at'), bool('reset')], [['student_item_id']]),
  ORA('submissions_scoresummary', 'Highest and latest score per student item.', [id(), int('student_item_id'), int('highest_id'), int('latest_id')], [['student_item_id']]),
  ORA('assessment_rubric', 'Rubrics as they were when assessments were made.', [id(), vc('content_hash', 40), vc('structure_hash', 40)]),
  ORA('assessment_criterion', 'Rubric criteria.', [id(), int('rubric_id'), vc('name', 100), vc('label', 100), int('order_num'), longtext('prompt')], [['rubric_id']]),
  ORA('assessment_criterionoption', 'Options of rubric criteria.', [id(), int('criterion_id'), int('order_num'), int('points'), vc('name', 100), vc('label', 100), longtext('explanation')], [['criterion_id']]),
  ORA(
    'assessment_assessment',
    'Assessments (peer, self, staff, training).',
    [id(), submissionUuid(), int('rubric_id'), datetime('scored_at'), anonId('scorer_id'), vc('score_type', 2, '`PE` peer, `SE` self, `ST` staff, …'), longtext('feedback')],
    [['submission_uuid'], ['scorer_id']],
  ),
  ORA('assessment_assessmentpart', 'Per-criterion parts of an assessment.', [id(), int('assessment_id'), int('criterion_id'), int('option_id', 'NULL for feedback-only criteria.'), longtext('feedback')], [['assessment_id']]),
  ORA('assessment_assessmentfeedback', 'Learners\' feedback on the assessments they received.', [id(), submissionUuid(), longtext('feedback_text')], [['submission_uuid']]),
  ORA('assessment_assessmentfeedback_assessments', 'M2M: feedback ↔ assessments.', [id(), int('assessmentfeedback_id'), int('assessment_id')]),
  ORA('assessment_assessmentfeedback_options', 'M2M: feedback ↔ feedback options.', [id(), int('assessmentfeedback_id'), int('assessmentfeedbackoption_id')]),
  ORA('assessment_assessmentfeedbackoption', 'Feedback option texts.', [id(), vc('text', 255)]),
  ORA(
    'assessment_peerworkflow',
    'Peer-assessment workflow per submission.',
    [id(), anonId('student_id'), itemId(), courseId(), submissionUuid(), datetime('created_at'), datetime('completed_at'), datetime('grading_completed_at'), datetime('cancelled_at')],
    [['submission_uuid'], ['student_id']],
  ),
  ORA(
    'assessment_peerworkflowitem',
    'Peer-assessment work items. The exporter filters them by comparing unrelated id spaces, so this file is likely incomplete (§4.9).',
    [id(), int('scorer_id', '→ assessment_peerworkflow.id of the scorer.'), int('author_id', '→ assessment_peerworkflow.id of the author.'), submissionUuid(), datetime('started_at'), int('assessment_id'), bool('scored')],
    [['submission_uuid']],
  ),
  ORA('assessment_studenttrainingworkflow', 'Student-training workflow per submission.', [id(), submissionUuid(), anonId('student_id'), itemId(), courseId()], [['submission_uuid']]),
  ORA('assessment_studenttrainingworkflowitem', 'Student-training steps.', [id(), int('workflow_id'), int('order_num'), datetime('started_at'), datetime('completed_at'), int('training_example_id')], [['workflow_id']]),
  ORA('assessment_trainingexample', 'Training examples.', [id(), longtext('raw_answer', 'JSON text.'), int('rubric_id'), vc('content_hash', 40)]),
  ORA('assessment_trainingexample_options_selected', 'M2M: training example ↔ criterion options.', [id(), int('trainingexample_id'), int('criterionoption_id')]),
  ORA(
    'workflow_assessmentworkflow',
    'Overall ORA workflow per submission.',
    [id(), datetime('created'), datetime('modified'), vc('status', 100), datetime('status_changed'), vc('submission_uuid', 128), vc('uuid', 36), courseId(), itemId()],
    [['submission_uuid'], ['course_id']],
  ),
  ORA(
    'workflow_assessmentworkflowstep',
    'Steps of an ORA workflow.',
    [id(), int('workflow_id'), vc('name', 20, 'peer, self, training, staff.'), datetime('submitter_completed_at'), datetime('assessment_completed_at'), int('order_num'), bool('skipped')],
    [['workflow_id']],
  ),
];

// ---------------------------------------------------------------------------------------------
// Event tables (docs/edx-formats.md §5): keyed by a hash of the raw line, so re-loads add nothing.

const eventId = (): ColumnDef => vc('event_id', 64, 'sha256 hex of the raw line (§7.9: loads are idempotent).');
const eventTime = (): ColumnDef => datetime('time', 'Event `time` in UTC, microseconds kept (§5.2, §7.8).');
const eventCourse = (): ColumnDef => courseId('Course id by the §5.5 fallback chain, trimmed; NULL when none.');
const eventUser = (): ColumnDef => userId('`context.user_id` (enrollment and certificate events: `event.user_id` as fallback).');
const eventUsername = (): ColumnDef => vc('username', 150, 'Trimmed; NULL when blank (§7.7).');
const eventSource = (): ColumnDef => vc('event_source', 32, '`server`, `browser` or `mobile`.');
const designatedType = (doc: string): ColumnDef => vc('event_type', 255, doc);

function designated(name: string, doc: string, typeDoc: string, specific: ColumnDef[], indexes: string[][]): TableDef {
  return table(
    name,
    'events',
    doc,
    [eventId(), eventTime(), eventCourse(), eventUser(), eventUsername(), designatedType(typeDoc), ...specific, eventSource()],
    { primaryKey: ['event_id'], indexes: [['course_id', 'time'], ['user_id'], ...indexes] },
  );
}

const events = table(
  'events',
  'events',
  'Every tracking-log line, one row each: the fields reports filter on pulled out, and the raw line kept verbatim (docs/edx-formats.md §5). The raw line is not duplicated into more columns, so loading stays fast; the `events_detail` view reads the rest from it.',
  [
    eventId(),
    eventTime(),
    text('event_type', 'As written: for implicit server events the request path, which can be long and hold unicode (§7.6).'),
    text('name', '`name` (server and mobile events since May 2014); supersedes event_type when present.'),
    text('canonical_type', '`name ?? event_type` (§7.5).'),
    eventSource(),
    eventUsername(),
    eventUser(),
    eventCourse(),
    vc('org_id', 255, '`context.org_id`.'),
    vc('host', 255),
    vc('session', 255, '32-char hex for browser and enrollment events; NULL otherwise.'),
    longtext('raw', 'The line exactly as in the file: every other field (`event`, `context`, `agent`, `page`, `ip`) is read from it, e.g. through the `events_detail` view.'),
    vc('file_key', 1024, 'Ledger key of the daily file the line came from.'),
    int('line', '1-based line number in that file.'),
  ],
  // One secondary index only: this is the largest table and every index on it slows loading by a
  // third or more (random inserts; measured). Per-learner queries use the designated tables,
  // which index user_id.
  { primaryKey: ['event_id'], indexes: [['course_id', 'time']] },
);

const videoEvents = designated(
  'video_events',
  'Video player interactions: legacy names and `edx.video.*` (docs/edx-formats.md §5.4 Video).',
  'Legacy name (`play_video`, `seek_video`, …); mobile `edx.video.*` names are mapped to it; names with no legacy form (`edx.video.closed_captions.shown`, `edx.video.bumper.*`) as given.',
  [
    vc('video_id', 255, '`event.id`: block id or the escaped `i4x-…` id.'),
    vc('code', 255, 'YouTube id, `html5` or `mobile`.'),
    dbl('current_position', 'Playhead position in seconds (`currentTime`/`current_time`). Not named current_time: unquoted, CURRENT_TIME is the SQL clock function.'),
    dbl('old_time', 'Seek: position before.'),
    dbl('new_time', 'Seek: position after.'),
    vc('seek_type', 64, 'Seek: `event.type` (e.g. `onSlideSeek`, `onSkipSeek`).'),
    dbl('old_speed', 'speed_change_video.'),
    dbl('new_speed', 'speed_change_video.'),
  ],
  [['video_id']],
);

const problemEvents = designated(
  'problem_events',
  'Problem interactions. One Check click yields a browser and a server `problem_check`: both are stored, count attempts from `event_source = \'server\'` only (docs/edx-formats.md §5.4, §7.9).',
  '`problem_check` (and its pre-Oct 2013 name `save_problem_check`), `problem_check_fail`, `problem_graded`, `problem_rescore`, `showanswer` (`show_answer` in old logs), `edx.grades.problem.submitted`.',
  [
    vc('problem_id', 255, 'Problem block usage id; NULL for browser events that do not name it.'),
    int('attempts', 'Server `problem_check` only.'),
    dbl('grade', '`grade`; `weighted_earned` for edx.grades.problem.submitted.'),
    dbl('max_grade', '`max_grade`; `weighted_possible` for edx.grades.problem.submitted.'),
    vc('success', 32, '`correct`/`incorrect`.'),
    longtext('answers', 'JSON text: the answers object (server) or the URL-encoded form string (browser).'),
  ],
  [['problem_id']],
);

const navigationEvents = designated(
  'navigation_events',
  'Course navigation: sequence tabs and `edx.ui.lms.*` outline/link events (docs/edx-formats.md §5.4 Navigation).',
  '`seq_goto`, `seq_next`, `seq_prev` (also when edX sent `edx.ui.lms.sequence.*` as `name`), other `edx.ui.lms.*` names as given.',
  [
    vc('sequence_id', 255, 'Sequence block id (`event.id`).'),
    int('old_tab', '`event.old` (or `current_tab`).'),
    int('new_tab', '`event.new`.'),
    int('target_tab', '`event.target_tab` (since May 2016).'),
    text('current_url', '`edx.ui.lms.outline.selected`, `edx.ui.lms.link_clicked`.'),
    text('target_url', '`edx.ui.lms.outline.selected`, `edx.ui.lms.link_clicked`.'),
  ],
  [['sequence_id']],
);

const enrollmentEvents = designated(
  'enrollment_events',
  'Enrollment changes `edx.course.enrollment.*`; user and course from the event when the context lacks them (docs/edx-formats.md §5.4, §5.5).',
  '`edx.course.enrollment.activated|deactivated|mode_changed|upgrade.clicked|upgrade.succeeded`.',
  [vc('mode', 100, 'Enrollment mode.')],
  [],
);

const forumEvents = designated(
  'forum_events',
  'Discussion actions `edx.forum.*`. Post bodies are not copied (learner content; they are in the raw line) (docs/edx-formats.md §5.4 Forum).',
  '`edx.forum.thread.created|viewed|voted`, `edx.forum.response.created|voted`, `edx.forum.comment.created`, `edx.forum.searched`, …',
  [
    vc('post_id', 255, '`event.id`: the thread, response or comment acted on.'),
    vc('thread_id', 255, 'The thread: `event.id` for thread events, `event.discussion.id` otherwise.'),
    vc('commentable_id', 255, 'Discussion topic id.'),
    text('title', 'Thread title, when given.'),
    vc('category_id', 255),
    text('category_name'),
    vc('target_username', 150, 'Votes: the author voted on.'),
  ],
  [['thread_id']],
);

const certificateEvents = designated(
  'certificate_events',
  'Certificate events `edx.certificate.*` (docs/edx-formats.md §5.4 Certificates).',
  '`edx.certificate.created|shared|evidence_visited|revoked`, …',
  [
    vc('certificate_id', 255, '`certificate_id` = certificates_generatedcertificate.verify_uuid.'),
    vc('enrollment_mode', 100),
    vc('generation_mode', 64),
  ],
  [['certificate_id']],
);

// ---------------------------------------------------------------------------------------------
// Summary views: every relational store creates these over the tables above.

/** Modes counted in their own column of `course_enrollment_summary` (every store's view uses these). */
export const ENROLLMENT_MODE_COLUMNS: readonly (readonly [column: string, modes: readonly string[]])[] = [
  ['audit', ['audit']],
  ['honor', ['honor']],
  ['verified', ['verified']],
  ['professional', ['professional', 'no-id-professional']],
  ['credit', ['credit']],
  ['masters', ['masters']],
];

const courseEnrollmentSummary = table(
  'course_enrollment_summary',
  'summary',
  'View: per course, enrollments from student_courseenrollment, with active enrollments by mode.',
  [
    courseId(),
    int('enrolled', 'All enrollment rows, including unenrolled learners.'),
    int('active', 'Enrollments with is_active = 1.'),
    int('audit', 'Active, mode audit.'),
    int('honor', 'Active, mode honor.'),
    int('verified', 'Active, mode verified.'),
    int('professional', 'Active, mode professional or no-id-professional.'),
    int('credit', 'Active, mode credit.'),
    int('masters', 'Active, mode masters.'),
    int('other_modes', 'Active, any other mode.'),
  ],
);

/** The counts of course_daily_activity, summed per day by the daily_course_activity view. */
export const DAILY_ACTIVITY_COUNTS = ['events', 'active_users', 'video_events', 'problem_checks', 'forum_events', 'enrollment_events'] as const;

/** Activity counts kept per course, UTC day and daily file (summed by `daily_course_activity`). */
const courseDailyActivity = table(
  'course_daily_activity',
  'derived',
  'Per course, UTC day and daily log file: activity counts, written with the file\'s events in the same unit of work, so the summary is up to date as days load and re-loading a file changes nothing. Kept in the relational store whatever the events target is.',
  [
    vc('course_id', 255, 'Course id by the §5.5 fallback chain; events without one are not counted.'),
    date('date', 'UTC day of the event `time`.'),
    vc('file_key', 255, 'The daily log the counts come from (mobile events can arrive in the next day\'s file, §1.1).'),
    int('events', 'Events.'),
    int('active_users', 'Distinct user ids among them.'),
    int('video_events', 'Rows added to video_events.'),
    int('problem_checks', 'Server `problem_check` events (one per submission, §7.9).'),
    int('forum_events', 'Rows added to forum_events.'),
    int('enrollment_events', 'Rows added to enrollment_events.'),
  ],
  { primaryKey: ['course_id', 'date', 'file_key'], indexes: [['date']] },
);

const dailyCourseActivity = table(
  'daily_course_activity',
  'summary',
  'View: per course and UTC day, activity summed over the daily files (course_daily_activity). `active_users` is exact when a day\'s events come from one file, and may count a learner twice when late mobile events of that day arrived in the next file.',
  [
    courseId(),
    date('date', 'UTC day.'),
    int('events', 'Events that day.'),
    int('active_users', 'Distinct user ids that day.'),
    int('video_events', 'Video events.'),
    int('problem_checks', 'Server problem checks.'),
    int('forum_events', 'Forum events.'),
    int('enrollment_events', 'Enrollment events.'),
  ],
);

const eventsDetail = table(
  'events_detail',
  'summary',
  'View: the events table with the envelope fields that are kept only in the raw line read out of it (NULL for the few lines that needed a repair to parse, §7.2–7.3).',
  [
    eventId(),
    eventTime(),
    text('canonical_type', '`name ?? event_type`.'),
    eventUser(),
    eventCourse(),
    vc('ip', 255),
    text('page', 'Browser: the page URL.'),
    text('agent', 'User agent.'),
    text('referer', 'Since Feb 2015.'),
    longtext('event', 'The `event` field as written: an object, or a JSON-encoded string (browser, mobile, §5.3).'),
    longtext('context', 'The `context` object as JSON text.'),
  ],
);

const courseKeyCol = (): ColumnDef => vc('course_key', 255, 'Course key of the weekly file names, `{org}-{course}-{run}` (docs/edx-formats.md §1.2).');

const enrollmentsByMode = table(
  'course_enrollments_by_mode',
  'summary',
  'View: per course and enrollment mode, the learners enrolled (student_courseenrollment, newest snapshot of each course).',
  [
    courseKeyCol(),
    courseId(),
    vc('mode', 100, 'Enrollment mode as the platform writes it (`audit`, `verified`, …); NULL when the row has none.'),
    int('enrolled', 'Enrollment rows, including unenrolled learners.'),
    int('active', 'Enrollments with is_active = 1.'),
    int('inactive', 'Enrollments with is_active = 0 (unenrolled).'),
  ],
);

const certificatesByStatus = table(
  'course_certificates_by_status',
  'summary',
  'View: per course, certificate status and mode, the certificates (certificates_generatedcertificate, newest snapshot of each course). `downloadable` is a certificate the learner earned.',
  [
    courseKeyCol(),
    courseId(),
    vc('status', 32, '`downloadable`, `notpassing`, `audit_passing`, `unverified`, …'),
    vc('mode', 32, 'Certificate mode (`verified`, `honor`, …).'),
    int('certificates', 'Certificates with this status and mode.'),
  ],
);

const weeklyCourseActivity = table(
  'weekly_course_activity',
  'summary',
  'View: per course and week (weeks start on Monday, UTC), activity summed from course_daily_activity. Distinct learners cannot be summed over days: `active_user_days` adds each day\'s active learners (a learner active on three days counts three).',
  [
    courseId(),
    date('week', 'The Monday the week starts on.'),
    int('days_with_events', 'Days of the week with at least one event.'),
    int('events', 'Events that week.'),
    int('active_user_days', 'Sum over the days of the distinct learners active each day.'),
    int('video_events', 'Video events.'),
    int('problem_checks', 'Server problem checks (one per submission).'),
    int('forum_events', 'Forum events.'),
    int('enrollment_events', 'Enrollment events.'),
  ],
);

// ---------------------------------------------------------------------------------------------
// Exports.

/**
 * Every table loaded as a per-course weekly snapshot: §4 tables, the forum, course blocks, email
 * opt-in (group `weekly`) and the 21 ORA tables (group `ora`).
 */
export const WEEKLY_TABLES: readonly TableDef[] = [
  authUser,
  authUserProfile,
  studentCourseEnrollment,
  generatedCertificate,
  studentModule,
  userIdMap,
  anonymousUserId,
  languageProficiency,
  courseAccessRole,
  commentRoleUsers,
  userCourseTag,
  teams,
  teamsMembership,
  persistentCourseGrade,
  persistentSubsectionGrade,
  creditEligibility,
  cohortMembership,
  verificationStatus,
  wikiArticle,
  wikiArticleRevision,
  forumContents,
  courseBlocks,
  emailOptIn,
  ...ORA_DEFS,
];

/** The raw `events` table and the designated event tables, keyed by `event_id`. */
export const EVENT_TABLES: readonly TableDef[] = [events, videoEvents, problemEvents, navigationEvents, enrollmentEvents, forumEvents, certificateEvents];

/** Tables the loaders derive and keep up to date (group `derived`). */
export const DERIVED_TABLES: readonly TableDef[] = [courseDailyActivity];

/** Names of the designated event tables `designate()` writes. */
export const DESIGNATED_TABLES = ['video_events', 'problem_events', 'navigation_events', 'enrollment_events', 'forum_events', 'certificate_events'] as const;
export type DesignatedTable = (typeof DESIGNATED_TABLES)[number];

/** Summary views (group `summary`); each store defines their SQL over the tables above. */
export const SUMMARY_VIEWS: readonly TableDef[] = [courseEnrollmentSummary, dailyCourseActivity, eventsDetail, enrollmentsByMode, certificatesByStatus, weeklyCourseActivity];

/** Every loadable table (snapshot and event tables; not the views), by name. */
export const TABLES_BY_NAME: ReadonlyMap<string, TableDef> = new Map([...WEEKLY_TABLES, ...EVENT_TABLES, ...DERIVED_TABLES].map((t) => [t.name, t]));

/** The definition of a documented table, or undefined for a table edX added since. */
export function getTableDef(name: string): TableDef | undefined {
  return TABLES_BY_NAME.get(name);
}

/** True for tables whose rows form per-course weekly snapshots (groups `weekly`, `ora`). */
export function isSnapshotTable(def: TableDef): boolean {
  return def.group === 'weekly' || def.group === 'ora';
}

/**
 * A definition for a table edX added that this version does not document: every column
 * `longtext`, so any value loads; nothing is indexed. The columns are the file's header names.
 */
export function textTableDef(name: string, columns: string[]): TableDef {
  return {
    name,
    group: 'weekly',
    doc: `Not a documented edX table: loaded with every column as text.`,
    columns: columns.map(textColumn),
  };
}

/**
 * Which file of the delivery a table comes from, for documentation (docs/edx-formats.md §1.3, §5).
 * `{c}` is the course part `{org}-{course}-{run}`, `{env}` the exporter environment.
 */
export function tableSource(def: TableDef): string {
  switch (def.name) {
    case 'forum_contents':
      return '`{c}-{prod|edge}.mongo` in the weekly package';
    case 'course_blocks':
      return '`{c}-course_structure-{env}.json` in the weekly package';
    case 'email_opt_in':
      return '`{org}-email_opt_in-{env}.csv` in `email-opt-in/{org}-{date}.zip`';
    case 'events':
      return 'daily `{org}-{site}-events-{date}.log.gz`: every line';
    default:
      break;
  }
  switch (def.group) {
    case 'weekly':
      return `\`{c}-${def.name}-{env}.sql\` in the weekly package`;
    case 'ora':
      return `\`ora/{c}-${def.name}-{env}.sql\` in the weekly package`;
    case 'events':
      return 'daily `{org}-{site}-events-{date}.log.gz`: designated from the events';
    default:
      return 'derived in the store';
  }
}
