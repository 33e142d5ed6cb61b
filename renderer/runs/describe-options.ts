/** A run's options in words, as the Runs and Report screens show them. */
import type { RunSummaryData } from '../../core/contract/methods.js';

/** What a run was asked to do, in words: a retry by code names the code, a retry of files counts them. */
export function describeOptions(o: RunSummaryData['options']): string {
  const parts: string[] = [];
  if (o.retry?.code) parts.push(`retry of files flagged ${o.retry.code}`);
  else if (o.retry?.keys) parts.push(`retry ${o.retry.keys.length === 1 ? 'one file' : `${o.retry.keys.length} files`}`);
  else parts.push(o.only === 'weekly' ? 'weekly packages' : o.only === 'events' ? 'event logs' : 'everything');
  if (o.from || o.to) parts.push(`${o.from ?? '…'} to ${o.to ?? '…'}`);
  if (o.dryRun) parts.push('dry run');
  return parts.join(', ');
}
