/**
 * `pds serve`: the console's engine and HTTP server for one home folder, until the signal fires.
 * The CLI only parses options and hands over its stop signal (core/cli/main.ts).
 */
import { spawn } from 'node:child_process';
import { ConfigError } from '../errors/index.js';
import { createConsoleHandlers } from '../service/console-handlers.js';
import { startConsoleServer, type ConsoleServer } from './console-server.js';

export interface ServeOptions {
  /** The home folder; default `$PDS_HOME` or `~/.pds`. */
  home?: string;
  /** Port on 127.0.0.1; 0 lets the system pick a free one. */
  port: number;
  /** Open the console in the default browser. */
  open?: boolean;
  /** Stops the server: running loads are cancelled cleanly, then the promise settles. */
  signal: AbortSignal;
  /** Where the one line with the URL goes (stdout). */
  print: (line: string) => void;
  /** Messages for the operator (stderr). */
  log: (line: string) => void;
}

/** Serves the console until `signal` aborts; settles once loads are cancelled and the server is closed. */
export async function serveConsole(options: ServeOptions): Promise<void> {
  const engine = createConsoleHandlers({ home: options.home, origin: 'console' });
  let server: ConsoleServer;
  try {
    server = await startConsoleServer({ engine, port: options.port });
  } catch (error) {
    await engine.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new ConfigError(`Port ${options.port} on 127.0.0.1 is ${code === 'EADDRINUSE' ? 'already in use' : 'not allowed for this user'}.`, {
        code: 'PORT_UNAVAILABLE',
        hint: 'Choose another port with --port, or leave it out to take any free one.',
        cause: error,
      });
    }
    throw error;
  }
  options.print(server.url);
  options.log('pds serve: the console answers on 127.0.0.1 only; the link above holds this session’s token. Ctrl-C stops it (running loads are cancelled and rolled back).');
  if (options.open) openBrowser(server.url, options.log);

  if (!options.signal.aborted) await new Promise<void>((resolve) => options.signal.addEventListener('abort', () => resolve(), { once: true }));
  options.log('pds serve: stopping: cancelling running loads…');
  // New requests are refused first, so no run starts while the running ones are cancelled.
  const serverClosed = server.close();
  await engine.close();
  await serverClosed;
}

/** Opens `url` in the desktop's default browser; a failure is reported, not fatal. */
function openBrowser(url: string, log: (line: string) => void): void {
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => log(`pds serve: could not start ${command} to open a browser; open the link above yourself.`));
    child.unref();
  } catch {
    log('pds serve: could not open a browser; open the link above yourself.');
  }
}
