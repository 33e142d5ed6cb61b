/**
 * The one client the screens use: every console method as an async function with named
 * arguments, over the HTTP transport. An error envelope comes back as a thrown `ContractError`
 * with the same code, message, hint and action.
 */
import { CONSOLE_METHOD_NAMES, ContractError, type ConsoleClient, type Envelope } from '../../core/contract/methods.js';
import { httpTransport } from './transport.js';

function createClient(transport: (method: string, args: unknown) => Promise<Envelope<unknown>>): ConsoleClient {
  const client: Record<string, (args: unknown) => Promise<unknown>> = {};
  for (const name of CONSOLE_METHOD_NAMES) {
    client[name] = async (args: unknown) => {
      const envelope = await transport(name, args);
      if (!envelope.ok) throw new ContractError(envelope.error);
      return envelope.value;
    };
  }
  return client as ConsoleClient;
}

export const api: ConsoleClient = createClient(httpTransport);
