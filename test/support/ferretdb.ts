/**
 * FerretDB for integration tests: a MongoDB-wire server (docs/architecture.md §5) backed by SQLite files in a
 * temporary folder, so the MongoDB store runs against the real driver and protocol without a
 * MongoDB installation. Authentication is off (v1 with the SQLite handler has none by default).
 *
 * Binary: `$FERRETDB_BIN`, else `ferretdb` on PATH, else `~/go/bin/ferretdb`
 * (`go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`; that build needs
 * `build/version/version.txt`, see the report of the helper that set it up).
 */
import { mkdir, mkdtemp } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from './free-port.js';
import { findBinary, goBinDir, removeDir, startServer, waitUntil, type RestartableServer } from './server-process.js';

/** FerretDB; its `dataDir` holds the SQLite files. */
export interface FerretDbServer extends RestartableServer {
  /** `mongodb://127.0.0.1:<port>/` */
  uri: string;
  port: number;
}

/** Starts FerretDB (SQLite handler) and resolves once its port accepts connections. */
export async function startFerretDb(): Promise<FerretDbServer> {
  const binary = await findBinary(
    'ferretdb',
    'FERRETDB_BIN',
    [goBinDir()],
    'Build it with `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` or set FERRETDB_BIN.',
  );
  const dir = await mkdtemp(join(tmpdir(), 'pds-ferretdb-'));
  const dataDir = join(dir, 'data');
  await mkdir(dataDir);
  const port = await freePort();
  const args = [
    '--handler=sqlite',
    `--sqlite-url=file:${dataDir}/`,
    `--listen-addr=127.0.0.1:${port}`,
    `--state-dir=${dir}`,
    // "-" turns the debug HTTP listener off; its default port 8088 would clash between servers.
    '--debug-addr=-',
    '--telemetry=disable',
    '--log-level=warn',
  ];
  let server = startServer(binary, args);
  try {
    await waitUntil('FerretDB', server, () => canConnect(port));
  } catch (error) {
    await server.stop();
    await removeDir(dir);
    throw error;
  }
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    port,
    dataDir: dir,
    async kill() {
      server.child.kill('SIGKILL');
      await server.stop(0);
    },
    pause: () => server.pause(),
    resume: () => server.resume(),
    async restart() {
      server = startServer(binary, args);
      await waitUntil('FerretDB', server, () => canConnect(port));
    },
    async stop() {
      await server.stop();
      await removeDir(dir);
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
