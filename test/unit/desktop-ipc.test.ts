/**
 * The desktop app's IPC path under Node, without Electron's binary: the page's `window.pds`
 * (createBridge) → main's handlers (registerConsoleIpc: sender check, dispatch) → the engine host
 * (a forked child or a worker thread, the module the utility process runs) over an in-memory
 * ipcMain/ipcRenderer pair. Every contract method is called through it and answers as `pds serve`
 * does for the same calls on an identical home; a bad argument or a foreign frame never reaches
 * the engine; a run's events arrive in order (the pds demo environment too) and a run can be
 * cancelled; a host killed mid-run is reported as a readable error and the next run works.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { generateKey } from 'openpgp';
import { createBridge, RUN_EVENT_CHANNEL, type PdsBridge } from '../../core/contract/desktop-bridge.js';
import { createHttpTransport } from '../../core/contract/http-transport.js';
import { CONSOLE_METHOD_NAMES, type ConsoleMethodName, type Envelope, type RunEvent } from '../../core/contract/methods.js';
import { startConsoleServer } from '../../core/http/console-server.js';
import { createConsoleHandlers } from '../../core/service/console-handlers.js';
import { createEngineClient, remoteHandlers, type EngineClient, type HostProcess } from '../../electron/main/engine-client.js';
import { registerConsoleIpc, senderInfo } from '../../electron/main/ipc.js';
import { isTrustedSender, START_URL } from '../../electron/main/policy.js';
import { createConsoleHome, eventLine, type ConsoleHome } from '../support/console-home.js';
import { forkHost, ipcPair, workerHost, type IpcPair } from '../support/electron-harness.js';
import { runPds } from '../support/pds-cli.js';

const WINDOW_ID = 7;
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Desktop {
  bridge: PdsBridge;
  pair: IpcPair;
  client: EngineClient;
  /** Method calls that reached the engine host, in order. */
  reached: string[];
  events: RunEvent[];
  /** Resolves with the first event (seen or to come) that matches. */
  waitFor(match: (e: RunEvent) => boolean): Promise<RunEvent>;
  /** The host processes started so far (the first, then each restart). */
  hosts: (HostProcess & { pid?: number })[];
}

/** The desktop app's wiring as main.ts does it, with the host started by `spawn` and the pair for IPC. */
async function desktop(home: string, spawn: (home: string) => HostProcess = forkHost): Promise<Desktop> {
  const pair = ipcPair({ frameUrl: START_URL, isMainFrame: true, webContentsId: WINDOW_ID });
  const reached: string[] = [];
  const hosts: Desktop['hosts'] = [];
  const events: RunEvent[] = [];
  const waiters: { match: (e: RunEvent) => boolean; resolve: (e: RunEvent) => void }[] = [];
  const client = createEngineClient({
    spawn: () => {
      const host = spawn(home);
      hosts.push(host);
      return {
        ...host,
        post: (message) => {
          if (message.type === 'call') reached.push(message.method);
          host.post(message);
        },
      };
    },
    onEvent: (event) => pair.send(RUN_EVENT_CHANNEL, event),
  });
  registerConsoleIpc(pair.ipcMain, { engine: remoteHandlers(client), isTrusted: (event) => isTrustedSender(senderInfo(event), WINDOW_ID) });
  const bridge = createBridge(pair.ipcRenderer);
  bridge.onRunEvent((event) => {
    events.push(event);
    for (const w of [...waiters]) if (w.match(event)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(event));
  });
  await client.ready();
  cleanups.push(() => client.close());
  const waitFor = (match: (e: RunEvent) => boolean): Promise<RunEvent> => {
    const seen = events.find(match);
    return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ match, resolve }));
  };
  return { bridge, pair, client, reached, events, waitFor, hosts };
}

async function home(options: Parameters<typeof createConsoleHome>[0] = {}): Promise<ConsoleHome> {
  const h = await createConsoleHome(options);
  cleanups.push(() => h.remove());
  return h;
}

const finishedOf = (d: { waitFor: Desktop['waitFor'] }, runId: string) =>
  d.waitFor((e) => e.type === 'run-finished' && e.runId === runId) as Promise<Extract<RunEvent, { type: 'run-finished' }>>;

/**
 * Replaces what differs between two identical homes (their paths, run ids, times, durations,
 * revisions) so their answers compare equal; fields holding undefined count as absent.
 */
function normalized(value: unknown, homes: string[]): unknown {
  const runIds = new Map<string, string>();
  const walk = (v: unknown, key?: string): unknown => {
    if (typeof v === 'string') {
      let s = v;
      for (const h of homes) s = s.split(h).join('<home>');
      if (/^\d{8}T\d{6}-[0-9a-f]{8}$/.test(s)) {
        if (!runIds.has(s)) runIds.set(s, `<run${runIds.size + 1}>`);
        return runIds.get(s);
      }
      s = s.replace(/\d{8}T\d{6}-[0-9a-f]{8}/g, '<run>');
      if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(s)) return '<time>';
      if (key === 'revision') return '<revision>';
      return s;
    }
    if (typeof v === 'number' && key !== undefined && /durationMs|Ms$/.test(key)) return 0;
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  // JSON drops fields whose value is undefined; Electron's structured clone keeps them as undefined.
  return walk(JSON.parse(JSON.stringify(value)));
}

describe('desktop app IPC path (under Node)', () => {
  test('window.pds has exactly the contract’s methods and onRunEvent, and main registers one channel per method', async () => {
    const h = await home({ files: 1 });
    const d = await desktop(h.home);
    assert.deepEqual(Object.keys(d.bridge).sort(), [...CONSOLE_METHOD_NAMES, 'onRunEvent'].sort());
    for (const name of Object.keys(d.bridge)) assert.equal(typeof (d.bridge as unknown as Record<string, unknown>)[name], 'function');
    assert.ok(!('invoke' in d.bridge) && !('ipcRenderer' in d.bridge) && !('send' in d.bridge), 'no generic invoke');
    assert.ok(Object.isFrozen(d.bridge));
    assert.deepEqual(d.pair.channels().sort(), CONSOLE_METHOD_NAMES.map((n) => `pds:${n}`).sort());
  });

  test('every contract method answers through the IPC path as pds serve answers it over HTTP, on identical homes', async () => {
    const a = await home({ files: 3, badLines: { 1: 2 } });
    const b = await home({ files: 3, badLines: { 1: 2 } });
    // Distinct modification times (written within the same millisecond otherwise): the newest file is the same on both.
    for (const h of [a, b]) for (const [i, key] of h.keys.entries()) await utimes(join(h.source, key), new Date(Date.UTC(2026, 0, i + 2)), new Date(Date.UTC(2026, 0, i + 2)));
    const d = await desktop(a.home);
    const engine = createConsoleHandlers({ home: b.home, origin: 'desktop' });
    const server = await startConsoleServer({ engine, onInternalError: () => {} });
    cleanups.push(async () => {
      await server.close();
      await engine.close();
    });
    const http = createHttpTransport({ baseUrl: `http://127.0.0.1:${server.port}`, token: server.token });
    const httpEvents: RunEvent[] = [];
    const stop = engine.subscribe((e) => httpEvents.push(e));
    cleanups.push(async () => stop());
    const waitHttp = async (match: (e: RunEvent) => boolean): Promise<RunEvent> => {
      for (;;) {
        const seen = httpEvents.find(match);
        if (seen) return seen;
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    const { privateKey } = await generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'Desktop Test', email: 'desktop@example.org' }], format: 'armored' });
    type Call = (name: ConsoleMethodName, args: unknown) => Promise<Envelope<unknown>>;
    /** The same sequence of calls, each answer kept; run ids and revisions are taken from earlier answers. */
    const script = async (call: Call, wait: (runId: string) => Promise<unknown>, source: string): Promise<[string, Envelope<unknown>][]> => {
      const out: [string, Envelope<unknown>][] = [];
      const step = async (name: ConsoleMethodName, args: unknown): Promise<Envelope<unknown>> => {
        const answer = await call(name, args);
        out.push([name, answer]);
        return answer;
      };
      const value = <T>(e: Envelope<unknown>): T => {
        assert.ok(e.ok, `expected a value, got ${JSON.stringify(e)}`);
        return e.value as T;
      };
      await step('listEnvironments', {});
      await step('getEnvironment', { env: 'local' });
      await step('getEnvironment', { env: 'nowhere' });
      await step('validateEnvironment', { env: 'local', settings: { source: { type: 'local' } } });
      const settings = { source: { type: 'local', path: source }, targets: { relational: { type: 'sqlite' }, events: { type: 'sqlite' } } };
      await step('createEnvironment', { env: 'second', settings });
      await step('createEnvironment', { env: 'second', settings });
      const second = value<{ revision: string }>(await step('getEnvironment', { env: 'second' }));
      await step('updateEnvironment', { env: 'second', revision: second.revision, settings: { ...settings, description: 'a second one' } });
      await step('updateEnvironment', { env: 'second', revision: second.revision, settings });
      await step('setSecret', { env: 'second', field: 'targets.relational.password', value: 'not-for-sqlite' });
      await step('setSecret', { env: 'second', field: 'key.passphrase', value: 'a passphrase' });
      const now = value<{ revision: string }>(await step('getEnvironment', { env: 'second' }));
      await step('deleteEnvironment', { env: 'second', revision: now.revision });
      const keys = value<{ fingerprint: string }[]>(await step('importKey', { env: 'local', armored: privateKey }));
      await step('listKeys', { env: 'local' });
      await step('testKey', { env: 'local' });
      await step('removeKey', { env: 'local', fingerprint: keys[0]!.fingerprint });
      await step('removeKey', { env: 'local', fingerprint: keys[0]!.fingerprint });
      await step('testSource', { env: 'local' });
      await step('testTargets', { env: 'local' });
      await step('planRun', { env: 'local' });
      const { runId } = value<{ runId: string }>(await step('startRun', { env: 'local' }));
      await wait(runId);
      await step('listActiveRuns', {});
      await step('listRuns', { env: 'local' });
      await step('getReport', { env: 'local' });
      await step('getReport', { env: 'local', runId, filter: { status: ['partial'] }, sort: { by: 'rejected', dir: 'desc' } });
      await step('getFileHistory', { env: 'local', key: 'orgx-edx-events-2026-01-02.log' });
      await step('getRejectedLines', { env: 'local', key: 'orgx-edx-events-2026-01-02.log' });
      await step('getStatus', { env: 'local' });
      await step('getDataSummary', { env: 'local', days: 366 });
      await step('nextRuns', { cron: '0 2 * * *', timezone: 'Europe/Paris', after: '2026-03-28T00:00:00.000Z' });
      await step('nextRuns', { cron: 'not a cron' });
      const schedules = await step('listSchedules', { env: 'local' });
      const revision = schedules.ok ? (schedules.value as { revision: string }).revision : 'none';
      await step('saveSchedule', { env: 'local', revision, schedule: { name: 'nightly', cron: '0 2 * * *', timezone: 'UTC', load: 'events' } });
      await step('setScheduleEnabled', { env: 'local', name: 'nightly', enabled: false });
      await step('setScheduleEnabled', { env: 'local', name: 'no-such-schedule', enabled: true });
      await step('listPrograms', { env: 'local' });
      await step('queryLearner', { env: 'local', learner: 'learner3' });
      await step('queryRoster', { env: 'local', course: 'course-v1:OrgX+C1+2026' });
      await step('queryActivity', { env: 'local', course: 'course-v1:OrgX+C1+2026', from: '2026-01-01', to: '2026-01-31' });
      await step('queryProgram', { env: 'local', program: 'no-such-program' });
      await step('exportLearners', { env: 'local', course: 'course-v1:OrgX+C1+2026' });
      await step('cancelRun', { env: 'local', runId });
      await step('startRun', { env: 'nowhere' });
      await step('getPrivacyInventory', { env: 'local' });
      await step('forgetLearner', { env: 'local', user: 'learner3', dryRun: true });
      await step('forgetLearner', { env: 'local', user: 'nobody-at-all' });
      await step('listAudit', { env: 'local' });
      return out;
    };

    const viaIpc = await script(
      (name, args) => (d.bridge[name] as (args: unknown) => Promise<Envelope<unknown>>)(args),
      (runId) => finishedOf(d, runId),
      a.source,
    );
    const viaHttp = await script((name, args) => http.call(name, args), (runId) => waitHttp((e) => e.type === 'run-finished' && e.runId === runId), a.source);

    const called = new Set(viaIpc.map(([name]) => name));
    assert.deepEqual(CONSOLE_METHOD_NAMES.filter((n) => !called.has(n)), [], 'every method is called');
    assert.equal(viaIpc.length, viaHttp.length);
    for (let i = 0; i < viaIpc.length; i++) {
      assert.deepEqual(normalized(viaIpc[i], [a.home, b.home]), normalized(viaHttp[i], [a.home, b.home]), `call ${i + 1}: ${viaIpc[i]![0]}`);
    }
  });

  test('an argument that fails its schema is refused by main and never reaches the engine', async () => {
    const h = await home({ files: 1 });
    const d = await desktop(h.home);
    const before = d.reached.length;
    const bad = await (d.bridge.getEnvironment as (args: unknown) => Promise<Envelope<unknown>>)({ env: '../../etc' });
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.error.code, 'INVALID_ARGUMENTS');
    const notObject = await (d.bridge.listRuns as (args: unknown) => Promise<Envelope<unknown>>)({ env: 'local', limit: 100_000 });
    assert.equal(!notObject.ok && notObject.error.code, 'INVALID_ARGUMENTS');
    const both = await d.bridge.importKey({ env: 'local', armored: 'x', base64: 'eA==' });
    assert.equal(!both.ok && both.error.code, 'INVALID_ARGUMENTS');
    assert.deepEqual(d.reached.slice(before), [], 'the engine host saw none of them');
    const good = await d.bridge.listEnvironments({});
    assert.ok(good.ok);
    assert.deepEqual(d.reached.slice(before), ['listEnvironments']);
  });

  test('a call from another frame, another window or another origin is refused before the engine', async () => {
    const h = await home({ files: 1 });
    const d = await desktop(h.home);
    const before = d.reached.length;
    const refusedBy = async (sender: Partial<IpcPair['sender']>): Promise<string | undefined> => {
      Object.assign(d.pair.sender, { frameUrl: START_URL, isMainFrame: true, webContentsId: WINDOW_ID }, sender);
      const answer = await d.bridge.listEnvironments({});
      return answer.ok ? undefined : answer.error.code;
    };
    assert.equal(await refusedBy({ isMainFrame: false }), 'FORBIDDEN_SENDER', 'a sub-frame');
    assert.equal(await refusedBy({ webContentsId: WINDOW_ID + 1 }), 'FORBIDDEN_SENDER', 'another window');
    assert.equal(await refusedBy({ frameUrl: 'https://evil.example/' }), 'FORBIDDEN_SENDER', 'a page elsewhere');
    assert.equal(await refusedBy({ frameUrl: 'app://other/index.html' }), 'FORBIDDEN_SENDER', 'another app:// host');
    assert.equal(await refusedBy({ frameUrl: 'file:///etc/passwd' }), 'FORBIDDEN_SENDER', 'a file: page');
    assert.deepEqual(d.reached.slice(before), []);
    assert.equal(await refusedBy({}), undefined, 'the console’s own main frame');
  });

  for (const [label, spawn] of [
    ['a forked child', forkHost],
    ['a worker thread', workerHost],
  ] as const) {
    test(`engine host as ${label}: a run's events arrive in order over IPC, and a run can be cancelled`, async () => {
      const h = await home({ files: 4, linesPerFile: 2000 });
      const d = await desktop(h.home, spawn);
      const started = await d.bridge.startRun({ env: 'local' });
      assert.ok(started.ok);
      const runId = started.value.runId;
      const finished = await finishedOf(d, runId);
      assert.equal(finished.run.status, 'succeeded');
      const mine = d.events.filter((e) => e.runId === runId);
      assert.deepEqual(mine.map((e) => e.type).filter((t, i, all) => t !== all[i - 1]).slice(0, 2), ['run-started', 'plan']);
      assert.equal(mine.at(-1)!.type, 'run-finished');
      for (let i = 1; i < mine.length; i++) assert.ok(mine[i]!.seq > mine[i - 1]!.seq, 'seq increases');
      assert.deepEqual(mine.filter((e) => e.type === 'file-finished').map((e) => (e.type === 'file-finished' ? e.result.key : '')), h.keys);

      // A second run over new files, cancelled as soon as its first file starts.
      for (let f = 10; f < 16; f++) {
        const day = `2026-01-${f}`;
        await writeFile(join(h.source, `orgx-edx-events-${day}.log`), `${Array.from({ length: 3000 }, (_, i) => eventLine(f * 100_000 + i, day)).join('\n')}\n`);
      }
      const second = await d.bridge.startRun({ env: 'local' });
      assert.ok(second.ok);
      await d.waitFor((e) => e.type === 'file-started' && e.runId === second.value.runId);
      const cancel = await d.bridge.cancelRun({ env: 'local', runId: second.value.runId });
      assert.ok(cancel.ok && cancel.value.cancelling);
      const end = await finishedOf(d, second.value.runId);
      assert.equal(end.run.status, 'cancelled');
    });
  }

  test('the pds demo environment run through the host: every planned file finishes, events in order, the report matches', async () => {
    const demoHome = await mkdtemp(join(tmpdir(), 'pds-desktop-demo-'));
    cleanups.push(() => rm(demoHome, { recursive: true, force: true }));
    // pds demo makes the environment (encrypted package, daily logs, key) and loads it once; its
    // loaded state is removed so the desktop app's run loads it all again.
    const made = await runPds(['demo'], { PDS_HOME: demoHome });
    assert.equal(made.code, 0, made.stderr);
    for (const name of ['ledger.sqlite', 'data.sqlite', 'landing']) await rm(join(demoHome, 'envs', 'demo', name), { recursive: true, force: true });
    const d = await desktop(demoHome, forkHost);
    const started = await d.bridge.startRun({ env: 'demo' });
    assert.ok(started.ok, JSON.stringify(started));
    const end = await finishedOf(d, started.value.runId);
    assert.ok(['succeeded', 'flagged'].includes(end.run.status), end.run.status);
    const mine = d.events.filter((e) => e.runId === started.value.runId);
    for (let i = 1; i < mine.length; i++) assert.ok(mine[i]!.seq > mine[i - 1]!.seq, 'in order');
    assert.deepEqual(mine.slice(0, 2).map((e) => e.type), ['run-started', 'plan']);
    const plan = mine[1]!.type === 'plan' ? mine[1]!.planned.map((p) => p.key) : [];
    const finishedKeys = mine.flatMap((e) => (e.type === 'file-finished' && e.result.parentKey === undefined ? [e.result.key] : []));
    assert.deepEqual([...finishedKeys].sort(), [...plan].sort(), 'every planned file finished');
    const report = await d.bridge.getReport({ env: 'demo', runId: started.value.runId, limit: 1000 });
    assert.ok(report.ok);
    assert.equal(report.value.total, mine.filter((e) => e.type === 'file-finished').length);
  });

  test('a host killed mid-run: the call in flight and the run end with a readable error, the host is restarted and the next run works', async () => {
    const h = await home({ files: 6, linesPerFile: 3000 });
    const d = await desktop(h.home, forkHost);
    const first = d.hosts[0]!;
    const started = await d.bridge.startRun({ env: 'local' });
    assert.ok(started.ok);
    const runId = started.value.runId;
    await d.waitFor((e) => e.type === 'file-started' && e.runId === runId);
    const pid = first.pid!;
    process.kill(pid, 'SIGKILL');
    const ended = await finishedOf(d, runId);
    assert.equal(ended.run.status, 'failed');
    assert.equal(ended.run.error?.code, 'ENGINE_STOPPED');
    assert.match(ended.run.error!.message, /engine process stopped unexpectedly \(killed by SIGKILL\); it has been restarted/);
    const runStarted = d.events.find((e) => e.type === 'run-started' && e.runId === runId)!;
    assert.equal(ended.run.startedAt, runStarted.time, 'the run as it started, ended by the crash');
    assert.equal(ended.run.origin, 'desktop');

    const next = await d.bridge.startRun({ env: 'local' });
    assert.ok(next.ok, `the next run starts: ${JSON.stringify(next)}`);
    assert.equal(d.hosts.length, 2, 'a new host was started');
    assert.notEqual(d.hosts[1]!.pid, pid);
    const done = await finishedOf(d, next.value.runId);
    assert.equal(done.run.status, 'succeeded');
    const report = await d.bridge.getReport({ env: 'local' });
    assert.ok(report.ok);
    assert.equal(report.value.run.runId, next.value.runId);
  });

  test('a call waiting on a host that dies gets ENGINE_STOPPED, worded for a person, and the next call goes to a new host', async () => {
    // A host that never answers and then exits: what main sees of a crash mid-call.
    const started: { exit: (how: string) => void; calls: number }[] = [];
    const client = createEngineClient({
      spawn: () => {
        const host = { exit: (_how: string) => {}, calls: 0 };
        started.push(host);
        let onMessage: (m: import('../../electron/worker/protocol.js').HostMessage) => void = () => {};
        return {
          post: (message) => {
            if (message.type !== 'call') return;
            host.calls++;
            if (started.length > 1) onMessage({ type: 'result', id: message.id, envelope: { ok: true, value: [] } });
          },
          onMessage: (l) => {
            onMessage = l;
            queueMicrotask(() => l({ type: 'ready', pid: 1000 + started.length }));
          },
          onExit: (l) => (host.exit = l),
          kill: () => {},
        };
      },
      onEvent: () => {},
    });
    const pending = client.call('listEnvironments', {});
    await client.ready();
    started[0]!.exit('exit code 134');
    const answer = await pending;
    assert.equal(answer.ok, false);
    assert.ok(!answer.ok);
    assert.equal(answer.error.code, 'ENGINE_STOPPED');
    assert.equal(answer.error.message, 'The engine process stopped unexpectedly (exit code 134); it has been restarted.');
    assert.equal(answer.error.retryable, true);
    assert.match(answer.error.hint ?? '', /^Try again\./);
    assert.equal(started.length, 2, 'restarted at once');
    assert.deepEqual(await client.call('listEnvironments', {}), { ok: true, value: [] });

    // A host that dies before it is ready is not restarted in a loop: the next call starts one.
    const failing: (() => void)[] = [];
    const broken = createEngineClient({
      spawn: () => {
        let exit: (how: string) => void = () => {};
        failing.push(() => exit('exit code 1'));
        return { post: () => {}, onMessage: () => {}, onExit: (l) => (exit = l), kill: () => {} };
      },
      onEvent: () => {},
    });
    const first = broken.call('listEnvironments', {});
    failing[0]!();
    assert.equal(((await first) as { error: { code: string } }).error.code, 'ENGINE_STOPPED');
    assert.equal(failing.length, 1, 'not restarted by itself');
    const second = broken.call('listEnvironments', {});
    assert.equal(failing.length, 2, 'the next call starts a new host');
    failing[1]!();
    await second;
  });
});
