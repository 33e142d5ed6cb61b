/**
 * Reports as tables: the columns and rows `pds query … --csv`, the terminal table and the
 * console's Reports screen (its tables and CSV downloads) all show, from one definition per report.
 * Pure: no Node API (the renderer imports this file).
 */
import {
  EXPORT_COLUMNS,
  type ActivityReport,
  type EnrolmentRow,
  type LearnerExport,
  type LearnerReport,
  type ProgramReport,
  type RosterReport,
} from './report-schemas.js';

export type Cell = string | number | boolean | null;
export interface ReportTable {
  columns: string[];
  rows: Cell[][];
}

const enrolmentCells = (r: EnrolmentRow): Cell[] => [
  r.userId,
  r.username,
  r.courseId,
  r.courseKey,
  r.mode,
  r.active,
  r.enrolledAt,
  r.grade,
  r.passed,
  r.passedAt,
  r.certificateStatus,
  r.lastActivity,
];
const ENROLMENT_COLUMNS = ['user_id', 'username', 'course_id', 'course_key', 'mode', 'active', 'enrolled_at', 'grade', 'passed', 'passed_at', 'certificate_status', 'last_activity'];

export function learnerTable(report: LearnerReport): ReportTable {
  return { columns: ENROLMENT_COLUMNS, rows: report.rows.map(enrolmentCells) };
}

export function rosterTable(report: RosterReport): ReportTable {
  return { columns: ENROLMENT_COLUMNS, rows: report.rows.map(enrolmentCells) };
}

export function activityTable(report: ActivityReport): ReportTable {
  return {
    columns: [report.by === 'week' ? 'week' : 'day', 'active_learners', 'events', 'video_plays', 'problem_attempts', 'correct_answers', 'forum_posts', 'enrolments', 'unenrolments'],
    rows: report.rows.map((r) => [r.period, r.activeLearners, r.events, r.videoPlays, r.problemAttempts, r.correctAnswers, r.forumPosts, r.enrolments, r.unenrolments]),
  };
}

export function programTable(report: ProgramReport): ReportTable {
  return {
    columns: ['user_id', 'username', 'eligible', 'version', 'core_passed', 'electives_passed', 'modules_passed', 'remaining'],
    rows: report.rows.map((r) => [
      r.userId,
      r.username,
      r.eligible,
      r.version,
      `${r.corePassed}/${r.coreRequired}`,
      `${r.electivesPassed}/${r.electivesRequired}`,
      r.passed.map((p) => `${p.module}: ${p.courseKey}${p.passedAt ? ` ${p.passedAt.slice(0, 10)}` : ''}`).join('; '),
      r.remaining.join('; '),
    ]),
  };
}

export function exportTable(report: LearnerExport): ReportTable {
  return { columns: [...EXPORT_COLUMNS], rows: report.rows.map((r) => EXPORT_COLUMNS.map((c) => r[c])) };
}

/** A CSV field: booleans as 1/0, null as empty, quoted when it holds a comma, quote or line break. */
function csvField(value: Cell): string {
  if (value === null) return '';
  if (typeof value === 'boolean') return value ? '1' : '0';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 CSV with a header row and CRLF line ends. */
export function toCsv(table: ReportTable): string {
  return [table.columns, ...table.rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}
