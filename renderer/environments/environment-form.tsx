/**
 * Create or edit an environment. The draft is checked by the server's own schema
 * (`validateEnvironment`) before saving, and each problem is shown beside its field. Secrets are
 * write-only: the form says whether each is set and sends a new value only when one is typed.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { ContractError, envName, type SecretField } from '../../core/contract/methods.js';
import { api } from '../api/client.js';
import { useApp } from '../common/app-context.js';
import { ErrorNote, Field, Loading, Pill, ScreenHeader, SelectField } from '../common/ui.js';
import { draftFromSettings, EMPTY_DRAFT, FIELD_LABELS, FIELD_PATHS, secretFieldsFor, settingsFromDraft, type Draft } from './settings-draft.js';

type Issues = Record<string, string>;

/** The two store pickers: where the tables and where the events are loaded. */
const STORE_CHOICES = [
  {
    name: 'relationalType',
    label: 'Tables (relational)',
    options: [
      ['sqlite', 'SQLite file on this machine'],
      ['mariadb', 'MariaDB server'],
    ],
  },
  {
    name: 'eventsType',
    label: 'Events',
    options: [
      ['sqlite', 'SQLite file on this machine'],
      ['mongodb', 'MongoDB server'],
    ],
  },
] as const;

export function EnvironmentForm({ name }: { name?: string }) {
  const { go, refreshEnvironments, setEnv } = useApp();
  const creating = name === undefined;
  const [newName, setNewName] = useState('');
  const [draft, setDraft] = useState<Draft>(EMPTY_DRAFT);
  const [base, setBase] = useState<Record<string, unknown>>({});
  const [revision, setRevision] = useState<string>('');
  const [secretState, setSecretState] = useState<Partial<Record<SecretField, 'set' | 'not set'>>>({});
  const [secrets, setSecrets] = useState<Partial<Record<SecretField, string>>>({});
  const [issues, setIssues] = useState<Issues>({});
  const [otherIssues, setOtherIssues] = useState<string[]>([]);
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(!creating);
  const [saving, setSaving] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);

  useEffect(() => {
    if (creating) return;
    setLoading(true);
    api.getEnvironment({ env: name }).then(
      (view) => {
        setBase(view.settings);
        setDraft(draftFromSettings(view.settings));
        setRevision(view.revision);
        setSecretState(Object.fromEntries(view.secrets.map((s) => [s.field, s.state])));
        setLoading(false);
      },
      (e: unknown) => {
        setError(e);
        setLoading(false);
      },
    );
  }, [creating, name]);

  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const text = (key: keyof Draft, label: string, opts: { help?: string; placeholder?: string; required?: boolean; inputMode?: 'numeric'; wide?: boolean } = {}) => (
    <Field label={label} error={issues[FIELD_PATHS[key] ?? key]} help={opts.help} wide={opts.wide}>
      {(p) => (
        <input {...p} type="text" name={key} value={String(draft[key])} placeholder={opts.placeholder} required={opts.required} inputMode={opts.inputMode} autoComplete="off" spellCheck={false} onChange={(e) => set(key, e.target.value as never)} />
      )}
    </Field>
  );
  const secretInputs = secretFieldsFor(draft);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    const env = creating ? newName.trim() : name;
    const found: Issues = {};
    if (creating) {
      const checked = envName.safeParse(env);
      if (!checked.success) found.name = checked.error.issues[0]?.message ?? 'not a valid name';
    }
    const settings = settingsFromDraft(draft, base);
    setSaving(true);
    try {
      const other: string[] = [];
      if (!found.name) {
        const result = await api.validateEnvironment({ env, settings });
        const known = new Set(Object.values(FIELD_PATHS));
        for (const issue of result.issues) {
          const path = issue.path.replace(/^environments\.[^.]+\./, '');
          // A secret typed in this form, or set already, is referenced when the form saves.
          const secret = path as SecretField;
          if (secretInputs.some((s) => s.field === secret) && (secrets[secret] || secretState[secret] === 'set')) continue;
          const sentence = `${issue.message}${issue.example ? ` (for example ${issue.example})` : ''}`;
          if (known.has(path)) found[path] = found[path] ?? sentence;
          else if (secretInputs.some((s) => s.field === path)) found[path] = found[path] ?? sentence;
          else other.push(`${path || 'environment'}: ${sentence}`);
        }
      }
      setIssues(found);
      setOtherIssues(other);
      if (Object.keys(found).length > 0 || other.length > 0) return;
      const view = creating ? await api.createEnvironment({ env, settings }) : await api.updateEnvironment({ env, revision, settings });
      setRevision(view.revision);
      for (const s of secretInputs) {
        const value = secrets[s.field];
        if (value) await api.setSecret({ env, field: s.field, value });
      }
      setSecrets({});
      refreshEnvironments();
      setEnv(env);
      go('environments');
    } catch (e) {
      if (e instanceof ContractError && e.field) {
        setIssues({ ...found, [e.field.replace(/^environments\.[^.]+\./, '')]: e.message });
      }
      setError(e);
    } finally {
      setSaving(false);
    }
  }

  async function remove() {
    try {
      await api.deleteEnvironment({ env: name!, revision });
      refreshEnvironments();
      go('environments');
    } catch (e) {
      setError(e);
    }
  }

  if (loading) return <Loading what="the environment" />;
  const issueCount = Object.keys(issues).length + otherIssues.length;
  return (
    <form className="form" onSubmit={submit} noValidate aria-label={creating ? 'New environment' : `Edit ${name}`}>
      <ScreenHeader title={creating ? 'New environment' : `Edit ${name}`}>
        <button type="button" className="button" onClick={() => go('environments')}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={saving}>
          {saving ? 'Saving…' : creating ? 'Create environment' : 'Save changes'}
        </button>
      </ScreenHeader>
      {issueCount > 0 && (
        <div className="note note-bad" role="alert">
          <p className="note-message">{issueCount === 1 ? 'One setting needs attention before saving.' : `${issueCount} settings need attention before saving.`}</p>
          <ul className="note-list">
            {Object.entries(issues).map(([path, message]) => (
              <li key={path}>
                {FIELD_LABELS[path] ?? path}: {message}
              </li>
            ))}
            {otherIssues.map((i) => (
              <li key={i}>{i}</li>
            ))}
          </ul>
        </div>
      )}
      {error !== undefined && <ErrorNote error={error} />}

      <fieldset className="form-section">
        <legend>Environment</legend>
        <div className="form-grid">
          {creating ? (
            <Field label="Name" error={issues.name} help="A lower-case word such as dev, test or live.">
              {(p) => <input {...p} type="text" name="name" value={newName} required autoComplete="off" spellCheck={false} onChange={(e) => setNewName(e.target.value)} />}
            </Field>
          ) : null}
          {text('description', 'Description', { placeholder: 'Live data for the research team', wide: true })}
        </div>
      </fieldset>

      <fieldset className="form-section">
        <legend>Source: where edX delivers</legend>
        <div className="segmented" role="radiogroup" aria-label="Source type">
          {(['s3', 'local'] as const).map((t) => (
            <label key={t} className="segmented-option">
              <input type="radio" name="sourceType" value={t} checked={draft.sourceType === t} onChange={() => set('sourceType', t)} />
              {t === 's3' ? 'S3 buckets' : 'A local folder'}
            </label>
          ))}
        </div>
        {draft.sourceType === 's3' ? (
          <div className="form-grid">
            {text('org', 'edX organisation', { placeholder: 'MITx', help: 'As edX spells it in file names.' })}
            {text('region', 'Region')}
            {text('endpoint', 'Endpoint', { placeholder: 'leave empty for AWS', help: 'Only for S3-compatible servers such as MinIO.' })}
            <div className="field field-check">
              <label>
                <input type="checkbox" name="forcePathStyle" checked={draft.forcePathStyle} onChange={(e) => set('forcePathStyle', e.target.checked)} />
                Path-style addressing (MinIO)
              </label>
            </div>
            {text('weeklyBucket', 'Weekly packages bucket')}
            {text('weeklyPrefix', 'Weekly packages prefix', { placeholder: 'none' })}
            {text('eventsBucket', 'Daily event logs bucket', { help: 'Leave empty if you receive no event logs.' })}
            {text('eventsPrefix', 'Daily event logs prefix', { placeholder: 'mitx/' })}
          </div>
        ) : (
          <div className="form-grid">{text('localPath', 'Folder', { placeholder: '/data/edx', help: 'A folder laid out like the S3 buckets, or holding the files directly.', wide: true })}</div>
        )}
      </fieldset>

      <fieldset className="form-section">
        <legend>Targets: where the data is loaded</legend>
        <div className="form-grid">
          {STORE_CHOICES.map((c) => (
            <SelectField key={c.name} label={c.label} name={c.name} value={draft[c.name]} options={c.options} onChange={(v) => set(c.name, v || 'sqlite')} />
          ))}
          {draft.relationalType === 'sqlite' && text('sqlitePath', 'SQLite file', { placeholder: 'data.sqlite', help: 'Relative paths are inside the environment’s folder.' })}
          {draft.relationalType === 'mariadb' && (
            <>
              {text('dbHost', 'MariaDB host', { placeholder: '127.0.0.1' })}
              {text('dbPort', 'MariaDB port', { placeholder: '3306', inputMode: 'numeric' })}
              {text('dbUser', 'MariaDB user', { placeholder: 'pds' })}
              {text('dbName', 'MariaDB database', { placeholder: 'edx' })}
            </>
          )}
          {draft.eventsType === 'mongodb' && text('mongoDatabase', 'MongoDB database')}
        </div>
      </fieldset>

      <fieldset className="form-section">
        <legend>Secrets (write-only)</legend>
        <p className="form-note">Typed secrets are stored in files only this user can read. The console shows whether each is set, never its value; leave a field empty to keep what is set.</p>
        <div className="form-grid">
          {secretInputs.map((s) => {
            const state = secretState[s.field] ?? 'not set';
            return (
              <Field key={s.field} label={s.label} error={issues[s.field]} help={s.help}>
                {(p) => (
                  <div className="secret-input">
                    <input
                      {...p}
                      type="password"
                      name={s.field}
                      value={secrets[s.field] ?? ''}
                      autoComplete="new-password"
                      placeholder={state === 'set' ? 'set — type to replace' : 'not set'}
                      onChange={(e) => setSecrets((v) => ({ ...v, [s.field]: e.target.value }))}
                    />
                    <Pill status={secrets[s.field] ? 'set' : state} label={secrets[s.field] ? 'will be set' : state} tone={secrets[s.field] ? 'info' : state === 'set' ? 'ok' : 'neutral'} />
                  </div>
                )}
              </Field>
            );
          })}
        </div>
      </fieldset>

      {!creating && (
        <fieldset className="form-section form-danger">
          <legend>Remove</legend>
          {confirmDelete ? (
            <div className="confirm" role="group" aria-label="Confirm removal">
              <p>Remove {name} from the configuration? Its data folder and databases are kept.</p>
              <button type="button" className="button button-danger" onClick={remove}>
                Remove {name}
              </button>
              <button type="button" className="button" onClick={() => setConfirmDelete(false)}>
                Keep it
              </button>
            </div>
          ) : (
            <button type="button" className="button button-danger" onClick={() => setConfirmDelete(true)}>
              Remove this environment…
            </button>
          )}
        </fieldset>
      )}
    </form>
  );
}
