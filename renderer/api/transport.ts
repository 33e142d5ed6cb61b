/**
 * The console's HTTP transport: `POST /api/<method>` with the named arguments as JSON and the
 * access token as a Bearer header. Answers are envelopes (`{ ok, value }` / `{ ok, error }`); a
 * transport failure becomes an error envelope too, written for a person.
 */
import type { ContractErrorData, Envelope } from '../../core/contract/methods.js';
import { currentToken } from './token.js';

function failure(code: string, message: string, hint: string, action: ContractErrorData['action'], retryable: boolean): Envelope<never> {
  return { ok: false, error: { code, message, hint, action, retryable } };
}

export async function httpTransport(method: string, args: unknown): Promise<Envelope<unknown>> {
  let response: Response;
  try {
    response = await fetch(`/api/${method}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${currentToken()}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(args ?? {}),
    });
  } catch {
    return failure('SERVER_UNREACHABLE', `The console cannot reach pds serve at ${window.location.host}.`, 'Check that pds serve is still running, then reload.', 'reload', true);
  }
  if (response.status === 401) {
    return failure('UNAUTHORIZED', 'This console page has no valid access token.', 'Open the link pds serve printed when it started (it holds a new token each start).', 'none', false);
  }
  try {
    return (await response.json()) as Envelope<unknown>;
  } catch {
    return failure('BAD_RESPONSE', `pds serve answered ${method} with HTTP ${response.status} and no result.`, 'Reload the page; if it happens again, look at the output of pds serve.', 'reload', true);
  }
}
