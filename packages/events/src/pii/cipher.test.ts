import { randomBytes } from 'node:crypto';
import { JunctionError } from '@junction/observability';
import { describe, expect, it } from 'vitest';
import { decryptPii, encryptPii, isPiiCiphertext, PII_CIPHERTEXT_PREFIX, type PiiBinding, piiKeyIdOf } from './cipher.ts';
import { createPiiKeyring } from './keyring.ts';

const key = () => randomBytes(32).toString('base64');
const binding: PiiBinding = { type: 'com.junction.orders.OrderPlaced', path: 'customerEmail', id: '0190c7a0-0000-7000-8000-000000000001' };

function failure(run: () => unknown): JunctionError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(JunctionError);
    return error as JunctionError;
  }
  throw new Error('expected a failure');
}

describe('PII cipher (AES-256-GCM)', () => {
  const ring = createPiiKeyring({ keys: { k1: key() } });

  it('round-trips text, accents and emoji included, in the documented format', () => {
    for (const text of ['ada@example.com', '', 'Rue de l’Église 3, 1000 Bruxelles', '🏠 flat 2']) {
      const ciphertext = encryptPii(ring, binding, text);
      expect(ciphertext).toMatch(/^jpii:v1:k1:[A-Za-z0-9_-]+$/);
      expect(ciphertext).not.toContain(text || '\u0000');
      expect(isPiiCiphertext(ciphertext)).toBe(true);
      expect(piiKeyIdOf(ciphertext)).toBe('k1');
      expect(decryptPii(ring, binding, ciphertext)).toBe(text);
      // iv (12) + ciphertext (as long as the UTF-8 text) + tag (16)
      const body = Buffer.from(ciphertext.slice(`${PII_CIPHERTEXT_PREFIX}k1:`.length), 'base64url');
      expect(body.length).toBe(12 + Buffer.byteLength(text) + 16);
    }
  });

  it('uses a fresh IV every time: the same text never encrypts the same way twice', () => {
    const ciphertexts = new Set(Array.from({ length: 200 }, () => encryptPii(ring, binding, 'ada@example.com')));
    expect(ciphertexts.size).toBe(200);
    const ivs = new Set([...ciphertexts].map((c) => Buffer.from(c.slice(11), 'base64url').subarray(0, 12).toString('hex')));
    expect(ivs.size).toBe(200);
  });

  it('rejects an altered ciphertext as undecodable, not retriable', () => {
    const ciphertext = encryptPii(ring, binding, 'ada@example.com');
    const body = Buffer.from(ciphertext.slice(11), 'base64url');
    for (const at of [0, 14, body.length - 1]) {
      const altered = Buffer.from(body);
      altered[at] = (altered[at] as number) ^ 1;
      const error = failure(() => decryptPii(ring, binding, `jpii:v1:k1:${altered.toString('base64url')}`));
      expect(error.code).toBe('event.undecodable');
      expect(error.retriable).toBe(false);
      expect(error.message).toMatch(/does not authenticate/);
      expect(error.context).toMatchObject({ keyId: 'k1', field: 'customerEmail' });
    }
    expect(failure(() => decryptPii(ring, binding, 'jpii:v1:k1:AAAA')).message).toMatch(/truncated/);
    expect(failure(() => decryptPii(ring, binding, 'ada@example.com')).code).toBe('event.undecodable');
  });

  it('binds a ciphertext to its field path, event type and event id', () => {
    const ciphertext = encryptPii(ring, binding, 'ada@example.com');
    for (const moved of [
      { ...binding, path: 'shippingAddress.line1' },
      { ...binding, type: 'com.junction.orders.OrderCancelled' },
      { ...binding, id: '0190c7a0-0000-7000-8000-000000000002' },
    ]) {
      const error = failure(() => decryptPii(ring, moved, ciphertext));
      expect(error.code).toBe('event.undecodable');
      expect(error.retriable).toBe(false);
    }
  });

  it('names an unknown key id and says what to do', () => {
    const other = createPiiKeyring({ keys: { k2: key() } });
    const error = failure(() => decryptPii(other, binding, encryptPii(ring, binding, 'ada@example.com')));
    expect(error.code).toBe('event.undecodable');
    expect(error.retriable).toBe(false);
    expect(error.context).toMatchObject({ keyId: 'k1' });
    expect(error.message).toMatch(/PII key k1, which this consumer's keyring lacks \(it holds k2\)/);
    expect(error.message).toMatch(/JUNCTION_PII_KEYS/);
  });

  it('a key under the same id but with other bytes does not authenticate', () => {
    const impostor = createPiiKeyring({ keys: { k1: key() } });
    expect(failure(() => decryptPii(impostor, binding, encryptPii(ring, binding, 'x'))).message).toMatch(/does not authenticate/);
  });

  it('rotation: a ring with the new key active still reads what the retired key wrote', () => {
    const k1 = key();
    const k2 = key();
    const before = createPiiKeyring({ keys: { k1 } });
    const after = createPiiKeyring({ keys: { k1, k2 }, active: 'k2' });
    const old = encryptPii(before, binding, 'old@example.com');
    const fresh = encryptPii(after, binding, 'new@example.com');
    expect(piiKeyIdOf(fresh)).toBe('k2');
    expect(decryptPii(after, binding, old)).toBe('old@example.com');
    expect(decryptPii(after, binding, fresh)).toBe('new@example.com');
    // Readers not yet given k2 cannot read the new records: roll keys out to readers first.
    expect(failure(() => decryptPii(before, binding, fresh)).context).toMatchObject({ keyId: 'k2' });
  });
});
