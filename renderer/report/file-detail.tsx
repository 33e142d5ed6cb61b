/**
 * One file of a report: its reason and the button for the next step, warnings, the rejected lines
 * with their text (paged from the quarantine file), and its outcome in every run that touched it.
 */
import { useEffect, useRef, useState } from 'react';
import type { FileResultView } from '../../core/contract/methods.js';
import { api } from '../api/client.js';
import { expectRun } from '../api/run-events.js';
import { ACTION_LABELS, actionForCode, hintForFile } from '../common/actions.js';
import { useApp } from '../common/app-context.js';
import { bytes, count, duration, fileName } from '../common/format.js';
import { useCall } from '../common/use-call.js';
import { DataTable } from '../common/data-table.js';
import { CallView, ErrorNote, Loading, Pager, Pill, Stats, Time } from '../common/ui.js';
import { countsAddUp } from './counts.js';

const LINES = 50;

export function FileDetail(props: { env: string; runId?: string; fileKey: string; fromPage?: FileResultView; onClose: () => void; onRetryCode: (code: string) => void }) {
  const { env, fileKey, onClose } = props;
  const { go } = useApp();
  const history = useCall(() => api.getFileHistory({ env, key: fileKey }), [env, fileKey]);
  const [lineOffset, setLineOffset] = useState(0);
  const lines = useCall(() => api.getRejectedLines({ env, key: fileKey, offset: lineOffset, limit: LINES }), [env, fileKey, lineOffset]);
  const [error, setError] = useState<unknown>();
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    heading.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const entries = history.data?.entries ?? [];
  const file = props.fromPage ?? entries.find((e) => e.runId === props.runId)?.result ?? entries[0]?.result;

  async function retry() {
    setError(undefined);
    try {
      const { runId } = await api.startRun({ env, options: { retry: { keys: [fileKey] } } });
      expectRun(runId, env);
      go('run');
    } catch (e) {
      setError(e);
    }
  }

  const action = actionForCode(file?.code);
  const doAction = () => {
    if (action === 'import-key') go('keys');
    else if (action === 'edit-environment' || action === 'set-secret') go('environments', 'edit', env);
    else if (action === 'check-connection') go('environments');
    else void retry();
  };

  return (
    <aside className="drawer" aria-labelledby="file-detail-title">
      <header className="drawer-head">
        <h2 id="file-detail-title" tabIndex={-1} ref={heading} className="wrap">
          {fileName(fileKey)}
        </h2>
        <button type="button" className="button" onClick={onClose} aria-label="Close the file detail">
          Close
        </button>
      </header>
      <p className="muted wrap small mono">{fileKey}</p>
      {!file ? (
        history.error !== undefined ? (
          <ErrorNote error={history.error} />
        ) : (
          <Loading what="the file" />
        )
      ) : (
        <>
          <div className="detail-line">
            <Pill status={file.status} />
            <span>{file.kind}</span>
            {file.courseKey && <span>{file.courseKey}</span>}
            {file.table && <code className="code">{file.table}</code>}
            {file.snapshotDate && <span className="muted">snapshot {file.snapshotDate}</span>}
          </div>
          {(file.reason || file.code) && (
            <div className={`note ${file.status === 'failed' ? 'note-bad' : 'note-warn'}`}>
              {file.reason && <p className="note-message">{file.reason}</p>}
              {hintForFile(file.code, file.hint) && <p className="note-hint">{hintForFile(file.code, file.hint)}</p>}
              <div className="note-foot">
                {file.code && <code className="code">{file.code}</code>}
                {file.stage && <span className="muted">at the {file.stage} stage</span>}
                {action !== 'none' && (
                  <button type="button" className="button button-primary" onClick={doAction}>
                    {ACTION_LABELS[action]}
                  </button>
                )}
                {action !== 'retry-file' && (
                  <button type="button" className="button" onClick={retry}>
                    Retry this file
                  </button>
                )}
                {file.code && (
                  <button type="button" className="button" onClick={() => props.onRetryCode(file.code!)}>
                    Retry every file flagged {file.code}
                  </button>
                )}
              </div>
            </div>
          )}
          {error !== undefined && <ErrorNote error={error} compact />}
          <Stats
            items={[
              ['Read', count(file.counts.read)],
              ['Loaded', count(file.counts.loaded)],
              ['Rejected', count(file.counts.rejected)],
              ['Already present', count(file.counts.duplicates)],
              ['Size', bytes(file.counts.bytes)],
              ['Took', duration(file.durationMs)],
            ]}
          />
          {!countsAddUp(file) && (
            <p className="note note-bad" role="alert">
              The counts do not add up: {count(file.counts.read)} read, but {count(file.counts.loaded)} loaded + {count(file.counts.rejected)} rejected + {count(file.counts.duplicates)} already present.
            </p>
          )}
          {file.warnings.length > 0 && (
            <>
              <h3 className="section-title">Warnings</h3>
              <ul className="warnings">
                {file.warnings.map((w, i) => (
                  <li key={i}>
                    <code className="code">{w.code}</code> {w.message}
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
      <h3 className="section-title">Rejected lines</h3>
      {lines.error !== undefined ? (
        <ErrorNote error={lines.error} compact />
      ) : !lines.data ? (
        <Loading what="rejected lines" />
      ) : lines.data.total === 0 ? (
        <p className="muted">No line of this file was rejected.</p>
      ) : (
        <>
          <ol className="rejected">
            {lines.data.lines.map((l) => (
              <li key={l.line}>
                <div className="rejected-head">
                  <span className="rejected-line">line {count(l.line)}</span>
                  <code className="code">{l.code}</code>
                  <span>{l.reason}</span>
                </div>
                <pre className="rejected-text">{l.text}</pre>
              </li>
            ))}
          </ol>
          <Pager offset={lineOffset} limit={LINES} total={lines.data.total} onChange={setLineOffset} what="rejected lines" />
        </>
      )}
      <h3 className="section-title">History</h3>
      <CallView call={history} what="the history" compact>
        {() => (
          <DataTable
            wrap={false}
            columns={[
              { header: 'Run started', cell: (e) => <Time iso={e.startedAt} /> },
              { header: 'Status', cell: (e) => <Pill status={e.result.status} /> },
              { header: 'Loaded', num: true, cell: (e) => count(e.result.counts.loaded) },
              { header: 'Rejected', num: true, cell: (e) => count(e.result.counts.rejected) },
              { header: 'Code', cell: (e) => (e.result.code ? <code className="code">{e.result.code}</code> : '') },
            ]}
            rows={entries}
            rowKey={(e) => e.runId}
            rowClass={(e) => (e.runId === props.runId ? 'row-open' : undefined)}
          />
        )}
      </CallView>
    </aside>
  );
}
