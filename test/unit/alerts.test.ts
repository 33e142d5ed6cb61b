/**
 * Alerts (README "Unattended operation") delivered to a real SMTP server started here (STARTTLS
 * with a certificate made for the test, password authentication) and to a local HTTP endpoint:
 * the right recipients, the summary, the flagged files with their reasons and how to see the
 * report, a valid HMAC-SHA256 signature; no secret and no learner data in either; the same
 * problem is not sent again the next night, and a digest says it persists after `repeatDays`.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { getEnvironment, loadConfig } from '../../core/config/config-store.js';
import { afterRun } from '../../core/schedule/run-scheduler.js';
import { environmentPaths } from '../../core/config/config-store.js';
import type { Clock } from '../../core/schedule/cron-times.js';
import { Scheduler } from '../../core/schedule/scheduler.js';
import { acquireRunLock } from '../../core/service/run-lock.js';
import { createConsoleService } from '../../core/service/console-service.js';
import type { LogEntry } from '../../core/schedule/log.js';
import { createConsoleHome, type ConsoleHome } from '../support/console-home.js';
import { freePort } from '../support/free-port.js';
import { runPds } from '../support/pds-cli.js';

const SMTP_PASSWORD = 'smtp-Secret-7f3a9c';
const HOOK_SECRET = 'hook-Secret-0b12de';
const LEARNER_EMAIL = 'alice.learner@example.edu';

interface Mail {
  from: string;
  to: string[];
  secure: boolean;
  user: string | undefined;
  raw: string;
}
interface Hook {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('alerts', () => {
  let dir: string;
  let smtp: SMTPServer;
  let http: Server;
  let smtpPort: number;
  let httpPort: number;
  const mails: Mail[] = [];
  const hooks: Hook[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pds-alerts-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    smtpPort = await freePort();
    smtp = new SMTPServer({
      key: await readFile(join(dir, 'key.pem')),
      cert: await readFile(join(dir, 'cert.pem')),
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth(auth, _session, callback) {
        if (auth.username === 'pds' && auth.password === SMTP_PASSWORD) callback(null, { user: 'pds' });
        else callback(new Error('Invalid username or password'));
      },
      onData(stream, session, callback) {
        let raw = '';
        stream.setEncoding('utf8');
        stream.on('data', (s: string) => (raw += s));
        stream.on('end', () => {
          mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), secure: session.secure, user: session.user as string | undefined, raw });
          callback();
        });
      },
      logger: false,
    });
    await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));
    httpPort = await freePort();
    http = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (s: string) => (body += s));
      req.on('end', () => {
        hooks.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => http.listen(httpPort, '127.0.0.1', resolve));
  });

  after(async () => {
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  test('a flagged run is sent by e-mail and webhook once; the next night it is not re-sent; after repeatDays a digest says it persists', async () => {
    // Bad lines (one holding a learner's address) make the run flagged.
    const home: ConsoleHome = await createConsoleHome({ files: 2, linesPerFile: 20, badLines: { 1: 2 } });
    const env = { PDS_TEST_SMTP_PASS: SMTP_PASSWORD, PDS_TEST_HOOK_SECRET: HOOK_SECRET };
    Object.assign(process.env, env);
    try {
      await writeFile(join(home.source, 'orgx-edx-events-2026-01-03.log'), `{"username": "x", "email": "${LEARNER_EMAIL}", "event_type": \n`);
      const config = await readFile(join(home.home, 'config.yaml'), 'utf8');
      await writeFile(
        join(home.home, 'config.yaml'),
        `${config}    alerts:
      repeatDays: 7
      reportLink: https://pds.example.edu/console
      email:
        host: localhost
        port: ${smtpPort}
        user: pds
        password: env:PDS_TEST_SMTP_PASS
        from: pds@example.edu
        to: [czar@example.edu, ops@example.edu]
        ca: ${join(dir, 'cert.pem')}
      webhook:
        url: http://127.0.0.1:${httpPort}/hook
        secret: env:PDS_TEST_HOOK_SECRET
`,
      );
      const result = await createConsoleService({ home: home.home }).run('local', {});
      assert.equal(result.status, 'flagged');
      const envConfig = getEnvironment(await loadConfig(home.home), 'local');
      const log: LogEntry[] = [];
      const notice = { type: 'run-ended' as const, env: 'local', schedule: 'nightly', result };

      await afterRun(home.home, notice, envConfig, new Date('2026-01-04T02:00:00Z'), (e) => log.push(e));
      const runMails = mails.filter((m) => /flagged file/.test(m.raw));
      assert.equal(runMails.length, 1, log.map((l) => l.msg).join('\n'));
      const mail = runMails[0]!;
      assert.deepEqual(mail.to, ['czar@example.edu', 'ops@example.edu']);
      assert.equal(mail.from, 'pds@example.edu');
      assert.equal(mail.secure, true, 'sent over TLS (STARTTLS)');
      assert.equal(mail.user, 'pds');
      const text = mail.raw.replace(/=\r?\n/g, '');
      assert.match(text, /Subject: \[pds local\] load finished with 2 flagged file\(s\)/);
      assert.match(text, /orgx-edx-events-2026-01-02\.log: partial/);
      assert.match(text, /orgx-edx-events-2026-01-03\.log: (partial|failed)/);
      assert.match(text, new RegExp(`https://pds\\.example\\.edu/console \\(or run: pds report --env local ${result.runId}\\)`));

      const runHooks = hooks.filter((h) => h.headers['x-pds-event'] === 'run-flagged');
      assert.equal(runHooks.length, 1);
      const hook = runHooks[0]!;
      const expected = `sha256=${createHmac('sha256', HOOK_SECRET).update(hook.body).digest('hex')}`;
      assert.equal(hook.headers['x-pds-signature'], expected, 'the signature verifies with the shared secret');
      const payload = JSON.parse(hook.body) as { kind: string; env: string; digest: boolean; files: { key: string; status: string; reason: string }[]; runId: string };
      assert.equal(payload.kind, 'run-flagged');
      assert.equal(payload.digest, false);
      assert.equal(payload.runId, result.runId);
      assert.deepEqual(payload.files.map((f) => f.key).sort(), ['orgx-edx-events-2026-01-02.log', 'orgx-edx-events-2026-01-03.log']);
      assert.ok(payload.files.every((f) => f.reason.length > 0));

      // Nothing secret, nothing about a learner.
      for (const content of [...mails.map((m) => m.raw), ...hooks.map((h) => h.body + JSON.stringify(h.headers))]) {
        for (const forbidden of [SMTP_PASSWORD, HOOK_SECRET, LEARNER_EMAIL, 'learner1', '"username"']) assert.ok(!content.includes(forbidden), `an alert contains ${forbidden}`);
      }

      // The next night, the same problem: noted, not sent.
      const mailsBefore = mails.length;
      const hooksBefore = hooks.length;
      await afterRun(home.home, notice, envConfig, new Date('2026-01-05T02:00:00Z'), (e) => log.push(e));
      assert.equal(mails.filter((m) => /flagged file/.test(m.raw)).length, 1);
      assert.equal(hooks.filter((h) => h.headers['x-pds-event'] === 'run-flagged').length, 1);
      assert.ok(log.some((l) => /alert suppressed/.test(l.msg)));

      // A week later it still persists: one digest.
      await afterRun(home.home, notice, envConfig, new Date('2026-01-12T02:00:00Z'), (e) => log.push(e));
      const digests = hooks.slice(hooksBefore).filter((h) => h.headers['x-pds-event'] === 'run-flagged');
      assert.equal(digests.length, 1);
      const digest = JSON.parse(digests[0]!.body) as { digest: boolean; firstSeenAt: string; seen: number };
      assert.equal(digest.digest, true);
      assert.equal(digest.firstSeenAt, '2026-01-04T02:00:00.000Z');
      assert.equal(digest.seen, 3);
      assert.ok(mails.slice(mailsBefore).some((m) => /still the case/.test(m.raw.replace(/=\r?\n/g, ''))));

      // The delivery watch spoke too: the newest daily log is days old.
      assert.ok(hooks.some((h) => h.headers['x-pds-event'] === 'delivery-late' && /orgx-edx-events-2026-01-03\.log/.test(h.body)));
    } finally {
      delete process.env.PDS_TEST_SMTP_PASS;
      delete process.env.PDS_TEST_HOOK_SECRET;
      await home.remove();
    }
  });

  test('a slot skipped while a load runs is alerted once (the webhook), not again the next night; a slot on time clears it', async () => {
    const home = await createConsoleHome({ files: 1, linesPerFile: 5 });
    try {
      const config = await readFile(join(home.home, 'config.yaml'), 'utf8');
      await writeFile(
        join(home.home, 'config.yaml'),
        `${config}    schedules:\n      - { name: nightly, cron: "0 2 * * *", timezone: UTC, load: events }\n    alerts:\n      webhook: { url: "http://127.0.0.1:${httpPort}/hook" }\n`,
      );
      let now = new Date('2026-03-01T01:00:00Z');
      const clock: Clock = { now: () => new Date(now), sleep: async () => undefined };
      const service = createConsoleService({ home: home.home });
      const log: LogEntry[] = [];
      const scheduler = new Scheduler({
        home: home.home,
        clock,
        log: (e) => log.push(e),
        start: async (env, options) => {
          const s = await service.begin(env, options, { origin: 'scheduler' });
          return { runId: s.runId, done: s.done };
        },
        notify: (notice, envConfig) => afterRun(home.home, notice, envConfig, clock.now(), (e) => log.push(e)),
      });
      const skipped = () => hooks.filter((h) => h.headers['x-pds-event'] === 'slot-missed');
      const lock = join(environmentPaths(home.home, 'local').root, 'run.lock');
      for (const night of ['2026-03-01', '2026-03-02']) {
        const release = await acquireRunLock(lock, 'local');
        now = new Date(`${night}T02:00:00Z`);
        await scheduler.tick();
        await release();
      }
      assert.equal(skipped().length, 1, 'the second night the same problem is only noted');
      const body = JSON.parse(skipped()[0]!.body) as { summary: string; subject: string };
      assert.match(body.subject, /schedule nightly: slot skipped/);
      assert.match(body.summary, /2026-03-01T02:00:00\.000Z/);
      assert.match(body.summary, /in progress/);
      assert.equal(skipped()[0]!.headers['x-pds-signature'], undefined, 'no secret configured: unsigned');

      // The third night runs on time; a skip on the fourth is a new problem.
      now = new Date('2026-03-03T02:00:00Z');
      await scheduler.tick();
      await scheduler.idle();
      const release = await acquireRunLock(lock, 'local');
      now = new Date('2026-03-04T02:00:00Z');
      await scheduler.tick();
      await release();
      assert.equal(skipped().length, 2);
    } finally {
      await home.remove();
    }
  });

  test('pds run --alert (a cron run) sends the flagged run to the webhook as the scheduler would, and --dry-run sends nothing', async () => {
    const home = await createConsoleHome({ files: 1, linesPerFile: 5, badLines: [2] });
    try {
      const config = await readFile(join(home.home, 'config.yaml'), 'utf8');
      await writeFile(join(home.home, 'config.yaml'), `${config}    alerts:\n      webhook: { url: "http://127.0.0.1:${httpPort}/cron-hook" }\n`);
      const flagged = () => hooks.filter((h) => h.headers['x-pds-event'] === 'run-flagged' && /orgx-edx-events-2026-01-01\.log/.test(h.body));
      const before = flagged().length;
      const dry = await runPds(['run', '--env', 'local', '--alert', '--dry-run', '--quiet'], { PDS_HOME: home.home });
      assert.equal(dry.code, 0, dry.stderr);
      assert.equal(flagged().length, before, 'a dry run loads nothing and alerts nothing');
      const run = await runPds(['run', '--env', 'local', '--alert', '--quiet'], { PDS_HOME: home.home });
      assert.equal(run.code, 2, run.stderr);
      assert.equal(flagged().length, before + 1);
      const body = flagged().at(-1)!.body;
      assert.match((JSON.parse(body) as { summary: string }).summary, /1 partial/);
      assert.doesNotMatch(body, /not json/, 'the rejected lines themselves are not sent');
    } finally {
      await home.remove();
    }
  });
});
