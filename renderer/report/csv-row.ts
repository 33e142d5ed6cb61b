/** One file of a report as a CSV line (RFC 4180 quoting); the run's start in UTC, as ISO 8601. */
import type { FileResultView, RunSummaryData } from '../../core/contract/methods.js';

/** A field, quoted when it holds a comma, a quote or a line break. */
export function cell(value: unknown): string {
  const s = value == null ? '' : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CSV_COLUMNS = ['run_id', 'run_started_utc', 'key', 'status', 'kind', 'course', 'table', 'snapshot_date', 'read', 'loaded', 'rejected', 'already_present', 'bytes', 'code', 'reason', 'hint'];

export function csvRow(run: RunSummaryData, f: FileResultView): string {
  return [run.runId, run.startedAt, f.key, f.status, f.kind, f.courseKey, f.table, f.snapshotDate, f.counts.read, f.counts.loaded, f.counts.rejected, f.counts.duplicates, f.counts.bytes, f.code, f.reason, f.hint].map(cell).join(',');
}
