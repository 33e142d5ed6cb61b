/**
 * Environments side by side (Dev, Test, Live…): where each reads, which key, where it loads, its
 * secrets (set / not set) and its last run; test-connection buttons answer in plain words.
 */
import { useEffect, useState } from 'react';
import { api } from '../api/client.js';
import { href, useApp, type EnvironmentSummary } from '../common/app-context.js';
import { plural } from '../common/format.js';
import { Empty, ErrorNote, Loading, Pill, ScreenHeader, Time } from '../common/ui.js';
import { ConnectionCheckView, type ConnectionCheck } from './connection-check.js';
import { EnvironmentForm } from './environment-form.js';

const ORDER = ['dev', 'test', 'live'];

export function EnvironmentsScreen() {
  const { route, environments, go, refreshEnvironments } = useApp();
  // Runs started elsewhere (the CLI, cron) change the cards too: read them afresh on each visit.
  useEffect(refreshEnvironments, [refreshEnvironments]);
  if (route.params[0] === 'new') return <EnvironmentForm />;
  if (route.params[0] === 'edit' && route.params[1]) return <EnvironmentForm key={route.params[1]} name={route.params[1]} />;
  if (!environments) return <Loading what="environments" />;
  const sorted = [...environments].sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
  return (
    <section aria-labelledby="environments-title">
      <ScreenHeader title="Environments">
        <button type="button" className="button button-primary" onClick={() => go('environments', 'new')}>
          New environment
        </button>
      </ScreenHeader>
      {sorted.length === 0 ? (
        <Empty title="No environment is configured yet">
          <p>Create one for each stage you run, for example dev, test and live: say where edX delivers (your S3 buckets), then import your private key.</p>
          <button type="button" className="button button-primary" onClick={() => go('environments', 'new')}>
            Create the first environment
          </button>
        </Empty>
      ) : (
        <div className="env-grid">
          {sorted.map((e) => (
            <EnvironmentCard key={e.name} env={e} />
          ))}
        </div>
      )}
    </section>
  );
}

function rank(name: string): number {
  const i = ORDER.indexOf(name);
  return i < 0 ? ORDER.length : i;
}

const SECRET_LABELS: Record<string, string> = {
  'key.passphrase': 'key passphrase',
  'source.accessKeyId': 'S3 access key id',
  'source.secretAccessKey': 'S3 secret key',
  'targets.relational.password': 'MariaDB password',
  'targets.relational.url': 'MariaDB URL',
  'targets.events.uri': 'MongoDB URI',
};

function EnvironmentCard({ env }: { env: EnvironmentSummary }) {
  const { go, setEnv } = useApp();
  const [checks, setChecks] = useState<ConnectionCheck[]>([]);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();

  async function test(what: 'source' | 'key' | 'targets') {
    setBusy(what);
    setError(undefined);
    try {
      const result = what === 'source' ? [await api.testSource({ env: env.name })] : what === 'key' ? [await api.testKey({ env: env.name })] : await api.testTargets({ env: env.name });
      setChecks((old) => [...old.filter((c) => !result.some((r) => r.target === c.target)), ...result]);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  }

  const secrets = Object.entries(env.secrets);
  return (
    <article className="card env-card" aria-labelledby={`env-${env.name}`}>
      <header className="card-head">
        <h2 id={`env-${env.name}`}>{env.name}</h2>
        {env.lastRun ? <Pill status={env.lastRun.status} /> : <Pill status="never run" tone="neutral" />}
      </header>
      {env.description && <p className="card-sub">{env.description}</p>}
      <dl className="facts">
        <dt>Source</dt>
        <dd className="wrap">{env.source}</dd>
        <dt>Key</dt>
        <dd>{env.keys === 0 ? <span className="text-bad">no key imported</span> : plural(env.keys, 'key')}</dd>
        <dt>Tables</dt>
        <dd className="wrap">{env.relational}</dd>
        <dt>Events</dt>
        <dd className="wrap">{env.events}</dd>
        <dt>Secrets</dt>
        <dd>
          {secrets.length === 0 ? (
            <span className="muted">none referenced</span>
          ) : (
            <ul className="secret-list">
              {secrets.map(([field, state]) => (
                <li key={field}>
                  <span>{SECRET_LABELS[field] ?? field}</span> <Pill status={state} />
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Last run</dt>
        <dd>
          {env.lastRun ? (
            <a href={href('report', env.lastRun.runId)} onClick={() => setEnv(env.name)}>
              <Time iso={env.lastRun.startedAt} />
            </a>
          ) : (
            <span className="muted">never</span>
          )}
        </dd>
      </dl>
      <div className="card-actions">
        <button type="button" className="button" onClick={() => go('environments', 'edit', env.name)}>
          Edit
        </button>
        <button type="button" className="button" disabled={busy !== null} onClick={() => test('source')} aria-label={`Test the source of ${env.name}`}>
          {busy === 'source' ? 'Testing…' : 'Test source'}
        </button>
        <button type="button" className="button" disabled={busy !== null} onClick={() => test('key')} aria-label={`Test the key of ${env.name}`}>
          {busy === 'key' ? 'Testing…' : 'Test key'}
        </button>
        <button type="button" className="button" disabled={busy !== null} onClick={() => test('targets')} aria-label={`Test the targets of ${env.name}`}>
          {busy === 'targets' ? 'Testing…' : 'Test targets'}
        </button>
      </div>
      {error !== undefined && <ErrorNote error={error} compact />}
      {checks.length > 0 && (
        <div className="checks">
          {checks.map((c) => (
            <ConnectionCheckView key={c.target} check={c} />
          ))}
        </div>
      )}
    </article>
  );
}
