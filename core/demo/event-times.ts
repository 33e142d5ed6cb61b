/**
 * Times of demo tracking-log lines: the §5.2 time forms, the demo's day option, and the scrambled
 * order in which a day's time blocks are visited (lines are not time-sorted, docs/edx-formats.md §5.1).
 */
import { ConfigError } from '../errors/index.js';
import type { SeededRandom } from './seeded-random.js';

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** `YYYY-MM-DDTHH:MM:SS.ffffff+00:00` from epoch microseconds (the usual §5.2 form). */
export function eventTime(epochMicros: number, form: 'micros' | 'seconds' | 'no-offset' = 'micros'): string {
  const ms = Math.floor(epochMicros / 1000);
  const d = new Date(ms);
  const base =
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  if (form === 'seconds') return `${base}+00:00`;
  if (form === 'no-offset') return base;
  return `${base}.${pad(epochMicros - Math.floor(epochMicros / 1_000_000) * 1_000_000, 6)}+00:00`;
}

/**
 * A random-looking bijection of [0, n): a 4-round Feistel network on the next even bit width,
 * cycle-walked back into range. Stateless, so a day of any size is scrambled in O(1) memory.
 */
export function scramble(n: number, rng: SeededRandom): (index: number) => number {
  let bits = Math.max(2, Math.ceil(Math.log2(Math.max(n, 2))));
  if (bits % 2 === 1) bits++;
  const half = bits / 2;
  const mask = half >= 32 ? 0xffffffff : (1 << half) - 1;
  const keys = [rng.uint32(), rng.uint32(), rng.uint32(), rng.uint32()];
  const round = (x: number): number => {
    let left = Math.floor(x / 2 ** half);
    let right = x % 2 ** half;
    for (const key of keys) {
      let h = Math.imul(right ^ key, 0x9e3779b1);
      h ^= h >>> 15;
      h = Math.imul(h, 0x85ebca6b);
      const next = (left ^ (h >>> 0)) & mask;
      left = right;
      right = next >>> 0;
    }
    return left * 2 ** half + right;
  };
  return (index) => {
    let x = round(index);
    while (x >= n) x = round(x);
    return x;
  };
}

/** Parses `YYYY-MM-DD` to epoch ms at 00:00 UTC, or throws a ConfigError naming `field`. */
export function parseDay(value: string, field: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : Number.NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value) {
    throw new ConfigError(`The demo option \`${field}\` is not a valid YYYY-MM-DD date.`, {
      code: 'DEMO_DATE',
      hint: `Give \`${field}\` as a calendar date such as 2026-06-07.`,
    });
  }
  return ms;
}
