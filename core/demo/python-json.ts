/**
 * JSON text as Python's `json.dumps` writes it by default: `", "` between items and `": "`
 * after keys. Tracking-log lines, course structure and exporter JSON were all written by
 * Python, while browser event payloads were written by JavaScript (`JSON.stringify`, no
 * spaces); the demo keeps that difference because real lines show it (docs/edx-formats.md §5.6).
 * Non-ASCII text is written as is (`ensure_ascii=False`), so 4-byte characters and
 * zero-width spaces reach the parsers raw.
 */

/** A JSON value the demo writes. `undefined` members are skipped, as `JSON.stringify` does. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue | undefined };

/** Serialises `value` with Python's default separators. */
export function pythonJson(value: JsonValue): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      break;
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ', ';
      out += pythonJson(value[i]);
    }
    return out + ']';
  }
  let out = '{';
  let first = true;
  for (const key in value) {
    const member = value[key];
    if (member === undefined) continue;
    if (!first) out += ', ';
    first = false;
    out += JSON.stringify(key) + ': ' + pythonJson(member);
  }
  return out + '}';
}
