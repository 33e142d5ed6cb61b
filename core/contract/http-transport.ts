/**
 * The HTTP transport of the console client: `POST /api/<method>` to `pds serve` with the named
 * arguments as JSON and the session token as a bearer token. Uses the platform's `fetch` (the
 * browser's in the renderer, Node's in tests and benchmarks).
 *
 * Pure: no Node API.
 */
import type { ConsoleTransport } from './client.js';
import type { Envelope } from './methods.js';

export interface HttpTransportOptions {
  /** Where `pds serve` answers, e.g. `http://127.0.0.1:8080` (default: the page's own origin, ''). */
  baseUrl?: string;
  /** The token of the URL's `#token=…`. */
  token: string;
  fetch?: typeof fetch;
}

export function createHttpTransport(options: HttpTransportOptions): ConsoleTransport {
  const doFetch = options.fetch ?? fetch;
  const base = (options.baseUrl ?? '').replace(/\/+$/, '');
  return {
    async call(name, args): Promise<Envelope<unknown>> {
      let response: Response;
      try {
        response = await doFetch(`${base}/api/${name}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${options.token}` },
          body: JSON.stringify(args ?? {}),
          credentials: 'omit',
        });
      } catch {
        return { ok: false, error: { code: 'SERVER_UNREACHABLE', message: 'The console server could not be reached.', hint: 'Check that the server that printed this page’s link is still running, then reload.', action: 'reload', retryable: true } };
      }
      if (response.status === 401) {
        return { ok: false, error: { code: 'UNAUTHORIZED', message: 'The console server refused this page’s token (the server was restarted, or the link is old).', hint: 'Open the link the server printed when it started.', action: 'none', retryable: false } };
      }
      if (!response.ok) {
        return { ok: false, error: { code: 'HTTP_ERROR', message: `The console server refused the request (HTTP ${response.status}).`, action: 'reload', retryable: false } };
      }
      return (await response.json()) as Envelope<unknown>;
    },
  };
}
