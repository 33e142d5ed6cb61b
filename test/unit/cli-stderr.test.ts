/**
 * What a user sees on stderr: no warning from a dependency that they cannot act on. On Node 20 the
 * AWS SDK announces, once per process, that its releases after January 2027 need Node 22
 * (`NodeVersionSupportWarning`, seven lines); pds supports Node 20.19+ with the SDK version its lock
 * file pins, so no command may print it. Node's warnings stay on in these runs, as they are for users.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPds } from '../support/pds-cli.js';

/** A loopback port with nothing listening: the S3 requests of a run are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

describe('stderr of pds commands', () => {
  test('pds env and a run against an S3 environment print no NodeVersionSupportWarning', async () => {
    const home = await mkdtemp(join(tmpdir(), 'pds-stderr-'));
    try {
      const port = await closedPort();
      await writeFile(
        join(home, 'config.yaml'),
        [
          'environments:',
          '  live:',
          '    source:',
          '      type: s3',
          '      org: MITx',
          `      endpoint: http://127.0.0.1:${port}`,
          '      accessKeyId: env:PDS_TEST_KEY_ID',
          '      secretAccessKey: env:PDS_TEST_SECRET',
          '      events: { bucket: edx-course-data, prefix: mitx/ }',
          '',
        ].join('\n'),
      );
      // Warnings on (the helper turns them off by default), and no opt-out inherited from outside.
      const env = {
        PDS_HOME: home,
        PDS_TEST_KEY_ID: 'AKIDEXAMPLE',
        PDS_TEST_SECRET: 'not-a-secret',
        NODE_NO_WARNINGS: undefined,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: undefined,
      };

      const listed = await runPds(['env'], env);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /^live: s3:\/\//m);
      assert.doesNotMatch(listed.stderr, /NodeVersionSupportWarning|AWS SDK/);

      // A run builds the S3 client, which is when the SDK would warn; the source refuses the
      // connection, so the run cannot run (exit 1) and says so.
      const run = await runPds(['run', '--env', 'live', '--only', 'events', '--dry-run'], env);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stdout + run.stderr, /could not be reached/);
      assert.doesNotMatch(run.stderr, /NodeVersionSupportWarning|AWS SDK/);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
