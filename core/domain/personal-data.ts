/**
 * The personal-data inventory: how every column of every table and view (`tables.ts`), every
 * field of a tracking-log line and every field of a MongoDB event document is classified under
 * the GDPR. `tables.ts` attaches the class to each column (`ColumnDef.personal`); `pds docs
 * privacy` renders the inventory into docs/data-protection.md; the erasure, the pseudonymised
 * views and the exports take the columns to erase, replace or drop from here. A column without
 * a class fails `test/unit/personal-data.test.ts`. Pure: no Node API.
 *
 * A class describes the value on its own. Every row that carries a learner's id is personal data
 * as a whole (a grade, a click), whatever its other columns' classes are.
 */

/** The classes, from the most to the least identifying. */
export const PERSONAL_CLASSES = ['direct-identifier', 'pseudonymous-id', 'quasi-identifier', 'free-text', 'not-personal'] as const;
export type PersonalClass = (typeof PERSONAL_CLASSES)[number];

/** What each class means, for the inventory document. */
export const PERSONAL_CLASS_DOC: Readonly<Record<PersonalClass, string>> = {
  'direct-identifier': 'Names a person on its own: e-mail, full name, username, IP address (and values that embed them, such as the raw tracking-log line).',
  'pseudonymous-id': 'Singles out one learner without naming them: user id, anonymous id, hashed id, session, certificate id. Personal data: it is linked to the person through the platform\'s tables.',
  'quasi-identifier': 'Narrows down who a person is when combined: country, city, year of birth, gender, education, language, browser (user agent), sign-up time.',
  'free-text': 'Text a learner or a system wrote that may hold anything, including names and contact details: forum posts, problem answers, module state, feedback, URLs.',
  'not-personal': 'Describes a course, a block, a count, a time or a status; personal only through a learner id in the same row.',
};

/** Classes per table: each listed column name gets the class of its group. */
type TableClasses = Partial<Record<PersonalClass, readonly string[]>>;

const NP = 'not-personal';

/** Every column of every table and view of `tables.ts`, by table. */
const TABLE_CLASSES: Readonly<Record<string, TableClasses>> = {
  auth_user: {
    'direct-identifier': ['username', 'first_name', 'last_name', 'email'],
    'pseudonymous-id': ['id'],
    'quasi-identifier': ['last_login', 'date_joined', 'country', 'date_of_birth'],
    'free-text': ['interesting_tags', 'ignored_tags'],
    [NP]: ['password', 'is_staff', 'is_active', 'is_superuser', 'status', 'email_key', 'avatar_type', 'show_country', 'email_tag_filter_strategy', 'display_tag_filter_strategy', 'consecutive_days_visit_count'],
  },
  auth_userprofile: {
    'direct-identifier': ['name', 'meta', 'mailing_address'],
    'pseudonymous-id': ['id', 'user_id'],
    'quasi-identifier': ['language', 'location', 'gender', 'year_of_birth', 'level_of_education', 'country', 'city', 'state', 'profile_image_uploaded_at'],
    'free-text': ['goals', 'bio'],
    [NP]: ['courseware', 'allow_certificate'],
  },
  student_courseenrollment: { 'pseudonymous-id': ['user_id'], 'quasi-identifier': ['created'], [NP]: ['id', 'course_id', 'is_active', 'mode'] },
  certificates_generatedcertificate: {
    'direct-identifier': ['name'],
    'pseudonymous-id': ['user_id', 'download_url', 'key', 'verify_uuid', 'download_uuid'],
    [NP]: ['id', 'grade', 'course_id', 'distinction', 'status', 'created_date', 'modified_date', 'error_reason', 'mode'],
  },
  courseware_studentmodule: { 'pseudonymous-id': ['student_id'], 'free-text': ['state'], [NP]: ['id', 'module_type', 'module_id', 'grade', 'created', 'modified', 'max_grade', 'done', 'course_id'] },
  user_id_map: { 'direct-identifier': ['username'], 'pseudonymous-id': ['hash_id', 'user_id'] },
  student_anonymoususerid: { 'pseudonymous-id': ['user_id', 'anonymous_user_id'], [NP]: ['id', 'course_id'] },
  student_languageproficiency: { 'pseudonymous-id': ['user_profile_id'], 'quasi-identifier': ['code'], [NP]: ['id'] },
  student_courseaccessrole: { 'pseudonymous-id': ['user_id'], [NP]: ['org', 'course_id', 'role'] },
  django_comment_client_role_users: { 'pseudonymous-id': ['user_id'], [NP]: ['course_id', 'name'] },
  user_api_usercoursetag: { 'pseudonymous-id': ['user_id'], [NP]: ['id', 'course_id', 'key', 'value'] },
  teams: { 'free-text': ['name', 'description'], 'quasi-identifier': ['country', 'language'], [NP]: ['id', 'team_id', 'course_id', 'topic_id', 'date_created', 'discussion_topic_id', 'last_activity_at', 'team_size'] },
  teams_membership: { 'pseudonymous-id': ['user_id'], [NP]: ['id', 'team_id', 'date_joined', 'last_activity_at'] },
  grades_persistentcoursegrade: { 'pseudonymous-id': ['user_id'], [NP]: ['course_id', 'grading_policy_hash', 'percent_grade', 'letter_grade', 'passed_timestamp', 'created', 'modified'] },
  grades_persistentsubsectiongrade: {
    'pseudonymous-id': ['user_id'],
    [NP]: ['course_id', 'usage_key', 'earned_all', 'possible_all', 'earned_graded', 'possible_graded', 'first_attempted', 'created', 'modified'],
  },
  credit_crediteligibility: { 'direct-identifier': ['username'], [NP]: ['id', 'created', 'modified', 'deadline', 'course_id'] },
  course_groups_cohortmembership: { 'pseudonymous-id': ['user_id'], [NP]: ['course_id', 'group_type', 'name'] },
  verify_student_verificationstatus: { 'pseudonymous-id': ['user_id'], [NP]: ['timestamp', 'status', 'course_id', 'checkpoint_location'] },
  wiki_article: { 'pseudonymous-id': ['owner_id'], [NP]: ['id', 'current_revision_id', 'created', 'modified', 'group_id', 'group_read', 'group_write', 'other_read', 'other_write'] },
  wiki_articlerevision: {
    'direct-identifier': ['ip_address'],
    'pseudonymous-id': ['user_id'],
    'free-text': ['user_message', 'automatic_log', 'content', 'title'],
    [NP]: ['id', 'revision_number', 'modified', 'created', 'previous_revision_id', 'deleted', 'locked', 'article_id'],
  },
  forum_contents: {
    'direct-identifier': ['author_username', 'doc'],
    'pseudonymous-id': ['author_id'],
    'free-text': ['title', 'body'],
    [NP]: ['id', 'type', 'course_id', 'thread_id', 'parent_id', 'commentable_id', 'thread_type', 'created_at', 'updated_at', 'anonymous', 'votes_up', 'votes_down', 'comment_count', 'endorsed'],
  },
  course_blocks: { [NP]: ['block_id', 'category', 'display_name', 'parent_id', 'position', 'depth', 'graded', 'format', 'start', 'due', 'is_root'] },
  email_opt_in: { 'direct-identifier': ['username', 'email', 'full_name'], 'pseudonymous-id': ['user_id'], [NP]: ['course_id', 'is_opted_in_for_email', 'preference_set_datetime'] },
  // ORA (docs/edx-formats.md §4.9): learners appear only by their course-specific anonymous id.
  submissions_studentitem: { 'pseudonymous-id': ['student_id'], [NP]: ['id', 'course_id', 'item_id', 'item_type'] },
  submissions_submission: { 'free-text': ['raw_answer'], [NP]: ['id', 'uuid', 'student_item_id', 'attempt_number', 'submitted_at', 'created_at', 'status', 'team_submission_id'] },
  submissions_score: { [NP]: ['id', 'student_item_id', 'submission_id', 'points_earned', 'points_possible', 'created_at', 'reset'] },
  submissions_scoresummary: { [NP]: ['id', 'student_item_id', 'highest_id', 'latest_id'] },
  assessment_rubric: { [NP]: ['id', 'content_hash', 'structure_hash'] },
  assessment_criterion: { [NP]: ['id', 'rubric_id', 'name', 'label', 'order_num', 'prompt'] },
  assessment_criterionoption: { [NP]: ['id', 'criterion_id', 'order_num', 'points', 'name', 'label', 'explanation'] },
  assessment_assessment: { 'pseudonymous-id': ['scorer_id'], 'free-text': ['feedback'], [NP]: ['id', 'submission_uuid', 'rubric_id', 'scored_at', 'score_type'] },
  assessment_assessmentpart: { 'free-text': ['feedback'], [NP]: ['id', 'assessment_id', 'criterion_id', 'option_id'] },
  assessment_assessmentfeedback: { 'free-text': ['feedback_text'], [NP]: ['id', 'submission_uuid'] },
  assessment_assessmentfeedback_assessments: { [NP]: ['id', 'assessmentfeedback_id', 'assessment_id'] },
  assessment_assessmentfeedback_options: { [NP]: ['id', 'assessmentfeedback_id', 'assessmentfeedbackoption_id'] },
  assessment_assessmentfeedbackoption: { [NP]: ['id', 'text'] },
  assessment_peerworkflow: { 'pseudonymous-id': ['student_id'], [NP]: ['id', 'item_id', 'course_id', 'submission_uuid', 'created_at', 'completed_at', 'grading_completed_at', 'cancelled_at'] },
  assessment_peerworkflowitem: { [NP]: ['id', 'scorer_id', 'author_id', 'submission_uuid', 'started_at', 'assessment_id', 'scored'] },
  assessment_studenttrainingworkflow: { 'pseudonymous-id': ['student_id'], [NP]: ['id', 'submission_uuid', 'item_id', 'course_id'] },
  assessment_studenttrainingworkflowitem: { [NP]: ['id', 'workflow_id', 'order_num', 'started_at', 'completed_at', 'training_example_id'] },
  assessment_trainingexample: { 'free-text': ['raw_answer'], [NP]: ['id', 'rubric_id', 'content_hash'] },
  assessment_trainingexample_options_selected: { [NP]: ['id', 'trainingexample_id', 'criterionoption_id'] },
  workflow_assessmentworkflow: { [NP]: ['id', 'created', 'modified', 'status', 'status_changed', 'submission_uuid', 'uuid', 'course_id', 'item_id'] },
  workflow_assessmentworkflowstep: { [NP]: ['id', 'workflow_id', 'name', 'submitter_completed_at', 'assessment_completed_at', 'order_num', 'skipped'] },
  // Events (docs/edx-formats.md §5).
  events: {
    'direct-identifier': ['username', 'raw'],
    'pseudonymous-id': ['user_id', 'session'],
    'free-text': ['event_type'],
    [NP]: ['event_id', 'time', 'name', 'canonical_type', 'event_source', 'course_id', 'org_id', 'host', 'file_key', 'line'],
  },
  video_events: designatedClasses(['video_id', 'code', 'current_position', 'old_time', 'new_time', 'seek_type', 'old_speed', 'new_speed']),
  problem_events: { ...designatedClasses(['problem_id', 'attempts', 'grade', 'max_grade', 'success']), 'free-text': ['answers'] },
  navigation_events: { ...designatedClasses(['sequence_id', 'old_tab', 'new_tab', 'target_tab']), 'free-text': ['current_url', 'target_url'] },
  enrollment_events: designatedClasses(['mode']),
  forum_events: {
    ...designatedClasses(['post_id', 'thread_id', 'commentable_id', 'category_id', 'category_name']),
    'direct-identifier': ['username', 'target_username'],
    'free-text': ['title'],
  },
  certificate_events: { ...designatedClasses(['enrollment_mode', 'generation_mode']), 'pseudonymous-id': ['user_id', 'certificate_id'] },
  // Derived tables and views: counts per course and day only.
  course_daily_activity: { [NP]: ['course_id', 'date', 'file_key', 'events', 'active_users', 'video_events', 'problem_checks', 'forum_events', 'enrollment_events'] },
  course_enrollment_summary: { [NP]: ['course_id', 'enrolled', 'active', 'audit', 'honor', 'verified', 'professional', 'credit', 'masters', 'other_modes'] },
  daily_course_activity: { [NP]: ['course_id', 'date', 'events', 'active_users', 'video_events', 'problem_checks', 'forum_events', 'enrollment_events'] },
  events_detail: {
    'direct-identifier': ['ip'],
    'pseudonymous-id': ['user_id'],
    'quasi-identifier': ['agent'],
    'free-text': ['page', 'referer', 'event', 'context'],
    [NP]: ['event_id', 'time', 'canonical_type', 'course_id'],
  },
  course_enrollments_by_mode: { [NP]: ['course_key', 'course_id', 'mode', 'enrolled', 'active', 'inactive'] },
  course_certificates_by_status: { [NP]: ['course_key', 'course_id', 'status', 'mode', 'certificates'] },
  weekly_course_activity: { [NP]: ['course_id', 'week', 'days_with_events', 'events', 'active_user_days', 'video_events', 'problem_checks', 'forum_events', 'enrollment_events'] },
};

/** The columns every designated event table shares (`tables.ts` `designated()`), plus its own non-personal ones. */
function designatedClasses(own: readonly string[]): TableClasses {
  return {
    'direct-identifier': ['username'],
    'pseudonymous-id': ['user_id'],
    [NP]: ['event_id', 'time', 'course_id', 'event_type', 'event_source', ...own],
  };
}

/** Bookkeeping columns the stores add to tables (`SNAPSHOT_COLUMNS`, `load_id`): not personal. */
export const BOOKKEEPING_COLUMNS: readonly string[] = ['course_key', 'snapshot_date', 'load_id'];

const BY_COLUMN: ReadonlyMap<string, PersonalClass> = new Map(
  Object.entries(TABLE_CLASSES).flatMap(([table, classes]) =>
    (Object.entries(classes) as [PersonalClass, readonly string[]][]).flatMap(([cls, columns]) => columns.map((c) => [`${table}.${c}`, cls] as const)),
  ),
);

/**
 * The class of a column, or undefined when the inventory does not list it (a column edX added
 * since: loaded as drift; the inventory document says how those are treated).
 */
export function personalClassOf(table: string, column: string): PersonalClass | undefined {
  return BY_COLUMN.get(`${table}.${column}`) ?? (BOOKKEEPING_COLUMNS.includes(column) ? 'not-personal' : undefined);
}

/** Tables the inventory classifies (to find tables without an entry). */
export function classifiedTables(): string[] {
  return Object.keys(TABLE_CLASSES);
}

/** The columns a table lists twice or under two classes (a mistake in the map above). */
export function duplicateClassifications(): string[] {
  const seen = new Set<string>();
  const dup: string[] = [];
  for (const [table, classes] of Object.entries(TABLE_CLASSES)) {
    for (const columns of Object.values(classes)) {
      for (const c of columns ?? []) {
        const k = `${table}.${c}`;
        if (seen.has(k)) dup.push(k);
        seen.add(k);
      }
    }
  }
  return dup;
}

/** A field of a stored tracking-log line (the raw line, or a MongoDB event document). */
export interface FieldClass {
  field: string;
  personal: PersonalClass;
  doc: string;
}

/** The envelope fields of a tracking-log line (docs/edx-formats.md §5.2) and what they hold. */
export const EVENT_FIELDS: readonly FieldClass[] = [
  { field: 'username', personal: 'direct-identifier', doc: 'The learner\'s username (empty for anonymous requests).' },
  { field: 'ip', personal: 'direct-identifier', doc: 'The client IP address.' },
  { field: 'context.user_id', personal: 'pseudonymous-id', doc: 'The learner\'s `auth_user.id`.' },
  { field: 'event.user_id', personal: 'pseudonymous-id', doc: 'Enrollment and certificate events: the learner concerned.' },
  { field: 'session', personal: 'pseudonymous-id', doc: 'Browser session id (hex).' },
  { field: 'agent', personal: 'quasi-identifier', doc: 'Browser user agent.' },
  { field: 'accept_language', personal: 'quasi-identifier', doc: 'Browser languages.' },
  { field: 'event', personal: 'free-text', doc: 'Event payload: answers, forum bodies, search terms, usernames of others (votes).' },
  { field: 'page', personal: 'free-text', doc: 'Page URL (can carry a username in profile URLs).' },
  { field: 'referer', personal: 'free-text', doc: 'Referring URL.' },
  { field: 'context.path', personal: 'free-text', doc: 'Request path (server events).' },
  { field: 'event_type', personal: 'free-text', doc: 'Implicit server events: the request path.' },
  { field: 'time', personal: 'not-personal', doc: 'Event time.' },
  { field: 'name', personal: 'not-personal', doc: 'Event name.' },
  { field: 'event_source', personal: 'not-personal', doc: '`server`, `browser` or `mobile`.' },
  { field: 'host', personal: 'not-personal', doc: 'The platform host name.' },
  { field: 'context.course_id, context.org_id', personal: 'not-personal', doc: 'Course and org.' },
];

/** Fields `core/stores/mongodb/event-document.ts` adds to the envelope in a MongoDB event document. */
export const EVENT_DOCUMENT_FIELDS: readonly FieldClass[] = [
  { field: '_user', personal: 'pseudonymous-id', doc: '`context.user_id` as a number.' },
  { field: '_raw', personal: 'direct-identifier', doc: 'The raw line (repaired lines, or every line with `keepRawLines`).' },
  { field: 'event_parsed', personal: 'free-text', doc: '`event` parsed when it was a JSON string.' },
  { field: '_id, _type, _course, _time, _file, _load, _line, _repairs', personal: 'not-personal', doc: 'Event id (hash of the line), canonical type, course, time, bookkeeping.' },
];

/** The raw-line fields erasure looks a learner up by, in every event store. */
export const EVENT_LEARNER_FIELDS = ['username', 'context.user_id', 'event.user_id'] as const;

/** The kinds of key erasure finds a learner's rows by. */
export type LearnerKey = 'id' | 'username' | 'email' | 'anonymous_id' | 'profile_id' | 'student_item_id';

/** Column names that hold a learner key in any table (drifted and new tables included). */
export const LEARNER_KEY_COLUMN_NAMES: Readonly<Record<string, LearnerKey>> = { user_id: 'id', username: 'username', email: 'email' };

/**
 * Learner keys under other column names, by table: the rows erasure removes with the learner
 * (ORA rows through the course-specific anonymous id and the student item; language proficiency
 * through the profile id). `test/unit/personal-data.test.ts` checks that every direct identifier
 * and learner id column is covered by this map or by `LEARNER_KEY_COLUMN_NAMES`.
 */
export const LEARNER_KEY_COLUMNS: Readonly<Record<string, readonly (readonly [column: string, key: LearnerKey])[]>> = {
  auth_user: [['id', 'id']],
  courseware_studentmodule: [['student_id', 'id']],
  wiki_article: [['owner_id', 'id']],
  forum_contents: [['author_id', 'id'], ['author_username', 'username']],
  student_languageproficiency: [['user_profile_id', 'profile_id']],
  submissions_studentitem: [['student_id', 'anonymous_id']],
  assessment_peerworkflow: [['student_id', 'anonymous_id']],
  assessment_studenttrainingworkflow: [['student_id', 'anonymous_id']],
  assessment_assessment: [['scorer_id', 'anonymous_id']],
  submissions_submission: [['student_item_id', 'student_item_id']],
  submissions_score: [['student_item_id', 'student_item_id']],
  submissions_scoresummary: [['student_item_id', 'student_item_id']],
};

/**
 * Columns holding personal data that erasure leaves in place, and why (they do not belong to the
 * erased learner's rows, or name no learner): checked by the test above.
 */
export const NOT_LEARNER_KEYS: readonly string[] = [
  'auth_user.first_name', 'auth_user.last_name', // removed with the learner's auth_user row
  'auth_userprofile.name', 'auth_userprofile.meta', 'auth_userprofile.mailing_address', 'auth_userprofile.id',
  'certificates_generatedcertificate.name', 'certificates_generatedcertificate.download_url', 'certificates_generatedcertificate.key',
  'certificates_generatedcertificate.verify_uuid', 'certificates_generatedcertificate.download_uuid',
  'user_id_map.hash_id', 'student_anonymoususerid.anonymous_user_id',
  'wiki_articlerevision.ip_address', 'forum_contents.doc', 'email_opt_in.full_name',
  'events.raw', 'events.session', 'events_detail.ip', 'certificate_events.certificate_id',
  'forum_events.target_username', // the voter's row: removed with the event that names the learner
];
