import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../core/config/config-store.js';
import { ContractError } from '../../core/contract/methods.js';
import { toContractError } from '../../core/contract/dispatch.js';
import { PdsError } from '../../core/errors/index.js';
import { createConsoleService } from '../../core/service/console-service.js';
import { environmentMethods } from '../../core/service/environment-methods.js';

const CONFIG = `# Platform Data Store: our three environments.
environments:
  # The production data, loaded nightly by cron.
  live:
    description: Production   # shown in the console
    source:
      type: s3
      org: MITx
      # The keys are in the vault.
      accessKeyId: env:PDS_TEST_AWS_KEY
      secretAccessKey: file:secrets/live/source.secretAccessKey
      weekly: { bucket: mitx-course-data, prefix: '' }
    key:
      passphrase: env:PDS_TEST_PASSPHRASE
    targets:
      relational:
        type: mariadb
        host: db1.example.edu
        user: pds
        password: env:PDS_TEST_DB_PASSWORD
        database: edx
      events:
        type: mongodb
        uri: mongodb://mongo1.example.edu:27017
  # A scratch copy.
  dev:
    source: { type: local, path: /srv/edx-dev }
`;

const SECRET_VALUES = ['AKIA-SECRET-KEY-ID-1234', 'wJalrXUtnFEMI-very-secret', 'correct horse battery staple', 'db-pa55word!'];

async function withHome(fn: (home: string, methods: ReturnType<typeof environmentMethods>) => Promise<void>): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'pds-envs-'));
  const saved = { ...process.env };
  try {
    await writeFile(join(home, 'config.yaml'), CONFIG, { mode: 0o640 });
    await chmod(join(home, 'config.yaml'), 0o640);
    await mkdir(join(home, 'secrets', 'live'), { recursive: true });
    await writeFile(join(home, 'secrets', 'live', 'source.secretAccessKey'), SECRET_VALUES[1]!);
    process.env.PDS_TEST_AWS_KEY = SECRET_VALUES[0];
    delete process.env.PDS_TEST_PASSPHRASE;
    process.env.PDS_TEST_DB_PASSWORD = SECRET_VALUES[3];
    await fn(home, environmentMethods({ home }));
  } finally {
    process.env = saved;
    await rm(home, { recursive: true, force: true });
  }
}

function assertNoSecret(value: unknown, secrets: string[] = SECRET_VALUES): void {
  const text = JSON.stringify(value);
  for (const s of secrets) assert.ok(!text.includes(s), 'a secret value appears in a result');
}

async function rejects(promise: Promise<unknown>): Promise<ContractError | PdsError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ContractError || error instanceof PdsError, `unexpected error ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
}

describe('console environment methods', () => {
  test('getEnvironment leaves every secret reference out of settings and describes it in secrets', async () => {
    await withHome(async (_home, m) => {
      const view = await m.getEnvironment({ env: 'live' });
      assertNoSecret(view);
      const s = view.settings as { source: Record<string, unknown>; key: Record<string, unknown>; targets: { relational: Record<string, unknown>; events: Record<string, unknown> } };
      assert.equal(s.source.org, 'MITx');
      assert.ok(!('accessKeyId' in s.source) && !('secretAccessKey' in s.source));
      assert.ok(!('passphrase' in s.key));
      assert.ok(!('password' in s.targets.relational));
      // A URI without credentials is a setting, not a secret reference: it stays.
      assert.equal(s.targets.events.uri, 'mongodb://mongo1.example.edu:27017');
      assert.deepEqual(
        view.secrets.map((x) => [x.field, x.state, x.via, x.name]),
        [
          ['key.passphrase', 'not set', 'env', 'PDS_TEST_PASSPHRASE'],
          ['source.accessKeyId', 'set', 'env', 'PDS_TEST_AWS_KEY'],
          ['source.secretAccessKey', 'set', 'file', 'secrets/live/source.secretAccessKey'],
          ['targets.relational.password', 'set', 'env', 'PDS_TEST_DB_PASSWORD'],
        ],
      );
      assert.match(view.revision, /^[0-9a-f]{64}$/);
    });
  });

  test('the environment list shows every secret reference as set / not set, the database password included', async () => {
    await withHome(async (home) => {
      const [live] = await createConsoleService({ home }).listEnvironments();
      assert.deepEqual(live!.secrets, {
        'key.passphrase': 'not set',
        'source.accessKeyId': 'set',
        'source.secretAccessKey': 'set',
        'targets.relational.password': 'set',
      });
      assertNoSecret(live);
    });
  });

  test('an update keeps comments, key order and the secret references the form leaves out', async () => {
    await withHome(async (home, m) => {
      const view = await m.getEnvironment({ env: 'live' });
      const settings = structuredClone(view.settings) as { description: string; source: Record<string, unknown>; courses?: unknown };
      settings.description = 'Production (MITx)';
      settings.source.region = 'us-west-2';
      settings.courses = { include: ['MITx-6.00*'] };
      const saved = await m.updateEnvironment({ env: 'live', revision: view.revision, settings });
      const text = await readFile(join(home, 'config.yaml'), 'utf8');
      for (const comment of ['# Platform Data Store: our three environments.', '# The production data, loaded nightly by cron.', '# shown in the console', '# The keys are in the vault.', '# A scratch copy.']) {
        assert.ok(text.includes(comment), `comment kept: ${comment}`);
      }
      assert.match(text, /description: Production \(MITx\)\s+# shown in the console/);
      // Order: live before dev; within source, type, org, the secret references, weekly, then the new key.
      assert.ok(text.indexOf('live:') < text.indexOf('dev:'));
      const order = ['type: s3', 'org: MITx', 'accessKeyId: env:PDS_TEST_AWS_KEY', 'secretAccessKey: file:secrets/live/source.secretAccessKey', 'weekly:', 'region: us-west-2'].map((k) => text.indexOf(k));
      assert.ok(order.every((at, i) => at > 0 && (i === 0 || at > order[i - 1]!)), `order kept: ${order.join(',')}`);
      assert.ok(text.includes('passphrase: env:PDS_TEST_PASSPHRASE'));
      assert.ok(text.includes('password: env:PDS_TEST_DB_PASSWORD'));
      assert.equal((await stat(join(home, 'config.yaml'))).mode & 0o777, 0o640, 'the file keeps its mode');
      const live = (await loadConfig(home)).environments.live!;
      assert.equal(live.source.type === 's3' && live.source.region, 'us-west-2');
      assert.notEqual(saved.revision, view.revision);
      assertNoSecret(saved);
    });
  });

  test('a save made from an older revision is refused and changes nothing', async () => {
    await withHome(async (home, m) => {
      const view = await m.getEnvironment({ env: 'live' });
      const handEdited = (await readFile(join(home, 'config.yaml'), 'utf8')).replace('org: MITx', 'org: MITx # checked');
      await writeFile(join(home, 'config.yaml'), handEdited);
      const error = await rejects(m.updateEnvironment({ env: 'live', revision: view.revision, settings: { ...view.settings, description: 'mine' } }));
      const data = toContractError(error);
      assert.equal(data.code, 'CONFIG_CHANGED');
      assert.equal(data.action, 'reload');
      assert.match(data.message, /config\.yaml was changed since this form was opened/);
      assert.equal(await readFile(join(home, 'config.yaml'), 'utf8'), handEdited);
      const deleteError = toContractError(await rejects(m.deleteEnvironment({ env: 'dev', revision: view.revision })));
      assert.equal(deleteError.code, 'CONFIG_CHANGED');
    });
  });

  test('validateEnvironment names each mistake by its path within the environment, with an example', async () => {
    await withHome(async (_home, m) => {
      const result = await m.validateEnvironment({
        env: 'fresh',
        settings: { source: { type: 's3', org: '', weekly: { bucket: 'x' } }, key: { passphrase: 'hunter2' }, targets: { relational: { type: 'sqlite', colour: 'red' } } },
      });
      assert.equal(result.ok, false);
      const byPath = new Map(result.issues.map((i) => [i.path, i]));
      assert.match(byPath.get('source.org')!.message, /edX org/);
      assert.equal(byPath.get('source.org')!.example, 'org: MITx');
      assert.match(byPath.get('source.weekly.bucket')!.message, /bucket name/);
      assert.match(byPath.get('key.passphrase')!.message, /secret reference/);
      assert.equal(byPath.get('key.passphrase')!.example, 'passphrase: env:PDS_LIVE_PASSPHRASE');
      assert.match(byPath.get('targets.relational')!.message, /unknown setting\(s\) colour; the settings here are type, path/);
      assertNoSecret(result, ['hunter2']);
    });
  });

  test('validation counts the secret fields already set in the file as present', async () => {
    await withHome(async (_home, m) => {
      const view = await m.getEnvironment({ env: 'live' });
      assert.deepEqual(await m.validateEnvironment({ env: 'live', settings: view.settings }), { ok: true, issues: [] });
      // A MariaDB target given by a URL that is a secret reference: the form has neither url nor user.
      const settings = structuredClone(view.settings) as { targets: { relational: Record<string, unknown> } };
      settings.targets.relational = { type: 'mariadb' };
      const result = await m.validateEnvironment({ env: 'fresh', settings });
      assert.deepEqual(
        result.issues.map((i) => i.path),
        ['targets.relational'],
      );
    });
  });

  test('create adds an environment at the end, refuses an existing name and an invalid draft', async () => {
    await withHome(async (home, m) => {
      const created = await m.createEnvironment({ env: 'test', settings: { description: 'Staging', source: { type: 'local', path: 'incoming' } } });
      assert.equal(created.name, 'test');
      const text = await readFile(join(home, 'config.yaml'), 'utf8');
      assert.ok(text.indexOf('dev:') < text.indexOf('test:'));
      assert.ok(text.includes('# A scratch copy.'));
      assert.deepEqual(Object.keys((await loadConfig(home)).environments), ['live', 'dev', 'test']);

      const exists = toContractError(await rejects(m.createEnvironment({ env: 'dev', settings: { source: { type: 'local', path: 'x' } } })));
      assert.equal(exists.code, 'CONFIG_ENV_EXISTS');
      assert.match(exists.message, /already has an environment "dev"/);

      const invalid = toContractError(await rejects(m.createEnvironment({ env: 'broken', settings: { source: { type: 's3' } } })));
      assert.equal(invalid.code, 'CONFIG_INVALID');
      assert.equal(invalid.field, 'source.org');
      assert.match(invalid.message, /source\.org: is required/);
      assert.ok(!(await readFile(join(home, 'config.yaml'), 'utf8')).includes('broken'));
    });
  });

  test('create works without a config file', async () => {
    const home = await mkdtemp(join(tmpdir(), 'pds-envs-'));
    try {
      await environmentMethods({ home }).createEnvironment({ env: 'dev', settings: { source: { type: 'local', path: 'in' } } });
      assert.deepEqual(Object.keys((await loadConfig(home)).environments), ['dev']);
      assert.equal((await stat(join(home, 'config.yaml'))).mode & 0o777, 0o600);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  test('delete removes the block and keeps the data folder; a missing environment is a clear error', async () => {
    await withHome(async (home, m) => {
      await mkdir(join(home, 'envs', 'dev'), { recursive: true });
      await writeFile(join(home, 'envs', 'dev', 'ledger.sqlite'), '');
      const { revision } = await m.getEnvironment({ env: 'dev' });
      const result = await m.deleteEnvironment({ env: 'dev', revision });
      assert.equal(result.deleted, true);
      assert.match(result.message!, /Kept: its data folder .*envs\/dev/);
      await stat(join(home, 'envs', 'dev', 'ledger.sqlite'));
      assert.deepEqual(Object.keys((await loadConfig(home)).environments), ['live']);
      assert.ok((await readFile(join(home, 'config.yaml'), 'utf8')).includes('# The production data, loaded nightly by cron.'));

      const missing = toContractError(await rejects(m.updateEnvironment({ env: 'dev', revision, settings: {} })));
      assert.equal(missing.code, 'CONFIG_NO_ENVIRONMENT');
      assert.match(missing.message, /has no environment "dev"/);
      assert.match(missing.hint ?? '', /live/);
      assert.equal(toContractError(await rejects(m.getEnvironment({ env: 'dev' }))).code, 'CONFIG_NO_ENVIRONMENT');
    });
  });

  test('setSecret writes a 0600 file under the home folder and references it from the config', async () => {
    await withHome(async (home, m) => {
      const secret = 'n3w p4ssphrase that nobody may see';
      const state = await m.setSecret({ env: 'live', field: 'key.passphrase', value: secret });
      assert.deepEqual(state, { field: 'key.passphrase', state: 'set', via: 'file', name: 'secrets/live/key.passphrase' });
      const file = join(home, 'secrets', 'live', 'key.passphrase');
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal((await stat(join(home, 'secrets', 'live'))).mode & 0o777, 0o700);
      assert.equal((await stat(join(home, 'secrets'))).mode & 0o777, 0o700);
      assert.equal(await readFile(file, 'utf8'), secret);
      const text = await readFile(join(home, 'config.yaml'), 'utf8');
      assert.ok(text.includes('passphrase: file:secrets/live/key.passphrase'));
      assert.ok(!text.includes(secret));
      assert.ok(text.includes('# The keys are in the vault.'));
      const live = (await loadConfig(home)).environments.live!;
      assert.equal(live.key.passphrase, 'file:secrets/live/key.passphrase');
      const view = await m.getEnvironment({ env: 'live' });
      assert.deepEqual(view.secrets.find((s) => s.field === 'key.passphrase'), state);
      assertNoSecret([state, view], [secret, ...SECRET_VALUES]);

      // A password for an environment whose relational target is SQLite has no place: refused, nothing written.
      const refused = toContractError(await rejects(m.setSecret({ env: 'dev', field: 'targets.relational.password', value: secret })));
      assert.equal(refused.code, 'CONFIG_INVALID');
      assert.ok(!JSON.stringify(refused).includes(secret));
      await assert.rejects(stat(join(home, 'secrets', 'dev')));
    });
  });
});
