/**
 * `pds serve` as a user starts it: the CLI in a child process on a temporary home with two
 * environments — `local` (an encrypted demo delivery in a local folder, the key's passphrase from
 * an `env:` reference) and `remote` (S3, its access keys from `env:` references) — checked from
 * outside over real HTTP: every refusal of README "Console", the security headers, calls answered
 * with values and with error envelopes, the run event stream in order and resumed from
 * Last-Event-ID, a clean stop on SIGTERM, and no response body of the whole test holding a secret.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { createConsoleClient } from '../../core/contract/client.js';
import { createHttpTransport } from '../../core/contract/http-transport.js';
import { ContractError, runEventSchema, type ConsoleClient, type RunEvent } from '../../core/contract/methods.js';
import { encryptToKeys } from '../../core/crypto/encrypt.js';
import { generateDemoData } from '../../core/demo/generate-package.js';
import { MAX_BODY_BYTES } from '../../core/http/console-server.js';
import { collect, runPds, spawnPds } from '../support/pds-cli.js';

// Secrets of the test: none may appear in any response body.
const PASSPHRASE = `pass-${randomBytes(12).toString('hex')}`;
const S3_KEY_ID = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
const S3_SECRET = `s3secret-${randomBytes(16).toString('hex')}`;
const SECRETS = [PASSPHRASE, S3_KEY_ID, S3_SECRET];

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Every response body of the test (API, files, event streams, refusals), scanned for secrets at the end. */
const bodies: string[] = [];
/** Every response's headers, checked for CORS at the end. */
const allHeaders: IncomingHttpHeaders[] = [];

interface Served {
  child: ChildProcess;
  exited: ReturnType<typeof collect>;
  url: string;
  port: number;
  token: string;
}

/** Starts `pds serve` and reads the one line it prints. */
async function startServe(home: string, env: NodeJS.ProcessEnv): Promise<Served> {
  const child = spawnPds(['serve'], { PDS_HOME: home, ...env });
  const exited = collect(child);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (s: string) => {
      out += s;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.once('close', () => reject(new Error('pds serve ended before printing its URL')));
  });
  const match = /^http:\/\/127\.0\.0\.1:(\d+)\/#token=([A-Za-z0-9_-]+)$/.exec(url);
  assert.ok(match, `prints http://127.0.0.1:PORT/#token=TOKEN, got ${url}`);
  return { child, exited, url, port: Number(match[1]), token: match[2] };
}

let home: string;
let childEnv: NodeJS.ProcessEnv;
let served: Served;
let client: ConsoleClient;

/** One HTTP request with full control of the headers (fetch may not set Host). */
function call(path: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; port?: number } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: options.port ?? served.port, path, method: options.method ?? 'GET', headers: { Host: `127.0.0.1:${served.port}`, ...options.headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (s: string) => (body += s));
        res.on('end', () => {
          bodies.push(body);
          allHeaders.push(res.headers);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const auth = (): Record<string, string> => ({ Authorization: `Bearer ${served.token}` });
const json = (): Record<string, string> => ({ ...auth(), 'Content-Type': 'application/json' });
const post = (method: string, args: unknown, headers: Record<string, string> = json()): Promise<Reply> =>
  call(`/api/${method}`, { method: 'POST', headers, body: JSON.stringify(args) });

/** The client the renderer uses, over real HTTP, every body recorded. */
function recordingClient(): ConsoleClient {
  const recordingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const text = await response.clone().text();
    bodies.push(text);
    return response;
  };
  return createConsoleClient(createHttpTransport({ baseUrl: `http://127.0.0.1:${served.port}`, token: served.token, fetch: recordingFetch }));
}

/** A server-sent event stream, read as events arrive. */
interface Stream {
  status: number;
  headers: IncomingHttpHeaders;
  /** Waits for events until `until` holds for the list so far (or the stream ends). */
  next(until: (events: { id: string; event: RunEvent }[]) => boolean): Promise<{ id: string; event: RunEvent }[]>;
  close(): void;
}

function openEvents(query: string, headers: Record<string, string> = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: served.port, path: `/api/events${query}`, headers: { Host: `127.0.0.1:${served.port}`, ...headers } }, (res) => {
      let raw = '';
      let buffer = '';
      const events: { id: string; event: RunEvent }[] = [];
      let wake: () => void = () => undefined;
      let ended = false;
      res.setEncoding('utf8').on('data', (s: string) => {
        raw += s;
        buffer += s;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const id = /^id: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (id !== undefined && data !== undefined) events.push({ id, event: runEventSchema.parse(JSON.parse(data)) });
        }
        wake();
      });
      res.on('close', () => {
        ended = true;
        bodies.push(raw);
        allHeaders.push(res.headers);
        wake();
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        async next(until) {
          while (!until(events) && !ended) await new Promise<void>((r) => (wake = r));
          return [...events];
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('pds serve', { timeout: 300_000 }, () => {
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'pds-serve-'));
    const { privateKey, publicKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: 'Data Czar', email: 'czar@university.example' }],
      passphrase: PASSPHRASE,
      format: 'armored',
    });
    await mkdir(join(home, 'keys'), { recursive: true });
    await writeFile(join(home, 'keys', 'czar.asc'), privateKey, { mode: 0o600 });
    await generateDemoData({
      outDir: join(home, 'source'),
      days: 3,
      eventsPerDay: 200,
      encryptTo: { armoredPublicKeys: [publicKey], encrypt: (plain) => encryptToKeys(plain, [publicKey]) },
    });
    await writeFile(
      join(home, 'config.yaml'),
      [
        'environments:',
        '  local:',
        '    source: { type: local, path: source }',
        '    key:',
        '      files: [keys/czar.asc]',
        '      passphrase: env:PDS_TEST_PASSPHRASE',
        '  spare:',
        '    description: the same delivery again, for the run stopped by SIGTERM',
        '    source: { type: local, path: source }',
        '    key:',
        '      files: [keys/czar.asc]',
        '      passphrase: env:PDS_TEST_PASSPHRASE',
        '  remote:',
        '    source:',
        '      type: s3',
        '      org: DemoX',
        '      endpoint: http://127.0.0.1:9',
        '      forcePathStyle: true',
        '      accessKeyId: env:PDS_TEST_S3_KEY_ID',
        '      secretAccessKey: env:PDS_TEST_S3_SECRET',
        '',
      ].join('\n'),
    );
    childEnv = { PDS_TEST_PASSPHRASE: PASSPHRASE, PDS_TEST_S3_KEY_ID: S3_KEY_ID, PDS_TEST_S3_SECRET: S3_SECRET };
    served = await startServe(home, childEnv);
    client = recordingClient();
  });

  after(async () => {
    if (served && served.child.exitCode === null) served.child.kill('SIGKILL');
    if (home) await rm(home, { recursive: true, force: true });
  });

  test('prints one line with the URL and a new token each start', async () => {
    assert.equal(served.token.length, 43, '32 random bytes, base64url');
    const other = await startServe(home, childEnv);
    try {
      assert.notEqual(other.token, served.token);
      assert.notEqual(other.port, served.port);
    } finally {
      other.child.kill('SIGTERM');
      const { code, stdout } = await other.exited;
      assert.equal(code, 0);
      assert.equal(stdout.trim().split('\n').length, 1, 'stdout is the one line');
    }
  });

  test('a call with the token answers its value; the client reads it', async () => {
    const reply = await post('listEnvironments', {});
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'application/json; charset=utf-8');
    const envelope = JSON.parse(reply.body) as { ok: boolean; value: { name: string; secrets: Record<string, string> }[] };
    assert.equal(envelope.ok, true);
    assert.deepEqual(envelope.value.map((e) => e.name).sort(), ['local', 'remote', 'spare']);
    const remote = envelope.value.find((e) => e.name === 'remote');
    assert.ok(Object.values(remote?.secrets ?? {}).every((s) => s === 'set'), 'secrets show as set, never their value');

    const environments = await client.listEnvironments({});
    assert.equal(environments.length, 3);
  });

  test('an error comes back as an envelope (HTTP 200) with its code and action', async () => {
    const missing = await post('getStatus', { env: 'nope' });
    assert.equal(missing.status, 200);
    const body = JSON.parse(missing.body) as { ok: false; error: { code: string; action: string; message: string } };
    assert.equal(body.ok, false);
    assert.equal(body.error.code, 'CONFIG_NO_ENVIRONMENT');
    assert.equal(body.error.action, 'edit-environment');
    assert.match(body.error.message, /nope/);

    const invalid = JSON.parse((await post('getReport', { env: 'local', limit: 0 })).body) as { error: { code: string; field: string } };
    assert.deepEqual([invalid.error.code, invalid.error.field], ['INVALID_ARGUMENTS', 'limit']);

    await assert.rejects(client.getStatus({ env: 'nope' }), (e: unknown) => e instanceof ContractError && e.code === 'CONFIG_NO_ENVIRONMENT' && e.action === 'edit-environment');
  });

  test('the environment and connection methods answer without a secret', async () => {
    // Whatever these answer (a value, or an error of the unreachable S3 endpoint), the bodies join the scan at the end.
    for (const env of ['local', 'remote']) {
      for (const method of ['getEnvironment', 'testSource', 'testKey', 'testTargets', 'listKeys', 'getStatus']) {
        const reply = await post(method, { env });
        assert.equal(reply.status, 200, `${method} ${env}`);
        const envelope = JSON.parse(reply.body) as { ok: boolean; error?: { code: string } };
        assert.notEqual(envelope.error?.code, 'INTERNAL', `${method} ${env}`);
      }
    }
  });

  test('refuses a missing or wrong token (401)', async () => {
    const wrong = served.token.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    assert.equal((await post('listEnvironments', {}, { 'Content-Type': 'application/json' })).status, 401);
    assert.equal((await post('listEnvironments', {}, { 'Content-Type': 'application/json', Authorization: `Bearer ${wrong}` })).status, 401);
    assert.equal((await post('listEnvironments', {}, { 'Content-Type': 'application/json', Authorization: `Bearer ${served.token}x` })).status, 401);
    assert.equal((await post('listEnvironments', {}, { 'Content-Type': 'application/json', Authorization: served.token })).status, 401, 'not as a bare header');
    const query = await call(`/api/listEnvironments?token=${served.token}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(query.status, 401, 'the query token is for the event stream only');
    const refused = await post('listEnvironments', {}, { 'Content-Type': 'application/json' });
    assert.equal(refused.headers['www-authenticate'], 'Bearer');
    assert.equal(JSON.parse(refused.body).error.code, 'UNAUTHORIZED');
    assert.equal((await call('/api/events')).status, 401);
    assert.equal((await call(`/api/events?token=${wrong}`)).status, 401);
  });

  test('refuses a Host other than 127.0.0.1 or localhost with its port (403, DNS rebinding)', async () => {
    for (const host of ['evil.example', `evil.example:${served.port}`, `127.0.0.1:${served.port + 1}`, '127.0.0.1', `localhost.evil.example:${served.port}`]) {
      const reply = await post('listEnvironments', {}, { ...json(), Host: host });
      assert.equal(reply.status, 403, host);
      assert.equal((await call('/', { headers: { Host: host } })).status, 403, `the page too, for ${host}`);
    }
    assert.equal((await post('listEnvironments', {}, { ...json(), Host: `localhost:${served.port}` })).status, 200);
  });

  test('refuses a foreign Origin (403)', async () => {
    for (const origin of ['http://evil.example', `http://127.0.0.1:${served.port + 1}`, `https://127.0.0.1:${served.port}`, 'null']) {
      assert.equal((await post('listEnvironments', {}, { ...json(), Origin: origin })).status, 403, origin);
    }
    assert.equal((await post('listEnvironments', {}, { ...json(), 'Sec-Fetch-Site': 'cross-site' })).status, 403);
    assert.equal((await post('listEnvironments', {}, { ...json(), Origin: `http://127.0.0.1:${served.port}` })).status, 200);
    assert.equal((await post('listEnvironments', {}, { ...json(), Origin: `http://localhost:${served.port}` })).status, 200);
  });

  test('refuses bodies over the limit (413), non-JSON (400), wrong methods and paths', async () => {
    const big = Buffer.alloc(MAX_BODY_BYTES + 1, 0x20);
    assert.equal((await call('/api/listEnvironments', { method: 'POST', headers: json(), body: big })).status, 413);
    assert.equal((await call('/api/listEnvironments', { method: 'POST', headers: { ...auth(), 'Content-Type': 'text/plain' }, body: '{}' })).status, 400);
    assert.equal((await call('/api/listEnvironments', { method: 'POST', headers: { ...auth(), 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'a=1' })).status, 400);
    assert.equal((await call('/api/listEnvironments', { method: 'POST', headers: json(), body: '{"env": ' })).status, 400);
    assert.equal((await call('/api/listEnvironments', { headers: auth() })).status, 405);
    assert.equal((await call('/api/noSuchMethod', { method: 'POST', headers: json(), body: '{}' })).status, 404);
    assert.equal((await call('/', { method: 'POST', body: '{}' })).status, 405);
  });

  test('no CORS: a preflight gets no Access-Control header', async () => {
    const preflight = await call('/api/listEnvironments', {
      method: 'OPTIONS',
      headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' },
    });
    assert.equal(preflight.status, 403);
    const own = await call('/api/listEnvironments', { method: 'OPTIONS', headers: { Origin: `http://127.0.0.1:${served.port}` } });
    assert.notEqual(own.status, 200);
  });

  test('every response carries the security headers; the API is not cached', async () => {
    const replies = [
      await call('/'),
      await call('/some/screen'),
      await post('listEnvironments', {}),
      await post('listEnvironments', {}, { 'Content-Type': 'application/json' }),
      await call('/', { headers: { Host: 'evil.example' } }),
    ];
    for (const r of replies) {
      const csp = String(r.headers['content-security-policy']);
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(csp, /connect-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(r.headers['referrer-policy'], 'no-referrer');
    }
    assert.equal(replies[2].headers['cache-control'], 'no-store');
    assert.equal(replies[3].headers['cache-control'], 'no-store');
    // The page: the renderer's bundle when built, else a page saying so; never a script inline.
    assert.ok([200, 503].includes(replies[0].status));
    assert.match(String(replies[0].headers['content-type']), /^text\/html/);
    assert.doesNotMatch(replies[0].body, /<script>(?!<\/script>)|<script(?![^>]*\ssrc=)[^>]*>/, 'no inline script');
  });

  test('files outside the renderer folder are not served', async () => {
    for (const path of ['/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/..%2F..%2F..%2Fconfig.yaml']) {
      const reply = await call(path);
      assert.doesNotMatch(reply.body, /platform-data-store|environments:/, path);
    }
  });

  test('run events stream in order, with id = seq, and resume from Last-Event-ID', async () => {
    const stream = await openEvents(`?token=${encodeURIComponent(served.token)}`);
    assert.equal(stream.status, 200);
    assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
    assert.equal(stream.headers['cache-control'], 'no-store');

    const { runId } = await client.startRun({ env: 'local', options: {} });
    const isFinished = (e: { event: RunEvent }): boolean => e.event.type === 'run-finished' && e.event.runId === runId;
    const all = await stream.next((events) => events.some(isFinished));
    stream.close();
    const mine = all.filter((e) => e.event.runId === runId);
    assert.ok(mine.some(isFinished), 'the run finished on the stream');
    for (const e of all) assert.equal(e.id, String(e.event.seq), 'id is the seq');
    for (let i = 1; i < all.length; i++) assert.ok(all[i].event.seq > all[i - 1].event.seq, 'seq increases');
    const types = mine.map((e) => e.event.type);
    assert.equal(types[0], 'run-started');
    assert.equal(types[1], 'plan');
    assert.equal(types.at(-1), 'run-finished');
    const plan = mine[1].event;
    assert.ok(plan.type === 'plan' && plan.planned.length > 0);
    const started = mine.filter((e) => e.event.type === 'file-started').length;
    const finished = mine.filter((e) => e.event.type === 'file-finished').length;
    assert.ok(finished > 0 && finished >= started, `${started} files started, ${finished} finished`);
    // A file's events come between its start and its finish.
    const finishedRun = mine.at(-1)?.event;
    assert.ok(finishedRun?.type === 'run-finished' && finishedRun.run.runId === runId);

    // Resume: a client that saw up to the middle event gets exactly the rest.
    const middle = mine[Math.floor(mine.length / 2)];
    const resumed = await openEvents('', { ...auth(), 'Last-Event-ID': middle.id });
    assert.equal(resumed.status, 200, 'the bearer header works for the stream too');
    const rest = await resumed.next((events) => events.some(isFinished));
    resumed.close();
    assert.deepEqual(
      rest.filter((e) => e.event.runId === runId).map((e) => e.id),
      mine.filter((e) => e.event.seq > middle.event.seq).map((e) => e.id),
    );
    assert.ok(rest.every((e) => e.event.seq > middle.event.seq));

    // The run's report is there through the API, and so are a flagged file's rejected lines and history.
    const report = await client.getReport({ env: 'local', runId });
    assert.equal(report.run.runId, runId);
    assert.ok(report.total > 0);
    const partial = (await client.getReport({ env: 'local', runId, filter: { status: ['partial'] } })).files.find((f) => f.counts.rejected > 0);
    assert.ok(partial, 'the demo delivery has a file with rejected lines');
    const rejected = await client.getRejectedLines({ env: 'local', key: partial.key, limit: 2 });
    assert.equal(rejected.total, partial.counts.rejected);
    assert.equal(rejected.lines.length, Math.min(2, rejected.total));
    assert.ok(rejected.lines.every((l) => l.line > 0 && l.text.length > 0));
    const history = await client.getFileHistory({ env: 'local', key: partial.key });
    assert.equal(history.entries[0].runId, runId);
    for (const [method, args] of [
      ['listRuns', { env: 'local' }],
      ['listActiveRuns', {}],
      ['getStatus', { env: 'local' }],
      ['getDataSummary', { env: 'local' }],
      ['planRun', { env: 'local' }],
    ] as const) {
      const envelope = JSON.parse((await post(method, args)).body) as { ok: boolean; error?: { code: string } };
      assert.ok(envelope.ok, `${method}: ${envelope.error?.code}`);
    }
  });

  test('SIGTERM stops the server cleanly, cancelling a run in progress', async () => {
    const second = await startServe(home, childEnv);
    const secondClient = createConsoleClient(createHttpTransport({ baseUrl: `http://127.0.0.1:${second.port}`, token: second.token }));
    const { runId } = await secondClient.startRun({ env: 'spare', options: {} });
    second.child.kill('SIGTERM');
    const { code, stderr } = await second.exited;
    assert.equal(code, 0, stderr);
    const runs = await runPds(['runs', '--env', 'spare', '--json'], { PDS_HOME: home, ...childEnv });
    const run = (JSON.parse(runs.stdout) as { runId: string; status: string }[]).find((r) => r.runId === runId);
    assert.ok(run, 'the run is in the ledger');
    assert.ok(['cancelled', 'flagged', 'succeeded'].includes(run.status), `the run was ended cleanly (cancelled, or finished first), not left ${run.status}`);
  });

  test('no response body held a secret, and none had a CORS header', async () => {
    served.child.kill('SIGTERM');
    const { code } = await served.exited;
    assert.equal(code, 0);
    assert.ok(bodies.length > 40, `${bodies.length} bodies scanned`);
    const all = bodies.join('\n');
    for (const secret of SECRETS) assert.ok(!all.includes(secret), 'a secret appeared in a response body');
    for (const headers of allHeaders) assert.ok(!Object.keys(headers).some((h) => h.startsWith('access-control-')), 'no CORS header');
  });
});
