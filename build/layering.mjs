/**
 * Layering rules (docs/architecture.md §2), enforced by ESLint's no-restricted-imports:
 * - core/ never imports electron or react, nor the electron/ and renderer/ folders;
 * - core/domain, core/contract and core/errors use no Node API (the renderer imports them);
 * - renderer/ reaches core only through domain, contract and errors;
 * - electron/ reaches core only through the service and the contract.
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

export const layering = [
  {
    files: ['core/**/*.ts'],
    rules: restrict(uiPackages, ['**/electron/**', '**/renderer/**'], 'core/ is the engine: it never imports electron, react, electron/ or renderer/ (docs/architecture.md §2).'),
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
      nodeApis,
      [{ regex: '(^|/)core/(?!(domain|contract|errors)/)' }, '**/electron/**'],
      'renderer/ talks only to ConsoleApi: it may import core/domain, core/contract and core/errors types only.',
    ),
  },
];
