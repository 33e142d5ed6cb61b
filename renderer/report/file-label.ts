/**
 * The File column's text for a report row. Members of a weekly package are named
 * `<course key>-<table>-<site>-analytics.sql.gpg`, so a cut at the end left every row of a course
 * with the same prefix: where the Course column shows the course key, the name leaves it out
 * (`…auth_user-prod-analytics.sql.gpg`, what differs comes first); any other long name is cut in
 * the middle, keeping its end (an event log's date). The whole key stays in the link's title.
 */
import { fileName } from '../common/format.js';

/** About what the File column shows in 12 px monospace before the browser's own ellipsis. */
export const FILE_LABEL_MAX = 28;

export function fileLabel(f: { key: string; courseKey?: string }, max = FILE_LABEL_MAX): string {
  const name = fileName(f.key);
  const course = f.courseKey;
  if (course && name.length > course.length + 1 && name.startsWith(course) && /^[-_.]/.test(name.slice(course.length))) {
    // The end is the table's common suffix: the browser cuts it if the column is narrow.
    return `…${name.slice(course.length + 1)}`;
  }
  return middle(name, max);
}

/** `name` at most `max` characters: its start, `…`, and its last three quarters. */
export function middle(name: string, max = FILE_LABEL_MAX): string {
  if (name.length <= max) return name;
  const tail = Math.ceil((max - 1) * 0.75);
  return `${name.slice(0, max - 1 - tail)}…${name.slice(name.length - tail)}`;
}
