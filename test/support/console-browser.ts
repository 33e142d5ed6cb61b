/**
 * What the console's end-to-end tests share: `pds serve` started on a free port with the link it
 * prints, Debian's Chromium (never a downloaded browser), and where screenshots go.
 */
import type { ChildProcess } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { spawnPds } from './pds-cli.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Every screenshot a test takes (test output, not committed). */
export const SHOTS = join(ROOT, 'test-output', 'screens');
/** How long a page may take to show what a test waits for. */
export const WAIT = 120_000;
const CHROMIUM = process.env.PDS_CHROMIUM ?? '/usr/bin/chromium';

export interface StartedServe {
  child: ChildProcess;
  /** `http://127.0.0.1:PORT/#token=…`, once the server printed it. */
  link: Promise<string>;
}

/** Starts `pds serve --port 0` on `home`; `link` rejects if it exits before printing its link. */
export function startServe(home: string): StartedServe {
  const child = spawnPds(['serve', '--port', '0'], { PDS_HOME: home });
  const link = new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]+/.exec(out);
      if (m) resolve(m[0]);
    });
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.once('exit', (code) => reject(new Error(`pds serve exited with ${code} before printing its link:\n${out}\n${err}`)));
  });
  return { child, link };
}

/** Debian's Chromium, headless. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** With `PDS_UPDATE_SCREENS=1`, copies these screenshots to `docs/screens/` (the README's). */
export async function updateReadmeScreens(names: string[]): Promise<void> {
  if (process.env.PDS_UPDATE_SCREENS !== '1') return;
  await mkdir(join(ROOT, 'docs', 'screens'), { recursive: true });
  for (const name of names) await copyFile(join(SHOTS, `${name}.png`), join(ROOT, 'docs', 'screens', `${name}.png`));
}

/** Stops a `pds serve` started by `startServe` (Ctrl-C, as a person would) and waits for it to exit. */
export async function stopServe(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
}

/**
 * A console page at 1440×900 in the light theme (`options` add to or override that), waiting up to
 * `WAIT`; page errors and anything the Content-Security-Policy refused are pushed to `problems`,
 * which a test asserts empty: the console must work under `pds serve`'s strict policy.
 */
export async function newConsolePage(browser: Browser, problems: string[], options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light', ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  return page;
}
