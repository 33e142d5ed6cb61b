/**
 * Start a run (everything, weekly packages only, event logs only, a date range), or show what a run
 * would do (a dry run: the plan as a table), and watch runs live: files done of planned, the file
 * in hand with its stage, bytes and rows, the rate; cancel.
 */
import { useState, type FormEvent } from 'react';
import type { RunOptionsArg, ResultOf } from '../../core/contract/methods.js';
import { api } from '../api/client.js';
import { expectRun, markCancelling, useLiveRuns, type LiveRun } from '../api/run-events.js';
import { href, useApp } from '../common/app-context.js';
import { DataTable, fileColumn, type Column } from '../common/data-table.js';
import { between, bytes, count, duration, fileName, plural } from '../common/format.js';
import { Empty, ErrorNote, Field, NeedEnvironment, Pill, ScreenHeader, Time } from '../common/ui.js';

type Scope = 'all' | 'weekly' | 'events';
const PLAN_ROWS = 200;

export function RunScreen() {
  const { env } = useApp();
  const live = useLiveRuns();
  const [scope, setScope] = useState<Scope>('all');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [plan, setPlan] = useState<ResultOf<'planRun'> | null>(null);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState<'plan' | 'start' | null>(null);

  if (!env) return <NeedEnvironment />;

  const options = (): RunOptionsArg => ({ ...(scope === 'all' ? {} : { only: scope }), ...(from ? { from } : {}), ...(to ? { to } : {}) });

  async function showPlan() {
    setBusy('plan');
    setError(undefined);
    try {
      setPlan(await api.planRun({ env: env!, options: { ...options(), dryRun: true } }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  }

  async function start(event: FormEvent) {
    event.preventDefault();
    setBusy('start');
    setError(undefined);
    try {
      const { runId } = await api.startRun({ env: env!, options: options() });
      expectRun(runId, env!);
      setPlan(null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  }

  const runs = Object.values(live.runs)
    .filter((r) => r.env === env)
    .sort((a, b) => (a.finished ? 1 : 0) - (b.finished ? 1 : 0) || b.startedAt.localeCompare(a.startedAt));
  return (
    <section>
      <ScreenHeader title={`Run · ${env}`} />
      <form className="card form run-form" onSubmit={start} aria-label="Run options">
        <fieldset className="segmented" aria-label="What to fetch">
          <legend className="visually-hidden">What to fetch</legend>
          {(
            [
              ['all', 'Everything'],
              ['weekly', 'Weekly packages'],
              ['events', 'Daily event logs'],
            ] as const
          ).map(([value, label]) => (
            <label key={value} className="segmented-option">
              <input type="radio" name="scope" value={value} checked={scope === value} onChange={() => setScope(value)} />
              {label}
            </label>
          ))}
        </fieldset>
        <div className="form-row">
          <Field label="From (file date)">{(p) => <input {...p} type="date" value={from} onChange={(e) => setFrom(e.target.value)} />}</Field>
          <Field label="To (file date)">{(p) => <input {...p} type="date" value={to} onChange={(e) => setTo(e.target.value)} />}</Field>
          <div className="form-actions">
            <button type="button" className="button" onClick={showPlan} disabled={busy !== null}>
              {busy === 'plan' ? 'Planning…' : 'Dry run: show the plan'}
            </button>
            <button type="submit" className="button button-primary" disabled={busy !== null}>
              {busy === 'start' ? 'Starting…' : 'Start run'}
            </button>
          </div>
        </div>
        {error !== undefined && <ErrorNote error={error} />}
      </form>

      {plan && <PlanTable plan={plan} />}

      <h2 className="section-title">Live</h2>
      {!live.connected && <p className="note note-warn">Waiting for the live event stream from pds serve…</p>}
      {runs.length === 0 ? (
        <Empty title="No run in progress">
          <p>Start a run above. Runs started from the command line or by the scheduler on this machine show here too.</p>
        </Empty>
      ) : (
        runs.map((r) => <LiveRunView key={r.runId} run={r} />)
      )}
    </section>
  );
}

const PLAN_COLUMNS: Column<ResultOf<'planRun'>['planned'][number]>[] = [
  fileColumn((p) => p.key),
  { header: 'Kind', cell: (p) => p.kind },
  { header: 'Size', num: true, cell: (p) => bytes(p.size) },
  { header: 'Why', cell: (p) => p.why },
  { header: 'Location', className: 'muted wrap', cell: (p) => p.location },
];

const RECENT_COLUMNS: Column<LiveRun['recent'][number]>[] = [
  { header: 'Status', cell: (f) => <Pill status={f.status} /> },
  fileColumn((f) => f.key),
  { header: 'Loaded', num: true, cell: (f) => count(f.counts.loaded) },
  { header: 'Rejected', num: true, cell: (f) => count(f.counts.rejected) },
  { header: 'Reason', className: 'reason-cell', cell: (f) => f.reason ?? '' },
];

function PlanTable({ plan }: { plan: ResultOf<'planRun'> }) {
  const total = plan.planned.reduce((n, p) => n + p.size, 0);
  return (
    <section className="card" aria-label="Plan">
      <h2 className="section-title">
        Plan: {plural(plan.planned.length, 'file')} to fetch ({bytes(total)}), {count(plan.upToDate)} up to date
      </h2>
      {plan.planned.length === 0 ? (
        <p>Nothing to do: every file in the source is already loaded.</p>
      ) : (
        <DataTable wrap="table-wrap table-wrap-short" columns={PLAN_COLUMNS} rows={plan.planned.slice(0, PLAN_ROWS)} rowKey={(p) => p.key} />
      )}
      {plan.planned.length > PLAN_ROWS && <p className="muted">…and {count(plan.planned.length - PLAN_ROWS)} more files.</p>}
    </section>
  );
}

function LiveRunView({ run }: { run: LiveRun }) {
  const [error, setError] = useState<unknown>();
  const elapsed = between(run.startedAt, run.finished?.finishedAt ?? run.lastTime) ?? 0;
  const seconds = Math.max(elapsed / 1000, 0.001);
  const status = run.finished?.status ?? 'running';

  async function cancel() {
    setError(undefined);
    try {
      markCancelling(run.runId);
      await api.cancelRun({ env: run.env, runId: run.runId });
    } catch (e) {
      setError(e);
    }
  }

  return (
    <article className="card live-card" aria-label={`Run ${run.runId}`}>
      <header className="card-head">
        <h3>
          Run <code className="mono">{run.runId}</code>
        </h3>
        <Pill status={run.cancelling && !run.finished ? 'running' : status} label={run.cancelling && !run.finished ? 'cancelling' : status} />
        <span className="muted">
          started <Time iso={run.startedAt} /> by {run.origin}
        </span>
        <span className="spacer" />
        {!run.finished ? (
          <button type="button" className="button button-danger" onClick={cancel} disabled={run.cancelling}>
            {run.cancelling ? 'Cancelling…' : 'Cancel run'}
          </button>
        ) : (
          <a className="button" href={href('report', run.runId)}>
            Open the report
          </a>
        )}
      </header>
      {error !== undefined && <ErrorNote error={error} compact />}
      <div className="progress-row">
        <label htmlFor={`progress-${run.runId}`} className="progress-label">
          {run.planned == null ? 'Planning…' : `${count(run.done)} of ${count(run.planned)} files done`}
        </label>
        <progress id={`progress-${run.runId}`} max={run.planned ?? 1} value={run.planned == null ? undefined : run.done} />
      </div>
      <dl className="stats">
        <div>
          <dt>Bytes</dt>
          <dd>
            {bytes(run.bytesDone)}
            {run.plannedBytes > 0 && <span className="muted"> of {bytes(run.plannedBytes)}</span>}
          </dd>
        </div>
        <div>
          <dt>Rows loaded</dt>
          <dd>{count(run.rowsLoaded)}</dd>
        </div>
        <div>
          <dt>Rate</dt>
          <dd>
            {bytes(run.bytesDone / seconds)}/s · {(run.done / (seconds / 60)).toFixed(1)} files/min
          </dd>
        </div>
        <div>
          <dt>Elapsed</dt>
          <dd>{duration(elapsed)}</dd>
        </div>
        <div>
          <dt>Outcomes</dt>
          <dd className="pills">
            {Object.keys(run.byStatus).length === 0 ? <span className="muted">none yet</span> : Object.entries(run.byStatus).map(([s, n]) => <Pill key={s} status={s} label={`${count(n)} ${s}`} />)}
          </dd>
        </div>
      </dl>
      {run.current && (
        <p className="current" aria-live="polite">
          <span className="muted">Now: </span>
          <span className="file-cell" title={run.current.key}>
            {fileName(run.current.key)}
          </span>{' '}
          — {run.current.stage}
          {run.current.bytes != null && `, ${bytes(run.current.bytes)}`}
          {run.current.size ? ` of ${bytes(run.current.size)}` : ''}
          {run.current.rows != null && `, ${count(run.current.rows)} rows`}
        </p>
      )}
      {run.finished?.error && run.finished.status !== 'cancelled' && <ErrorNote error={{ ...run.finished.error, action: 'none' }} compact />}
      {run.notices.length > 0 && (
        <ul className="notices">
          {run.notices.map((n, i) => (
            <li key={i} className={n.level === 'warning' ? 'text-warn' : undefined}>
              {n.level === 'warning' ? 'Warning: ' : ''}
              {n.message}
            </li>
          ))}
        </ul>
      )}
      {run.recent.length > 0 && (
        <DataTable wrap="table-wrap table-wrap-short" caption="Files finished most recently" columns={RECENT_COLUMNS} rows={run.recent} rowKey={(f) => f.key} />
      )}
    </article>
  );
}
