import { createHmac, randomBytes } from 'node:crypto';

/** The prefix every Standard Webhooks signing secret carries. */
export const SECRET_PREFIX = 'whsec_';

// Strict, padded base64: Buffer.from(.., 'base64') silently skips junk, so it cannot judge a secret by itself.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;

/** A new signing secret: whsec_ + base64 of 32 random bytes. */
export function newSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** Whether a string is a well-formed secret (prefix, base64 of 24..64 bytes). */
export function isSecret(value: string): boolean {
  return keyOf(value) !== undefined;
}

/** `v1,<base64 HMAC-SHA256>` of `${id}.${timestampSeconds}.${body}` with `secret`. */
export function signatureOf(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = keyOf(secret);
  // A bad secret is a programming or storage fault, never a delivery outcome: signing with a
  // half-decoded key would send signatures no receiver can verify.
  if (key === undefined) throw new Error('not a webhook signing secret (whsec_ + base64 of 24..64 bytes)');
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new Error(`webhook timestamp must be whole seconds since the epoch, got ${timestampSeconds}`);
  }
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`, 'utf8').digest('base64');
  return `v1,${mac}`;
}

/** The three headers of a delivery; with more than one secret (a rotation's overlap), one signature per secret, space-separated, newest first as given. */
export function webhookHeaders(
  secrets: readonly string[],
  id: string,
  timestampSeconds: number,
  body: string,
): { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string } {
  if (secrets.length === 0) throw new Error('a webhook needs at least one signing secret');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((secret) => signatureOf(secret, id, timestampSeconds, body)).join(' '),
  };
}

function keyOf(secret: string): Buffer | undefined {
  if (!secret.startsWith(SECRET_PREFIX)) return undefined;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(encoded)) return undefined;
  const key = Buffer.from(encoded, 'base64');
  return key.length >= MIN_KEY_BYTES && key.length <= MAX_KEY_BYTES ? key : undefined;
}
