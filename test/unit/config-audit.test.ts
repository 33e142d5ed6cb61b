/**
 * Settings changed outside pds reach the audit log: config.yaml edited by hand between two runs
 * is recorded at the next run as a `config` entry by `outside pds`, naming the settings that
 * changed (never their values), once; a change made through the console is recorded as the
 * console's and not again as made outside pds, and a hand edit made before it is recorded as a
 * hand edit when the console change comes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { configPath } from '../../core/config/config-store.js';
import { DEMO_ENV, runDemo } from '../../core/demo/run-demo.js';
import { OUTSIDE_PDS } from '../../core/privacy/config-audit.js';
import { createConsoleHandlers, type ConsoleEngine } from '../../core/service/console-handlers.js';
import { createConsoleService } from '../../core/service/console-service.js';

let home: string;
let handlers: ConsoleEngine;

async function outsideEntries(): Promise<{ actor: string; detail: Record<string, unknown> }[]> {
  return (await handlers.listAudit({ env: DEMO_ENV, limit: 500 })).filter((e) => e.actor === OUTSIDE_PDS);
}

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'pds-config-audit-'));
  await runDemo(createConsoleService({ home }));
  handlers = createConsoleHandlers({ home, origin: 'console' });
});
after(async () => {
  await handlers?.close();
  await rm(home, { recursive: true, force: true });
});

describe('settings changed outside pds', () => {
  test('the first run only remembers the settings', async () => {
    assert.deepEqual(await outsideEntries(), []);
  });

  test('config.yaml edited by hand is in the audit log after the next run, once, with the settings named and no value', async () => {
    const file = configPath(home);
    const text = await readFile(file, 'utf8');
    const edited = text.replace(/description: .*/, 'description: Edited in an editor');
    assert.notEqual(edited, text);
    await writeFile(file, `${edited}    retention: { events: 7y }\n`);
    const service = createConsoleService({ home });
    const run = await service.run(DEMO_ENV, {});
    const [entry, ...more] = await outsideEntries();
    assert.equal(more.length, 0);
    assert.equal(entry?.detail.method, 'edited outside pds');
    assert.deepEqual(entry?.detail.settings, ['description', 'retention']);
    assert.equal(entry?.detail.noticedBy, `run ${run.runId}`);
    assert.ok(!JSON.stringify(entry).includes('Edited in an editor') && !JSON.stringify(entry).includes('7y'), 'no value of a setting');
    await service.run(DEMO_ENV, {});
    assert.equal((await outsideEntries()).length, 1, 'a change is reported once');
  });

  test('a change made in the console is the console\'s, not reported again as made outside pds', async () => {
    const view = await handlers.getEnvironment({ env: DEMO_ENV });
    await handlers.updateEnvironment({ env: DEMO_ENV, revision: view.revision, settings: { ...view.settings, description: 'Changed in the console' } });
    const log = await handlers.listAudit({ env: DEMO_ENV, limit: 500 });
    assert.ok(log.some((e) => e.action === 'config' && e.actor.startsWith('console:') && e.detail.method === 'updateEnvironment'));
    await createConsoleService({ home }).run(DEMO_ENV, {});
    assert.equal((await outsideEntries()).length, 1);
  });

  test('a hand edit made before a console change is recorded as such, not taken for the console\'s', async () => {
    const file = configPath(home);
    await writeFile(file, `${await readFile(file, 'utf8')}    alerts: { repeatDays: 3 }\n`);
    const view = await handlers.getEnvironment({ env: DEMO_ENV });
    await handlers.updateEnvironment({ env: DEMO_ENV, revision: view.revision, settings: { ...view.settings, description: 'Changed in the console again' } });
    const outside = await outsideEntries();
    assert.equal(outside.length, 2);
    assert.deepEqual(outside[0]!.detail.settings, ['alerts']);
    assert.equal(outside[0]!.detail.noticedBy, 'console updateEnvironment');
    await createConsoleService({ home }).run(DEMO_ENV, {});
    assert.equal((await outsideEntries()).length, 2, 'the console\'s own change is not reported at the next run');
  });
});
