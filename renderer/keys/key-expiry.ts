/**
 * How the Keys screen words a key's expiry: a warning from 30 days before, because edX stops
 * encrypting deliveries to an expired key (docs/edx-formats.md §2).
 */
import type { z } from 'zod';
import type { keySummarySchema } from '../../core/contract/methods.js';
import { localDate } from '../common/format.js';

type KeySummary = z.output<typeof keySummarySchema>;
const DAY = 86_400_000;

/** `ABCD 1234 …`: fingerprints read in groups of four. */
export function groupFingerprint(fp: string): string {
  return fp.toUpperCase().replace(/(.{4})(?=.)/g, '$1 ');
}

/** The pill and, within 30 days of the end or after it, the warning for one key at `now` (ms). */
export function expiry(key: KeySummary, now: number): { tone: string; label: string; warning?: string } {
  if (!key.expires) return { tone: 'ok', label: 'never expires' };
  const left = Math.floor((new Date(key.expires).getTime() - now) / DAY);
  if (left < 0) return { tone: 'bad', label: 'expired', warning: `This key expired on ${localDate(key.expires)}. edX no longer encrypts new deliveries to it: make a new key pair and send edX the public key.` };
  if (left <= 30)
    return { tone: 'warn', label: `expires in ${left} day${left === 1 ? '' : 's'}`, warning: `This key expires on ${localDate(key.expires)}. edX stops delivering when it does: extend its expiry (gpg --quick-set-expire) and send edX the updated public key.` };
  return { tone: 'ok', label: 'valid' };
}
