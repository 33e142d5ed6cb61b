/**
 * Every security and window decision of the desktop app, as pure functions: the window's options,
 * the `app://` protocol (its privileges, how a URL maps to a file of the packaged console, the
 * headers of its answers), which links may open in the system browser, the answers to permission
 * requests, which IPC senders are trusted, the menu, the remembered window bounds and the app's
 * settings (userData/settings.json: "Run schedules while the app is open", off by default).
 *
 * `main.ts` only wires these into Electron, so a unit test under Node (without Electron's binary)
 * asserts each setting (test/unit/electron-policy.test.ts). Types only from `electron`: nothing of
 * it runs here.
 */
import { extname, resolve, sep } from 'node:path';
import type { BrowserWindowConstructorOptions, CustomScheme, MenuItemConstructorOptions } from 'electron';
import { bundleContentType, bundleRelativePath } from '../../core/contract/bundle-files.js';
import { CONTENT_SECURITY_POLICY } from '../../core/contract/content-security-policy.js';

// ---------------------------------------------------------------------------------------------
// The app:// protocol

export const APP_SCHEME = 'app';
export const APP_HOST = 'pds';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** The page the window loads: the console's bundle, never http or a remote URL. */
export const START_URL = `${APP_ORIGIN}/index.html`;

/**
 * `app://` registered before the app is ready as standard (relative URLs and an origin, so the
 * CSP's 'self' means app://pds) and secure (a secure context like https). No CORS, no service
 * workers, no bypass of the CSP.
 */
export const PRIVILEGED_SCHEMES: CustomScheme[] = [
  {
    scheme: APP_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: false, bypassCSP: false, allowServiceWorkers: false, stream: false, codeCache: true },
  },
];

/** Headers of every `app://` answer: the console's CSP (the one `pds serve` sends) and no sniffing. */
export function appResponseHeaders(contentType: string): Record<string, string> {
  return {
    'Content-Type': contentType,
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  };
}

export type AppRequest =
  | { ok: true; file: string; contentType: string; fallback: boolean }
  | { ok: false; status: 400 | 403 | 404; reason: string };

/**
 * The file of the packaged console (`root`, i.e. `dist/renderer`) an `app://` URL names. Only
 * `app://pds/…`; the decoded path must stay inside `root` (`..`, encoded slashes, backslashes,
 * NUL and empty segments such as `//etc` are refused). A path without an extension is a screen of the one-page console:
 * `index.html` (`fallback`); `exists` tells which files are there.
 */
export function resolveAppRequest(url: string, root: string, exists: (file: string) => boolean): AppRequest {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, status: 400, reason: 'not a URL' };
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return { ok: false, status: 403, reason: 'not the console’s origin' };
  let path: string;
  try {
    path = decodeURIComponent(parsed.pathname);
  } catch {
    return { ok: false, status: 400, reason: 'bad path encoding' };
  }
  const inside = bundleRelativePath(path);
  if (inside === undefined) return { ok: false, status: 403, reason: 'path outside the console' };
  const base = resolve(root);
  const relative = inside === '' ? 'index.html' : inside;
  const file = resolve(base, relative);
  if (!file.startsWith(base + sep)) return { ok: false, status: 403, reason: 'path outside the console' };
  if (exists(file)) return { ok: true, file, contentType: bundleContentType(file), fallback: false };
  if (extname(relative) !== '') return { ok: false, status: 404, reason: 'no such file' };
  const index = resolve(base, 'index.html');
  return exists(index) ? { ok: true, file: index, contentType: bundleContentType(index), fallback: true } : { ok: false, status: 404, reason: 'the console is not built' };
}

// ---------------------------------------------------------------------------------------------
// The window

export interface WindowBounds {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized?: boolean;
}

export const DEFAULT_BOUNDS: WindowBounds = { width: 1280, height: 820 };
export const MIN_SIZE = { width: 900, height: 600 };

/**
 * The options of the one window, from one place. The page is sandboxed and isolated from the
 * preload (which exposes only `window.pds`), has no Node, no <webview>, no insecure content, and
 * DevTools only in development.
 */
export function windowOptions(options: { preload: string; dev: boolean; bounds?: WindowBounds; icon?: string; title?: string }): BrowserWindowConstructorOptions {
  const bounds = options.bounds ?? DEFAULT_BOUNDS;
  return {
    title: options.title ?? 'Platform Data Store',
    width: bounds.width,
    height: bounds.height,
    ...(bounds.x !== undefined && bounds.y !== undefined ? { x: bounds.x, y: bounds.y } : { center: true }),
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    show: false,
    backgroundColor: '#ffffff',
    ...(options.icon ? { icon: options.icon } : {}),
    webPreferences: {
      preload: options.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      devTools: options.dev,
    },
  };
}

/** Whether `name` says development (`npm run app` sets NODE_ENV=development; a packaged app never does). */
export function isDevelopment(env: Record<string, string | undefined>, packaged: boolean): boolean {
  return !packaged && env.NODE_ENV === 'development';
}

// ---------------------------------------------------------------------------------------------
// Navigation, new windows, links

/**
 * Hosts whose pages a link may open in the system browser: edX (its sites and the research data
 * documentation) and the project's documentation. Anything else is not opened at all.
 */
export const EXTERNAL_HOSTS: readonly string[] = ['edx.org', 'edx.readthedocs.io'];

/** Whether `url` may be opened in the system browser: https, no credentials, an allow-listed host or a subdomain of one. */
export function isAllowedExternalUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'https:' || parsed.username !== '' || parsed.password !== '' || parsed.port !== '') return false;
  const host = parsed.hostname.toLowerCase();
  return EXTERNAL_HOSTS.some((allowed) => host === allowed || host.endsWith(`.${allowed}`));
}

/**
 * What happens when the page tries to go to `url` (a link, `window.open`, a script): the window
 * never navigates away from the console and never opens another window; an allow-listed link goes
 * to the system browser, anything else is dropped.
 */
export function navigationDecision(url: string): { allowInWindow: false; openExternal: boolean } {
  return { allowInWindow: false, openExternal: isAllowedExternalUrl(url) };
}

// ---------------------------------------------------------------------------------------------
// Permissions and IPC senders

/** Every permission request (camera, notifications, clipboard, geolocation…) is denied. */
export function permissionRequestAnswer(_permission: string): false {
  return false;
}

/** Every permission check is answered no. */
export function permissionCheckAnswer(_permission: string): false {
  return false;
}

/** What main knows of an IPC call's sender. */
export interface SenderInfo {
  /** The URL of the frame that sent the call (`event.senderFrame.url`), undefined when the frame is gone. */
  frameUrl: string | undefined;
  /** Whether that frame is the main frame of its page (`senderFrame === webContents.mainFrame`). */
  isMainFrame: boolean;
  /** `event.sender.id`. */
  webContentsId: number;
}

/**
 * Whether an IPC call comes from the app's own page: the main frame of our window, showing an
 * `app://pds/` URL. A sub-frame, another window or a page that got elsewhere is refused.
 */
export function isTrustedSender(sender: SenderInfo, windowWebContentsId: number | undefined): boolean {
  if (windowWebContentsId === undefined || sender.webContentsId !== windowWebContentsId || !sender.isMainFrame) return false;
  const url = sender.frameUrl;
  if (url === undefined || !url.startsWith(`${APP_ORIGIN}/`)) return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The menu

export interface MenuActions {
  about(): void;
  openDocs(): void;
  openDataFolder(): void;
  /** The "Run schedules while the app is open" item was clicked: its new state. */
  toggleRunSchedules(checked: boolean): void;
}

/** The File menu's checkbox of the `runSchedules` setting. */
export const RUN_SCHEDULES_LABEL = 'Run schedules while the app is open';

/**
 * File, Edit, View, Help; the View menu's DevTools item only in development. The File menu holds
 * the "Run schedules while the app is open" checkbox, checked as `runSchedules` says.
 */
export function menuTemplate(options: { dev: boolean; mac: boolean; productName: string; runSchedules: boolean; actions: MenuActions }): MenuItemConstructorOptions[] {
  const { actions } = options;
  const view: MenuItemConstructorOptions[] = [{ role: 'reload' }, { role: 'forceReload' }];
  if (options.dev) view.push({ role: 'toggleDevTools' });
  view.push({ type: 'separator' }, { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' });
  return [
    ...(options.mac ? [{ label: options.productName, submenu: [{ label: `About ${options.productName}`, click: actions.about }, { type: 'separator' as const }, { role: 'quit' as const }] }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open the data folder', click: actions.openDataFolder },
        { type: 'separator' },
        // Electron flips a checkbox's `checked` before calling its click handler.
        { id: 'run-schedules', label: RUN_SCHEDULES_LABEL, type: 'checkbox', checked: options.runSchedules, click: (item) => actions.toggleRunSchedules(item.checked) },
        { type: 'separator' },
        options.mac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { label: 'Edit', submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }] },
    { label: 'View', submenu: view },
    { label: 'Help', submenu: [{ label: 'edX research data documentation', click: actions.openDocs }, { type: 'separator' }, { label: `About ${options.productName}`, click: actions.about }] },
  ];
}

/** The About box's text: product, version, and the versions it runs on. */
export function aboutText(productName: string, version: string, versions: { electron?: string; chrome?: string; node?: string }): string {
  return [`${productName} ${version}`, `Electron ${versions.electron ?? '?'} · Chromium ${versions.chrome ?? '?'} · Node ${versions.node ?? '?'}`].join('\n');
}

/** The page the Help menu opens in the system browser (allow-listed). */
export const DOCS_URL = 'https://edx.readthedocs.io/projects/devdata/en/latest/';

// ---------------------------------------------------------------------------------------------
// Remembered window bounds (userData/window-state.json)

export interface DisplayArea {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The bounds to open the window with, from the saved JSON (`text`, undefined when none): sizes at
 * least the minimum, and a position only when the window's top-left area is on a display now (a
 * monitor unplugged since is not where the window should open). Anything unreadable → defaults.
 */
export function restoreBounds(text: string | undefined, displays: readonly DisplayArea[]): WindowBounds {
  if (text === undefined) return { ...DEFAULT_BOUNDS };
  let saved: unknown;
  try {
    saved = JSON.parse(text);
  } catch {
    return { ...DEFAULT_BOUNDS };
  }
  if (saved === null || typeof saved !== 'object') return { ...DEFAULT_BOUNDS };
  const s = saved as Record<string, unknown>;
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : undefined);
  const width = Math.max(MIN_SIZE.width, Math.min(num(s.width) ?? DEFAULT_BOUNDS.width, 10_000));
  const height = Math.max(MIN_SIZE.height, Math.min(num(s.height) ?? DEFAULT_BOUNDS.height, 10_000));
  const bounds: WindowBounds = { width, height };
  const x = num(s.x);
  const y = num(s.y);
  if (x !== undefined && y !== undefined) {
    // Visible enough: a 100×50 corner of the title bar lies on some display.
    const onScreen = displays.some((d) => x + 100 > d.x && x < d.x + d.width && y >= d.y && y + 50 <= d.y + d.height);
    if (onScreen) Object.assign(bounds, { x, y });
  }
  if (s.maximized === true) bounds.maximized = true;
  return bounds;
}

/** The JSON saved when the window closes. */
export function saveBounds(bounds: { x: number; y: number; width: number; height: number }, maximized: boolean): string {
  return `${JSON.stringify({ x: bounds.x, y: bounds.y, width: bounds.width, height: bounds.height, maximized })}\n`;
}

// ---------------------------------------------------------------------------------------------
// The app's settings (userData/settings.json)

export interface DesktopSettings {
  /** Run the environments' schedules while the app is open (README "The desktop app"); off by default. */
  runSchedules: boolean;
}

export const DEFAULT_SETTINGS: Readonly<DesktopSettings> = { runSchedules: false };

/** The settings from the saved JSON (`text`, undefined when none): anything missing, unreadable or not a boolean → the default (off). */
export function parseSettings(text: string | undefined): DesktopSettings {
  if (text === undefined) return { ...DEFAULT_SETTINGS };
  let saved: unknown;
  try {
    saved = JSON.parse(text);
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
  if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) return { ...DEFAULT_SETTINGS };
  const runSchedules = (saved as Record<string, unknown>).runSchedules;
  return { runSchedules: runSchedules === true };
}

/** The JSON saved when a setting changes. */
export function serializeSettings(settings: DesktopSettings): string {
  return `${JSON.stringify({ runSchedules: settings.runSchedules === true })}\n`;
}
