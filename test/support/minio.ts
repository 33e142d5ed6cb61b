/**
 * MinIO for integration tests: an S3 server that checks request signatures (docs/architecture.md §5), so a
 * wrong secret key is refused exactly as AWS would refuse it. Each call starts its own server on a
 * free port with a temporary data folder and random credentials.
 *
 * Binary: `$MINIO_BIN`, else `minio` on PATH, else `~/go/bin/minio`
 * (`go install github.com/minio/minio@latest`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from './free-port.js';
import { findBinary, goBinDir, removeDir, startServer, waitUntil } from './server-process.js';

export interface MinioServer {
  /** `http://127.0.0.1:<port>`; use path-style addressing. */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  /** Temporary folder holding the server's data; deleted by `stop()`. */
  dataDir: string;
  /** SIGSTOP: connections are accepted by the kernel but nothing answers (a hung server). */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
  /** Stops the server and deletes its data folder. */
  stop(): Promise<void>;
}

const REGION = 'us-east-1';

/** Starts MinIO and resolves once `/minio/health/live` answers. */
export async function startMinio(): Promise<MinioServer> {
  const binary = await findBinary(
    'minio',
    'MINIO_BIN',
    [goBinDir()],
    'Build it with `go install github.com/minio/minio@latest` or set MINIO_BIN.',
  );
  const dir = await mkdtemp(join(tmpdir(), 'pds-minio-'));
  const accessKey = `pds${randomBytes(6).toString('hex')}`;
  const secretKey = randomBytes(18).toString('base64url');
  const port = await freePort();
  const consolePort = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const server = startServer(
    binary,
    ['server', '--quiet', '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, join(dir, 'data')],
    {
      ...process.env,
      MINIO_ROOT_USER: accessKey,
      MINIO_ROOT_PASSWORD: secretKey,
      MINIO_REGION: REGION,
      MINIO_BROWSER: 'off',
      MINIO_UPDATE: 'off',
      // Keep MinIO's own config and certificates out of the user's home folder.
      HOME: dir,
    },
  );
  try {
    await waitUntil('MinIO', server, async () => (await fetch(`${endpoint}/minio/health/live`)).ok);
  } catch (error) {
    await server.stop();
    await removeDir(dir);
    throw error;
  }
  return {
    endpoint,
    accessKey,
    secretKey,
    region: REGION,
    dataDir: dir,
    pause: () => server.pause(),
    resume: () => server.resume(),
    async stop() {
      await server.stop();
      await removeDir(dir);
    },
  };
}
