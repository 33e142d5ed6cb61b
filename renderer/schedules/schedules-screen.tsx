/**
 * The environment's schedules (README "Unattended operation"): each schedule with its next run
 * times in its own time zone (UTC in the title), its last slot and what became of it, turned on or
 * off in place; a form adding or replacing a schedule, whose next run times are shown before it is
 * saved; and whether the scheduler is alive (its last heartbeat).
 */
import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api/client.js';
import { useApp } from '../common/app-context.js';
import { useCall } from '../common/use-call.js';
import { Empty, ErrorNote, Field, Loading, NeedEnvironment, Pill, ScreenHeader, Time } from '../common/ui.js';

type Load = 'events' | 'weekly' | 'both';

const LOAD_LABELS: Record<Load, string> = { events: 'daily event logs', weekly: 'weekly package', both: 'event logs and weekly package' };
const SCHEDULER_TONES: Record<string, string> = { alive: 'good', stale: 'bad', stopped: 'warn', never: 'warn' };
const SLOT_TONES: Record<string, string> = { started: 'good', 'caught-up': 'good', skipped: 'warn', missed: 'warn', failed: 'bad' };

interface Draft {
  name: string;
  cron: string;
  timezone: string;
  load: Load;
  courses: string;
  enabled: boolean;
}

const EMPTY: Draft = { name: '', cron: '30 2 * * *', timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC', load: 'events', courses: '', enabled: true };

export function SchedulesScreen() {
  const { env } = useApp();
  const list = useCall(() => api.listSchedules({ env: env! }), [env], env !== null);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [preview, setPreview] = useState<{ utc: string; local: string }[] | null>(null);
  const [previewError, setPreviewError] = useState<unknown>();
  const [saveError, setSaveError] = useState<unknown>();
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [toggleError, setToggleError] = useState<unknown>();

  // The next run times of the expression being typed, checked by the engine (croner, the zone's rules).
  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      api.nextRuns({ cron: draft.cron, timezone: draft.timezone, count: 5 }).then(
        (times) => {
          if (!current) return;
          setPreview(times);
          setPreviewError(undefined);
        },
        (e: unknown) => {
          if (!current) return;
          setPreview(null);
          setPreviewError(e);
        },
      );
    }, 300);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [draft.cron, draft.timezone]);

  if (!env) return <NeedEnvironment />;

  async function save(event: FormEvent) {
    event.preventDefault();
    setSaveError(undefined);
    setSaved(null);
    if (!list.data) return;
    setBusy(true);
    try {
      const courses = draft.courses.split(/[\s,]+/).filter(Boolean);
      const view = await api.saveSchedule({
        env: env!,
        revision: list.data.revision,
        schedule: { name: draft.name.trim(), cron: draft.cron.trim(), timezone: draft.timezone.trim(), load: draft.load, enabled: draft.enabled, ...(courses.length ? { courses } : {}) },
      });
      setSaved(`Saved schedule ${view.name}; next run ${view.nextRuns[0]?.local ?? '—'}.`);
      setDraft(EMPTY);
      list.reload();
    } catch (e) {
      setSaveError(e);
    } finally {
      setBusy(false);
    }
  }

  async function toggle(name: string, enabled: boolean) {
    setToggleError(undefined);
    try {
      await api.setScheduleEnabled({ env: env!, name, enabled });
      list.reload();
    } catch (e) {
      setToggleError(e);
    }
  }

  const scheduler = list.data?.scheduler;
  return (
    <section>
      <ScreenHeader title={`Schedules · ${env}`}>
        {scheduler && (
          <span title={scheduler.detail}>
            Scheduler <Pill status={scheduler.state} tone={SCHEDULER_TONES[scheduler.state]} />
          </span>
        )}
      </ScreenHeader>
      {scheduler && scheduler.state !== 'alive' && (list.data?.schedules ?? []).some((s) => s.enabled) && (
        <p className={`note ${scheduler.state === 'stale' ? 'note-bad' : 'note-warn'}`} role="alert">
          {scheduler.detail} Scheduled loads run only while the scheduler service runs on the server (docs/unattended.md says how to start it).
        </p>
      )}
      <div className="two-col">
        <div>
          <h2 className="section-title">Schedules</h2>
          {toggleError !== undefined && <ErrorNote error={toggleError} />}
          {list.error !== undefined ? (
            <ErrorNote error={list.error} />
          ) : !list.data ? (
            <Loading what="schedules" />
          ) : list.data.schedules.length === 0 ? (
            <Empty title="No schedule">
              <p>Loads of this environment run only when started by hand. Add a schedule so the nightly event logs and the weekly package load on their own.</p>
            </Empty>
          ) : (
            <ul className="key-list">
              {list.data.schedules.map((s) => (
                <li key={s.name} className="card key-card">
                  <div className="card-head">
                    <h3 className="key-user">{s.name}</h3>
                    <Pill status={s.enabled ? 'enabled' : 'disabled'} tone={s.enabled ? 'good' : 'neutral'} />
                  </div>
                  <dl className="facts">
                    <dt>When</dt>
                    <dd>
                      <code className="mono">{s.cron}</code> in {s.timezone}
                    </dd>
                    <dt>Loads</dt>
                    <dd>{LOAD_LABELS[s.load]}{s.courses?.length ? ` (courses ${s.courses.join(', ')})` : ''}</dd>
                    <dt>Next runs</dt>
                    <dd>
                      {s.enabled ? (
                        s.nextRuns.map((r, i) => (
                          <span key={r.utc} title={`${r.utc.replace('.000Z', 'Z')} UTC`}>
                            {i > 0 && <br />}
                            {r.local}
                          </span>
                        ))
                      ) : (
                        <span className="muted">none while disabled</span>
                      )}
                    </dd>
                    <dt>Last slot</dt>
                    <dd>
                      {s.lastSlot ? (
                        <>
                          <Time iso={s.lastSlot.at} /> <Pill status={s.lastSlot.outcome} tone={SLOT_TONES[s.lastSlot.outcome]} />
                          {s.lastSlot.detail && <span className="muted"> {s.lastSlot.detail}</span>}
                        </>
                      ) : (
                        <span className="muted">not run yet</span>
                      )}
                    </dd>
                  </dl>
                  <div className="card-actions">
                    <button type="button" className="button" onClick={() => toggle(s.name, !s.enabled)} aria-label={`${s.enabled ? 'Disable' : 'Enable'} the schedule ${s.name}`}>
                      {s.enabled ? 'Disable' : 'Enable'}
                    </button>
                    <button type="button" className="button" onClick={() => setDraft({ name: s.name, cron: s.cron, timezone: s.timezone, load: s.load, courses: (s.courses ?? []).join(', '), enabled: s.enabled })}>
                      Edit…
                    </button>
                  </div>
                </li>
              ))}
            </ul>
          )}
        </div>
        <form className="card form" onSubmit={save} aria-label="Add or change a schedule">
          <h2 className="section-title">Add or change a schedule</h2>
          <Field label="Name" help="A short lower-case word; saving under an existing name replaces that schedule.">
            {(p) => <input {...p} value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} placeholder="nightly" />}
          </Field>
          <Field label="When (cron)" help="minute hour day-of-month month day-of-week, e.g. 30 2 * * * for 02:30 every day, 0 7 * * 1 for Mondays 07:00.">
            {(p) => <input {...p} className="mono" value={draft.cron} onChange={(e) => setDraft({ ...draft, cron: e.target.value })} />}
          </Field>
          <Field label="Time zone" help="An IANA zone such as Europe/London; the time stays local across daylight saving.">
            {(p) => <input {...p} value={draft.timezone} onChange={(e) => setDraft({ ...draft, timezone: e.target.value })} />}
          </Field>
          <Field label="Loads">
            {(p) => (
              <select {...p} value={draft.load} onChange={(e) => setDraft({ ...draft, load: e.target.value as Load })}>
                <option value="events">Daily event logs</option>
                <option value="weekly">Weekly package</option>
                <option value="both">Both</option>
              </select>
            )}
          </Field>
          <Field label="Courses (optional)" help="Course key patterns, comma-separated (MITx-6.86x-*); empty: every course the environment loads.">
            {(p) => <input {...p} value={draft.courses} onChange={(e) => setDraft({ ...draft, courses: e.target.value })} />}
          </Field>
          <div className="field field-check">
            <label>
              <input type="checkbox" checked={draft.enabled} onChange={(e) => setDraft({ ...draft, enabled: e.target.checked })} />
              Enabled
            </label>
          </div>
          <div aria-live="polite">
            {previewError !== undefined ? (
              <ErrorNote error={previewError} compact />
            ) : preview ? (
              <p className="muted">Next runs: {preview.map((r) => r.local).join(' · ')}</p>
            ) : null}
          </div>
          {saveError !== undefined && <ErrorNote error={saveError} />}
          {saved && (
            <p className="note note-ok" role="status">
              {saved}
            </p>
          )}
          <div className="form-actions">
            <button type="submit" className="button button-primary" disabled={busy || !draft.name.trim() || previewError !== undefined}>
              {busy ? 'Saving…' : 'Save schedule'}
            </button>
          </div>
        </form>
      </div>
    </section>
  );
}
