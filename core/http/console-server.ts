/**
 * The console's HTTP server (`pds serve`): the renderer's files and the console API on 127.0.0.1
 * only, behind a random token (docs/architecture.md §2: one more transport over the contract).
 *
 * - `POST /api/<method>` with a JSON object of named arguments and `Authorization: Bearer TOKEN`
 *   → the method's envelope as JSON, HTTP 200 whether it holds a value or an error; 4xx only for
 *   refusals of the request itself.
 * - `GET /api/events` → run events as server-sent events (event-stream.ts).
 * - anything else (GET/HEAD) → the renderer's files (static-files.ts), without a token: the page
 *   must load before it can read the token from its URL's fragment.
 *
 * Refused, in this order: a `Host` other than 127.0.0.1 or localhost with the server's port, or a
 * foreign `Origin` (403, security.ts); an API request without the token (401); a wrong method
 * (405), an unknown path (404); a body over `maxBodyBytes` (413); a body that is not JSON (400).
 * No CORS header is ever sent, so no other origin can read an answer.
 *
 * The event stream also takes the token as a `token` query parameter, because a browser's
 * `EventSource` cannot set headers. Only this read-only route does: a cookie would be sent to every
 * port of 127.0.0.1 (cookies ignore ports) and by cross-site requests, while a query parameter is
 * sent only by the page that knows the token. The URL of an `EventSource` request never reaches the
 * address bar or history, `Referrer-Policy: no-referrer` keeps it from other requests, and the
 * server logs no URLs.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dispatch, type DispatchOptions } from '../contract/dispatch.js';
import type { ConsoleHandlers, ContractErrorData, RunEventSource } from '../contract/methods.js';
import { createEventStreams } from './event-stream.js';
import { API_PREFIX, EVENTS_PATH, methodOfPath } from './routes.js';
import { bearerToken, newToken, refusal, SECURITY_HEADERS, tokenMatches } from './security.js';
import { defaultRendererDir, serveStatic } from './static-files.js';

/** Largest request body accepted (an imported key file, base64, is the largest argument). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** A body this much over the limit is not even drained: the connection is cut. */
const DRAIN_LIMIT_BYTES = 16 * MAX_BODY_BYTES;
/** On close, how long requests in flight may take before their connections are cut. */
const CLOSE_GRACE_MS = 2_000;

export interface ConsoleServerOptions {
  /** The engine: the console handlers and the run event source. */
  engine: ConsoleHandlers & RunEventSource;
  /** Port on 127.0.0.1; 0 (default) lets the system pick a free one. */
  port?: number;
  /** The session token; default a new random one. */
  token?: string;
  /** Folder of the renderer's bundle; default `dist/renderer/` of the package. */
  rendererDir?: string;
  maxBodyBytes?: number;
  onInternalError?: DispatchOptions['onInternalError'];
}

export interface ConsoleServer {
  readonly port: number;
  readonly token: string;
  /** `http://127.0.0.1:PORT/#token=TOKEN`: what `pds serve` prints and `--open` opens. */
  readonly url: string;
  /** Stops accepting requests, ends the event streams, and waits (briefly) for requests in flight. */
  close(): Promise<void>;
}

type Refusal = { status: number; code: string; message: string; headers?: Record<string, string> };

/** A refusal's body: an error envelope, so a client that reads it anyway gets a sentence. */
function refuse(response: ServerResponse, r: Refusal): void {
  const error: ContractErrorData = { code: r.code, message: r.message, action: 'none', retryable: false };
  const body = JSON.stringify({ ok: false, error });
  response.writeHead(r.status, { ...r.headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  response.end(body);
}

/** Reads a request body up to `limit` bytes; `undefined` when it was longer (the rest is drained, or the connection cut). */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > DRAIN_LIMIT_BYTES) request.destroy();
    });
    request.on('end', () => resolve(size <= limit ? Buffer.concat(chunks) : undefined));
    request.on('error', reject);
    request.on('close', () => resolve(size <= limit ? Buffer.concat(chunks) : undefined));
  });
}

function isJsonContentType(header: string | undefined): boolean {
  return header !== undefined && /^application\/json\s*(;|$)/i.test(header.trim());
}

/** Starts the console server on 127.0.0.1 and answers once it listens. */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const token = options.token ?? newToken();
  const rendererDir = options.rendererDir ?? defaultRendererDir();
  const maxBody = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const streams = createEventStreams(options.engine, SECURITY_HEADERS);
  let port = options.port ?? 0;
  let closing = false;

  async function api(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    if (url.pathname === EVENTS_PATH) {
      if (request.method !== 'GET') return refuse(response, { status: 405, code: 'METHOD_NOT_ALLOWED', message: 'The event stream is read with GET.', headers: { Allow: 'GET' } });
      if (!tokenMatches(bearerToken(request) ?? url.searchParams.get('token') ?? undefined, token)) return unauthorised(response);
      streams.open(request, response, url);
      return;
    }
    if (!tokenMatches(bearerToken(request), token)) return unauthorised(response);
    const name = methodOfPath(url.pathname);
    if (name === undefined) return refuse(response, { status: 404, code: 'UNKNOWN_METHOD', message: 'There is no console method at this path.' });
    if (request.method !== 'POST') return refuse(response, { status: 405, code: 'METHOD_NOT_ALLOWED', message: 'Console methods are called with POST.', headers: { Allow: 'POST' } });
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > maxBody) return refuse(response, tooLarge(maxBody));
    if (!isJsonContentType(request.headers['content-type'])) {
      return refuse(response, { status: 400, code: 'NOT_JSON', message: 'Console methods take a JSON object of named arguments (Content-Type: application/json).' });
    }
    const body = await readBody(request, maxBody);
    if (body === undefined) return refuse(response, tooLarge(maxBody));
    let args: unknown = {};
    if (body.length > 0) {
      try {
        args = JSON.parse(body.toString('utf8'));
      } catch {
        return refuse(response, { status: 400, code: 'NOT_JSON', message: 'The request body is not valid JSON.' });
      }
    }
    const envelope = await dispatch(options.engine, name, args, { onInternalError: options.onInternalError });
    const json = JSON.stringify(envelope);
    response.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(json), 'Cache-Control': 'no-store' });
    response.end(json);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    const refused = refusal(request, port);
    if (refused !== undefined) return refuse(response, { status: 403, code: 'FORBIDDEN', message: refused });
    if (closing) return refuse(response, { status: 503, code: 'SHUTTING_DOWN', message: 'The console server is stopping.', headers: { Connection: 'close' } });
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname === API_PREFIX.slice(0, -1) || url.pathname.startsWith(API_PREFIX)) return api(request, response, url);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return refuse(response, { status: 405, code: 'METHOD_NOT_ALLOWED', message: 'The console’s files are read with GET.', headers: { Allow: 'GET, HEAD' } });
    }
    await serveStatic(rendererDir, url.pathname, response, request.method === 'HEAD');
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      (options.onInternalError ?? ((m, e) => console.error(`pds serve: ${m} failed:`, e)))('a request', error);
      if (!response.headersSent) refuse(response, { status: 500, code: 'INTERNAL', message: 'The console server failed to answer this request.' });
      else response.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // 127.0.0.1 only: never another interface (README "Console": reach it from elsewhere through ssh -L).
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;

  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/#token=${token}`,
    async close() {
      if (closing) return;
      closing = true;
      streams.closeAll();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      await closed;
      clearTimeout(cut);
    },
  };
}

function unauthorised(response: ServerResponse): void {
  refuse(response, {
    status: 401,
    code: 'UNAUTHORIZED',
    message: 'This request lacks the console’s token. Open the link pds serve printed when it started.',
    headers: { 'WWW-Authenticate': 'Bearer' },
  });
}

function tooLarge(limit: number): Refusal {
  return { status: 413, code: 'TOO_LARGE', message: `The request body is larger than ${Math.round(limit / 1024)} KiB.`, headers: { Connection: 'close' } };
}
