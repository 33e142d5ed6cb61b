/**
 * The operator console end to end (docs/architecture.md §5): Debian's Chromium, driven by
 * playwright-core, against a real `pds serve` child process whose environment reads a
 * GnuPG-encrypted edX delivery with faults from MinIO. Everything is done through the screens:
 * create the environment in the form (an invalid field shows its error first), import the key,
 * test the connections (one fails with its reason), start a run and watch its progress move, read
 * the run's notices on its report, open a flagged file for its reason and a rejected line's text,
 * export the report, retry by code, cancel a long run, watch a run started from the command line,
 * switch to the dark theme.
 *
 * Every API response body is scanned for the key passphrase and the S3 secret (none may appear).
 * Screenshots of every screen go to `test-output/screens/`; with `PDS_UPDATE_SCREENS=1` the
 * README's set is copied to `docs/screens/`.
 *
 * Never downloads a browser: Chromium is the Debian package (`scripts/setup-test-env.sh`).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createDelivery, FAULTS, PASSPHRASE, type Delivery } from '../support/delivery.js';
import { collect, spawnPds } from '../support/pds-cli.js';
import { launchChromium, newConsolePage, SHOTS, startServe, stopServe, updateReadmeScreens } from '../support/console-browser.js';

const README_SHOTS = ['environments', 'environment-form', 'keys', 'run-progress', 'report', 'file-detail', 'attention', 'data', 'report-dark'];

let d: Delivery;
let serve: ChildProcess;
let home = '';
let base = '';
let token = '';
let browser: Browser;
let page: Page;
const scanned: Promise<void>[] = [];
const leaks: string[] = [];
let apiResponses = 0;
/** The address of the first full run's report (the dark-theme screenshot shows it). */
let firstRunReport = '';
/** The first full run's loaded files as its Report counts them (the Runs screen must say the same). */
let firstRunLoaded = '';
/** The run event stream as a second client reads it, scanned at the end like the API answers. */
const eventStream = { text: '', stop: new AbortController(), done: Promise.resolve() };

/** Calls the API directly (setting up the second environment), as the page would. */
async function call<T>(method: string, args: unknown): Promise<T> {
  const res = await fetch(`${base}/api/${method}`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(args) });
  const body = await res.text();
  scan(`${method} (test)`, body);
  const envelope = JSON.parse(body) as { ok: boolean; value: T; error?: { message: string } };
  assert.ok(envelope.ok, `${method}: ${envelope.error?.message}`);
  return envelope.value;
}

function scan(what: string, body: string): void {
  apiResponses++;
  if (body.includes(PASSPHRASE)) leaks.push(`${what}: the key passphrase`);
  if (body.includes(d.minio.secretKey)) leaks.push(`${what}: the S3 secret key`);
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

async function go(screen: string): Promise<void> {
  await page.getByRole('link', { name: screen, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: new RegExp(`^${screen}`) }).waitFor();
}

/** The "N of M files done" of the live run card. */
async function filesDone(): Promise<number> {
  const label = (await page.locator('.progress-label').first().textContent()) ?? '';
  return Number(/^([\d,.\s]+) of/.exec(label)?.[1]?.replace(/\D/g, '') ?? -1);
}

describe('the console in Chromium against pds serve', { timeout: 900_000 }, () => {
  before(async () => {
    await mkdir(SHOTS, { recursive: true });
    d = await createDelivery();
    home = await mkdtemp(join(d.work, 'console-home-'));
    const started = startServe(home);
    serve = started.child;
    const link = await started.link;
    base = new URL(link).origin;
    token = new URL(link).hash.replace('#token=', '');
    const events = await fetch(`${base}/api/events?token=${token}`, { signal: eventStream.stop.signal });
    assert.equal(events.status, 200);
    const decoder = new TextDecoder();
    eventStream.done = (async () => {
      try {
        const reader = events.body!.getReader();
        for (let r = await reader.read(); !r.done; r = await reader.read()) eventStream.text += decoder.decode(r.value, { stream: true });
      } catch {
        // Aborted at the end of the test.
      }
    })();
    browser = await launchChromium();
    page = await newConsolePage(browser, leaks, { timezoneId: 'Europe/Berlin', locale: 'en-GB' });
    page.on('response', (response) => {
      const url = new URL(response.url());
      if (!url.pathname.startsWith('/api/') || url.pathname === '/api/events') return;
      scanned.push(response.text().then((body) => scan(url.pathname, body), () => undefined));
    });
    await page.goto(link);
  });

  after(async () => {
    eventStream.stop.abort();
    await browser?.close();
    await stopServe(serve);
    await d?.dispose();
  });

  test('the link’s token is taken out of the address bar and the empty console says what to do', async () => {
    assert.doesNotMatch(page.url(), /token=/);
    await page.getByText('No environment is configured yet').waitFor();
    await shot('environments-empty');
  });

  test('an environment is created through the form; an invalid field shows its error first', async () => {
    await page.getByRole('button', { name: 'Create the first environment' }).click();
    await page.getByLabel('Name', { exact: true }).fill('live');
    await page.getByLabel('Description').fill('MinIO delivery for the console test');
    await page.getByLabel('edX organisation').fill('DemoX');
    await page.getByLabel('Endpoint').fill('minio on port 9000');
    await page.getByLabel('Path-style addressing (MinIO)').check();
    await page.getByLabel('Weekly packages bucket').fill('course-data');
    await page.getByLabel('Daily event logs bucket').fill('edx-course-data');
    await page.getByLabel('Daily event logs prefix').fill('demox/');
    await page.getByLabel('S3 access key id').fill(d.minio.accessKey);
    await page.getByLabel('S3 secret access key').fill(d.minio.secretKey);
    await page.getByLabel('Key passphrase').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Create environment' }).click();

    const endpoint = page.getByLabel('Endpoint');
    await page.locator('.field-invalid .field-error').first().waitFor();
    assert.equal(await endpoint.getAttribute('aria-invalid'), 'true');
    const errorId = (await endpoint.getAttribute('aria-describedby'))!.split(' ')[0]!;
    assert.match((await page.locator(`[id="${errorId}"]`).textContent()) ?? '', /URL/);
    await shot('environment-form');

    await endpoint.fill(d.minio.endpoint);
    await page.getByRole('button', { name: 'Create environment' }).click();
    await page.getByRole('heading', { level: 2, name: 'live', exact: true }).waitFor();
    const card = page.locator('article', { has: page.getByRole('heading', { name: 'live', exact: true }) });
    assert.match((await card.textContent()) ?? '', /no key imported/);
    // The secrets are set, shown as such, never echoed.
    assert.equal(await card.locator('.secret-list .pill-ok').count(), 3);
    // The config file holds references to the secrets, not the secrets.
    const config = await readFile(join(home, 'config.yaml'), 'utf8');
    assert.ok(!config.includes(d.minio.secretKey) && !config.includes(PASSPHRASE), config);
  });

  test('testing the key before importing one fails with its reason; the source answers', async () => {
    const card = page.locator('article', { has: page.getByRole('heading', { name: 'live', exact: true }) });
    await card.getByRole('button', { name: 'Test the key of live' }).click();
    const keyCheck = card.getByRole('status', { name: 'Key check' });
    await keyCheck.waitFor();
    assert.match((await keyCheck.textContent()) ?? '', /failed/);
    assert.ok(((await keyCheck.locator('.check-summary').textContent()) ?? '').length > 10, 'the failure says why');

    await card.getByRole('button', { name: 'Test the source of live' }).click();
    const sourceCheck = card.getByRole('status', { name: 'Source check' });
    await sourceCheck.waitFor();
    assert.match((await sourceCheck.textContent()) ?? '', /works/);
  });

  test('the key is imported by pasting it, listed with its fingerprint, and then unlocks', async () => {
    await go('Keys');
    await page.getByText('No key imported').waitFor();
    await page.getByLabel('Paste the armored key').fill(await readFile(d.secretKeyFile, 'utf8'));
    await page.getByRole('button', { name: 'Import key' }).click();
    await page.getByRole('heading', { name: /Data Czar/ }).waitFor();
    const fingerprint = d.czar.fingerprint.replace(/(.{4})(?=.)/g, '$1 ');
    await page.getByText(fingerprint).waitFor();
    await shot('keys');

    await go('Environments');
    const card = page.locator('article', { has: page.getByRole('heading', { name: 'live', exact: true }) });
    await card.getByRole('button', { name: 'Test the key of live' }).click();
    await card.getByRole('status', { name: 'Key check' }).getByText('works').waitFor();
    await card.getByRole('button', { name: 'Test the targets of live' }).click();
    await card.getByRole('status', { name: 'Tables check' }).waitFor();
  });

  test('a run started from the Run screen shows its progress moving, then its report', async () => {
    await go('Run');
    await page.getByRole('button', { name: 'Dry run: show the plan' }).click();
    await page.getByRole('region', { name: 'Plan' }).waitFor();
    await shot('run-plan');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForFunction(() => /^\s*[1-9][\d,]* of/.test(document.querySelector('.progress-label')?.textContent ?? ''));
    const first = await filesDone();
    await page.waitForFunction((n) => Number((/^([\d,]+) of/.exec(document.querySelector('.progress-label')?.textContent ?? '')?.[1] ?? '0').replace(/,/g, '')) > n, first);
    assert.ok((await filesDone()) > first, 'progress moves');
    await shot('run-progress');
    await page.getByRole('link', { name: 'Open the report' }).waitFor();
    await page.getByRole('link', { name: 'Open the report' }).click();
    await page.getByRole('heading', { level: 1, name: /^Report/ }).waitFor();
    await page.locator('.report-table tbody tr').first().waitFor();
    firstRunReport = new URL(page.url()).hash;
    firstRunLoaded = /([\d,]+) loaded/.exec((await page.locator('.run-line .pills').textContent()) ?? '')?.[1] ?? '';
    assert.ok(firstRunLoaded, 'the report counts the loaded files');
    // The run's notices stand above the file table: the delivery's roster has learners edX retired.
    const notices = page.getByRole('list', { name: 'Notices of this run' });
    await notices.getByRole('listitem').filter({ hasText: /learner\(s\) edX has retired \(\d+ renamed retired__user_…\) are still held/ }).waitFor();
    assert.ok(await page.evaluate(() => {
      const list = document.querySelector('ul.notices');
      const table = document.querySelector('.report-table');
      return list !== null && table !== null && (list.compareDocumentPosition(table) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
    }), 'the notices come before the file table');
    await shot('report');

    // The CSV export holds every file of the run, with the run's start in UTC.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = await readFile((await download.path())!, 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    assert.match(lines[0]!, /^run_id,run_started_utc,key,status,kind,course,table/);
    const total = Number(/of ([\d,]+) files/.exec((await page.locator('.pager-info').first().textContent()) ?? '')?.[1]?.replace(/,/g, '') ?? lines.length - 1);
    assert.equal(lines.length - 1, total, 'one line per file of the run');
    assert.match(lines[1]!, /^[\w-]+,\d{4}-\d{2}-\d{2}T[\d:.]+Z,/);
    assert.ok(lines.some((l) => l.includes('TSV_FIELD_COUNT') || l.includes('LINES_REJECTED')));

    // A header sorts the whole run, not the page: from the keyboard, ascending then descending.
    const runId = decodeURIComponent(firstRunReport.replace(/^#\/?/, '').split('/')[1] ?? '');
    const worst = await call<{ files: { key: string }[] }>('getReport', { env: 'live', ...(runId && runId !== 'latest' ? { runId } : {}), sort: { by: 'rejected', dir: 'desc' }, limit: 1 });
    const rejectedHeader = page.locator('.report-table thead th', { has: page.getByRole('button', { name: 'Rejected', exact: true }) });
    const sortButton = rejectedHeader.getByRole('button');
    await sortButton.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('.report-table thead th[aria-sort="ascending"]') !== null);
    await sortButton.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('.report-table thead th[aria-sort="descending"]') !== null);
    assert.equal(await rejectedHeader.getAttribute('aria-sort'), 'descending');
    await page.waitForFunction((key) => document.querySelector('.report-table tbody tr .file-cell a')?.getAttribute('title') === key, worst.files[0]!.key);
    await sortButton.click();
    await page.waitForFunction(() => document.querySelector('.report-table thead th:not([aria-sort="none"])') === null);
  });

  test('a flagged file opens with its reason and the text of its rejected line', async () => {
    await page.getByLabel('Status').selectOption('partial');
    const member = FAULTS.badRowsMember.slice(FAULTS.badRowsMember.lastIndexOf('/') + 1);
    await page.getByRole('link', { name: member }).click();
    const drawer = page.getByRole('complementary');
    await drawer.getByRole('heading', { name: member }).waitFor();
    await drawer.locator('.rejected-text').first().waitFor();
    assert.match((await drawer.locator('.note-message').first().textContent()) ?? '', /1 of 3 lines .* could not be loaded/);
    const rejected = drawer.locator('.rejected > li').first();
    assert.match((await rejected.locator('.rejected-head').textContent()) ?? '', /line 3.*TSV_FIELD_COUNT.*expected 6 fields/);
    assert.equal(await rejected.locator('.rejected-text').textContent(), '2\t11\tcourse-v1:DemoX+Old+1T\t2026-05-01 10:00:00');
    await shot('file-detail');
    await drawer.getByRole('button', { name: 'Close the file detail' }).click();

    // The file wanting another org's key offers the key import as its next step.
    await page.getByLabel('Status').selectOption('failed');
    const other = FAULTS.otherKey.slice(FAULTS.otherKey.lastIndexOf('/') + 1);
    await page.getByRole('link', { name: other }).click();
    await drawer.getByRole('button', { name: 'Import a key' }).waitFor();
    assert.match((await drawer.locator('.note-message').first().textContent()) ?? '', new RegExp(d.stranger.encryptionKeyId, 'i'));
    await drawer.getByRole('button', { name: 'Close the file detail' }).click();
  });

  test('runs, attention and data show what happened', async () => {
    await go('Runs');
    await page.locator('table tbody tr').first().waitFor();
    assert.match((await page.locator('table tbody tr').first().textContent()) ?? '', /flagged/);
    // The run's totals and its report count the files alike (a package's own row is not a file).
    assert.equal((await page.locator('table tbody tr').first().locator('td').nth(4).textContent())?.trim(), firstRunLoaded);
    await shot('runs');
    await go('Attention');
    const other = FAULTS.otherKey.slice(FAULTS.otherKey.lastIndexOf('/') + 1);
    const row = page.locator('tr', { has: page.getByRole('link', { name: other }) });
    await row.waitFor();
    assert.match((await row.locator('td').nth(5).textContent()) ?? '', /^yes$/);
    await shot('attention');

    // Retry every file flagged with one code: a run whose plan holds just that file.
    await page.getByRole('group', { name: 'Retry by code' }).getByRole('button', { name: 'DECRYPT_NO_MATCHING_KEY' }).click();
    await page.getByRole('heading', { level: 1, name: /^Run/ }).waitFor();
    const retryRun = page.locator('.live-card').first();
    const retryId = (await retryRun.getAttribute('aria-label'))!;
    await page.getByRole('article', { name: retryId }).getByRole('link', { name: 'Open the report' }).waitFor();
    await page.getByRole('article', { name: retryId }).getByRole('link', { name: 'Open the report' }).click();
    await page.locator('.report-table tbody tr').first().waitFor();
    assert.match((await page.locator('.run-line').textContent()) ?? '', /retry of files flagged DECRYPT_NO_MATCHING_KEY/);
    assert.equal(await page.locator('.report-table tbody tr').count(), 1);
    assert.match((await page.locator('.report-table tbody tr').textContent()) ?? '', /DECRYPT_NO_MATCHING_KEY/);
    await go('Data');
    await page.getByText('Table rows').waitFor();
    await shot('data');
  });

  test('a long run is cancelled from the Run screen', async () => {
    // A second environment on the same delivery, set up through the API, starts with nothing loaded.
    const view = await call<{ settings: Record<string, unknown> }>('getEnvironment', { env: 'live' });
    await call('createEnvironment', { env: 'test', settings: { ...view.settings, description: 'The same delivery into a fresh database' } });
    for (const [field, value] of [
      ['source.accessKeyId', d.minio.accessKey],
      ['source.secretAccessKey', d.minio.secretKey],
      ['key.passphrase', PASSPHRASE],
    ]) {
      await call('setSecret', { env: 'test', field, value });
    }
    await call('importKey', { env: 'test', armored: await readFile(d.secretKeyFile, 'utf8') });
    await page.reload();
    await page.getByLabel('Environment', { exact: true }).selectOption('test');
    await go('Run');
    await page.getByRole('button', { name: 'Start run' }).click();
    const live = page.locator('.live-card').first();
    await page.waitForFunction(() => /^\s*[1-9][\d,]* of/.test(document.querySelector('.live-card .progress-label')?.textContent ?? ''));
    await live.getByRole('button', { name: 'Cancel run' }).click();
    await live.locator('.pill', { hasText: 'cancelled' }).waitFor();
    assert.ok((await filesDone()) < (await page.evaluate(() => Number(document.querySelector('.live-card progress')?.getAttribute('max')))), 'stopped before the end');
    await shot('run-cancelled');
    await go('Runs');
    await page.locator('table tbody tr').first().locator('.pill', { hasText: 'cancelled' }).waitFor();

    // Both environments side by side, with the answers of their connection tests.
    await go('Environments');
    for (const env of ['live', 'test']) {
      const card = page.locator('article', { has: page.getByRole('heading', { name: env, exact: true }) });
      await card.getByRole('button', { name: `Test the source of ${env}` }).click();
      await card.getByRole('status', { name: 'Source check' }).waitFor();
    }
    await shot('environments');
  });

  test('a run started from the command line on the same home shows in the console as it goes', async () => {
    await go('Run');
    const cli = spawnPds(['run', '--env', 'test', '--quiet'], { PDS_HOME: home });
    const finished = collect(cli);
    const card = page.locator('.live-card', { hasText: 'by cli' }).first();
    await card.waitFor();
    await card.getByRole('link', { name: 'Open the report' }).waitFor();
    const result = await finished;
    assert.equal(result.code, 2, `the CLI run finished with files flagged\n${result.stderr}`);
    assert.match((await card.locator('.pill').first().textContent()) ?? '', /flagged/);
  });

  test('the dark theme is one switch away', async () => {
    await page.getByLabel('Environment', { exact: true }).selectOption('live');
    await page.getByLabel('Theme').selectOption('dark');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.notEqual(background, 'rgb(246, 247, 249)');
    await page.evaluate((hash) => (location.hash = hash), firstRunReport);
    await page.getByRole('heading', { level: 1, name: /^Report/ }).waitFor();
    await page.locator('.report-table tbody tr').nth(10).waitFor();
    await page.getByRole('list', { name: 'Notices of this run' }).getByText(/edX has retired/).waitFor();
    await shot('report-dark');
    await go('Environments');
    await shot('environments-dark');
  });

  test('no API response carried the passphrase or the S3 secret', async () => {
    await Promise.all(scanned);
    eventStream.stop.abort();
    await eventStream.done;
    assert.match(eventStream.text, /"type":"file-finished"/, 'the event stream carried the runs');
    scan('/api/events', eventStream.text);
    assert.ok(apiResponses > 20, `${apiResponses} API responses were scanned`);
    assert.deepEqual(leaks, []);
    await updateReadmeScreens(README_SHOTS);
  });
});
