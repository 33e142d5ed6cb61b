/**
 * The desktop app's main process: one instance, one window showing the console from the packaged
 * files over `app://`, the engine in a utility process, IPC checked per call. Every decision is a
 * pure function of policy.ts (unit-tested under Node); this file only wires them into Electron.
 * The File menu's "Run schedules while the app is open" (userData/settings.json, off by default)
 * is passed to the engine host, which then runs the environments' schedules.
 *
 * Bundled by build/build-electron.mjs into dist/electron/main.mjs; `npm run app` starts it in
 * development (DevTools allowed), a packaged build never is.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, net, protocol, safeStorage, screen, session, shell, utilityProcess } from 'electron';
import { RUN_EVENT_CHANNEL } from '../../core/contract/desktop-bridge.js';
import { resolveHome } from '../../core/service/desktop-secrets.js';
import { ENGINE_HOST_MARKER, type HostMessage } from '../worker/protocol.js';
import { createEngineClient, remoteHandlers, type HostProcess } from './engine-client.js';
import { registerConsoleIpc, senderInfo } from './ipc.js';
import { createKeychain } from './keychain.js';
import {
  aboutText,
  appResponseHeaders,
  DOCS_URL,
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
  saveBounds,
  serializeSettings,
  START_URL,
  windowOptions,
} from './policy.js';

const here = dirname(fileURLToPath(import.meta.url));
const PRODUCT_NAME = 'Platform Data Store';
const dev = isDevelopment(process.env, app.isPackaged);
/** The console's files: dist/renderer beside dist/electron (inside the asar when packaged). */
const rendererDir = join(here, '..', 'renderer');
const home = resolveHome(process.env.PDS_HOME);

// Before ready: app:// is a standard, secure scheme.
protocol.registerSchemesAsPrivileged(PRIVILEGED_SCHEMES);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let window: BrowserWindow | undefined;

  app.on('second-instance', () => {
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });

  // Any web contents (the window, a frame): no navigation, no new windows, no <webview>.
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      event.preventDefault();
      if (navigationDecision(url).openExternal) void shell.openExternal(url);
    });
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      if (navigationDecision(url).openExternal) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });

  const keychain = createKeychain(home, safeStorage);
  const engine = createEngineClient({
    spawn: spawnUtilityHost,
    onEvent: (event) => window?.webContents.send(RUN_EVENT_CHANNEL, event),
    readKeychain: (name) => keychain.read(name),
    storeSecret: keychain.available() ? (name, value) => keychain.write(name, value) : undefined,
    onRestart: (how) => console.error(`pds: the engine process stopped (${how}); restarted.`),
  });

  void app.whenReady().then(async () => {
    const ses = session.defaultSession;
    ses.setPermissionRequestHandler((_contents, permission, callback) => callback(permissionRequestAnswer(permission)));
    ses.setPermissionCheckHandler((_contents, permission) => permissionCheckAnswer(permission));

    protocol.handle('app', async (request) => {
      const resolved = resolveAppRequest(request.url, rendererDir, existsSync);
      if (!resolved.ok) return new Response(resolved.reason, { status: resolved.status, headers: appResponseHeaders('text/plain; charset=utf-8') });
      const file = await net.fetch(pathToFileURL(resolved.file).toString());
      return new Response(file.body, { status: 200, headers: appResponseHeaders(resolved.contentType) });
    });

    registerConsoleIpc(ipcMain, {
      engine: remoteHandlers(engine),
      isTrusted: (event) => isTrustedSender(senderInfo(event), window?.webContents.id),
    });

    // The setting is read before the window: the host schedules even while the page loads.
    const settingsFile = join(app.getPath('userData'), 'settings.json');
    let savingSettings: Promise<void> = Promise.resolve();
    const settings = parseSettings(await readFile(settingsFile, 'utf8').catch(() => undefined));
    engine.setSchedules(settings.runSchedules);

    const stateFile = join(app.getPath('userData'), 'window-state.json');
    const saved = await readFile(stateFile, 'utf8').catch(() => undefined);
    const bounds = restoreBounds(saved, screen.getAllDisplays().map((d) => d.workArea));
    const icon = join(here, '..', '..', 'build', 'icons', '512x512.png');
    window = new BrowserWindow(windowOptions({ preload: join(here, 'preload.cjs'), dev, bounds, icon: existsSync(icon) ? icon : undefined, title: PRODUCT_NAME }));
    if (bounds.maximized) window.maximize();
    window.once('ready-to-show', () => window?.show());
    window.on('close', () => {
      if (!window) return;
      const text = saveBounds(window.getNormalBounds(), window.isMaximized());
      void mkdir(dirname(stateFile), { recursive: true }).then(() => writeFile(stateFile, text));
    });
    window.on('closed', () => (window = undefined));

    const version = app.getVersion();
    Menu.setApplicationMenu(
      Menu.buildFromTemplate(
        menuTemplate({
          dev,
          mac: process.platform === 'darwin',
          productName: PRODUCT_NAME,
          runSchedules: settings.runSchedules,
          actions: {
            about: () => void dialog.showMessageBox({ type: 'info', title: `About ${PRODUCT_NAME}`, message: aboutText(PRODUCT_NAME, version, process.versions), buttons: ['OK'] }),
            openDocs: () => void shell.openExternal(DOCS_URL),
            openDataFolder: () => void shell.openPath(home),
            toggleRunSchedules: (checked) => {
              settings.runSchedules = checked;
              engine.setSchedules(checked);
              // One save after another, each whole (a temporary file renamed): the file ends as the menu shows.
              const text = serializeSettings(settings);
              savingSettings = savingSettings
                .then(async () => {
                  await mkdir(dirname(settingsFile), { recursive: true });
                  await writeFile(`${settingsFile}.tmp`, text);
                  await rename(`${settingsFile}.tmp`, settingsFile);
                })
                .catch((error: unknown) => console.error('pds: the settings could not be saved:', error));
            },
          },
        }),
      ),
    );

    await window.loadURL(START_URL);
    if (dev) window.webContents.openDevTools({ mode: 'detach' });
  });

  app.on('window-all-closed', () => app.quit());
  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting) return;
    // Runs in progress are cancelled and their loads rolled back before the app ends.
    event.preventDefault();
    quitting = true;
    void engine.close().finally(() => app.quit());
  });
}

/** The engine host as an Electron utility process, its parent port carrying the protocol. */
function spawnUtilityHost(): HostProcess {
  const child = utilityProcess.fork(join(here, 'engine-host.mjs'), [], {
    serviceName: 'pds engine',
    env: { ...process.env, [ENGINE_HOST_MARKER]: '1', PDS_HOME: home },
    stdio: 'inherit',
  });
  return {
    post: (message) => child.postMessage(message),
    onMessage: (listener) => child.on('message', (message: HostMessage) => listener(message)),
    onExit: (listener) => child.once('exit', (code) => listener(`exit code ${code}`)),
    kill: () => void child.kill(),
  };
}

