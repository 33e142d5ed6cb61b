/**
 * Results of the reports over the relational stores (`pds query …`, `pds export learners`, the
 * console's Reports screen): learner, roster, course activity, programs and the learning-analytics
 * export. The same shapes come from SQLite and MariaDB. Times are UTC, `YYYY-MM-DD HH:MM:SS`;
 * days `YYYY-MM-DD`. Pure: zod only (the renderer imports this file).
 */
import { z } from 'zod';

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date like 2026-01-31' });
/** `YYYY-MM-DD HH:MM:SS` in UTC, or null when unknown. */
const time = z.string().nullable();

/** A course as the reports name it: its id and the course key of the weekly file names. */
export const reportCourseSchema = z.object({ courseId: z.string(), courseKey: z.string() });
export type ReportCourse = z.output<typeof reportCourseSchema>;

/** One course of a learner, or one learner of a course: enrolment, grade, certificate, last activity. */
export const enrolmentRowSchema = z.object({
  userId: z.number(),
  /** The username in this course's newest snapshot (a learner may change it: rows join on the user id). */
  username: z.string().nullable(),
  courseId: z.string(),
  courseKey: z.string(),
  mode: z.string().nullable(),
  active: z.boolean(),
  enrolledAt: time,
  /** `percent_grade` (0–1) of grades_persistentcoursegrade; null when the course has no grade row. */
  grade: z.number().nullable(),
  /** A passed grade (`passed_timestamp` set). */
  passed: z.boolean(),
  passedAt: time,
  /** certificates_generatedcertificate.status (`downloadable`, `notpassing`, …); null when none. */
  certificateStatus: z.string().nullable(),
  certificateMode: z.string().nullable(),
  /** Newest of the learner's designated events and courseware_studentmodule changes in the course. */
  lastActivity: time,
});
export type EnrolmentRow = z.output<typeof enrolmentRowSchema>;

export const learnerReportSchema = z.object({
  /** Every user id the name matched, with the usernames and e-mail addresses it had across courses. */
  learners: z.array(z.object({ userId: z.number(), usernames: z.array(z.string()), emails: z.array(z.string()) })),
  rows: z.array(enrolmentRowSchema),
});
export type LearnerReport = z.output<typeof learnerReportSchema>;

export const ROSTER_STATUSES = ['active', 'inactive', 'passed', 'not-passed', 'certified'] as const;
export type RosterStatus = (typeof ROSTER_STATUSES)[number];

export const rosterReportSchema = z.object({ course: reportCourseSchema, rows: z.array(enrolmentRowSchema) });
export type RosterReport = z.output<typeof rosterReportSchema>;

export const activityRowSchema = z.object({
  /** The day, or the Monday of the week (`--by week`). */
  period: day,
  /** Distinct learners with a designated event (video, problem, navigation, forum, enrolment, certificate). */
  activeLearners: z.number(),
  /** Every tracking-log event of the course (course_daily_activity). */
  events: z.number(),
  videoPlays: z.number(),
  /** Server `problem_check` events: one per submission. */
  problemAttempts: z.number(),
  correctAnswers: z.number(),
  /** Threads, responses and comments created. */
  forumPosts: z.number(),
  enrolments: z.number(),
  unenrolments: z.number(),
});
export type ActivityRow = z.output<typeof activityRowSchema>;

export const activityReportSchema = z.object({
  course: reportCourseSchema,
  from: day,
  to: day,
  by: z.enum(['day', 'week']),
  rows: z.array(activityRowSchema),
});
export type ActivityReport = z.output<typeof activityReportSchema>;

export const moduleProgressSchema = z.object({
  module: z.string(),
  kind: z.enum(['core', 'elective']),
  /** The run passed first (a module passed twice counts once). */
  courseKey: z.string(),
  passedAt: time,
  via: z.enum(['certificate', 'grade']),
  /** Every run of the module the learner passed, first first. */
  runsPassed: z.array(z.string()),
});

export const programLearnerSchema = z.object({
  userId: z.number(),
  /** The newest username seen in the program's courses. */
  username: z.string().nullable(),
  eligible: z.boolean(),
  /** The version judged: the newest one the learner met in time, else the current one. */
  version: day,
  corePassed: z.number(),
  coreRequired: z.number(),
  electivesPassed: z.number(),
  electivesRequired: z.number(),
  passed: z.array(moduleProgressSchema),
  /** Core modules not passed, then `N more of: …` electives. */
  remaining: z.array(z.string()),
});
export type ProgramLearner = z.output<typeof programLearnerSchema>;

export const programSummarySchema = z.object({
  name: z.string(),
  title: z.string().optional(),
  modules: z.record(z.string(), z.array(z.string())),
  pass: z.object({ rule: z.enum(['certificate', 'grade', 'either']), modes: z.array(z.string()) }),
  versions: z.array(z.object({ from: day, core: z.array(z.string()), electives: z.array(z.string()), electivesRequired: z.number() })),
});
export type ProgramSummary = z.output<typeof programSummarySchema>;

export const programReportSchema = z.object({
  program: programSummarySchema,
  /** The version in force today. */
  currentVersion: day,
  learners: z.number(),
  eligible: z.number(),
  rows: z.array(programLearnerSchema),
});
export type ProgramReport = z.output<typeof programReportSchema>;

/**
 * The learning-analytics export's columns, in order (docs/exports.md). Stable: a column is only
 * ever added at the end.
 */
export const EXPORT_COLUMNS = [
  'user_id',
  'username',
  'email',
  'course_id',
  'course_key',
  'mode',
  'is_active',
  'last_active',
  'days_active',
  'videos_watched',
  'problems_attempted',
  'problems_correct',
  'grade',
  'passed',
] as const;
export type ExportColumn = (typeof EXPORT_COLUMNS)[number];

export const exportRowSchema = z.object({
  user_id: z.number(),
  username: z.string().nullable(),
  email: z.string().nullable(),
  course_id: z.string(),
  course_key: z.string(),
  mode: z.string().nullable(),
  is_active: z.boolean(),
  last_active: time,
  days_active: z.number(),
  videos_watched: z.number(),
  problems_attempted: z.number(),
  problems_correct: z.number(),
  grade: z.number().nullable(),
  passed: z.boolean(),
});
export type ExportRow = z.output<typeof exportRowSchema>;

export const learnerExportSchema = z.object({
  /** What was exported: one course, or every run of a program's modules. */
  scope: z.object({ course: reportCourseSchema.optional(), program: z.string().optional(), courses: z.array(reportCourseSchema) }),
  /** A file name to save it under. */
  filename: z.string(),
  rows: z.array(exportRowSchema),
});
export type LearnerExport = z.output<typeof learnerExportSchema>;
