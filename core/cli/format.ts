/**
 * Plain-text rendering of run results and reports for the terminal.
 */
import { displayName } from '../domain/files.js';
import { isFlagged, type FileResult, type RunResult } from '../domain/results.js';
import { formatNotices, runSummaryView, type EnvironmentStatus, type RunReport, type RunSummaryView } from '../contract/console-api.js';
import type { RunNoticeView } from '../contract/methods.js';

const n = (x: number): string => x.toLocaleString('en');

export function formatTotals(totals: Record<string, number> | null): string {
  if (!totals) return '';
  return Object.entries(totals)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ') || 'nothing to do';
}

function fileLine(f: FileResult): string {
  const c = f.counts;
  const what = [f.table, f.courseKey].filter(Boolean).join(' · ');
  const counts = f.status === 'skipped' || (f.kind.endsWith('package') && f.status !== 'failed') ? '' : `  read ${n(c.read)}, loaded ${n(c.loaded)}${c.rejected ? `, rejected ${n(c.rejected)}` : ''}${c.duplicates ? `, already present ${n(c.duplicates)}` : ''}`;
  return `${f.status.toUpperCase().padEnd(8)}${f.key}${what ? `  (${what})` : ''}${counts}`;
}


/**
 * The per-file report: the run's summary and its notices, then flagged files with their reasons
 * and line numbers.
 */
export function formatReport(run: RunSummaryView, files: FileResult[], options: { all?: boolean; notices?: readonly RunNoticeView[] } = {}): string {
  const lines: string[] = [];
  lines.push(`Run ${run.runId} (${run.env}): ${run.status}; started ${run.startedAt}${run.finishedAt ? `, finished ${run.finishedAt}` : ''}`);
  lines.push(`Files: ${formatTotals(run.totals)}`);
  if (run.error) lines.push(`The run could not run: ${run.error.message}${run.error.hint ? `\n  → ${run.error.hint}` : ''}`);
  lines.push(...formatNotices(options.notices ?? []));
  const flagged = files.filter(isFlagged);
  const withWarnings = files.filter((f) => f.warnings.length > 0 && f.status !== 'failed');
  if (flagged.length > 0) {
    lines.push('', `Flagged (${flagged.length}):`);
    for (const f of flagged) {
      lines.push(fileLine(f));
      if (f.reason) lines.push(`        ${f.stage ? `[${f.stage}${f.code ? ` ${f.code}` : ''}] ` : f.code ? `[${f.code}] ` : ''}${f.reason}`);
      if (f.hint) lines.push(`        → ${f.hint}`);
      if (f.rejectedLines && f.rejectedLines.length > 0) {
        const shown = f.rejectedLines.slice(0, 10).map((r) => `line ${r.line}: ${r.reason}`);
        lines.push(...shown.map((s) => `        ${s}`));
        if (f.counts.rejected > shown.length) lines.push(`        … and ${f.counts.rejected - shown.length} more`);
      }
    }
  }
  if (withWarnings.length > 0) {
    lines.push('', `Warnings (${withWarnings.length} files):`);
    for (const f of withWarnings) for (const w of f.warnings) lines.push(`  ${displayName(f.key)}: [${w.code}] ${w.message}`);
  }
  if (options.all) {
    lines.push('', 'All files:');
    for (const f of files) lines.push(fileLine(f));
  }
  return lines.join('\n');
}

/** `pds run` and `pds load`: the plan of a dry run, then the run's report with the notices it gave. */
export function formatRunResult(result: RunResult, notices: readonly RunNoticeView[] = []): string {
  const head = result.options.dryRun
    ? [`Dry run: ${result.planned.length} files would be processed, ${result.upToDate} are up to date.`, ...result.planned.map((p) => `  ${p.why.padEnd(10)} ${p.key} (${n(p.size)} bytes)`)]
    : [];
  return [...head, formatReport(runSummaryView(result), result.files, { notices })].join('\n');
}

export function formatRuns(runs: RunSummaryView[]): string {
  if (runs.length === 0) return 'No runs yet.';
  return runs.map((r) => `${r.runId}  ${r.status.padEnd(10)} ${r.startedAt}  ${formatTotals(r.totals)}`).join('\n');
}

/** `pds report`: the run's summary, its notices, then its files. */
export function formatReportView(report: RunReport & { notices?: readonly RunNoticeView[] }, all: boolean): string {
  return formatReport(report.run, report.files, { all, notices: report.notices });
}

/** `pds status`: where the environment stands, and every file that needs attention. */
export function formatStatus(status: EnvironmentStatus): string {
  const lines: string[] = [];
  const run = status.lastRun;
  lines.push(`Environment ${status.env}: ${run ? `last run ${run.runId} ${run.status} (${run.startedAt})` : 'no runs yet'}.`);
  lines.push(`Files: ${formatTotals(status.files)}`);
  if (status.flagged.length === 0) {
    lines.push('Nothing needs attention.');
    return lines.join('\n');
  }
  lines.push('', `Needs attention (${status.flagged.length}):`);
  for (const f of status.flagged) {
    lines.push(`${f.status.toUpperCase().padEnd(8)}${f.key}`);
    if (f.reason) lines.push(`        ${f.code ? `[${f.code}] ` : ''}${f.reason}`);
    if (f.hint) lines.push(`        → ${f.hint}`);
    lines.push(`        ${f.retriedNextRun ? 'The next run tries it again.' : 'Stays flagged until the file changes at the source.'} (run ${f.runId ?? '?'})`);
  }
  return lines.join('\n');
}
