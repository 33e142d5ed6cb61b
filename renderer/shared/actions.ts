/**
 * The next step an error offers as a button. Errors from the API carry their `action`; a file's
 * outcome carries only its code, so the same mapping is derived here from the code's family
 * (docs/architecture.md §4: codes are stable, families share their remedy).
 */
import type { ErrorAction } from '../../core/contract/methods.js';

export function actionForCode(code: string | null | undefined): ErrorAction {
  if (!code) return 'none';
  if (/^DECRYPT_(NO_KEY|NO_MATCHING_KEY|KEY_EXPIRED)/.test(code)) return 'import-key';
  if (/^DECRYPT_(PASSPHRASE|BAD_PASSPHRASE|LOCKED)/.test(code) || code === 'SECRET_MISSING') return 'set-secret';
  if (/^CONFIG_/.test(code)) return 'edit-environment';
  if (/^(SOURCE|TARGET|S3|DB)_/.test(code) || /NOT_ANSWERING|UNREACHABLE|ACCESS_DENIED|AUTH/.test(code)) return 'check-connection';
  return 'retry-file';
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
