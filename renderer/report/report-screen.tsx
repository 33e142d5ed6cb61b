/**
 * One run's per-file outcomes, served page by page (a run of 10,000 files never loads whole), under
 * the notices the run gave (retention, data protection, a cancel; a warning marked in words too):
 * filter by status, kind, course and code; sort the whole run by a column (the server sorts before
 * paging); export the whole filtered table as CSV, in that order;
 * open a file for its reason, rejected lines and history; retry one file or every file of a code.
 */
import { useState, type FormEvent } from 'react';
import { FILE_KINDS } from '../../core/domain/files.js';
import { FILE_STATUSES, type FileStatus } from '../../core/domain/results.js';
import type { FileKind } from '../../core/domain/files.js';
import { ContractError, type ArgsOf, type ReportSortKey } from '../../core/contract/methods.js';
import { api } from '../api/client.js';
import { expectRun } from '../api/run-events.js';
import { href, useApp } from '../common/app-context.js';
import { count, fileName } from '../common/format.js';
import { useCall } from '../common/use-call.js';
import { describeOptions } from '../runs/describe-options.js';
import { DataTable } from '../common/data-table.js';
import { Empty, ErrorNote, Field, Loading, NeedEnvironment, Pager, Pill, ScreenHeader, SelectField, Time } from '../common/ui.js';
import { download, reportCsv } from './csv.js';
import { countsAddUp } from './counts.js';
import { FileDetail } from './file-detail.js';
import { fileLabel } from './file-label.js';
import { KIND_LABELS } from './kind-labels.js';

const LIMIT = 100;
type Sort = NonNullable<ArgsOf<'getReport'>['sort']>;

/** A course key or table name cut short, whole on hover. */
function Short({ text }: { text: string | undefined }) {
  return (
    <span className="ellipsis ellipsis-short" title={text}>
      {text ?? ''}
    </span>
  );
}

export function ReportScreen() {
  const { env, route, go } = useApp();
  const runId = route.params[0] && route.params[0] !== 'latest' ? route.params[0] : undefined;
  const openKey = route.params[1] === 'file' ? route.params[2] : undefined;
  const [status, setStatus] = useState<FileStatus | ''>('');
  const [kind, setKind] = useState<FileKind | ''>('');
  const [course, setCourse] = useState('');
  const [code, setCode] = useState('');
  const [applied, setApplied] = useState({ course: '', code: '' });
  const [offset, setOffset] = useState(0);
  const [sort, setSort] = useState<Sort | null>(null);
  const [exporting, setExporting] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>();

  const filter: ArgsOf<'getReport'>['filter'] = {
    ...(status ? { status: [status] } : {}),
    ...(kind ? { kind: [kind] } : {}),
    ...(applied.course ? { course: applied.course } : {}),
    ...(applied.code ? { code: applied.code } : {}),
  };
  const filterKey = JSON.stringify(filter);
  const sortArg = sort ? { sort } : {};
  const report = useCall(() => api.getReport({ env: env!, runId, filter, ...sortArg, offset, limit: LIMIT }), [env, runId, filterKey, sort?.by, sort?.dir, offset], env !== null);
  const rows = report.data?.files ?? [];

  if (!env) return <NeedEnvironment />;

  const shownRunId = report.data?.run.runId ?? runId;
  const open = (key: string) => go('report', shownRunId ?? 'latest', 'file', key);

  function applyText(event: FormEvent) {
    event.preventDefault();
    setOffset(0);
    setApplied({ course: course.trim(), code: code.trim() });
  }

  async function exportCsv() {
    setExporting('Exporting…');
    try {
      const text = await reportCsv({ env: env!, runId: shownRunId, filter, ...sortArg }, (done, total) => setExporting(`Exporting ${count(done)} of ${count(total)}…`));
      download(`pds-${env}-report-${shownRunId ?? 'latest'}.csv`, text);
    } catch (e) {
      setActionError(e);
    } finally {
      setExporting(null);
    }
  }

  async function retryCode(c: string) {
    setActionError(undefined);
    try {
      const { runId: started } = await api.startRun({ env: env!, options: { retry: { code: c } } });
      expectRun(started, env!);
      go('run');
    } catch (e) {
      setActionError(e);
    }
  }

  // A filter's select: a new choice starts again from the first page.
  const filterSelect = <V extends string>(label: string, value: V | '', values: readonly V[], setValue: (v: V | '') => void) => (
    <SelectField
      label={label}
      value={value}
      any="any"
      options={values.map((v) => [v, v] as const)}
      onChange={(v) => {
        setOffset(0);
        setValue(v);
      }}
    />
  );

  // A header click sorts the whole run by that column: ascending, then descending, then the run's own order.
  const header = (by: ReportSortKey, label: string, numeric = false) => {
    const active = sort?.by === by;
    const next: Sort | null = !active ? { by, dir: 'asc' } : sort!.dir === 'asc' ? { by, dir: 'desc' } : null;
    return (
      <th scope="col" className={numeric ? 'num' : undefined} aria-sort={active ? (sort!.dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
        <button
          type="button"
          className="sort"
          title={next ? `Sort the whole run by ${label.toLowerCase()}, ${next.dir === 'asc' ? 'ascending' : 'descending'}` : 'Back to the order the run handled the files in'}
          onClick={() => {
            setOffset(0);
            setSort(next);
          }}
        >
          {label}
          <span aria-hidden="true" className="sort-mark">
            {active ? (sort!.dir === 'asc' ? '▲' : '▼') : ''}
          </span>
        </button>
      </th>
    );
  };

  const run = report.data?.run;
  return (
    <section className={openKey ? 'with-drawer' : undefined}>
      <ScreenHeader title={`Report · ${env}`}>
        {applied.code && (
          <button type="button" className="button" onClick={() => retryCode(applied.code)}>
            Retry every file flagged {applied.code}
          </button>
        )}
        <button type="button" className="button" onClick={exportCsv} disabled={!report.data || report.data.total === 0 || exporting !== null}>
          {exporting ?? 'Export CSV'}
        </button>
      </ScreenHeader>
      {actionError !== undefined && <ErrorNote error={actionError} />}
      {run && (
        <div className="run-line">
          <Pill status={run.status} />
          <span>
            Run <code className="mono">{run.runId}</code> started <Time iso={run.startedAt} /> ({describeOptions(run.options)})
          </span>
          <span className="pills">
            {Object.entries(report.data!.counts).map(([s, n]) => (
              <Pill key={s} status={s} label={`${count(n)} ${s}`} />
            ))}
          </span>
          <a href={href('runs')} className="muted">
            Other runs
          </a>
        </div>
      )}
      {run?.error && <ErrorNote error={{ ...run.error, action: 'none' }} />}
      {report.data && report.data.notices.length > 0 && (
        <ul className="notices" aria-label="Notices of this run">
          {report.data.notices.map((n, i) => (
            <li key={i} className={n.level === 'warning' ? 'text-warn' : undefined}>
              {n.level === 'warning' ? 'Warning: ' : ''}
              {n.message}
            </li>
          ))}
        </ul>
      )}
      <form className="filters" onSubmit={applyText} aria-label="Filter the report">
        {filterSelect('Status', status, FILE_STATUSES, setStatus)}
        {filterSelect('Kind', kind, FILE_KINDS, setKind)}
        <Field label="Course">{(p) => <input {...p} type="search" value={course} placeholder="DemoX-Data101" onChange={(e) => setCourse(e.target.value)} />}</Field>
        <Field label="Code">{(p) => <input {...p} type="search" value={code} placeholder="TSV_FIELD_COUNT" onChange={(e) => setCode(e.target.value)} />}</Field>
        <button type="submit" className="button">
          Apply
        </button>
      </form>
      {report.error instanceof ContractError && report.error.code === 'NO_SUCH_RUN' && !runId ? (
        <Empty title="No run yet">
          <p>Each run’s report lists every file it handled, with its counts and, for a flagged file, the reason and the rejected lines.</p>
          <button type="button" className="button button-primary" onClick={() => go('run')}>
            Start a run
          </button>
        </Empty>
      ) : report.error !== undefined ? (
        <ErrorNote error={report.error} />
      ) : !report.data ? (
        <Loading what="the report" />
      ) : report.data.total === 0 ? (
        filterKey !== '{}' ? (
          <Empty title="No file matches these filters">
            <p>Clear a filter to see more files.</p>
          </Empty>
        ) : (
          <Empty title="This run handled no file">
            <p>Everything was already up to date. Start a run when edX delivers new files.</p>
          </Empty>
        )
      ) : (
        <>
          <DataTable
            className="report-table"
            cols
            columns={[
              { header: 'Status', col: 'c-status', headerCell: header('status', 'Status'), cell: (f) => <Pill status={f.status} /> },
              {
                header: 'File',
                col: 'c-file',
                headerCell: header('key', 'File'),
                className: 'file-cell',
                cell: (f) => (
                  <a className="ellipsis ellipsis-file" href={href('report', shownRunId ?? 'latest', 'file', f.key)} title={f.key} aria-label={fileName(f.key)} onClick={(e) => (e.preventDefault(), open(f.key))}>
                    {fileLabel(f)}
                  </a>
                ),
              },
              { header: 'Kind', col: 'c-kind', headerCell: header('kind', 'Kind'), className: 'nowrap', title: (f) => f.kind, cell: (f) => KIND_LABELS[f.kind] },
              { header: 'Course', col: 'c-course', headerCell: header('course', 'Course'), cell: (f) => <Short text={f.courseKey} /> },
              { header: 'Table', col: 'c-table', headerCell: header('table', 'Table'), cell: (f) => <Short text={f.table} /> },
              { header: 'Read', col: 'c-num', num: true, headerCell: header('read', 'Read', true), cell: (f) => count(f.counts.read) },
              { header: 'Loaded', col: 'c-num', num: true, headerCell: header('loaded', 'Loaded', true), cell: (f) => count(f.counts.loaded) },
              { header: 'Rejected', col: 'c-num', num: true, headerCell: header('rejected', 'Rejected', true), cell: (f) => count(f.counts.rejected) },
              {
                header: 'Already present',
                col: 'c-num',
                num: true,
                headerCell: header('duplicates', 'Already present', true),
                cell: (f) => (
                  <>
                    {count(f.counts.duplicates)}
                    {!countsAddUp(f) && (
                      <span className="text-bad" title="read ≠ loaded + rejected + already present">
                        {' '}
                        ≠
                      </span>
                    )}
                  </>
                ),
              },
              {
                header: 'Code and reason',
                headerCell: header('code', 'Code and reason'),
                className: 'reason-cell',
                cell: (f) =>
                  (f.code || f.reason) && (
                    <span className="clamp" title={f.reason}>
                      {f.code && <code className="code">{f.code}</code>} {f.reason ?? ''}
                    </span>
                  ),
              },
            ]}
            rows={rows}
            rowKey={(f) => f.key}
            rowClass={(f) => (f.key === openKey ? 'row-open' : undefined)}
          />
          <Pager offset={offset} limit={LIMIT} total={report.data.total} onChange={setOffset} what="files" />
        </>
      )}
      {openKey && (
        <FileDetail
          key={openKey}
          env={env}
          runId={shownRunId}
          fileKey={openKey}
          fromPage={report.data?.files.find((f) => f.key === openKey)}
          onClose={() => go('report', shownRunId ?? 'latest')}
          onRetryCode={retryCode}
        />
      )}
    </section>
  );
}
