/**
 * The one client the screens use: `createConsoleClient` of the contract over `window.pds` in the
 * desktop app (its preload's bridge), else over HTTP to `pds serve`. The HTTP transport reads the
 * token at each call (it is adopted from the URL after this module loads) and words transport
 * failures for a person.
 */
import { createConsoleClient, type ConsoleTransport } from '../../core/contract/client.js';
import { bridgeTransport, type PdsBridge } from '../../core/contract/desktop-bridge.js';
import type { ConsoleClient } from '../../core/contract/methods.js';
import { httpTransport } from './transport.js';

/** The desktop app's bridge, when the console runs there. */
export const desktopBridge: PdsBridge | undefined = (window as { pds?: PdsBridge }).pds;

const transport: ConsoleTransport = desktopBridge ? bridgeTransport(desktopBridge) : { call: (name, args) => httpTransport(name, args) };

export const api: ConsoleClient = createConsoleClient(transport);
