import { createCipheriv, createDecipheriv } from 'node:crypto';
import { JunctionError } from '@junction/observability';
import { randomBytesPooled } from '../cloudevents.ts';
import { type PiiKeyring, piiKeyOf } from './keyring.ts';

/** The record header naming the key a record's PII was encrypted with (informational: each ciphertext names its key too). */
export const PII_KEY_ID_HEADER = 'junction.pii.key-id';

/** Every ciphertext starts so: `jpii:v1:<kid>:<base64url(iv 12 bytes | ciphertext | tag 16 bytes)>`. */
export const PII_CIPHERTEXT_PREFIX = 'jpii:v1:';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * What a ciphertext is bound to (GCM additional data): it decrypts only in the field, event type
 * and event it was written for, so a ciphertext copied into another field, type or event fails.
 */
export interface PiiBinding {
  /** The record fullname, e.g. `com.junction.orders.OrderPlaced` (not the version: v1 and v2 readers share it). */
  type: string;
  /** The field path, arrays and maps as `*`: `shippingAddress.line1`. */
  path: string;
  /** The event's `ce_id`. */
  id: string;
}

function additionalData(kid: string, binding: PiiBinding): Buffer {
  // NUL cannot occur in a fullname, a path or a UUID, so the parts cannot be shifted into each other.
  return Buffer.from(`jpii:v1\0${kid}\0${binding.type}\0${binding.path}\0${binding.id}`);
}

/** Whether `value` looks like a PII ciphertext (by its prefix; it may still fail to decrypt). */
export function isPiiCiphertext(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PII_CIPHERTEXT_PREFIX);
}

/** The key id a ciphertext names, or undefined when `value` is not one. */
export function piiKeyIdOf(value: string): string | undefined {
  if (!isPiiCiphertext(value)) return undefined;
  const end = value.indexOf(':', PII_CIPHERTEXT_PREFIX.length);
  return end > PII_CIPHERTEXT_PREFIX.length ? value.slice(PII_CIPHERTEXT_PREFIX.length, end) : undefined;
}

/** Encrypts `plaintext` with the ring's active key and a fresh random IV (AES-256-GCM), bound to `binding`. */
export function encryptPii(ring: PiiKeyring, binding: PiiBinding, plaintext: string): string {
  const kid = ring.activeKeyId;
  const key = piiKeyOf(ring, kid);
  if (!key) throw new JunctionError('internal', `the PII keyring lacks its own active key ${kid}`);
  const iv = randomBytesPooled(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(kid, binding));
  const body = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${PII_CIPHERTEXT_PREFIX}${kid}:${body.toString('base64url')}`;
}

function undecodable(message: string, binding: PiiBinding, context: Record<string, unknown> = {}): JunctionError {
  return new JunctionError('event.undecodable', message, {
    retriable: false,
    context: { type: binding.type, field: binding.path, eventId: binding.id, ...context },
  });
}

/**
 * Decrypts a ciphertext of {@link encryptPii}. A malformed ciphertext, a key the ring lacks, or
 * one that does not authenticate (altered, moved from another field or event, another key under
 * the same id) is a non-retriable `event.undecodable`: trying again cannot help.
 */
export function decryptPii(ring: PiiKeyring, binding: PiiBinding, ciphertext: string): string {
  const kid = piiKeyIdOf(ciphertext);
  if (kid === undefined) {
    throw undecodable(`${binding.type} field ${binding.path} is not a PII ciphertext (${PII_CIPHERTEXT_PREFIX}<kid>:<data>)`, binding);
  }
  const key = piiKeyOf(ring, kid);
  if (!key) {
    throw undecodable(
      `${binding.type} field ${binding.path} was encrypted with PII key ${kid}, which this consumer's keyring lacks (it holds ${ring.keyIds.join(', ')}); ` +
        `add key ${kid} to JUNCTION_PII_KEYS (or the key file) to read it — retired keys stay listed until every record they wrote has expired or been re-written — then replay the dead letter`,
      binding,
      { keyId: kid },
    );
  }
  const body = Buffer.from(ciphertext.slice(PII_CIPHERTEXT_PREFIX.length + kid.length + 1), 'base64url');
  if (body.length < IV_BYTES + TAG_BYTES) {
    throw undecodable(`${binding.type} field ${binding.path}: PII ciphertext under key ${kid} is truncated`, binding, { keyId: kid });
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(kid, binding));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new JunctionError(
      'event.undecodable',
      `${binding.type} field ${binding.path}: PII ciphertext under key ${kid} does not authenticate: it was altered, copied from another field or event, ` +
        `or key ${kid} here differs from the one that wrote it (check that every service has the same key under that id)`,
      { retriable: false, cause: error, context: { type: binding.type, field: binding.path, eventId: binding.id, keyId: kid } },
    );
  }
}
