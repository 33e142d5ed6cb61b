/**
 * The console contract's transports: every method has an HTTP route and a client function (checked
 * at the type level by `npm run typecheck`, and at run time below), and `dispatch` validates
 * arguments before a handler sees them, keeps error codes, and hides the text of unexpected errors.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createConsoleClient, type ConsoleTransport } from '../../core/contract/client.js';
import { dispatch, INTERNAL_MESSAGE, toContractError } from '../../core/contract/dispatch.js';
import { consoleHint, guidanceFor, namesCliCommand } from '../../core/contract/error-guidance.js';
import {
  CONSOLE_METHODS,
  CONSOLE_METHOD_NAMES,
  ContractError,
  type ArgsOf,
  type ConsoleClient,
  type ConsoleHandlers,
  type ConsoleMethodName,
  type Envelope,
} from '../../core/contract/methods.js';
import { ConfigError, DecryptError, LoadError, PdsError, SourceError } from '../../core/errors/index.js';
import { API_ROUTES, methodOfPath } from '../../core/http/routes.js';

// ---------------------------------------------------------------------------------------------
// Type level: these lines fail `tsc` when a method lacks a route or a client function.

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectTrue = <_T extends true>(): void => undefined;
expectTrue<Equal<keyof ConsoleClient, ConsoleMethodName>>();
expectTrue<Equal<keyof ConsoleHandlers, ConsoleMethodName>>();
expectTrue<Equal<keyof typeof API_ROUTES, ConsoleMethodName>>();
expectTrue<Equal<Parameters<ConsoleClient['getReport']>[0], ArgsOf<'getReport'>>>();
const { getReport: _dropped, ...withoutGetReport } = {} as ConsoleClient;
// @ts-expect-error a client without one of the methods is not a ConsoleClient
const _incomplete: ConsoleClient = withoutGetReport;

/**
 * A valid call of every method. `satisfies` makes this exhaustive: a method added to the contract
 * without an entry here fails to compile, and the tests below then run it through every transport.
 */
const SAMPLE_ARGS = {
  listEnvironments: {},
  getEnvironment: { env: 'dev' },
  validateEnvironment: { env: 'dev', settings: {} },
  createEnvironment: { env: 'dev', settings: {} },
  updateEnvironment: { env: 'dev', revision: 'r1', settings: {} },
  deleteEnvironment: { env: 'dev', revision: 'r1' },
  setSecret: { env: 'dev', field: 'key.passphrase', value: 'x' },
  testSource: { env: 'dev' },
  testKey: { env: 'dev' },
  testTargets: { env: 'dev' },
  importKey: { env: 'dev', armored: '-----BEGIN PGP PRIVATE KEY BLOCK-----' },
  listKeys: { env: 'dev' },
  removeKey: { env: 'dev', fingerprint: 'ABCD' },
  planRun: { env: 'dev' },
  startRun: { env: 'dev', options: { only: 'events' } },
  cancelRun: { env: 'dev', runId: 'run-1' },
  listActiveRuns: {},
  listRuns: { env: 'dev' },
  getReport: { env: 'dev', filter: { status: ['failed'] }, sort: { by: 'rejected', dir: 'desc' }, limit: 10 },
  getFileHistory: { env: 'dev', key: 'a/b.gpg' },
  getRejectedLines: { env: 'dev', key: 'a/b.gpg' },
  getStatus: { env: 'dev' },
  getDataSummary: { env: 'dev' },
  listPrograms: { env: 'dev' },
  queryLearner: { env: 'dev', learner: 'alice' },
  queryRoster: { env: 'dev', course: 'MITx-6.00x-1T2026', statuses: ['active'] },
  queryActivity: { env: 'dev', course: 'MITx-6.00x-1T2026', by: 'week' },
  queryProgram: { env: 'dev', program: 'sds' },
  exportLearners: { env: 'dev', program: 'sds' },
  listSchedules: { env: 'dev' },
  saveSchedule: { env: 'dev', revision: 'r1', schedule: { name: 'nightly', cron: '30 2 * * *', timezone: 'Europe/London', load: 'events' } },
  setScheduleEnabled: { env: 'dev', name: 'nightly', enabled: false },
  nextRuns: { cron: '30 2 * * *', timezone: 'Europe/London' },
  getPrivacyInventory: { env: 'dev' },
  forgetLearner: { env: 'dev', user: 'alice', dryRun: true },
  listAudit: { env: 'dev' },
} satisfies { [M in ConsoleMethodName]: ArgsOf<M> };

/** Handlers that record what they were called with and answer with `answer(name)` (or throw it). */
function recordingHandlers(answer: (name: ConsoleMethodName, args: unknown) => unknown): { handlers: ConsoleHandlers; calls: { name: ConsoleMethodName; args: unknown }[] } {
  const calls: { name: ConsoleMethodName; args: unknown }[] = [];
  const handlers = Object.fromEntries(
    CONSOLE_METHOD_NAMES.map((name) => [
      name,
      async (args: unknown) => {
        calls.push({ name, args });
        const value = answer(name, args);
        if (value instanceof Error) throw value;
        return value;
      },
    ]),
  ) as unknown as ConsoleHandlers;
  return { handlers, calls };
}

const silent = { onInternalError: () => undefined };

/** A transport straight into `dispatch` (what `pds serve` and IPC do, minus the wire). */
function loopback(handlers: ConsoleHandlers): ConsoleTransport {
  return { call: (name, args) => dispatch(handlers, name, JSON.parse(JSON.stringify(args)), silent) };
}

describe('every method has a route and a client function', () => {
  test('the plain list of method names (what the desktop preload bundles) is the contract\'s methods, in order', () => {
    assert.deepEqual([...CONSOLE_METHOD_NAMES], Object.keys(CONSOLE_METHODS));
  });

  test('each method resolves to its HTTP route, and nothing else does', () => {
    for (const name of CONSOLE_METHOD_NAMES) {
      assert.equal(API_ROUTES[name], `/api/${name}`);
      assert.equal(methodOfPath(API_ROUTES[name]), name);
    }
    assert.equal(methodOfPath('/api/toString'), undefined, 'inherited properties are not methods');
    assert.equal(methodOfPath('/api/events'), undefined);
    assert.equal(methodOfPath('/getReport'), undefined);
  });

  test('each client function reaches its handler with its arguments, through dispatch', async () => {
    const { handlers, calls } = recordingHandlers(() => new ContractError({ code: 'REACHED', message: 'reached' }));
    const client = createConsoleClient(loopback(handlers));
    assert.deepEqual(Object.keys(client).sort(), [...CONSOLE_METHOD_NAMES].sort());
    for (const name of CONSOLE_METHOD_NAMES) {
      const call = client[name] as (args: unknown) => Promise<unknown>;
      await assert.rejects(call(SAMPLE_ARGS[name]), (e: unknown) => e instanceof ContractError && e.code === 'REACHED', name);
      assert.equal(calls.at(-1)?.name, name);
    }
    assert.equal(calls.length, CONSOLE_METHOD_NAMES.length);
  });
});

describe('dispatch', () => {
  test('invalid arguments never reach the handler: INVALID_ARGUMENTS with the field path', async () => {
    const { handlers, calls } = recordingHandlers(() => ({ runId: 'r' }));
    const cases: [string, unknown, string][] = [
      ['getEnvironment', {}, 'env'],
      ['getEnvironment', { env: 'Not An Env' }, 'env'],
      ['startRun', { env: 'dev', options: { from: '31/01/2026' } }, 'options.from'],
      ['getReport', { env: 'dev', limit: 100_000 }, 'limit'],
      ['importKey', { env: 'dev' }, ''],
      ['listRuns', 'dev', ''],
      ['listRuns', [1], ''],
    ];
    for (const [name, args, field] of cases) {
      const answer = await dispatch(handlers, name, args, silent);
      assert.equal(answer.ok, false, `${name} ${JSON.stringify(args)}`);
      if (answer.ok) continue;
      assert.equal(answer.error.code, 'INVALID_ARGUMENTS');
      assert.equal(answer.error.field ?? '', field);
      assert.match(answer.error.message, new RegExp(`^The arguments of ${name}`));
    }
    assert.deepEqual(calls, []);

    const missing = await dispatch(handlers, 'getEnvironment', {}, silent);
    assert.ok(!missing.ok && /env is required/.test(missing.error.message), 'a missing argument reads as required');
  });

  test('an argument value is never echoed in the error (setSecret)', async () => {
    const { handlers, calls } = recordingHandlers(() => ({}));
    const answer = await dispatch(handlers, 'setSecret', { env: 'dev', field: 'not.a.field', value: 'hunter2-secret' }, silent);
    assert.ok(!answer.ok && answer.error.field === 'field');
    assert.doesNotMatch(JSON.stringify(answer), /hunter2/);
    assert.deepEqual(calls, []);
  });

  test('valid arguments reach the handler with their defaults filled in', async () => {
    const { handlers, calls } = recordingHandlers(() => ({ total: 0, runs: [] }));
    const answer = await dispatch(handlers, 'listRuns', { env: 'dev' }, silent);
    assert.deepEqual(answer, { ok: true, value: { total: 0, runs: [] } });
    assert.deepEqual(calls, [{ name: 'listRuns', args: { env: 'dev', offset: 0, limit: 100 } }]);
    await dispatch(handlers, 'listActiveRuns', undefined, silent);
    assert.deepEqual(calls.at(-1), { name: 'listActiveRuns', args: {} });
  });

  test('an unknown method is an error envelope, not a throw', async () => {
    const { handlers, calls } = recordingHandlers(() => ({}));
    const answer = await dispatch(handlers, 'toString', {}, silent);
    assert.ok(!answer.ok && answer.error.code === 'UNKNOWN_METHOD');
    const odd = await dispatch(handlers, '<script>', {}, silent);
    assert.ok(!odd.ok && !odd.error.message.includes('<script>'), 'a name that is not a name is not quoted');
    assert.deepEqual(calls, []);
  });

  test('a ContractError keeps its code, action and field', async () => {
    const thrown = new ContractError({ code: 'REVISION_CONFLICT', message: 'The config file changed.', action: 'reload', field: 'source.bucket', retryable: false });
    const { handlers } = recordingHandlers(() => thrown);
    const answer = await dispatch(handlers, 'getStatus', { env: 'dev' }, silent);
    assert.deepEqual(answer, { ok: false, error: thrown.toData() });
  });

  test('a PdsError keeps code, message, hint and retryable, and gets an action by its code', async () => {
    const cases: [PdsError, string][] = [
      [new DecryptError('Environment dev has no secret key to decrypt with.', { code: 'DECRYPT_NO_KEY', hint: 'Import the data czar\'s secret key: pds key import --env dev KEYFILE.asc' }), 'import-key'],
      [new ConfigError('environments.dev.source.bucket is required.', { code: 'CONFIG_INVALID', path: 'environments.dev.source.bucket' }), 'edit-environment'],
      [new ConfigError('The environment variable PDS_PASS (referenced by environments.dev.key.passphrase) is not set.', { code: 'SECRET_MISSING', hint: 'Set PDS_PASS in the environment of the process that runs pds.' }), 'set-secret'],
      [new SourceError('S3 could not be reached.', { code: 'S3_UNREACHABLE', retryable: true }), 'check-connection'],
      [new SourceError('The source stopped answering.', { code: 'SOURCE_NOT_ANSWERING', retryable: true }), 'check-connection'],
      [new LoadError('The database became unreachable.', { code: 'TARGET_UNAVAILABLE', retryable: true }), 'check-connection'],
      [new SourceError('a.gz: downloaded 3 bytes but S3 listed 4.', { code: 'S3_SIZE_MISMATCH', retryable: true, hint: 'Run again to download it afresh.' }), 'retry-file'],
      [new PdsError('a.tsv: no header row.', { code: 'TSV_NO_HEADER', stage: 'parse' }), 'none'],
      [new LoadError('A brand new MongoDB problem.', { code: 'MONGO_SOMETHING_NEW' }), 'check-connection'],
    ];
    for (const [error, action] of cases) {
      const { handlers } = recordingHandlers(() => error);
      const answer = await dispatch(handlers, 'getStatus', { env: 'dev' }, silent);
      assert.ok(!answer.ok);
      assert.equal(answer.error.code, error.code);
      assert.equal(answer.error.message, error.message);
      assert.equal(answer.error.retryable, error.retryable);
      assert.equal(answer.error.action, action, error.code);
      assert.doesNotMatch(answer.error.hint ?? '', /\bpds (key|run|runs|demo)\b|`pds/, `${error.code}: a GUI hint never names a CLI command`);
    }
    const [noKey, config, secret] = await Promise.all(
      cases.slice(0, 3).map(([error]) => dispatch(recordingHandlers(() => error).handlers, 'getStatus', { env: 'dev' }, silent)),
    );
    assert.ok(!noKey.ok && noKey.error.hint === "Import the data czar's secret key on the Keys screen.");
    assert.ok(!config.ok && config.error.field === 'source.bucket', 'a config error names its field within the environment');
    assert.ok(!secret.ok && secret.error.hint === 'Set PDS_PASS in the environment of the process that runs pds.', 'a hint without a CLI command is kept');
  });

  test('anything else is INTERNAL with a generic message; its text goes to the server log only', async () => {
    const logged: unknown[] = [];
    const { handlers } = recordingHandlers(() => new Error('ENOENT: /home/czar/.pds/secrets/live-passphrase hunter2'));
    const answer = await dispatch(handlers, 'getStatus', { env: 'dev' }, { onInternalError: (_m, e) => logged.push(e) });
    assert.ok(!answer.ok);
    assert.equal(answer.error.code, 'INTERNAL');
    assert.equal(answer.error.message, INTERNAL_MESSAGE);
    assert.doesNotMatch(JSON.stringify(answer), /ENOENT|czar|hunter2/);
    assert.equal(logged.length, 1);
    assert.equal(toContractError('a thrown string', silent).code, 'INTERNAL');
  });

  test('a result outside the contract is INTERNAL, and undeclared fields never cross', async () => {
    const { handlers } = recordingHandlers((name) =>
      name === 'listRuns' ? { total: 0, runs: [], password: 'hunter2' } : { runs: 'not a list' },
    );
    const ok = await dispatch(handlers, 'listRuns', { env: 'dev' }, silent);
    assert.deepEqual(ok, { ok: true, value: { total: 0, runs: [] } });
    const logged: unknown[] = [];
    const bad = await dispatch(handlers, 'getStatus', { env: 'dev' }, { onInternalError: (_m, e) => logged.push(e) });
    assert.ok(!bad.ok && bad.error.code === 'INTERNAL');
    assert.match(String(logged[0]), /getStatus does not match its schema/);
  });
});

describe('client', () => {
  test('an error envelope comes back as a ContractError with the same code, hint and action', async () => {
    const envelope: Envelope<unknown> = { ok: false, error: { code: 'DECRYPT_NO_KEY', message: 'No key.', hint: 'Import it.', action: 'import-key', retryable: false } };
    const client = createConsoleClient({ call: async () => envelope });
    await assert.rejects(client.getStatus({ env: 'dev' }), (e: unknown) => {
      assert.ok(e instanceof ContractError);
      assert.deepEqual(e.toData(), { ...envelope.error, field: undefined });
      return true;
    });
  });

  test('an answer that is not an envelope is BAD_RESPONSE; an unknown action reads as none', async () => {
    const garbage = createConsoleClient({ call: async () => '<html>' as unknown as Envelope<unknown> });
    await assert.rejects(garbage.listActiveRuns({}), (e: unknown) => e instanceof ContractError && e.code === 'BAD_RESPONSE');
    const newer = createConsoleClient({ call: async () => ({ ok: false, error: { code: 'X', message: 'x', action: 'teleport' as 'none', retryable: false } }) });
    await assert.rejects(newer.listActiveRuns({}), (e: unknown) => e instanceof ContractError && e.action === 'none');
  });
});

describe('error guidance', () => {
  test('CLI commands in hints are recognised; prose mentioning pds is not', () => {
    assert.ok(namesCliCommand('Copy the fingerprint from `pds key list`.'));
    assert.ok(namesCliCommand('List runs with: pds runs --env live'));
    assert.ok(namesCliCommand('Run pds again: events already stored count as duplicates.'));
    assert.ok(namesCliCommand('Check the events table (pds db check), then ask again.'));
    assert.ok(!namesCliCommand('Make sure only one pds run loads an environment at a time.'));
    assert.ok(!namesCliCommand('Drop or rename the existing index of that name (pds creates its indexes again).'));
  });

  test('the codes whose engine hint names a CLI command have a GUI hint', () => {
    const cliHints: [string, string][] = [
      ['DECRYPT_NO_KEY', "Import the data czar's secret key: pds key import --env dev KEYFILE.asc"],
      ['DECRYPT_NO_MATCHING_KEY', 'Import the matching secret key with `pds key import`.'],
      ['CONFIG_NO_ENVIRONMENT', 'Create one in config.yaml, or run `pds demo` to make a demo environment.'],
      ['MONGO_PARTIAL_BATCH', 'Run pds again: events already stored count as duplicates.'],
      ['MONGO_WRITE_FAILED', 'A transient server condition (election, shutdown, timeout): run pds again.'],
      ['LOAD_FAILED', 'Another process is writing the same database file; run pds again once it has finished.'],
      ['SUMMARY_QUERY_FAILED', 'Check the events table (pds db check), then ask again.'],
    ];
    for (const [code, hint] of cliHints) {
      const gui = consoleHint(code, hint);
      assert.equal(gui, guidanceFor(code).guiHint, code);
      assert.ok(gui !== undefined && !namesCliCommand(gui), code);
    }
    assert.equal(consoleHint('NO_SUCH_RUN', 'List runs with: pds runs --env dev'), 'Pick a run from the run history.');
    assert.equal(consoleHint('KEY_FINGERPRINT_INVALID', 'Copy the fingerprint from `pds key list`.'), 'Choose the key from the list on the Keys screen.');
    assert.equal(guidanceFor('UNHEARD_OF').action, 'none');
    assert.equal(consoleHint('UNHEARD_OF', 'Try `pds demo`.'), undefined, 'no CLI hint and no GUI hint: no hint');
  });
});
