/**
 * Date and time normalisation for the values edX writes (EDX_FORMAT.md §3 "Value rendering",
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

/** A parsed instant in UTC, fraction kept as six decimal digits. */
interface UtcParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
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

/** Reads `count` ASCII digits at `at`; -1 when any is not a digit. */
function digits(s: string, at: number, count: number): number {
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

/** Parses `YYYY-MM-DD`; null when malformed or not a calendar date. */
function parseDate(s: string, at: number): { year: number; month: number; day: number } | null {
  if (s.length < at + 10 || s[at + 4] !== '-' || s[at + 7] !== '-') return null;
  const year = digits(s, at, 4);
  const month = digits(s, at + 5, 2);
  const day = digits(s, at + 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1) return null;
  if (day > daysInMonth(year, month)) return null;
  return { year, month, day };
}

/**
 * Parses `YYYY-MM-DD[ T]HH:MM:SS[.f{1,}][Z|±HH[:MM]]`, shifting any offset to UTC.
 * Fractions longer than six digits are cut to microseconds (no rounding: a rounded value could
 * carry into the next second, day or year).
 */
function parseUtc(input: string): UtcParts | null {
  const s = input.trim();
  const date = parseDate(s, 0);
  if (date === null || s.length < 19) return null;
  const sep = s[10];
  if (sep !== ' ' && sep !== 'T' && sep !== 't') return null;
  if (s[13] !== ':' || s[16] !== ':') return null;
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return null;

  let i = 19;
  let fraction = '000000';
  if (s[i] === '.') {
    let end = i + 1;
    while (end < s.length && s.charCodeAt(end) >= 48 && s.charCodeAt(end) <= 57) end++;
    if (end === i + 1) return null;
    fraction = s.slice(i + 1, Math.min(end, i + 7)).padEnd(6, '0');
    i = end;
  }

  let offsetMinutes = 0;
  if (i < s.length) {
    const c = s[i];
    if ((c === 'Z' || c === 'z') && i + 1 === s.length) {
      i++;
    } else if (c === '+' || c === '-') {
      const rest = s.slice(i + 1);
      let oh: number;
      let om = 0;
      if (/^\d{2}$/.test(rest)) {
        oh = digits(rest, 0, 2);
      } else if (/^\d{2}:?\d{2}$/.test(rest)) {
        oh = digits(rest, 0, 2);
        om = digits(rest, rest.length - 2, 2);
      } else {
        return null;
      }
      if (oh > 23 || om > 59) return null;
      offsetMinutes = (c === '+' ? 1 : -1) * (oh * 60 + om);
      i = s.length;
    } else {
      return null;
    }
  }
  if (i !== s.length) return null;

  if (offsetMinutes === 0) {
    return { ...date, hour, minute, second, fraction };
  }
  // Whole-minute shift on the integer part only: the microseconds are unaffected, and Date.UTC
  // handles day/month/year carries (including leap years) for us.
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  d.setUTCFullYear(date.year, date.month - 1, date.day);
  d.setUTCHours(hour, minute - offsetMinutes, second, 0);
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) return null;
  return {
    year,
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    fraction,
  };
}

function datePart(p: UtcParts): string {
  return `${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}`;
}

function timePart(p: UtcParts): string {
  return `${pad(p.hour, 2)}:${pad(p.minute, 2)}:${pad(p.second, 2)}`;
}

/**
 * Normalises a datetime as found in the weekly TSV files, the email opt-in CSV or course
 * structure metadata to the store form `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC.
 *
 * Accepts a space or `T` between date and time, an optional fraction of 1–6 (or more, cut to 6)
 * digits, and an optional `Z` or `±HH:MM` offset, which is converted to UTC (EDX_FORMAT.md §3:
 * `preference_set_datetime` is tz-aware, table datetimes are naive UTC). A zero fraction is
 * dropped, matching the exporter's "microseconds only when non-zero" rendering.
 *
 * @returns the normalised value, or null when `s` is not a valid datetime.
 */
export function normalizeSqlDatetime(s: string): string | null {
  const p = parseUtc(s);
  if (p === null) return null;
  const base = `${datePart(p)} ${timePart(p)}`;
  return p.fraction === '000000' ? base : `${base}.${p.fraction}`;
}

/**
 * Normalises a tracking-log `time` (EDX_FORMAT.md §5.2, §7.8) to
 * `YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC. Seen in the wild: with and without microseconds, with
 * `+00:00`, with no offset (treated as UTC) and, defensively, `Z`. Microseconds are kept; the
 * fraction always has six digits so that normalised times sort as strings.
 *
 * @returns the normalised time, or null when `s` is not a valid timestamp.
 */
export function normalizeEventTime(s: string): string | null {
  const p = parseUtc(s);
  if (p === null) return null;
  return `${datePart(p)}T${timePart(p)}.${p.fraction}Z`;
}

/** True when `s` is exactly `YYYY-MM-DD` and names a real calendar date. */
export function isValidDate(s: string): boolean {
  return s.length === 10 && parseDate(s, 0) !== null;
}

/**
 * Converts a JavaScript `Date` (millisecond precision) to the SQL datetime form
 * `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC; null for an invalid date or a year outside 0–9999.
 */
export function sqlDatetimeFromDate(d: Date): string | null {
  const ms = d.getTime();
  if (!Number.isFinite(ms)) return null;
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) return null;
  const p: UtcParts = {
    year,
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    fraction: `${pad(d.getUTCMilliseconds(), 3)}000`,
  };
  const base = `${datePart(p)} ${timePart(p)}`;
  return p.fraction === '000000' ? base : `${base}.${p.fraction}`;
}
