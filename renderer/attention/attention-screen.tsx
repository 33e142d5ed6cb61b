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
import { DataTable } from '../common/data-table.js';
import { CallView, Empty, ErrorNote, NeedEnvironment, Pill, RefreshButton, ScreenHeader, Time } from '../common/ui.js';

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
        <RefreshButton call={status} />
      </ScreenHeader>
      {error !== undefined && <ErrorNote error={error} />}
      <CallView call={status} what="what needs attention">
        {(data) => (
          <>
            <div className="run-line">
              <span>Files by their latest outcome:</span>
              <span className="pills">
                {Object.keys(data.files).length === 0 ? <span className="muted">none yet</span> : Object.entries(data.files).map(([s, n]) => <Pill key={s} status={s} label={`${count(n)} ${s}`} />)}
              </span>
              {data.lastRun && (
                <span className="muted">
                  last run <Time iso={data.lastRun.startedAt} /> <Pill status={data.lastRun.status} />
                </span>
              )}
            </div>
            {flagged.length === 0 ? (
              <Empty title="Nothing needs attention">
                <p>{data.lastRun ? 'Every file of every run loaded. New deliveries are picked up by the next run.' : 'No run yet: start one from the Run screen.'}</p>
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
                <DataTable
                  className="attention-table"
                  cols
                  columns={[
                    { header: 'Status', col: 'c-status', cell: (f) => <Pill status={f.status} /> },
                    {
                      header: 'File',
                      col: 'c-file',
                      className: 'file-cell',
                      cell: (f) => (
                        <a className="ellipsis" href={href('report', f.runId ?? 'latest', 'file', f.key)} title={f.key} aria-label={fileName(f.key)}>
                          {fileName(f.key)}
                        </a>
                      ),
                    },
                    { header: 'Kind', col: 'c-kind', className: 'nowrap', title: (f) => f.kind, cell: (f) => KIND_LABELS[f.kind as FileKind] ?? f.kind },
                    { header: 'Code', col: 'c-code', cell: (f) => (f.code ? <code className="code">{f.code}</code> : '') },
                    {
                      header: 'Reason',
                      className: 'reason-cell',
                      cell: (f) => (
                        <>
                          <span className="clamp" title={f.reason ?? undefined}>
                            {f.reason}
                          </span>
                          {hintForFile(f.code, f.hint) && (
                            <span className="clamp muted small" title={hintForFile(f.code, f.hint)}>
                              {hintForFile(f.code, f.hint)}
                            </span>
                          )}
                        </>
                      ),
                    },
                    {
                      header: 'Next run retries',
                      col: 'c-next',
                      cell: (f) => (f.retriedNextRun ? <Pill status="yes" label="yes" /> : <Pill status="no" label="when it changes" tone="warn" />),
                    },
                    { header: 'Since', col: 'c-since', cell: (f) => <Time iso={f.updatedAt} /> },
                    {
                      header: 'Next step',
                      col: 'c-step',
                      cell: (f) =>
                        actionForCode(f.code) === 'import-key' ? (
                          <button type="button" className="button" onClick={() => go('keys')}>
                            {ACTION_LABELS['import-key']}
                          </button>
                        ) : (
                          <button type="button" className="button" onClick={() => retry({ keys: [f.key] })} aria-label={`Retry ${fileName(f.key)}`}>
                            Retry
                          </button>
                        ),
                    },
                  ]}
                  rows={flagged}
                  rowKey={(f) => f.key}
                />
              </>
            )}
          </>
        )}
      </CallView>
    </section>
  );
}
