/**
 * Layering rules (docs/architecture.md §2), enforced by ESLint's no-restricted-imports:
 * - core/ never imports electron or react, nor the electron/ and renderer/ folders;
 * - core/domain, core/contract and core/errors use no Node API (the renderer imports them);
 * - core/cli reaches the engine through the service: never core/pipeline or core/stores;
 * - renderer/ reaches core only through domain, contract and errors (no Node API, no electron);
 * - electron/ reaches core only through the service and the contract.
 *
 * ESLint applies one set of options per rule and file (the last matching block wins), so each
 * block below repeats the restrictions of the blocks it narrows.
 */
import { builtinModules } from 'node:module';

const nodeApis = [...builtinModules.filter((m) => !m.startsWith('_')), ...builtinModules.map((m) => `node:${m}`)];
const uiPackages = ['electron', 'react', 'react-dom', 'react/*', 'react-dom/*'];

/** `patterns` entries are gitignore-style groups (strings) or `{ regex }` objects. */
const restrict = (paths, patterns, message) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: paths.map((name) => ({ name, message })),
      patterns: patterns.map((p) => (typeof p === 'string' ? { group: [p], message } : { ...p, message })),
    },
  ],
});

/** Folders core/ never imports. */
const frontEndFolders = ['**/electron/**', '**/renderer/**'];

export const layering = [
  {
    files: ['core/**/*.ts'],
    rules: restrict(uiPackages, frontEndFolders, 'core/ is the engine: it never imports electron, react, electron/ or renderer/ (docs/architecture.md §2).'),
  },
  {
    files: ['core/cli/**/*.ts'],
    rules: restrict(
      uiPackages,
      [...frontEndFolders, '../pipeline/**', '../stores/**', '**/core/pipeline/**', '**/core/stores/**'],
      'core/cli drives the engine through core/service (createConsoleService): it never imports core/pipeline or core/stores, nor electron, react, electron/ or renderer/.',
    ),
  },
  {
    files: ['core/domain/**/*.ts', 'core/contract/**/*.ts', 'core/errors/**/*.ts'],
    rules: restrict(
      [...uiPackages, ...nodeApis],
      ['**/electron/**', '**/renderer/**', '../stores/**', '../pipeline/**', '../sources/**', '../crypto/**', '../formats/**', '../ledger/**', '../service/**', '../config/**'],
      'core/domain, core/contract and core/errors are pure: no Node API, no engine folders (the renderer imports them).',
    ),
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    rules: restrict(
      [...nodeApis, 'electron'],
      [{ regex: '(^|/)core/(?!(domain|contract|errors)/)' }, '**/electron/**'],
      'renderer/ talks only to ConsoleApi: it may import core/domain, core/contract and core/errors only (no Node API, no electron).',
    ),
  },
  {
    files: ['electron/**/*.ts'],
    rules: restrict(
      ['react', 'react-dom', 'react/*', 'react-dom/*'],
      [{ regex: '(^|/)core/(?!(service|contract)/)' }, '**/renderer/**'],
      'electron/ reaches the engine only through core/service and core/contract, and never imports renderer/ code or react.',
    ),
  },
];
