/**
 * Reversible escaping of field names for MongoDB (docs/edx-formats.md §7.10).
 *
 * Event payloads carry keys MongoDB cannot store or query cleanly: dots
 * (`xblock.partition_service.partition_0` in `context.course_user_tags`), names that start with
 * `$`, and, in principle, NUL (BSON field names are C strings). Older servers and FerretDB v1
 * reject such names outright; MongoDB 5.0+ accepts some of them but then they cannot be reached
 * with dotted paths.
 *
 * The scheme is percent-encoding restricted to four cases, so ordinary keys stay untouched and
 * readable in queries:
 *
 * | original                  | stored |
 * |---------------------------|--------|
 * | `%` anywhere              | `%25`  |
 * | `.` anywhere              | `%2E`  |
 * | NUL anywhere              | `%00`  |
 * | `$` as the first character| `%24`  |
 *
 * Because `%` itself is escaped, every `%` in a stored key starts a `%XX` sequence, and
 * `unescapeKey` (which decodes any `%XX`) restores the original exactly. Callers may escape more
 * characters with `escapeFirstChar` (the event document reserves top-level names starting with
 * `_`); decoding needs no knowledge of that.
 *
 * Values are never changed. Only plain objects (from `JSON.parse`) and arrays are walked; other
 * objects (`Date`, `ObjectId` and other BSON types from extended JSON) are kept as they are.
 */

/** Characters that must be escaped anywhere in a key, plus a leading `$`. */
const NEEDS_ESCAPE_RE = /[.%\u0000]|^\$/;
const ESCAPE_ALL_RE = /[.%\u0000]/g;

function hex2(code: number): string {
  return `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
}

function escapeChar(c: string): string {
  return hex2(c.charCodeAt(0));
}

/**
 * Escapes one field name. With `escapeFirstChar`, the first character is escaped whatever it
 * is (used to keep reserved names free); characters above U+00FF are never a first character
 * that needs it.
 */
export function escapeKey(key: string, escapeFirstChar = false): string {
  if (escapeFirstChar && key.length > 0) {
    const first = key.charCodeAt(0);
    if (first > 0xff) throw new RangeError('Only characters up to U+00FF can be escaped as a first character.');
    return hex2(first) + key.slice(1).replace(ESCAPE_ALL_RE, escapeChar);
  }
  if (!NEEDS_ESCAPE_RE.test(key)) return key;
  let out = key.replace(ESCAPE_ALL_RE, escapeChar);
  if (out.charCodeAt(0) === 36 /* $ */) out = `%24${out.slice(1)}`;
  return out;
}

const PERCENT_SEQ_RE = /%([0-9A-Fa-f]{2})/g;

/** Restores a field name written by `escapeKey`. Keys without `%` are returned as they are. */
export function unescapeKey(key: string): string {
  if (!key.includes('%')) return key;
  return key.replace(PERCENT_SEQ_RE, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** True for objects `JSON.parse` makes (and `Object.create(null)`), not Dates or BSON values. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Sets `key` on a fresh object without ever invoking the `__proto__` setter: a JSON key
 * `"__proto__"` is an ordinary own property and must stay one.
 */
export function defineKey(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * Escapes every key in `value`, deeply. Copy-on-write: when nothing needs escaping (the common
 * case) the very same object is returned, so clean events cost one walk and no allocation.
 */
export function escapeKeys<T>(value: T): T {
  return escapeValue(value) as T;
}

function escapeValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const e = escapeValue(v);
      if (e !== v) {
        out ??= value.slice();
        out[i] = e;
      }
    }
    return out ?? value;
  }
  if (!isPlainObject(value)) return value;
  return escapeObject(value, (k) => escapeKey(k));
}

/**
 * Escapes the keys of one object with `escapeTop` for its own keys and `escapeKey` below. Keeps
 * key order; returns `obj` itself when nothing changed.
 */
function escapeObject(obj: Record<string, unknown>, escapeTop: (key: string) => string): Record<string, unknown> {
  const keys = Object.keys(obj);
  let out: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const v = obj[k];
    const ek = escapeTop(k);
    const ev = escapeValue(v);
    if (out === undefined && (ek !== k || ev !== v)) {
      out = {};
      for (let j = 0; j < i; j++) defineKey(out, keys[j], obj[keys[j]]);
    }
    if (out !== undefined) defineKey(out, ek, ev);
  }
  return out ?? obj;
}

/** Reverses `escapeKeys`, deeply. Copy-on-write like `escapeKeys`. */
export function unescapeKeys<T>(value: T): T {
  return unescapeValue(value) as T;
}

function unescapeValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const u = unescapeValue(v);
      if (u !== v) {
        out ??= value.slice();
        out[i] = u;
      }
    }
    return out ?? value;
  }
  if (!isPlainObject(value)) return value;
  const keys = Object.keys(value);
  let out: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const v = value[k];
    const uk = unescapeKey(k);
    const uv = unescapeValue(v);
    if (out === undefined && (uk !== k || uv !== v)) {
      out = {};
      for (let j = 0; j < i; j++) defineKey(out, keys[j], value[keys[j]]);
    }
    if (out !== undefined) defineKey(out, uk, uv);
  }
  return out ?? value;
}
