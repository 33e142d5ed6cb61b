/**
 * Date and time normalisation for the values edX writes (docs/edx-formats.md §3 "Value rendering",
 * §5.2 `time`, §7.8). Pure: no Node API, no `Date` parsing of free text (its leniency differs
 * between engines), so the same string always gives the same answer.
 *
 * Two canonical forms leave this module:
 * - SQL datetimes `YYYY-MM-DD HH:MM:SS[.ffffff]` (UTC) for store columns: the fraction is padded
 *   to six digits and dropped when it is zero, exactly as the exporter renders values (§3), so an
 *   instant has one spelling whichever source it came from;
 * - event times `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, always six fraction digits) so that event
 *   times compare correctly as plain strings.
 */

/** A parsed instant in UTC as text: `YYYY-MM-DD`, `HH:MM:SS` and exactly six fraction digits. */
interface UtcParts {
  date: string;
  time: string;
  /** Exactly six digits, e.g. `'302431'`, `'000000'`. */
  fraction: string;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1];
}

/** Reads `count` ASCII digits at `at`; -1 when any is missing or not a digit. */
function digits(s: string, at: number, count: number): number {
  if (at + count > s.length) return -1;
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** True when `s` has a real calendar date `YYYY-MM-DD` at `at`. */
function isDateAt(s: string, at: number): boolean {
  if (s.length < at + 10 || s.charCodeAt(at + 4) !== 45 || s.charCodeAt(at + 7) !== 45) return false;
  const year = digits(s, at, 4);
  const month = digits(s, at + 5, 2);
  const day = digits(s, at + 8, 2);
  return year >= 0 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/**
 * Parses `YYYY-MM-DD[ T]HH:MM:SS[.f{1,}][Z|±HH[:MM]]`, shifting any offset to UTC. Hand-written
 * rather than a regex: event times are parsed once per event on the hot path. Fractions longer
 * than six digits are cut to microseconds (rounding could carry into the next second, day or year).
 */
function parseUtc(input: string): UtcParts | null {
  const s = input.length > 0 && (input.charCodeAt(0) <= 32 || input.charCodeAt(input.length - 1) <= 32) ? input.trim() : input;
  if (s.length < 19 || !isDateAt(s, 0)) return null;
  const sep = s.charCodeAt(10);
  if (sep !== 32 && sep !== 84 /* T */ && sep !== 116 /* t */) return null;
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return null;
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return null;

  let i = 19;
  let fraction = '000000';
  if (s.charCodeAt(i) === 46 /* . */) {
    let end = i + 1;
    while (end < s.length && s.charCodeAt(end) >= 48 && s.charCodeAt(end) <= 57) end++;
    if (end === i + 1) return null;
    fraction = end - i - 1 >= 6 ? s.slice(i + 1, i + 7) : s.slice(i + 1, end).padEnd(6, '0');
    i = end;
  }

  let offsetMinutes = 0;
  if (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 90 /* Z */ || c === 122 /* z */) {
      if (i + 1 !== s.length) return null;
    } else if (c === 43 /* + */ || c === 45 /* - */) {
      const rest = s.length - i - 1;
      const oh = digits(s, i + 1, 2);
      let om = 0;
      if (rest === 5 && s.charCodeAt(i + 3) === 58) om = digits(s, i + 4, 2);
      else if (rest === 4) om = digits(s, i + 3, 2);
      else if (rest !== 2) return null;
      if (oh < 0 || oh > 23 || om < 0 || om > 59) return null;
      offsetMinutes = (c === 43 ? 1 : -1) * (oh * 60 + om);
    } else {
      return null;
    }
  }

  if (offsetMinutes === 0) return { date: s.slice(0, 10), time: s.slice(11, 19), fraction };
  // Whole-minute shift of the integer part only: the microseconds are unaffected, and Date
  // handles day/month/year carries (leap years included).
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  d.setUTCFullYear(digits(s, 0, 4), digits(s, 5, 2) - 1, digits(s, 8, 2));
  d.setUTCHours(hour, minute - offsetMinutes, second, 0);
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) return null;
  return {
    date: `${pad(year, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`,
    time: `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`,
    fraction,
  };
}

/**
 * Normalises a datetime as found in the weekly TSV files, the email opt-in CSV or course
 * structure metadata to the store form `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC.
 *
 * Accepts a space or `T` between date and time, an optional fraction of 1–6 (or more, cut to 6)
 * digits, and an optional `Z` or `±HH:MM` offset, which is converted to UTC (docs/edx-formats.md §3:
 * `preference_set_datetime` is tz-aware, table datetimes are naive UTC). A zero fraction is
 * dropped, matching the exporter's "microseconds only when non-zero" rendering.
 *
 * @returns the normalised value, or null when `s` is not a valid datetime.
 */
export function normalizeSqlDatetime(s: string): string | null {
  const p = parseUtc(s);
  if (p === null) return null;
  const base = `${p.date} ${p.time}`;
  return p.fraction === '000000' ? base : `${base}.${p.fraction}`;
}

/**
 * Normalises a tracking-log `time` (docs/edx-formats.md §5.2, §7.8) to
 * `YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC. Seen in the wild: with and without microseconds, with
 * `+00:00`, with no offset (treated as UTC) and, defensively, `Z`. Microseconds are kept; the
 * fraction always has six digits so that normalised times sort as strings.
 *
 * @returns the normalised time, or null when `s` is not a valid timestamp.
 */
export function normalizeEventTime(s: string): string | null {
  const p = parseUtc(s);
  if (p === null) return null;
  return `${p.date}T${p.time}.${p.fraction}Z`;
}

/** True when `s` is exactly `YYYY-MM-DD` and names a real calendar date. */
export function isValidDate(s: string): boolean {
  return s.length === 10 && isDateAt(s, 0);
}

/**
 * Converts a JavaScript `Date` (millisecond precision) to the SQL datetime form
 * `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC; null for an invalid date or a year outside 0–9999.
 */
export function sqlDatetimeFromDate(d: Date): string | null {
  if (!Number.isFinite(d.getTime())) return null;
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) return null;
  const base =
    `${pad(year, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  const ms = d.getUTCMilliseconds();
  return ms === 0 ? base : `${base}.${pad(ms, 3)}000`;
}

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * Why `value` is not a real calendar date written `YYYY-MM-DD`, as a sentence with an example
 * close to what was meant (`2026-02-31 is not a date (February 2026 has 28 days); use YYYY-MM-DD,
 * e.g. 2026-02-28`); undefined when it is one. Callers put the option's name in front.
 */
export function dateProblem(value: string): string | undefined {
  if (isValidDate(value)) return undefined;
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(value.trim());
  const use = (example: string): string => `use YYYY-MM-DD, e.g. ${example}`;
  if (m === null) return `"${value}" is not a date; ${use('2026-01-31')}`;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  // The nearest real date, as the example.
  const nearMonth = Math.min(Math.max(month, 1), 12);
  const last = daysInMonth(year, nearMonth);
  const example = `${m[1]}-${pad(nearMonth, 2)}-${pad(Math.min(Math.max(day, 1), last), 2)}`;
  let why: string;
  if (month !== nearMonth) why = `there is no month ${m[2]}`;
  else if (day < 1) why = 'days start at 01';
  else if (day > last) why = `${MONTH_NAMES[month - 1]} ${m[1]} has ${last} days`;
  // A real date with a one-digit month or day.
  else return `${value} is not written YYYY-MM-DD; use ${example}`;
  return `${value} is not a date (${why}); ${use(example)}`;
}

/** Date options of a run, by the names the caller shows (`--from` on the CLI, `from` in the service). */
export interface DateOptions {
  from?: string;
  to?: string;
  snapshotDate?: string;
}

/**
 * The first problem with a run's date options, as a message naming the option; undefined when
 * every given date is a real date and `from` is not after `to`.
 */
export function dateOptionsProblem(options: DateOptions, names: Record<keyof DateOptions, string>): string | undefined {
  for (const key of ['from', 'to', 'snapshotDate'] as const) {
    const value = options[key];
    if (value === undefined) continue;
    const problem = dateProblem(value);
    if (problem !== undefined) return `${names[key]}: ${problem}`;
  }
  if (options.from !== undefined && options.to !== undefined && options.from > options.to) {
    return `${names.from} ${options.from} is after ${names.to} ${options.to}: no date is in that window; give the earlier date first.`;
  }
  return undefined;
}
