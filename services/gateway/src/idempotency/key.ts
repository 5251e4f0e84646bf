import { createHash } from 'node:crypto';

/**
 * The store key of a client's Idempotency-Key. The client id is length-prefixed, so no pair of
 * (client, key) can spell another's: with a plain `client:key`, client `a:b` with key `c` and
 * client `a` with key `b:c` would share one (an issuer's `sub` may well hold a `:`).
 */
export function scopedIdempotencyKey(clientId: string, key: string): string {
  return `${clientId.length}:${clientId}:${key}`;
}

/** `value` as JSON with every object's keys sorted, at every depth: one text per JSON value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((name) => (value as Record<string, unknown>)[name] !== undefined)
      .map((name) => `${JSON.stringify(name)}:${canonicalJson((value as Record<string, unknown>)[name])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * What makes two requests "the same" for an idempotency key: the event type, the schema version
 * it resolved to, and the body as canonical JSON, so the same object with its keys in another
 * order is the same request.
 */
export function requestFingerprint(type: string, version: number, body: unknown): string {
  return createHash('sha256')
    .update(`${type}\n${version}\n${canonicalJson(body)}`)
    .digest('base64url');
}
