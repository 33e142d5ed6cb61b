/** Run history, newest first, paged from the server: status, what was asked, counts, duration. */
import { useState } from 'react';
import { api } from '../api/client.js';
import { href, useApp } from '../common/app-context.js';
import { between, count, duration } from '../common/format.js';
import { useCall } from '../common/use-call.js';
import { Empty, ErrorNote, Loading, NeedEnvironment, Pager, Pill, ScreenHeader, Time } from '../common/ui.js';
import { describeOptions } from './describe-options.js';

const LIMIT = 25;

export function RunsScreen() {
  const { env } = useApp();
  const [offset, setOffset] = useState(0);
  const runs = useCall(() => api.listRuns({ env: env!, offset, limit: LIMIT }), [env, offset], env !== null);
  if (!env) return <NeedEnvironment />;
  return (
    <section>
      <ScreenHeader title={`Runs · ${env}`}>
        <button type="button" className="button" onClick={runs.reload}>
          Refresh
        </button>
      </ScreenHeader>
      {runs.error !== undefined ? (
        <ErrorNote error={runs.error} />
      ) : !runs.data ? (
        <Loading what="runs" />
      ) : runs.data.total === 0 ? (
        <Empty title="No run yet">
          <p>
            Start the first run from the <a href={href('run')}>Run</a> screen; runs started from the command line or by the scheduler are listed here too.
          </p>
        </Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Status</th>
                  <th scope="col">What</th>
                  <th scope="col">By</th>
                  <th scope="col" className="num">
                    Loaded
                  </th>
                  <th scope="col" className="num">
                    Partial
                  </th>
                  <th scope="col" className="num">
                    Failed
                  </th>
                  <th scope="col" className="num">
                    Skipped
                  </th>
                  <th scope="col" className="num">
                    Duration
                  </th>
                  <th scope="col">Run</th>
                </tr>
              </thead>
              <tbody>
                {runs.data.runs.map((r) => (
                  <tr key={r.runId}>
                    <td>
                      <Time iso={r.startedAt} />
                    </td>
                    <td>
                      <Pill status={r.status} />
                    </td>
                    <td>
                      {describeOptions(r.options)}
                      {r.error && <div className="text-bad small">{r.error.message}</div>}
                    </td>
                    <td>{r.origin ?? '—'}</td>
                    <td className="num">{count(r.totals?.loaded ?? null)}</td>
                    <td className="num">{count(r.totals?.partial ?? null)}</td>
                    <td className="num">{count(r.totals?.failed ?? null)}</td>
                    <td className="num">{count(r.totals?.skipped ?? null)}</td>
                    <td className="num">{r.finishedAt ? duration(between(r.startedAt, r.finishedAt)) : 'running'}</td>
                    <td>
                      <a href={href('report', r.runId)}>
                        Report <span className="visually-hidden">of the run started {r.startedAt}</span>
                      </a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager offset={offset} limit={LIMIT} total={runs.data.total} onChange={setOffset} what="runs" />
        </>
      )}
    </section>
  );
}
