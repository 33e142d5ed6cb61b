/**
 * The console's Schedules screen end to end: Debian's Chromium (playwright-core) against a real
 * `pds serve`. The configured schedule shows its next run times in its zone and the scheduler as
 * never run; disabling it writes config.yaml; a new schedule's next run times are checked while it
 * is typed (a wrong expression says so and cannot be saved) and it is saved in place.
 * Never downloads a browser: Chromium is the Debian package (`scripts/setup-test-env.sh`).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createConsoleHome, type ConsoleHome } from '../support/console-home.js';
import { launchChromium, newConsolePage, SHOTS, startServe, stopServe, updateReadmeScreens } from '../support/console-browser.js';



describe('console: Schedules screen', () => {
  let home: ConsoleHome;
  let serve: ChildProcess | undefined;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    home = await createConsoleHome({ files: 1, linesPerFile: 5 });
    const config = await readFile(join(home.home, 'config.yaml'), 'utf8');
    await writeFile(join(home.home, 'config.yaml'), `${config}    schedules:\n      - { name: nightly, cron: "30 2 * * *", timezone: Europe/London, load: events }\n`);
    const started = startServe(home.home);
    serve = started.child;
    const link = await started.link;
    browser = await launchChromium();
    page = await newConsolePage(browser, errors, { timezoneId: 'Europe/London', locale: 'en-GB' });
    await page.goto(link);
  });

  after(async () => {
    // `PDS_UPDATE_SCREENS=1` renews the README's screenshot of this screen.
    await updateReadmeScreens(['schedules']).catch(() => undefined);
    await browser?.close();
    await stopServe(serve);
    await home?.remove();
  });

  test('list, disable, check and save schedules', async () => {
    await page.getByRole('link', { name: 'Schedules', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: /^Schedules · local/ }).waitFor();
    const card = page.locator('li.card', { has: page.getByRole('heading', { name: 'nightly' }) });
    await card.getByText(/\d{4}-\d{2}-\d{2} 02:30 (GMT|BST)/).first().waitFor();
    await page.getByText('The scheduler has never run for this environment.').first().waitFor();
    await mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'schedules.png') });

    await page.getByRole('button', { name: 'Disable the schedule nightly' }).click();
    await page.getByRole('button', { name: 'Enable the schedule nightly' }).waitFor();
    assert.match(await readFile(join(home.home, 'config.yaml'), 'utf8'), /enabled: false/);

    const form = page.getByRole('form', { name: 'Add or change a schedule' });
    await form.getByLabel('Name').fill('weekly');
    await form.getByLabel('When (cron)').fill('61 7 * * 1');
    await form.getByText(/not a cron expression/).waitFor();
    assert.equal(await form.getByRole('button', { name: 'Save schedule' }).isDisabled(), true);
    await form.getByLabel('When (cron)').fill('0 7 * * 1');
    await form.getByLabel('Time zone').fill('America/New_York');
    await form.getByLabel('Loads').selectOption('weekly');
    await form.getByText(/Next runs: \d{4}-\d{2}-\d{2} 07:00 /).waitFor();
    await form.getByRole('button', { name: 'Save schedule' }).click();
    await form.getByText(/Saved schedule weekly; next run \d{4}-\d{2}-\d{2} 07:00/).waitFor();
    await page.locator('li.card', { has: page.getByRole('heading', { name: 'weekly' }) }).getByText('weekly package').waitFor();
    const saved = await readFile(join(home.home, 'config.yaml'), 'utf8');
    assert.match(saved, /name: weekly/);
    assert.match(saved, /timezone: America\/New_York/);
    assert.deepEqual(errors, []);
  });
});
