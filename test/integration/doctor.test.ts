/**
 * `pds doctor` (README "Unattended operation") run as the CLI: a broken config, a key expiring in
 * 10 days (made with GnuPG), an S3 endpoint that does not answer, a wrong MariaDB password and a
 * stale scheduler heartbeat are each named with what to do, with exit code 1 for errors and 2 for
 * warnings only.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { environmentPaths } from '../../core/config/config-store.js';
import { ScheduleLedger } from '../../core/schedule/schedule-ledger.js';
import type { DoctorReport } from '../../core/schedule/doctor.js';
import { freePort } from '../support/free-port.js';
import { createGpgHome, type GpgHome } from '../support/gpg.js';
import { mariaDbTargetLines, startMariaDb, type MariaDbServer } from '../support/mariadb.js';
import { runPds } from '../support/pds-cli.js';
import { eventLine } from '../support/console-home.js';

describe('pds doctor', () => {
  let gpg: GpgHome;
  let maria: MariaDbServer;
  let home: string;
  let keyFile: string;

  before(async () => {
    [gpg, maria] = await Promise.all([createGpgHome(), startMariaDb()]);
    home = await mkdtemp(join(tmpdir(), 'pds-doctor-'));
    const key = await gpg.generateKey({ name: 'Data Czar', email: 'czar@example.edu', expireDate: '10d' });
    keyFile = join(home, 'czar.asc');
    await writeFile(keyFile, await gpg.exportSecretKey(key.fingerprint));
  });

  after(async () => {
    await Promise.all([gpg?.dispose(), maria?.stop()]);
    if (home) await rm(home, { recursive: true, force: true });
  });

  test('a broken config: the file and line named, exit 1', async () => {
    const broken = join(home, 'broken');
    await mkdir(broken, { recursive: true });
    await writeFile(join(broken, 'config.yaml'), 'environments:\n  live:\n    source: { type: s3, org: UniX }\n    schedules:\n      - { name: nightly, cron: "61 2 * * *", timezone: Europe/Londres }\n');
    const r = await runPds(['--home', broken, 'doctor', '--env', 'live'], {});
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^ERROR {3}config/m);
    assert.match(r.stdout, /schedules\.0\.cron: must be a cron expression/);
    assert.match(r.stdout, /schedules\.0\.timezone: must be an IANA time zone/);
    assert.match(r.stdout, /→ Edit the file and run again\./);
  });

  test('an unreachable S3 endpoint, a wrong database password and a stale heartbeat are errors (exit 1), the key expiring in 10 days a warning, each with its fix', async () => {
    const deadPort = await freePort();
    await writeFile(
      join(home, 'config.yaml'),
      [
        'environments:',
        '  live:',
        '    source:',
        '      type: s3',
        '      org: UniX',
        `      endpoint: http://127.0.0.1:${deadPort}`,
        '      forcePathStyle: true',
        '      accessKeyId: env:PDS_DOCTOR_S3_KEY',
        '      secretAccessKey: env:PDS_DOCTOR_S3_SECRET',
        '      weekly: { bucket: course-data }',
        '    timeouts: { connectSeconds: 2, requestSeconds: 2 }',
        ...mariaDbTargetLines(maria, 'PDS_DOCTOR_DB_PASSWORD'),
        '      events: { type: sqlite }',
        '    schedules:',
        '      - { name: nightly, cron: "30 2 * * *", timezone: Europe/London, load: both }',
        '',
      ].join('\n'),
    );
    const env = { PDS_DOCTOR_S3_KEY: 'minioadmin', PDS_DOCTOR_S3_SECRET: 'minioadmin', PDS_DOCTOR_DB_PASSWORD: 'not-the-password' };
    const imported = await runPds(['--home', home, 'key', 'import', '--env', 'live', keyFile], env);
    assert.equal(imported.code, 0, imported.stderr);
    // A scheduler that beat 20 minutes ago and said nothing since.
    const ledger = ScheduleLedger.open(environmentPaths(home, 'live').ledger);
    const long = new Date(Date.now() - 20 * 60_000);
    ledger.beat(long, long, null);
    ledger.close();

    const text = await runPds(['--home', home, 'doctor', '--env', 'live'], env);
    assert.equal(text.code, 1, text.stderr);
    const json = await runPds(['--home', home, 'doctor', '--env', 'live', '--json'], env);
    assert.equal(json.code, 1, json.stderr);
    const report = JSON.parse(json.stdout) as DoctorReport;
    const find = (check: string, level: string, pattern: RegExp) => report.findings.find((f) => f.check === check && f.level === level && pattern.test(f.message));

    const source = find('source', 'error', /could not be reached|not answering|refused/i);
    assert.ok(source, JSON.stringify(report.findings, null, 2));
    assert.ok(source.fix && source.fix.length > 0, 'the source finding says what to do');

    const target = find('targets', 'error', /password|Access denied|refused/i);
    assert.ok(target, JSON.stringify(report.findings, null, 2));
    assert.ok(target.fix && /password/i.test(target.fix), `the fix names the password: ${target.fix}`);
    assert.ok(!json.stdout.includes('not-the-password'), 'the password itself is never printed');

    const key = find('key', 'warning', /expires/);
    assert.ok(key, JSON.stringify(report.findings, null, 2));
    assert.ok(key.fix);

    const scheduler = find('scheduler', 'error', /last heartbeat was at/);
    assert.ok(scheduler, JSON.stringify(report.findings, null, 2));
    assert.match(scheduler.fix ?? '', /pds schedule run --env live/);

    // The text form: one line per finding, the fix below it.
    assert.match(text.stdout, /^ERROR {3}scheduler/m);
    assert.match(text.stdout, /^WARNING key/m);
    assert.match(text.stdout, /→ Start the scheduler again/);
  });

  test('warnings only (the key expiring in 10 days, no load yet): exit 2', async () => {
    const source = join(home, 'incoming');
    await mkdir(source, { recursive: true });
    const day = new Date().toISOString().slice(0, 10);
    await writeFile(join(source, `unix-edx-events-${day}.log`), `${eventLine(1, day)}\n`);
    await writeFile(join(home, 'config.yaml'), ['environments:', '  calm:', `    source: { type: local, path: ${source} }`, ''].join('\n'));
    const imported = await runPds(['--home', home, 'key', 'import', '--env', 'calm', keyFile], {});
    assert.equal(imported.code, 0, imported.stderr);
    const r = await runPds(['--home', home, 'doctor', '--env', 'calm', '--json'], {});
    const report = JSON.parse(r.stdout) as DoctorReport;
    assert.equal(r.code, 2, JSON.stringify(report.findings, null, 2));
    assert.ok(report.findings.every((f) => f.level !== 'error'));
    assert.ok(report.findings.some((f) => f.check === 'key' && f.level === 'warning' && /expires/.test(f.message)));
    assert.ok(report.findings.some((f) => f.check === 'source' && f.level === 'ok'));
  });
});
