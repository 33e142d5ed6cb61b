/**
 * MariaDB for integration tests (Debian's `mariadbd`, docs/architecture.md §5): a private server per call, in
 * a temporary data folder, listening on 127.0.0.1 and a free port, with grants enforced and a
 * password-protected user `pds` that owns everything (tests create their own databases).
 *
 * Settings a production server would not use, to keep tests fast on a 2-core machine: no
 * doublewrite, log flushed once a second, no performance schema. `max_allowed_packet` keeps the
 * server default (16 MB) on purpose, because loaders must live with it (docs/architecture.md §6).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { userInfo, tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from './free-port.js';
import { findBinary, removeDir, run, startServer, waitUntil, type RestartableServer } from './server-process.js';

/** MariaDB; its `dataDir` holds data, socket and logs. */
export interface MariaDbServer extends RestartableServer {
  host: string;
  port: number;
  user: string;
  password: string;
  /** An empty database created for the test. */
  database: string;
  /** Unix socket path (the `root` account, without password, is reachable only through it). */
  socket: string;
}

export interface StartMariaDbOptions {
  /** Extra `mariadbd` options, e.g. `['--max-allowed-packet=64M']`. */
  extraArgs?: string[];
}

/**
 * The `targets:` lines of an environment in config.yaml (indented for a block under
 * `environments:`) whose relational target is `server`, as user `pds` with the password read from
 * the environment variable `passwordVar`. Further targets (events) follow as the caller's lines.
 */
export function mariaDbTargetLines(server: MariaDbServer, passwordVar: string, database: string = server.database): string[] {
  return [
    '    targets:',
    '      relational:',
    '        type: mariadb',
    `        host: ${server.host}`,
    `        port: ${server.port}`,
    `        user: ${server.user}`,
    `        password: env:${passwordVar}`,
    `        database: ${database}`,
  ];
}

const HOW_TO_INSTALL = 'Install MariaDB (Debian: `apt-get install mariadb-server`).';

/** Initialises a data folder, starts `mariadbd`, creates user `pds` and database `pds_test`. */
export async function startMariaDb(options: StartMariaDbOptions = {}): Promise<MariaDbServer> {
  const sbin = ['/usr/sbin', '/usr/local/sbin', '/usr/local/mysql/bin'];
  const [mariadbd, installDb, client] = await Promise.all([
    findBinary('mariadbd', 'MARIADBD_BIN', sbin, HOW_TO_INSTALL),
    findBinary('mariadb-install-db', undefined, sbin, HOW_TO_INSTALL),
    findBinary('mariadb', undefined, sbin, HOW_TO_INSTALL),
  ]);
  const dir = await mkdtemp(join(tmpdir(), 'pds-mariadb-'));
  const dataDir = join(dir, 'data');
  const socket = join(dir, 'mariadb.sock');
  // mariadbd refuses to run as root unless told to; as another user it runs as that user.
  const asUser = userInfo().uid === 0 ? ['--user=root'] : [];

  try {
    await run(installDb, [
      '--no-defaults',
      '--auth-root-authentication-method=normal',
      `--datadir=${dataDir}`,
      '--skip-test-db',
      '--skip-name-resolve',
      ...asUser,
    ]);
  } catch (error) {
    await removeDir(dir);
    throw error;
  }

  const port = await freePort();
  const serverArgs = [
    '--no-defaults',
    `--datadir=${dataDir}`,
    `--socket=${socket}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--pid-file=${join(dir, 'mariadb.pid')}`,
    `--log-error=${join(dir, 'error.log')}`,
    '--local-infile=1',
    '--skip-name-resolve',
    '--innodb-buffer-pool-size=256M',
    '--innodb-log-file-size=64M',
    '--innodb-flush-log-at-trx-commit=2',
    '--skip-innodb-doublewrite',
    '--performance-schema=OFF',
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_unicode_ci',
    ...asUser,
    ...(options.extraArgs ?? []),
  ];
  let server = startServer(mariadbd, serverArgs);

  const password = randomBytes(12).toString('base64url');
  const database = 'pds_test';
  const rootArgs = ['--no-defaults', `--socket=${socket}`, '--user=root', '--batch'];
  const ready = (): Promise<void> =>
    waitUntil('mariadbd', server, async () => {
      await run(client, [...rootArgs, '--execute=SELECT 1']);
      return true;
    });
  try {
    await ready();
    // Grants stay on: tests see the same access checks as production. `%` covers 127.0.0.1.
    await run(client, [
      ...rootArgs,
      `--execute=CREATE USER 'pds'@'%' IDENTIFIED BY '${password}'; ` +
        `GRANT ALL PRIVILEGES ON *.* TO 'pds'@'%' WITH GRANT OPTION; ` +
        `CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`,
    ]);
  } catch (error) {
    await server.stop();
    await removeDir(dir);
    throw error;
  }

  return {
    host: '127.0.0.1',
    port,
    user: 'pds',
    password,
    database,
    socket,
    dataDir: dir,
    async kill() {
      server.child.kill('SIGKILL');
      await server.stop(0);
    },
    pause: () => server.pause(),
    resume: () => server.resume(),
    async restart() {
      server = startServer(mariadbd, serverArgs);
      await ready();
    },
    async stop() {
      await server.stop(30_000);
      await removeDir(dir);
    },
  };
}
