/** What replaces a redacted value in a log line. */
export const REDACTED = '[redacted]';

/** Keys whose values are secrets wherever they appear: never logged. */
const SECRET_KEY = /pass(word|phrase)?$|secret|token|authori[sz]ation|api[-_]?key|credential|cookie|private[-_]?key|^sasl/i;

/** Levels deeper than this are cut off: a log line is not the place for a whole object graph. */
const MAX_DEPTH = 8;

/**
 * A copy of `value` with secrets and the named personal fields replaced by {@link REDACTED}, at
 * any depth. `pii` holds field names (the catalog's `junction.pii` fields, e.g. `email`); they are
 * matched case-insensitively on the last segment of a key, so `customer.email` and `Email` both go.
 */
export function redact(value: unknown, pii: ReadonlySet<string>, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[…]';
  if (Array.isArray(value)) return value.map((item) => redact(item, pii, depth + 1));
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  if (value instanceof Error) {
    // An error's name, message, stack and cause are not enumerable: copied, a logged `err` would be {}.
    out.name = value.name;
    out.message = value.message;
    if (value.stack) out.stack = value.stack;
    if (value.cause !== undefined) out.cause = redact(value.cause, pii, depth + 1);
  }
  for (const [key, inner] of Object.entries(value)) out[key] = isSensitive(key, pii) ? REDACTED : redact(inner, pii, depth + 1);
  return out;
}

/** Whether a key names a secret or a personal field. */
export function isSensitive(key: string, pii: ReadonlySet<string>): boolean {
  return SECRET_KEY.test(key) || pii.has(key.toLowerCase());
}
