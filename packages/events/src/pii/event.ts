import { JunctionError } from '@junction/observability';
import type { AvroSchema } from '../contracts/avro.ts';
import { decryptPii, encryptPii, isPiiCiphertext } from './cipher.ts';
import type { PiiKeyring } from './keyring.ts';
import { mapPii, type PiiPlan, piiPlan } from './plan.ts';

/** The event a PII value belongs to: what its ciphertexts are bound to besides their field. */
export interface PiiEvent {
  /** The record fullname. */
  type: string;
  /** `ce_id`. */
  id: string;
}

/** Publishing an event with PII fields and no keyring: say exactly how to configure one. */
export function missingPiiKeyring(type: string, plan: PiiPlan): JunctionError {
  return new JunctionError(
    'config.invalid',
    `${type} has personal fields (${plan.paths.join(', ')}) that are encrypted before they are produced, and no PII key is configured. ` +
      'Make a key with `./junction pii keygen` and set JUNCTION_PII_KEYS=<kid>:<base64key> (or JUNCTION_PII_KEYS_FILE to a 0600 key file), ' +
      'or pass `pii: createPiiKeyring(…)` in the options',
    { retriable: false, context: { type, fields: plan.paths } },
  );
}

/**
 * `data` with every PII string encrypted under the ring's active key, or `data` itself when the
 * schema marks nothing. `config.invalid` when it marks something and there is no ring.
 */
export function encryptEventPii(schema: AvroSchema, event: PiiEvent, data: unknown, ring: PiiKeyring | undefined): unknown {
  const plan = piiPlan(schema);
  if (!plan) return data;
  if (!ring) throw missingPiiKeyring(event.type, plan);
  return mapPii(plan.root, data, (path, text) => encryptPii(ring, { type: event.type, id: event.id, path }, text));
}

/**
 * `data` with every PII ciphertext decrypted. A string that is no ciphertext stays as it is (a
 * record written before its field was marked); one that does not decrypt is `event.undecodable`.
 */
export function decryptEventPii(schema: AvroSchema, event: PiiEvent, data: unknown, ring: PiiKeyring): unknown {
  const plan = piiPlan(schema);
  if (!plan) return data;
  return mapPii(plan.root, data, (path, text) =>
    isPiiCiphertext(text) ? decryptPii(ring, { type: event.type, id: event.id, path }, text) : text,
  );
}

/** What a masked personal string reads as. */
export const PII_MASK = '[redacted]';

/**
 * `data` with every personal string (clear or encrypted) replaced by {@link PII_MASK}: for a
 * reader that may see the event but not the person in it (a webhook whose owner holds no PII scope).
 */
export function maskEventPii(schema: AvroSchema, data: unknown): unknown {
  const plan = piiPlan(schema);
  return plan ? mapPii(plan.root, data, () => PII_MASK) : data;
}
