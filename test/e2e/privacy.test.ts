/**
 * The console's Privacy screen in Chromium against `pds serve`: the known-answer delivery of
 * test/support/report-delivery.ts loaded into SQLite, the inventory read from the environment's
 * configuration, then one learner erased — a dry run listing what would be removed per table, the
 * confirmation by typing the identifier, the result with its ledger record — and the erasure read
 * back from the audit log. Never downloads a browser (Debian's Chromium).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { loadedReportHome } from '../support/report-delivery.js';
import { launchChromium, newConsolePage, SHOTS, startServe, stopServe, updateReadmeScreens } from '../support/console-browser.js';


let work = '';
let serve: ChildProcess;
let browser: Browser;
let page: Page;
const problems: string[] = [];


/** The body rows of the table inside `scope`, as cell texts. */
async function rowsOf(scope: ReturnType<Page['locator']>): Promise<string[][]> {
  return scope.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('th, td')).map((td) => (td.textContent ?? '').trim())));
}

describe('the Privacy screen in Chromium', { timeout: 600_000 }, () => {
  before(async () => {
    await mkdir(SHOTS, { recursive: true });
    let home: string;
    ({ work, home } = await loadedReportHome('pds-privacy-e2e-'));
    const started = startServe(home);
    serve = started.child;
    const link = await started.link;
    browser = await launchChromium();
    page = await newConsolePage(browser, problems);
    await page.goto(link);
    await page.getByRole('link', { name: 'Privacy', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: /^Privacy/ }).waitFor();
  });

  after(async () => {
    // `PDS_UPDATE_SCREENS=1` renews the README's screenshot of this screen.
    await updateReadmeScreens(['privacy']).catch(() => undefined);
    await browser?.close();
    await stopServe(serve);
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('the inventory: where personal data is held, with the retention in force', async () => {
    const places = page.locator('section.card').filter({ has: page.getByRole('heading', { name: 'Where personal data is held' }) });
    await places.waitFor();
    const rows = await rowsOf(places);
    assert.ok(rows.some((r) => r[0]!.startsWith('Landing folder envs/univ/landing/')), 'the landing folder of this environment');
    assert.ok(rows.some((r) => r[0]!.startsWith('Relational store: SQLite envs/univ/data.sqlite')), 'the relational store as configured');
    await page.getByRole('heading', { name: 'Retention in force' }).waitFor();
    const users = await rowsOf(page.locator('section.card').filter({ has: page.getByRole('heading', { name: 'Weekly snapshot tables' }) }));
    await page.screenshot({ path: join(SHOTS, 'privacy-inventory.png') });
    const authUser = users.find((r) => r[0] === 'auth_user');
    assert.ok(authUser && authUser[1]!.includes('email'), 'auth_user lists email as a direct identifier');
  });

  test('an erasure: a dry run per table, the confirmation typed, the result with its ledger record', async () => {
    await page.getByRole('button', { name: 'Erase a learner', exact: true }).click();
    await page.getByLabel('Learner', { exact: true }).fill('gina');
    await page.getByRole('button', { name: 'Dry run', exact: true }).click();
    const plan = page.getByRole('region', { name: 'Dry run result' });
    await plan.getByRole('heading', { name: /^Would remove \d+ rows?$/ }).waitFor();
    await plan.getByText('Matched by username. Nothing has been removed yet.').waitFor();
    const planned = await rowsOf(plan);
    assert.ok(planned.some((r) => r[1] === 'auth_user' && Number(r[2]) >= 1), `auth_user is listed: ${JSON.stringify(planned)}`);
    assert.ok(planned.some((r) => r[1] === 'student_courseenrollment' && Number(r[2]) >= 1), 'the enrolment is listed');
    const erase = page.getByRole('button', { name: 'Erase the learner' });
    assert.equal(await erase.isDisabled(), true, 'nothing is erased before the identifier is typed');
    await page.getByLabel('Type the identifier to confirm').fill('gin');
    assert.equal(await erase.isDisabled(), true, 'a different identifier does not confirm');
    await page.getByLabel('Type the identifier to confirm').fill('gina');
    await page.screenshot({ path: join(SHOTS, 'privacy.png') });
    await erase.click();
    const done = page.getByRole('region', { name: 'Erasure result' });
    await done.getByText(/^Erased: \d+ rows? removed from \d+ places?\.$/).waitFor();
    const record = (await done.locator('.note-hint code').textContent())!.trim();
    assert.ok(record.length > 0, 'the ledger record is named');
    // The learner's identifier is not on the screen any more, in the form or the result.
    assert.equal(await page.getByLabel('Learner', { exact: true }).inputValue(), '');
    assert.equal((await page.locator('main').innerText()).includes('gina'), false);

    await done.getByRole('button', { name: 'Show the audit log' }).click();
    const log = page.locator('section.card').filter({ has: page.getByRole('heading', { name: 'Audit log' }) });
    await log.locator('tbody tr').first().waitFor();
    const entries = await rowsOf(log);
    const [newest] = entries;
    assert.equal(newest![2], 'erasure');
    assert.match(newest![1]!, /^console:/);
    assert.ok(newest![3]!.includes(`erasureId: ${record}`), newest![3]);
    await page.screenshot({ path: join(SHOTS, 'privacy-audit.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(SHOTS, 'privacy-audit-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    assert.ok(entries.some((r) => r[2] === 'run'), 'the run that loaded the data is in the log too');
    assert.equal(entries.map((r) => r.join(' ')).join('\n').includes('gina'), false, 'the log never names the learner');

    // A dry run now finds the learner gone.
    await page.getByRole('button', { name: 'Erase a learner', exact: true }).click();
    await page.getByLabel('Learner', { exact: true }).fill('gina');
    await page.getByRole('button', { name: 'Dry run', exact: true }).click();
    await page.getByRole('heading', { name: /^Already erased|^Nothing to remove/ }).or(page.getByRole('alert')).first().waitFor();
    assert.deepEqual(problems, []);
  });
});
