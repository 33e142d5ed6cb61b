/**
 * Bounded waits (README "Timeouts"): the environment's `timeouts` block, how it becomes driver
 * options, and how a server that does not answer in time is reported by each engine. The stalls
 * themselves, against real servers, are in test/integration/stalls.test.ts.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TIMEOUTS, timeoutsOf } from '../../core/config/config-schema.js';
import { validateConfig } from '../../core/config/config-store.js';
import { ConfigError, LoadError } from '../../core/errors/index.js';
import { classify } from '../../core/sources/s3/s3-errors.js';
import { toMariaDbLoadError } from '../../core/stores/mariadb/mariadb-errors.js';
import { mongoTimeoutOptions } from '../../core/stores/mongodb/mongo-connection.js';

const local = { source: { type: 'local', path: 'drop' } };

describe('the timeouts block', () => {
  test('absent: the defaults; partly given: the rest keep their defaults', () => {
    const config = validateConfig({ environments: { a: local, b: { ...local, timeouts: { requestSeconds: 5 } } } });
    assert.deepEqual(timeoutsOf(config.environments.a!), { connectSeconds: 15, requestSeconds: 30, querySeconds: 300 });
    assert.deepEqual(DEFAULT_TIMEOUTS, { connectSeconds: 15, requestSeconds: 30, querySeconds: 300 });
    assert.deepEqual(timeoutsOf(config.environments.b!), { connectSeconds: 15, requestSeconds: 5, querySeconds: 300 });
  });

  test('zero, a word, or an unknown wait is refused with its path', () => {
    assert.throws(
      () => validateConfig({ environments: { live: { ...local, timeouts: { connectSeconds: 0, querySeconds: 'long', socketSeconds: 3 } } } }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /environments\.live\.timeouts\.connectSeconds.*more than 0 seconds/);
        assert.match(e.message, /environments\.live\.timeouts\.querySeconds.*number of seconds/);
        assert.match(e.message, /environments\.live\.timeouts.*socketSeconds/);
        return true;
      },
    );
  });
});

describe('MongoDB driver options', () => {
  test('connect and server selection from connectSeconds, socket and pool wait from querySeconds', () => {
    assert.deepEqual(mongoTimeoutOptions('mongodb://db1:27017/', { connectSeconds: 2, querySeconds: 4 }), {
      connectTimeoutMS: 2000,
      serverSelectionTimeoutMS: 2000,
      socketTimeoutMS: 4000,
      waitQueueTimeoutMS: 4000,
    });
  });

  test('an option the URI sets itself keeps the URI value', () => {
    const options = mongoTimeoutOptions('mongodb://db1,db2/?replicaSet=rs0&serverSelectionTimeoutMS=30000&sockettimeoutms=0', { connectSeconds: 2, querySeconds: 4 });
    assert.deepEqual(options, { connectTimeoutMS: 2000, waitQueueTimeoutMS: 4000 });
  });
});

describe('a server that does not answer in time', () => {
  const ctx = { server: 'db1:3306', database: 'edx', account: "'pds'@'%'", file: 'a.sql', timeouts: { connectSeconds: 2, querySeconds: 4 } };
  const op = { what: 'write rows to auth_user', privileges: ['INSERT'] };

  test('MariaDB: a silent socket is TARGET_NOT_ANSWERING naming the query limit', () => {
    const error = toMariaDbLoadError(Object.assign(new Error('socket timeout'), { errno: 45026, code: 'ER_SOCKET_TIMEOUT', fatal: true }), op, ctx);
    assert.ok(error instanceof LoadError);
    assert.equal(error.code, 'TARGET_NOT_ANSWERING');
    assert.equal(error.retryable, true);
    assert.match(error.message, /MariaDB \(db1:3306\/edx\) could not write rows to auth_user .*did not answer within 4 s \(timeouts\.querySeconds\)/);
    assert.match(error.hint ?? '', /db1:3306/);
  });

  test('MariaDB: a pool that could not connect in time is TARGET_NOT_ANSWERING when the connection timed out, DB_UNAVAILABLE when it was refused', () => {
    const poolTimeout = (cause: unknown): Error => Object.assign(new Error('pool timeout', { cause }), { errno: 45028, code: 'ER_GET_CONNECTION_TIMEOUT' });
    const timedOut = toMariaDbLoadError(poolTimeout(Object.assign(new Error('x'), { errno: 45012, code: 'ER_CONNECTION_TIMEOUT', fatal: true })), op, ctx);
    assert.equal(timedOut.code, 'TARGET_NOT_ANSWERING');
    assert.match(timedOut.message, /within 2 s \(timeouts\.connectSeconds\)/);
    const refused = toMariaDbLoadError(poolTimeout(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), op, ctx);
    assert.equal(refused.code, 'DB_UNAVAILABLE');
  });

  test('S3: a request time-out is SOURCE_NOT_ANSWERING naming the endpoint, the attempts and the limit, without credentials', () => {
    const sdkError = Object.assign(new Error('request timed out; AKIAEXAMPLE signature xyz'), { name: 'TimeoutError', $metadata: { attempts: 5 } });
    const error = classify(sdkError, {
      action: 'Listing',
      bucket: 'edx-course-data',
      key: 'mitx/',
      environment: 'live',
      stage: 'plan',
      endpoint: 'https://s3.example.edu',
      requestSeconds: 30,
      startedAt: Date.now() - 151_000,
    });
    assert.equal(error.code, 'SOURCE_NOT_ANSWERING');
    assert.equal(error.retryable, true);
    assert.equal(error.stage, 'plan');
    assert.match(error.message, /^The S3 server at https:\/\/s3\.example\.edu did not answer when listing s3:\/\/edx-course-data\/mitx\/ for 15\d s \(5 attempts; each wait limited to 30 s by timeouts\.requestSeconds of environment "live"\)\.$/);
    assert.match(error.hint ?? '', /reachable/);
    assert.ok(!JSON.stringify({ m: error.message, h: error.hint, c: String(error.cause) }).includes('AKIAEXAMPLE'));
  });
});
