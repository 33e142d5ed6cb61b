/**
 * The console's Reports screen in Chromium against `pds serve`: the known-answer delivery of
 * test/support/report-delivery.ts loaded into SQLite, then each report asked through its form —
 * the roster filtered by status, course activity with its chart, a program's eligible learners,
 * an unknown course's message with its close matches, and the learning-analytics CSV downloaded
 * with the documented columns. Never downloads a browser (Debian's Chromium).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { Browser, Page } from 'playwright-core';
import { EXPORT_COLUMNS } from '../../core/contract/report-schemas.js';
import { COURSES, loadedReportHome } from '../support/report-delivery.js';
import { launchChromium, newConsolePage, SHOTS, startServe, stopServe, updateReadmeScreens } from '../support/console-browser.js';


let work = '';
let serve: ChildProcess;
let browser: Browser;
let page: Page;
const problems: string[] = [];


/** The body rows of the report table under the heading `caption`, as cell texts. */
async function tableRows(caption: RegExp): Promise<string[][]> {
  const card = page.locator('section.card').filter({ has: page.getByRole('heading', { name: caption }) });
  await card.waitFor();
  return card.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => (td.textContent ?? '').trim())));
}

describe('the Reports screen in Chromium', { timeout: 600_000 }, () => {
  before(async () => {
    await mkdir(SHOTS, { recursive: true });
    let home: string;
    ({ work, home } = await loadedReportHome('pds-reports-e2e-'));
    const started = startServe(home);
    serve = started.child;
    const link = await started.link;
    browser = await launchChromium();
    page = await newConsolePage(browser, problems, { acceptDownloads: true });
    await page.goto(link);
    await page.getByRole('link', { name: 'Reports', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: /^Reports/ }).waitFor();
  });

  after(async () => {
    // `PDS_UPDATE_SCREENS=1` renews the README's screenshots of this screen.
    await updateReadmeScreens(['reports-activity', 'reports-program']).catch(() => undefined);
    await browser?.close();
    await stopServe(serve);
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('a learner by an old username: every course, under each username', async () => {
    await page.getByLabel('Learner', { exact: true }).fill('alice');
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    const rows = await tableRows(/^Courses of user 101/);
    assert.deepEqual(rows.map((r) => [r[1], r[3]]), [
      ['alice', COURSES.prob1.key],
      ['alice', COURSES.ml.key],
      ['alice_w', COURSES.statx.key],
    ]);
  });

  test('a roster filtered by status, and an unknown course with its close matches', async () => {
    await page.getByRole('button', { name: 'Roster', exact: true }).click();
    await page.getByLabel('Course', { exact: true }).fill(COURSES.prob3.key);
    await page.getByLabel('Status').selectOption('inactive');
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    const rows = await tableRows(/learners$/);
    assert.deepEqual(rows.map((r) => [r[1], r[5]]), [['gina', 'no']]);
    await page.getByLabel('Course', { exact: true }).fill('UniX-Prob101-2T2025');
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await page.getByText(/No course "UniX-Prob101-2T2025".*Close matches/).waitFor();
  });

  test('course activity by week with its chart', async () => {
    await page.getByRole('button', { name: 'Course activity', exact: true }).click();
    await page.getByLabel('Course', { exact: true }).fill(COURSES.prob1.id);
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await page.locator('figure.chart svg').waitFor();
    const rows = await tableRows(/^Activity$/);
    assert.deepEqual(rows, [
      ['2025-03-03', '4', '12', '4', '2', '1', '1', '1', '1'],
      ['2025-03-10', '1', '2', '1', '1', '1', '0', '0', '0'],
    ]);
    await page.screenshot({ path: join(SHOTS, 'reports-activity.png') });
  });

  test('a program: eligible learners only', async () => {
    await page.getByRole('button', { name: 'Program', exact: true }).click();
    await page.getByLabel('Eligible learners only').check();
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    const rows = await tableRows(/^Statistics and Data Science$/);
    assert.deepEqual(rows.map((r) => [r[1], r[2], r[3]]), [
      ['alice_w', 'yes', '2025-09-01'],
      ['carol', 'yes', '2025-09-01'],
      ['erin', 'yes', '2024-01-01'],
    ]);
    await page.screenshot({ path: join(SHOTS, 'reports-program.png') });
  });

  test('the learning-analytics export downloads as CSV with the documented columns', async () => {
    await page.getByRole('button', { name: 'Learning-analytics export', exact: true }).click();
    await page.getByLabel('Export', { exact: true }).selectOption('program');
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await page.getByRole('heading', { name: /^20 rows/ }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    assert.equal(download.suggestedFilename(), 'learners-sds.csv');
    const rows = parse(await readFile((await download.path())!, 'utf8'), { columns: true }) as Record<string, string>[];
    assert.equal(rows.length, 20);
    assert.deepEqual(Object.keys(rows[0]!), [...EXPORT_COLUMNS]);
    assert.deepEqual(problems, []);
  });
});
