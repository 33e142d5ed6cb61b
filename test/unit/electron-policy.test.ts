/**
 * The desktop app's policies (electron/main/policy.ts), asserted under Node without Electron: the
 * window's options from the one factory, the app:// protocol (privileges, path resolution, the
 * CSP `pds serve` uses), navigation and the external-link allow-list, permission answers, trusted
 * IPC senders, the menu (with the "Run schedules while the app is open" checkbox), the remembered
 * bounds and the app's settings (off by default). Also what main.ts wires: that it uses only these.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CONTENT_SECURITY_POLICY as HTTP_CSP, SECURITY_HEADERS } from '../../core/http/security.js';
import {
  aboutText,
  APP_ORIGIN,
  appResponseHeaders,
  DEFAULT_BOUNDS,
  DEFAULT_SETTINGS,
  DOCS_URL,
  isAllowedExternalUrl,
  isDevelopment,
  isTrustedSender,
  menuTemplate,
  navigationDecision,
  parseSettings,
  permissionCheckAnswer,
  permissionRequestAnswer,
  PRIVILEGED_SCHEMES,
  resolveAppRequest,
  restoreBounds,
  RUN_SCHEDULES_LABEL,
  saveBounds,
  serializeSettings,
  START_URL,
  windowOptions,
} from '../../electron/main/policy.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('desktop app policies', () => {
  test('the window: context isolation, sandbox, no Node, web security, no webview, DevTools only in development', () => {
    for (const dev of [false, true]) {
      const options = windowOptions({ preload: '/app/preload.cjs', dev });
      const web = options.webPreferences!;
      assert.equal(web.contextIsolation, true);
      assert.equal(web.sandbox, true);
      assert.equal(web.nodeIntegration, false);
      assert.equal(web.nodeIntegrationInWorker, false);
      assert.equal(web.nodeIntegrationInSubFrames, false);
      assert.equal(web.webSecurity, true);
      assert.equal(web.allowRunningInsecureContent, false);
      assert.equal(web.webviewTag, false);
      assert.equal(web.experimentalFeatures, false);
      assert.equal(web.navigateOnDragDrop, false);
      assert.equal(web.preload, '/app/preload.cjs');
      assert.equal(web.devTools, dev);
      assert.equal((web as Record<string, unknown>).enableBlinkFeatures, undefined);
      assert.equal(options.show, false, 'shown when ready, not blank first');
    }
    assert.equal(isDevelopment({ NODE_ENV: 'development' }, false), true);
    assert.equal(isDevelopment({ NODE_ENV: 'development' }, true), false, 'a packaged app is never in development');
    assert.equal(isDevelopment({}, false), false);
  });

  test('the window opens with remembered bounds; the defaults otherwise', () => {
    const saved = windowOptions({ preload: 'p', dev: false, bounds: { x: 10, y: 20, width: 1000, height: 700 } });
    assert.deepEqual([saved.x, saved.y, saved.width, saved.height], [10, 20, 1000, 700]);
    const fresh = windowOptions({ preload: 'p', dev: false });
    assert.deepEqual([fresh.width, fresh.height, fresh.center], [DEFAULT_BOUNDS.width, DEFAULT_BOUNDS.height, true]);
  });

  test('remembered bounds: round trip, sizes clamped, a position off every display dropped, junk ignored', () => {
    const display = [{ x: 0, y: 0, width: 1920, height: 1080 }];
    assert.deepEqual(restoreBounds(saveBounds({ x: 100, y: 80, width: 1100, height: 750 }, true), display), { x: 100, y: 80, width: 1100, height: 750, maximized: true });
    assert.deepEqual(restoreBounds(saveBounds({ x: 3000, y: 80, width: 1100, height: 750 }, false), display), { width: 1100, height: 750 }, 'a monitor unplugged since');
    assert.deepEqual(restoreBounds(JSON.stringify({ width: 10, height: 99999 }), display), { width: 900, height: 10000 });
    assert.deepEqual(restoreBounds('not json', display), DEFAULT_BOUNDS);
    assert.deepEqual(restoreBounds(undefined, display), DEFAULT_BOUNDS);
    assert.deepEqual(restoreBounds('null', display), DEFAULT_BOUNDS);
  });

  test('app:// is registered standard and secure, without CORS, service workers or a CSP bypass', () => {
    assert.equal(PRIVILEGED_SCHEMES.length, 1);
    const [scheme] = PRIVILEGED_SCHEMES;
    assert.equal(scheme!.scheme, 'app');
    assert.equal(scheme!.privileges?.standard, true);
    assert.equal(scheme!.privileges?.secure, true);
    assert.equal(scheme!.privileges?.bypassCSP, false);
    assert.equal(scheme!.privileges?.corsEnabled, false);
    assert.equal(scheme!.privileges?.allowServiceWorkers, false);
    assert.equal(START_URL, 'app://pds/index.html');
    assert.ok(!START_URL.startsWith('http'));
  });

  test('app:// serves the packaged console’s files only: traversal, other hosts and schemes refused', async () => {
    const root = await mkdtemp(join(tmpdir(), 'pds-renderer-'));
    dirs.push(root);
    await writeFile(join(root, 'index.html'), '<!doctype html>');
    await writeFile(join(root, 'app.js'), '');
    await mkdir(join(root, 'assets'));
    await writeFile(join(root, 'assets', 'logo.svg'), '<svg/>');
    await writeFile(join(root, '..', 'secret.txt'), 'no').catch(() => {});
    const r = (url: string) => resolveAppRequest(url, root, existsSync);

    assert.deepEqual(r('app://pds/index.html'), { ok: true, file: join(root, 'index.html'), contentType: 'text/html; charset=utf-8', fallback: false });
    assert.deepEqual(r('app://pds/'), { ok: true, file: join(root, 'index.html'), contentType: 'text/html; charset=utf-8', fallback: false });
    assert.equal((r('app://pds/app.js') as { contentType: string }).contentType, 'text/javascript; charset=utf-8');
    assert.equal((r('app://pds/assets/logo.svg') as { file: string }).file, join(root, 'assets', 'logo.svg'));
    assert.deepEqual(r('app://pds/runs/live'), { ok: true, file: join(root, 'index.html'), contentType: 'text/html; charset=utf-8', fallback: true }, 'a screen of the one-page console');
    assert.equal(r('app://pds/missing.js').ok, false);

    for (const bad of [
      'app://pds/../secret.txt',
      'app://pds/%2e%2e/secret.txt',
      'app://pds/assets/%2e%2e/%2e%2e/secret.txt',
      'app://pds/..%2fsecret.txt',
      'app://pds/..%5csecret.txt',
      'app://pds/%00index.html',
      'app://pds//etc/passwd',
      'app://other/index.html',
      'https://pds/index.html',
      'file:///etc/passwd',
      'app://pds/%E0%A4%A',
    ]) {
      const answer = r(bad);
      assert.equal(answer.ok, false, bad);
      if (answer.ok) continue;
      assert.ok(!('file' in answer));
    }
    assert.equal((r('app://pds//etc/passwd') as { ok: boolean }).ok, false);
  });

  test('app:// answers carry the same Content-Security-Policy as pds serve', () => {
    const headers = appResponseHeaders('text/html; charset=utf-8');
    assert.equal(headers['Content-Security-Policy'], HTTP_CSP);
    assert.equal(headers['Content-Security-Policy'], SECURITY_HEADERS['Content-Security-Policy']);
    assert.match(headers['Content-Security-Policy']!, /default-src 'self'/);
    assert.doesNotMatch(headers['Content-Security-Policy']!, /unsafe-inline|unsafe-eval/);
    assert.equal(headers['X-Content-Type-Options'], 'nosniff');
  });

  test('navigation never leaves the console; only edX and its documentation open in the system browser', () => {
    for (const url of ['https://edx.org/', 'https://www.edx.org/course/x', 'https://courses.edx.org/', 'https://edx.readthedocs.io/projects/devdata/en/latest/', DOCS_URL]) {
      assert.deepEqual(navigationDecision(url), { allowInWindow: false, openExternal: true }, url);
    }
    for (const url of [
      'http://edx.org/',
      'https://edx.org.evil.example/',
      'https://evil-edx.org/',
      'https://user:pw@edx.org/',
      'https://edx.org:8443/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'app://pds/index.html',
      'https://example.com/',
      'not a url',
    ]) {
      assert.deepEqual(navigationDecision(url), { allowInWindow: false, openExternal: false }, url);
      assert.equal(isAllowedExternalUrl(url), false, url);
    }
  });

  test('every permission request and check is denied', () => {
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'clipboard-sanitized-write', 'openExternal', 'fullscreen', 'hid', 'serial', 'usb']) {
      assert.equal(permissionRequestAnswer(p), false);
      assert.equal(permissionCheckAnswer(p), false);
    }
  });

  test('IPC is trusted from the main frame of our window on app://pds only', () => {
    const ok = { frameUrl: 'app://pds/index.html', isMainFrame: true, webContentsId: 3 };
    assert.equal(isTrustedSender(ok, 3), true);
    assert.equal(isTrustedSender({ ...ok, frameUrl: `${APP_ORIGIN}/runs` }, 3), true);
    assert.equal(isTrustedSender(ok, undefined), false, 'no window yet');
    assert.equal(isTrustedSender({ ...ok, webContentsId: 4 }, 3), false);
    assert.equal(isTrustedSender({ ...ok, isMainFrame: false }, 3), false);
    for (const frameUrl of [undefined, 'app://pdsx/index.html', 'app://pds.evil/index.html', 'app://other/', 'https://pds/', 'file:///x', 'app://pds']) {
      assert.equal(isTrustedSender({ ...ok, frameUrl }, 3), false, String(frameUrl));
    }
  });

  test('the menu: File, Edit, View, Help with About; DevTools only in development', () => {
    const calls: string[] = [];
    const actions = { about: () => calls.push('about'), openDocs: () => calls.push('docs'), openDataFolder: () => calls.push('folder'), toggleRunSchedules: () => calls.push('toggle') };
    for (const dev of [false, true]) {
      const menu = menuTemplate({ dev, mac: false, productName: 'Platform Data Store', runSchedules: false, actions });
      assert.deepEqual(menu.map((m) => m.label), ['File', 'Edit', 'View', 'Help']);
      const items = (label: string) => menu.find((m) => m.label === label)!.submenu as { role?: string; label?: string; click?: () => void }[];
      assert.equal(items('View').some((i) => i.role === 'toggleDevTools'), dev);
      const about = items('Help').find((i) => i.label === 'About Platform Data Store')!;
      about.click!();
    }
    assert.deepEqual(calls, ['about', 'about']);
    const mac = menuTemplate({ dev: false, mac: true, productName: 'Platform Data Store', runSchedules: false, actions });
    assert.deepEqual(mac.map((m) => m.label), ['Platform Data Store', 'File', 'Edit', 'View', 'Help']);
    assert.match(aboutText('Platform Data Store', '0.1.0', { electron: '38.8.6', chrome: '140', node: '22' }), /^Platform Data Store 0\.1\.0\nElectron 38\.8\.6/);
  });

  test('the File menu has the "Run schedules while the app is open" checkbox, checked as the setting says, and clicking it passes the new state', () => {
    const toggled: boolean[] = [];
    const actions = { about: () => {}, openDocs: () => {}, openDataFolder: () => {}, toggleRunSchedules: (checked: boolean) => toggled.push(checked) };
    for (const [mac, runSchedules] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      const menu = menuTemplate({ dev: false, mac, productName: 'Platform Data Store', runSchedules, actions });
      const file = menu.find((m) => m.label === 'File')!.submenu as { id?: string; label?: string; type?: string; checked?: boolean; click?: (item: { checked: boolean }) => void }[];
      const items = file.filter((i) => i.label === RUN_SCHEDULES_LABEL);
      assert.equal(items.length, 1);
      const [item] = items;
      assert.equal(item!.label, 'Run schedules while the app is open');
      assert.equal(item!.type, 'checkbox');
      assert.equal(item!.checked, runSchedules);
      // Electron has flipped `checked` when it calls click.
      item!.click!({ checked: !runSchedules });
    }
    assert.deepEqual(toggled, [true, false, true, false]);
  });

  test('settings: off when there is no file, when it is corrupt or holds anything but true; a saved setting reads back', () => {
    assert.deepEqual(DEFAULT_SETTINGS, { runSchedules: false });
    for (const text of [undefined, '', '{', 'null', '[]', '[true]', '"runSchedules"', '42', '{}', '{"runSchedules":"true"}', '{"runSchedules":1}', '{"runSchedules":null}', '{"other":true}', '\u0000\u0001garbage']) {
      assert.deepEqual(parseSettings(text), { runSchedules: false }, String(text));
    }
    assert.deepEqual(parseSettings('{"runSchedules":true}'), { runSchedules: true });
    assert.deepEqual(parseSettings('{"runSchedules":true,"unknown":5}'), { runSchedules: true });
    for (const runSchedules of [true, false]) {
      const text = serializeSettings({ runSchedules });
      assert.ok(text.endsWith('\n'));
      assert.deepEqual(JSON.parse(text), { runSchedules });
      assert.deepEqual(parseSettings(text), { runSchedules });
    }
  });

  test('main.ts takes every decision from the policy module and its window from the one factory', async () => {
    const main = await readFile(new URL('../../electron/main/main.ts', import.meta.url), 'utf8');
    assert.equal(main.match(/new BrowserWindow\(/g)?.length, 1);
    assert.match(main, /new BrowserWindow\(windowOptions\(/);
    for (const wiring of [
      'requestSingleInstanceLock()',
      'registerSchemesAsPrivileged(PRIVILEGED_SCHEMES)',
      "protocol.handle('app'",
      'resolveAppRequest(',
      'appResponseHeaders(',
      "on('will-navigate'",
      'setWindowOpenHandler(',
      "return { action: 'deny' }",
      'setPermissionRequestHandler(',
      'setPermissionCheckHandler(',
      'loadURL(START_URL)',
      'registerConsoleIpc(ipcMain',
      'isTrustedSender(senderInfo(event)',
      'utilityProcess.fork(',
      "join(app.getPath('userData'), 'settings.json')",
      'parseSettings(',
      'serializeSettings(settings)',
      'engine.setSchedules(settings.runSchedules)',
      'engine.setSchedules(checked)',
      'runSchedules: settings.runSchedules',
    ]) {
      assert.ok(main.includes(wiring), wiring);
    }
    assert.doesNotMatch(main, /loadURL\(['"`]https?:|loadFile\(/, 'never http or a file URL');
    assert.doesNotMatch(main, /webPreferences/, 'the options come from the factory only');
  });
});
