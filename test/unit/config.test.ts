import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getEnvironment, loadConfig, resolveSecret, saveConfig, validateConfig } from '../../core/config/config-store.js';
import { ConfigError } from '../../core/errors/index.js';
import { mariaDbUrlParts } from '../../core/stores/open-stores.js';

async function withHome(fn: (home: string) => Promise<void>): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'pds-config-'));
  try {
    await fn(home);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

const s3Env = {
  source: { type: 's3', org: 'MITx', accessKeyId: 'env:AWS_KEY', secretAccessKey: 'env:AWS_SECRET' },
  key: { passphrase: 'env:PDS_PASS' },
};

describe('configuration', () => {
  test('a missing file is an empty configuration', async () => {
    await withHome(async (home) => assert.deepEqual(await loadConfig(home), { environments: {} }));
  });

  test('defaults fill an S3 environment: buckets, region, SQLite targets, all courses', () => {
    const config = validateConfig({ environments: { live: s3Env } });
    const live = config.environments.live!;
    assert.equal(live.source.type, 's3');
    if (live.source.type !== 's3') return;
    assert.equal(live.source.region, 'us-east-1');
    assert.deepEqual(live.source.weekly, { bucket: 'course-data', prefix: '' });
    assert.deepEqual(live.source.sites, ['edx']);
    assert.deepEqual(live.targets, { relational: { type: 'sqlite' }, events: { type: 'sqlite' } });
    assert.equal(live.courses.includeEdge, true);
  });

  test('an inline secret is refused with the field path and an example', () => {
    assert.throws(
      () => validateConfig({ environments: { live: { ...s3Env, key: { passphrase: 'hunter2' } } } }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /environments\.live\.key\.passphrase/);
        assert.match(e.message, /secret reference/);
        assert.match(e.message, /example: passphrase: env:PDS_LIVE_PASSPHRASE/);
        assert.doesNotMatch(e.message, /hunter2/, 'the secret itself never appears in the message');
        return true;
      },
    );
  });

  test('every mistake is listed, one line each', () => {
    assert.throws(
      () => validateConfig({ environments: { Live: { source: { type: 'ftp' } }, dev: { source: { type: 's3' }, window: { from: '2026/01/01' } } } }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        const lines = e.message.split('\n').filter((l) => l.startsWith('- '));
        assert.ok(lines.length >= 3, e.message);
        assert.match(e.message, /environments\.Live.*lower-case/);
        assert.match(e.message, /environments\.dev\.source\.org/);
        assert.match(e.message, /environments\.dev\.window\.from.*2026-01-31/);
        return true;
      },
    );
  });

  test('a misspelt setting is named with the settings accepted at that place', () => {
    assert.throws(
      () => validateConfig({ environments: { live: { ...s3Env, source: { ...s3Env.source, endpont: 'http://127.0.0.1:9000' } } } }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /environments\.live\.source: unknown setting\(s\) endpont; the settings here are type, org, region, endpoint, /);
        assert.doesNotMatch(e.message, /README/);
        return true;
      },
    );
  });

  test('YAML syntax errors name the line', async () => {
    await withHome(async (home) => {
      await writeFile(join(home, 'config.yaml'), 'environments:\n  dev:\n    source: [unclosed\n');
      await assert.rejects(loadConfig(home), (e: unknown) => e instanceof ConfigError && e.code === 'CONFIG_YAML' && /line \d/.test(e.message));
    });
  });

  test('save then load round-trips, and an unknown environment names the known ones', async () => {
    await withHome(async (home) => {
      await saveConfig(home, validateConfig({ environments: { dev: { source: { type: 'local', path: 'drop' } } } }));
      const config = await loadConfig(home);
      assert.equal(getEnvironment(config, 'dev').source.type, 'local');
      assert.throws(() => getEnvironment(config, 'live'), (e: unknown) => e instanceof ConfigError && /Known environments: dev/.test(e.hint ?? ''));
    });
  });

  test('secret references resolve from the environment and from files, and say which field when missing', async () => {
    await withHome(async (home) => {
      process.env.PDS_TEST_SECRET = 's3cr3t';
      assert.equal(await resolveSecret('env:PDS_TEST_SECRET', home, 'x.y'), 's3cr3t');
      delete process.env.PDS_TEST_SECRET;
      await assert.rejects(resolveSecret('env:PDS_TEST_SECRET', home, 'environments.live.key.passphrase'), /PDS_TEST_SECRET \(referenced by environments\.live\.key\.passphrase\) is not set/);
      await writeFile(join(home, 'pass.txt'), 'from-file\n');
      assert.equal(await resolveSecret('file:pass.txt', home, 'x'), 'from-file');
    });
  });
});

describe('MariaDB target settings', () => {
  const withTarget = (relational: Record<string, unknown>) => validateConfig({ environments: { live: { source: { type: 'local', path: 'x' }, targets: { relational } } } });

  test('a URL without a password, or a secret reference to one, or fields', () => {
    assert.equal(withTarget({ type: 'mariadb', url: 'mariadb://pds@db1:3307/edx?ssl=true' }).environments.live!.targets.relational.type, 'mariadb');
    assert.equal(withTarget({ type: 'mariadb', url: 'env:PDS_DB_URL' }).environments.live!.targets.relational.type, 'mariadb');
    assert.equal(withTarget({ type: 'mariadb', user: 'pds', database: 'edx' }).environments.live!.targets.relational.type, 'mariadb');
  });

  test('a URL holding a password inline is refused without echoing it; so is a target with neither URL nor user and database', () => {
    assert.throws(
      () => withTarget({ type: 'mariadb', url: 'mariadb://pds:s3cret@db1/edx' }),
      (e: unknown) => e instanceof ConfigError && /targets\.relational\.url/.test(e.message) && !e.message.includes('s3cret'),
    );
    assert.throws(() => withTarget({ type: 'mariadb', host: 'db1' }), (e: unknown) => e instanceof ConfigError && /either url, or user and database/.test(e.message));
  });

  test('URL parts: user, password, host, port, database, ssl', () => {
    assert.deepEqual(mariaDbUrlParts('mariadb://pds:p%40ss@db1.example.edu:3307/edx%5Fprod?ssl=true'), {
      host: 'db1.example.edu',
      port: 3307,
      user: 'pds',
      password: 'p@ss',
      database: 'edx_prod',
      ssl: true,
    });
    assert.deepEqual(mariaDbUrlParts('mysql://db2/edx'), { host: 'db2', port: undefined, user: undefined, password: undefined, database: 'edx', ssl: undefined });
  });
});
