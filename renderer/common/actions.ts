/**
 * The next step an error offers as a button. Errors from the API carry their `action`; a file's
 * outcome carries only its code, so its action and GUI hint come from the contract's guidance table,
 * the same one the server uses for its own errors.
 */
import { consoleHint, guidanceFor } from '../../core/contract/error-guidance.js';
import type { ErrorAction } from '../../core/contract/methods.js';

export function actionForCode(code: string | null | undefined): ErrorAction {
  return code ? guidanceFor(code).action : 'none';
}

/** A file's hint as a console user should read it (never a CLI command to type). */
export function hintForFile(code: string | null | undefined, hint: string | null | undefined): string | undefined {
  return code ? consoleHint(code, hint ?? undefined) : (hint ?? undefined);
}

export const ACTION_LABELS: Record<ErrorAction, string> = {
  none: '',
  'import-key': 'Import a key',
  'edit-environment': 'Edit the environment',
  'set-secret': 'Set the secret',
  'check-connection': 'Test the connections',
  'retry-file': 'Retry this file',
  'start-run': 'Start a run',
  reload: 'Reload',
};
