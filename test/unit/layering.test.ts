import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

// The layering rules of docs/architecture.md §2 live in build/layering.mjs; these tests prove they bite.
const eslint = new ESLint({ cwd: process.cwd() });

async function ruleIds(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('layering lint rules', () => {
  test('core/domain may not use Node APIs', async () => {
    assert.ok((await ruleIds('core/domain/example.ts', `import { readFile } from 'node:fs/promises';\nexport const x = readFile;\n`)).includes('no-restricted-imports'));
    assert.ok((await ruleIds('core/contract/example.ts', `import { join } from 'path';\nexport const x = join;\n`)).includes('no-restricted-imports'));
    assert.ok((await ruleIds('core/errors/example.ts', `import { Buffer } from 'node:buffer';\nexport const x = Buffer;\n`)).includes('no-restricted-imports'));
  });

  test('core/domain may not reach into the engine folders', async () => {
    assert.ok((await ruleIds('core/domain/example.ts', `import { Ledger } from '../ledger/ledger.js';\nexport const x = Ledger;\n`)).includes('no-restricted-imports'));
  });

  test('core may not import electron or react', async () => {
    assert.ok((await ruleIds('core/pipeline/example.ts', `import { app } from 'electron';\nexport const x = app;\n`)).includes('no-restricted-imports'));
    assert.ok((await ruleIds('core/service/example.ts', `import { useState } from 'react';\nexport const x = useState;\n`)).includes('no-restricted-imports'));
  });

  test('the renderer may import domain types but not the engine', async () => {
    assert.deepEqual(await ruleIds('renderer/example.ts', `import type { FileResult } from '../core/domain/results.js';\nexport type X = FileResult;\n`), []);
    assert.ok((await ruleIds('renderer/example.ts', `import { Ledger } from '../core/ledger/ledger.js';\nexport const x = Ledger;\n`)).includes('no-restricted-imports'));
  });

  test('the renderer may use neither Node APIs nor electron, nor the service', async () => {
    assert.deepEqual(await ruleIds('renderer/example.tsx', `import { createConsoleClient } from '../core/contract/client.js';\nexport const x = createConsoleClient;\n`), []);
    assert.ok((await ruleIds('renderer/example.tsx', `import { readFile } from 'node:fs/promises';\nexport const x = readFile;\n`)).includes('no-restricted-imports'));
    assert.ok((await ruleIds('renderer/example.tsx', `import { ipcRenderer } from 'electron';\nexport const x = ipcRenderer;\n`)).includes('no-restricted-imports'));
    assert.ok((await ruleIds('renderer/example.tsx', `import { createConsoleService } from '../core/service/console-service.js';\nexport const x = createConsoleService;\n`)).includes('no-restricted-imports'));
  });

  test('electron/ reaches core only through the service and the contract', async () => {
    assert.deepEqual(await ruleIds('electron/main.ts', `import { createConsoleService } from '../core/service/console-service.js';\nexport const x = createConsoleService;\n`), []);
    assert.deepEqual(await ruleIds('electron/preload.ts', `import type { ConsoleApi } from '../core/contract/console-api.js';\nexport type X = ConsoleApi;\n`), []);
    for (const target of ['../core/pipeline/run.js', '../core/stores/open-stores.js', '../core/ledger/ledger.js', '../core/domain/results.js', '../renderer/app.js']) {
      assert.ok((await ruleIds('electron/main.ts', `import * as m from '${target}';\nexport const x = m;\n`)).includes('no-restricted-imports'), target);
    }
  });

  test('the CLI reaches the engine through the service, never the pipeline or the stores', async () => {
    assert.deepEqual(await ruleIds('core/cli/example.ts', `import { createConsoleService } from '../service/console-service.js';\nexport const x = createConsoleService;\n`), []);
    assert.ok((await ruleIds('core/cli/example.ts', `import { executeRun } from '../pipeline/run.js';\nexport const x = executeRun;\n`)).includes('no-restricted-imports'));
    assert.ok((await ruleIds('core/cli/example.ts', `import { openStores } from '../stores/open-stores.js';\nexport const x = openStores;\n`)).includes('no-restricted-imports'));
    // The CLI rule keeps the rule every core/ folder has.
    assert.ok((await ruleIds('core/cli/example.ts', `import { app } from 'electron';\nexport const x = app;\n`)).includes('no-restricted-imports'));
  });

  test('engine folders may use Node APIs', async () => {
    assert.deepEqual(await ruleIds('core/pipeline/example.ts', `import { join } from 'node:path';\nexport const x = join;\n`), []);
  });
});
