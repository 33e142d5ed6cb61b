/**
 * The console shell: a left navigation with the environment picker, the live-run indicator and
 * the theme switch, and the screen the address bar names.
 */
import { useCallback, useEffect, useMemo, useState, type ReactElement } from 'react';
import { api } from './api/client.js';
import { connectRunEvents, useLiveRuns } from './api/run-events.js';
import { AttentionScreen } from './attention/attention-screen.js';
import { DataScreen } from './data/data-screen.js';
import { EnvironmentsScreen } from './environments/environments-screen.js';
import { KeysScreen } from './keys/keys-screen.js';
import { PrivacyScreen } from './privacy/privacy-screen.js';
import { ReportScreen } from './report/report-screen.js';
import { RunScreen } from './run/run-screen.js';
import { RunsScreen } from './runs/runs-screen.js';
import { ReportsScreen } from './reports/reports-screen.js';
import { SchedulesScreen } from './schedules/schedules-screen.js';
import { AppContext, href, parseRoute, type AppState, type EnvironmentSummary, type Screen } from './common/app-context.js';
import { count } from './common/format.js';
import { applyTheme, storedTheme, THEMES, type Theme } from './common/theme.js';
import { ErrorNote, SelectField } from './common/ui.js';

const NAV: { screen: Screen; label: string }[] = [
  { screen: 'environments', label: 'Environments' },
  { screen: 'keys', label: 'Keys' },
  { screen: 'run', label: 'Run' },
  { screen: 'runs', label: 'Runs' },
  { screen: 'report', label: 'Report' },
  { screen: 'attention', label: 'Attention' },
  { screen: 'data', label: 'Data' },
  { screen: 'reports', label: 'Reports' },
  { screen: 'schedules', label: 'Schedules' },
  { screen: 'privacy', label: 'Privacy' },
];
const ENV_KEY = 'pds.env';
const THEME_LABELS: Record<Theme, string> = { system: 'Follow the system', light: 'Light', dark: 'Dark' };

export function App() {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  const [environments, setEnvironments] = useState<EnvironmentSummary[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>();
  const [picked, setPicked] = useState<string | null>(() => localStorage.getItem(ENV_KEY));
  const [theme, setTheme] = useState<Theme>(storedTheme);

  useEffect(() => {
    const onHash = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onHash);
    connectRunEvents();
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const refreshEnvironments = useCallback(() => {
    api.listEnvironments({}).then(
      (list) => {
        setEnvironments(list);
        setLoadError(undefined);
      },
      (e: unknown) => setLoadError(e),
    );
  }, []);
  useEffect(refreshEnvironments, [refreshEnvironments]);

  // A run that ends changes its environment's "last run": read the list again.
  const live = useLiveRuns();
  const finishedRuns = Object.values(live.runs).filter((r) => r.finished).length;
  useEffect(() => {
    if (finishedRuns > 0) refreshEnvironments();
  }, [finishedRuns, refreshEnvironments]);

  const env = useMemo(() => {
    if (!environments || environments.length === 0) return null;
    return environments.some((e) => e.name === picked) ? picked : environments[0]!.name;
  }, [environments, picked]);

  const state: AppState = useMemo(
    () => ({
      route,
      go: (screen, ...params) => {
        window.location.hash = href(screen, ...params);
      },
      env,
      setEnv: (name) => {
        localStorage.setItem(ENV_KEY, name);
        setPicked(name);
      },
      environments,
      refreshEnvironments,
    }),
    [route, env, environments, refreshEnvironments],
  );

  useEffect(() => {
    const label = NAV.find((n) => n.screen === route.screen)?.label ?? '';
    document.title = `${label}${env ? ` · ${env}` : ''} — Platform Data Store`;
  }, [route.screen, env]);

  return (
    <AppContext.Provider value={state}>
      <div className="shell">
        <nav className="sidebar" aria-label="Console">
          <div className="brand">
            <span className="brand-mark" aria-hidden="true">
              PDS
            </span>
            <span className="brand-name">Platform Data Store</span>
          </div>
          <div className="field sidebar-env">
            <label htmlFor="env-picker">Environment</label>
            <select id="env-picker" value={env ?? ''} disabled={!environments || environments.length === 0} onChange={(e) => state.setEnv(e.target.value)}>
              {(environments ?? []).length === 0 && <option value="">none yet</option>}
              {(environments ?? []).map((e) => (
                <option key={e.name} value={e.name}>
                  {e.name}
                </option>
              ))}
            </select>
          </div>
          <ul className="nav-list">
            {NAV.map((n) => (
              <li key={n.screen}>
                <a href={href(n.screen)} className="nav-link" aria-current={route.screen === n.screen ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
          <LiveIndicator />
          <div className="sidebar-foot">
            <SelectField
              label="Theme"
              value={theme}
              options={THEMES.map((t) => [t, THEME_LABELS[t]] as const)}
              onChange={(v) => {
                const t = v || 'system';
                setTheme(t);
                applyTheme(t);
              }}
            />
          </div>
        </nav>
        <main className="content" id="main">
          {loadError ? <ErrorNote error={loadError} /> : <CurrentScreen screen={route.screen} />}
        </main>
      </div>
    </AppContext.Provider>
  );
}

const SCREENS: Record<Screen, () => ReactElement> = {
  environments: EnvironmentsScreen,
  keys: KeysScreen,
  run: RunScreen,
  runs: RunsScreen,
  report: ReportScreen,
  attention: AttentionScreen,
  data: DataScreen,
  reports: ReportsScreen,
  schedules: SchedulesScreen,
  privacy: PrivacyScreen,
};

function CurrentScreen({ screen }: { screen: Screen }) {
  const Shown = SCREENS[screen];
  return <Shown />;
}

/** A run in progress anywhere on this home folder, with a link to watch it. */
function LiveIndicator() {
  const { runs } = useLiveRuns();
  const active = Object.values(runs).filter((r) => !r.finished);
  if (active.length === 0) return null;
  return (
    <div className="live" role="status">
      {active.map((r) => (
        <a key={r.runId} className="live-run" href={href('run')}>
          <span className="live-dot" aria-hidden="true" />
          {r.env}: {r.planned == null ? 'planning' : `${count(r.done)} of ${count(r.planned)} files`}
        </a>
      ))}
    </div>
  );
}
