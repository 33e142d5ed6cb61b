/**
 * Every file that needs attention now, whichever run flagged it, and whether the next run tries it
 * again by itself (a missing key, a network or database problem) or only once the file changes.
 */
import { useState } from 'react';
import type { FileKind } from '../../core/domain/files.js';
import { KIND_LABELS } from '../report/kind-labels.js';
import { api } from '../api/client.js';
import { expectRun } from '../api/run-events.js';
import { ACTION_LABELS, actionForCode, hintForFile } from '../common/actions.js';
import { href, useApp } from '../common/app-context.js';
import { count, fileName } from '../common/format.js';
import { useCall } from '../common/use-call.js';
import { Empty, ErrorNote, Loading, NeedEnvironment, Pill, ScreenHeader, Time } from '../common/ui.js';

export function AttentionScreen() {
  const { env, go } = useApp();
  const status = useCall(() => api.getStatus({ env: env! }), [env], env !== null);
  const [error, setError] = useState<unknown>();
  if (!env) return <NeedEnvironment />;

  async function retry(options: { keys?: string[]; code?: string }) {
    setError(undefined);
    try {
      const { runId } = await api.startRun({ env: env!, options: { retry: options } });
      expectRun(runId, env!);
      go('run');
    } catch (e) {
      setError(e);
    }
  }

  const flagged = status.data?.flagged ?? [];
  const codes = [...new Set(flagged.map((f) => f.code).filter((c): c is string => Boolean(c)))];
  return (
    <section>
      <ScreenHeader title={`Attention · ${env}`}>
        <button type="button" className="button" onClick={status.reload}>
          Refresh
        </button>
      </ScreenHeader>
      {error !== undefined && <ErrorNote error={error} />}
      {status.error !== undefined ? (
        <ErrorNote error={status.error} />
      ) : !status.data ? (
        <Loading what="what needs attention" />
      ) : (
        <>
          <div className="run-line">
            <span>Files by their latest outcome:</span>
            <span className="pills">
              {Object.keys(status.data.files).length === 0 ? <span className="muted">none yet</span> : Object.entries(status.data.files).map(([s, n]) => <Pill key={s} status={s} label={`${count(n)} ${s}`} />)}
            </span>
            {status.data.lastRun && (
              <span className="muted">
                last run <Time iso={status.data.lastRun.startedAt} /> <Pill status={status.data.lastRun.status} />
              </span>
            )}
          </div>
          {flagged.length === 0 ? (
            <Empty title="Nothing needs attention">
              <p>{status.data.lastRun ? 'Every file of every run loaded. New deliveries are picked up by the next run.' : 'No run yet: start one from the Run screen.'}</p>
            </Empty>
          ) : (
            <>
              {codes.length > 0 && (
                <div className="retry-codes" role="group" aria-label="Retry by code">
                  <span className="muted">Retry every file flagged</span>
                  {codes.map((c) => (
                    <button key={c} type="button" className="button" onClick={() => retry({ code: c })}>
                      {c}
                    </button>
                  ))}
                </div>
              )}
              <div className="table-wrap">
                <table className="table attention-table">
                  <colgroup>
                    <col className="c-status" />
                    <col className="c-file" />
                    <col className="c-kind" />
                    <col className="c-code" />
                    <col />
                    <col className="c-next" />
                    <col className="c-since" />
                    <col className="c-step" />
                  </colgroup>
                  <thead>
                    <tr>
                      <th scope="col">Status</th>
                      <th scope="col">File</th>
                      <th scope="col">Kind</th>
                      <th scope="col">Code</th>
                      <th scope="col">Reason</th>
                      <th scope="col">Next run retries</th>
                      <th scope="col">Since</th>
                      <th scope="col">Next step</th>
                    </tr>
                  </thead>
                  <tbody>
                    {flagged.map((f) => {
                      const action = actionForCode(f.code);
                      return (
                        <tr key={f.key}>
                          <td>
                            <Pill status={f.status} />
                          </td>
                          <td className="file-cell">
                            <a className="ellipsis" href={href('report', f.runId ?? 'latest', 'file', f.key)} title={f.key} aria-label={fileName(f.key)}>
                              {fileName(f.key)}
                            </a>
                          </td>
                          <td className="nowrap" title={f.kind}>
                            {KIND_LABELS[f.kind as FileKind] ?? f.kind}
                          </td>
                          <td>{f.code ? <code className="code">{f.code}</code> : ''}</td>
                          <td className="reason-cell">
                            <span className="clamp" title={f.reason ?? undefined}>
                              {f.reason}
                            </span>
                            {hintForFile(f.code, f.hint) && (
                              <span className="clamp muted small" title={hintForFile(f.code, f.hint)}>
                                {hintForFile(f.code, f.hint)}
                              </span>
                            )}
                          </td>
                          <td>{f.retriedNextRun ? <Pill status="yes" label="yes" /> : <Pill status="no" label="when it changes" tone="warn" />}</td>
                          <td>
                            <Time iso={f.updatedAt} />
                          </td>
                          <td>
                            {action === 'import-key' ? (
                              <button type="button" className="button" onClick={() => go('keys')}>
                                {ACTION_LABELS[action]}
                              </button>
                            ) : (
                              <button type="button" className="button" onClick={() => retry({ keys: [f.key] })} aria-label={`Retry ${fileName(f.key)}`}>
                                Retry
                              </button>
                            )}
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            </>
          )}
        </>
      )}
    </section>
  );
}
