import type { FileResultView } from '../../core/contract/methods.js';

/** read = loaded + rejected + already present; a file where they differ lost or invented rows. */
export function countsAddUp(f: FileResultView): boolean {
  if (f.status === 'failed' || f.status === 'skipped') return true;
  return f.counts.read === f.counts.loaded + f.counts.rejected + f.counts.duplicates;
}
