/** Run history, newest first, paged from the server: status, what was asked, counts, duration. */
import { useState } from 'react';
import { api } from '../api/client.js';
import { href, useApp } from '../common/app-context.js';
import { between, count, duration } from '../common/format.js';
import { useCall } from '../common/use-call.js';
import type { RunSummaryData } from '../../core/contract/methods.js';
import { DataTable, type Column } from '../common/data-table.js';
import { CallView, Empty, NeedEnvironment, Pager, Pill, RefreshButton, ScreenHeader, Time } from '../common/ui.js';
import { describeOptions } from './describe-options.js';

const LIMIT = 25;

const COLUMNS: Column<RunSummaryData>[] = [
  { header: 'Started', cell: (r) => <Time iso={r.startedAt} /> },
  { header: 'Status', cell: (r) => <Pill status={r.status} /> },
  {
    header: 'What',
    cell: (r) => (
      <>
        {describeOptions(r.options)}
        {r.error && <div className="text-bad small">{r.error.message}</div>}
      </>
    ),
  },
  { header: 'By', cell: (r) => r.origin ?? '—' },
  ...(['loaded', 'partial', 'failed', 'skipped'] as const).map((k): Column<RunSummaryData> => ({ header: k[0]!.toUpperCase() + k.slice(1), num: true, cell: (r) => count(r.totals?.[k] ?? null) })),
  { header: 'Duration', num: true, cell: (r) => (r.finishedAt ? duration(between(r.startedAt, r.finishedAt)) : 'running') },
  {
    header: 'Run',
    cell: (r) => (
      <a href={href('report', r.runId)}>
        Report <span className="visually-hidden">of the run started {r.startedAt}</span>
      </a>
    ),
  },
];

export function RunsScreen() {
  const { env } = useApp();
  const [offset, setOffset] = useState(0);
  const runs = useCall(() => api.listRuns({ env: env!, offset, limit: LIMIT }), [env, offset], env !== null);
  if (!env) return <NeedEnvironment />;
  return (
    <section>
      <ScreenHeader title={`Runs · ${env}`}>
        <RefreshButton call={runs} />
      </ScreenHeader>
      <CallView call={runs} what="runs">
        {(data) =>
          data.total === 0 ? (
            <Empty title="No run yet">
              <p>
                Start the first run from the <a href={href('run')}>Run</a> screen; runs started from the command line or by the scheduler are listed here too.
              </p>
            </Empty>
          ) : (
            <>
              <DataTable columns={COLUMNS} rows={data.runs} rowKey={(r) => r.runId} />
              <Pager offset={offset} limit={LIMIT} total={data.total} onChange={setOffset} what="runs" />
            </>
          )
        }
      </CallView>
    </section>
  );
}
