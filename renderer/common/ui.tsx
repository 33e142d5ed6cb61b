/**
 * Small pieces every screen uses: times with UTC on hover, status pills that say their status in
 * words (never colour alone), errors as sentences with their action button, empty states that say
 * what to do next, and a pager for lists served page by page.
 */
import { useId, type ReactNode } from 'react';
import { ContractError, type ErrorAction } from '../../core/contract/methods.js';
import { ACTION_LABELS } from './actions.js';
import { useApp } from './app-context.js';
import { count, localTime, utcTime } from './format.js';
import type { Call } from './use-call.js';

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={utcTime(iso)}>
      {localTime(iso)}
    </time>
  );
}

const PILL_TONES: Record<string, string> = {
  loaded: 'ok',
  succeeded: 'ok',
  set: 'ok',
  yes: 'ok',
  partial: 'warn',
  flagged: 'warn',
  skipped: 'neutral',
  cancelled: 'neutral',
  running: 'info',
  failed: 'bad',
  'not set': 'bad',
  no: 'neutral',
};

/** A status in words with a tone; the text is the status, colour only repeats it. */
export function Pill({ status, label, tone }: { status: string; label?: string; tone?: string }) {
  const t = tone ?? PILL_TONES[status] ?? 'neutral';
  return (
    <span className={`pill pill-${t}`}>
      <span className="pill-dot" aria-hidden="true" />
      {label ?? status}
    </span>
  );
}

/** Any thrown value as a ContractError-like shape. */
export function asError(error: unknown): { code: string; message: string; hint?: string; action: ErrorAction; field?: string } {
  if (error instanceof ContractError) return { code: error.code, message: error.message, hint: error.hint, action: error.action, field: error.field };
  if (error instanceof Error) return { code: 'ERROR', message: error.message, action: 'none' };
  if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
    // Error data that crossed as an object (a run's error, a file's outcome).
    const e = error as { code?: string; message: string; hint?: string; action?: ErrorAction; field?: string };
    return { code: e.code ?? 'ERROR', message: e.message, hint: e.hint, action: e.action ?? 'none', field: e.field };
  }
  return { code: 'ERROR', message: String(error), action: 'none' };
}

/** An error as sentences, with its action as a button (or `onAction` for actions the screen handles, such as retry-file). */
export function ErrorNote({ error, onAction, compact }: { error: unknown; onAction?: (action: ErrorAction) => void; compact?: boolean }) {
  const { go, env } = useApp();
  const e = asError(error);
  const run = (action: ErrorAction) => {
    if (onAction) return onAction(action);
    if (action === 'import-key') go('keys');
    else if (action === 'edit-environment' || action === 'set-secret') go('environments', 'edit', env ?? '');
    else if (action === 'check-connection') go('environments');
    else if (action === 'start-run') go('run');
    else if (action === 'reload') window.location.reload();
  };
  const showAction = e.action !== 'none' && (onAction || e.action !== 'retry-file');
  return (
    <div className={`note note-bad${compact ? ' note-compact' : ''}`} role="alert">
      <p className="note-message">{e.message}</p>
      {e.hint && <p className="note-hint">{e.hint}</p>}
      <div className="note-foot">
        <code className="code">{e.code}</code>
        {showAction && (
          <button type="button" className="button" onClick={() => run(e.action)}>
            {ACTION_LABELS[e.action]}
          </button>
        )}
      </div>
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children && <div className="empty-body">{children}</div>}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status">
      Loading {what}…
    </p>
  );
}

/** Previous / next over a server-paged list; says which rows are shown of how many. */
export function Pager({ offset, limit, total, onChange, what }: { offset: number; limit: number; total: number; onChange: (offset: number) => void; what: string }) {
  // "1 file", "1 rejected line": the `what` given is plural.
  if (total <= limit && offset === 0) return <p className="pager-info">{`${count(total)} ${total === 1 ? what.replace(/s$/, '') : what}`}</p>;
  const last = Math.max(0, Math.floor((total - 1) / limit) * limit);
  return (
    <nav className="pager" aria-label={`Pages of ${what}`}>
      <button type="button" className="button" disabled={offset === 0} onClick={() => onChange(0)}>
        First
      </button>
      <button type="button" className="button" disabled={offset === 0} onClick={() => onChange(Math.max(0, offset - limit))}>
        Previous
      </button>
      <span className="pager-info">
        {count(Math.min(total, offset + 1))}–{count(Math.min(total, offset + limit))} of {count(total)} {what}
      </span>
      <button type="button" className="button" disabled={offset + limit >= total} onClick={() => onChange(offset + limit)}>
        Next
      </button>
      <button type="button" className="button" disabled={offset >= last} onClick={() => onChange(last)}>
        Last
      </button>
    </nav>
  );
}

/** A labelled form control with its error beside it (linked by aria-describedby). */
export function Field({ label, error, help, children, wide }: { label: string; error?: string; help?: string; wide?: boolean; children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ReactNode }) {
  const id = useId();
  const described = [error ? `${id}-error` : '', help ? `${id}-help` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${error ? ' field-invalid' : ''}${wide ? ' field-wide' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': Boolean(error), 'aria-describedby': described })}
      {help && !error && (
        <p className="field-help" id={`${id}-help`}>
          {help}
        </p>
      )}
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

export function ScreenHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="screen-header">
      <h1>{title}</h1>
      {children && <div className="screen-actions">{children}</div>}
    </header>
  );
}

/** Says so when no environment is configured or picked, instead of an empty screen. */
export function NeedEnvironment() {
  const { go } = useApp();
  return (
    <Empty title="No environment yet">
      <p>An environment says where edX delivers your data (S3 buckets), which key decrypts it and where it is loaded.</p>
      <button type="button" className="button button-primary" onClick={() => go('environments', 'new')}>
        Create an environment
      </button>
    </Empty>
  );
}

/** A call's outcome: its error with the action button, "Loading…" until it answers, then `children` with the data. */
export function CallView<T>({ call, what, compact, children }: { call: Call<T>; what: string; compact?: boolean; children: (data: T) => ReactNode }) {
  if (call.error !== undefined) return <ErrorNote error={call.error} compact={compact} />;
  if (call.data === undefined) return <Loading what={what} />;
  return <>{children(call.data)}</>;
}

/** Figures in a row of tiles: each a label over its value. */
export function Stats({ items, className }: { items: readonly (readonly [label: string, value: ReactNode])[]; className?: string }) {
  return (
    <dl className={className ? `stats ${className}` : 'stats'}>
      {items.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A labelled select over `options` (value, label); `any` adds a first option with the empty value. */
export function SelectField<V extends string>({ label, value, options, onChange, any, name }: { label: string; value: V | ''; options: readonly (readonly [value: V, label: string])[]; onChange: (value: V | '') => void; any?: string; name?: string }) {
  return (
    <Field label={label}>
      {(p) => (
        <select {...p} name={name} value={value} onChange={(e) => onChange(e.target.value as V | '')}>
          {any !== undefined && <option value="">{any}</option>}
          {options.map(([v, text]) => (
            <option key={v} value={v}>
              {text}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** Reads a call again (the lists that others change: runs, files needing attention, the audit log). */
export function RefreshButton({ call }: { call: { reload(): void } }) {
  return (
    <button type="button" className="button" onClick={call.reload}>
      Refresh
    </button>
  );
}
