/**
 * `window.pds` is generated from the contract: a type-level check that the bridge's type has every
 * console method (an object missing one does not compile), and that the preload exposes only the
 * generated bridge through contextBridge.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { bridgeTransport, createBridge, type PdsBridge, type PdsBridgeMethods } from '../../core/contract/desktop-bridge.js';
import { createConsoleClient } from '../../core/contract/client.js';
import { CONSOLE_METHOD_NAMES, ContractError, type ConsoleMethodName } from '../../core/contract/methods.js';

// Type level: every method of the contract is a key of the bridge, and the bridge has no other key
// but onRunEvent. `npm run typecheck` fails when either stops being true.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const everyMethod: Same<keyof PdsBridgeMethods, ConsoleMethodName> = true;
const nothingElse: Same<Exclude<keyof PdsBridge, ConsoleMethodName>, 'onRunEvent'> = true;

/** A bridge with one method left out does not compile. */
function missingOne(full: PdsBridge): PdsBridge {
  const { listEnvironments: _left, ...rest } = full;
  // @ts-expect-error listEnvironments is missing
  const incomplete: PdsBridge = rest;
  return incomplete;
}

describe('window.pds bridge', () => {
  test('the type has every method (checked by the compiler); the object every method and onRunEvent', async () => {
    assert.equal(everyMethod, true);
    assert.equal(nothingElse, true);
    const calls: [string, unknown][] = [];
    const bridge = createBridge({
      invoke: async (channel, args) => {
        calls.push([channel, args]);
        return channel === 'pds:getStatus' ? { ok: false, error: { code: 'CONFIG_NO_ENVIRONMENT', message: 'no', action: 'edit-environment', retryable: false } } : { ok: true, value: [] };
      },
      on: () => undefined,
      removeListener: () => undefined,
    });
    assert.equal(typeof missingOne, 'function');
    assert.deepEqual(Object.keys(bridge).sort(), [...CONSOLE_METHOD_NAMES, 'onRunEvent'].sort());

    // The page's client over the bridge: values come back, an error envelope is thrown with its code.
    const client = createConsoleClient(bridgeTransport(bridge));
    assert.deepEqual(await client.listEnvironments({}), []);
    await assert.rejects(client.getStatus({ env: 'dev' }), (e: unknown) => e instanceof ContractError && e.code === 'CONFIG_NO_ENVIRONMENT' && e.action === 'edit-environment');
    assert.deepEqual(calls, [
      ['pds:listEnvironments', {}],
      ['pds:getStatus', { env: 'dev' }],
    ]);
  });

  test('onRunEvent passes the run event only (not the IPC event) and stops when asked', () => {
    const listeners = new Set<(event: unknown, ...args: unknown[]) => void>();
    const bridge = createBridge({ invoke: async () => undefined, on: (_c, l) => listeners.add(l), removeListener: (_c, l) => listeners.delete(l) });
    const got: unknown[][] = [];
    const stop = bridge.onRunEvent((...args: unknown[]) => got.push(args));
    for (const l of listeners) l({ sender: 'ipc internals', ports: [] }, { type: 'notice', seq: 1 });
    stop();
    assert.equal(listeners.size, 0);
    assert.deepEqual(got, [[{ type: 'notice', seq: 1 }]]);
    assert.throws(() => bridge.onRunEvent('not a function' as never), TypeError);
  });

  test('the preload exposes the generated bridge only', async () => {
    const preload = await readFile(new URL('../../electron/preload/preload.ts', import.meta.url), 'utf8');
    const code = preload.replace(/\/\*[\s\S]*?\*\//g, '');
    assert.deepEqual([...code.matchAll(/exposeInMainWorld\(([^)]*\))\)/g)].map((m) => m[1]), ["'pds', createBridge(ipcRenderer)"]);
    assert.doesNotMatch(code, /ipcRenderer\.(invoke|send|on)\b/);
  });
});
