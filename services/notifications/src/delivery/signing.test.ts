import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { isSecret, newSecret, SECRET_PREFIX, signatureOf, webhookHeaders } from './signing.ts';

const now = () => Math.floor(Date.now() / 1000);
const body = JSON.stringify({ type: 'order.placed', data: { orderId: 'o-1', total: 1250 } });

/** Whether the independent Standard Webhooks library accepts `headers` for `payload` under `secret`. */
function verifies(secret: string, payload: string, headers: Record<string, string>): boolean {
  try {
    new Webhook(secret).verify(payload, headers, { jsonParse: false });
    return true;
  } catch {
    return false;
  }
}

describe('newSecret and isSecret', () => {
  it('makes distinct whsec_ secrets of 32 random bytes that isSecret accepts', () => {
    const a = newSecret();
    const b = newSecret();
    expect(a).not.toBe(b);
    expect(a.startsWith(SECRET_PREFIX)).toBe(true);
    expect(Buffer.from(a.slice(SECRET_PREFIX.length), 'base64')).toHaveLength(32);
    expect(isSecret(a)).toBe(true);
  });

  it('accepts keys of 24 and 64 bytes and rejects what is not a secret', () => {
    const of = (bytes: number) => SECRET_PREFIX + randomBytes(bytes).toString('base64');
    expect(isSecret(of(24))).toBe(true);
    expect(isSecret(of(64))).toBe(true);
    for (const bad of [
      '',
      'whsec_',
      of(23),
      of(65),
      randomBytes(32).toString('base64'), // no prefix
      `WHSEC_${randomBytes(32).toString('base64')}`,
      `${of(32)}!`,
      `${of(32).slice(0, -1)}`, // padding cut off
      `whsec_${'*'.repeat(44)}`,
      `whsec_ ${randomBytes(32).toString('base64')}`,
    ]) {
      expect(isSecret(bad), bad).toBe(false);
    }
  });
});

describe('signatureOf', () => {
  it('is the HMAC-SHA256 of id.timestamp.body under the decoded key', () => {
    const key = randomBytes(32);
    const secret = SECRET_PREFIX + key.toString('base64');
    const expected = createHmac('sha256', key).update(`msg_1.1700000000.${body}`).digest('base64');
    expect(signatureOf(secret, 'msg_1', 1_700_000_000, body)).toBe(`v1,${expected}`);
  });

  it('matches the Standard Webhooks library byte for byte', () => {
    const secret = newSecret();
    const at = now();
    expect(signatureOf(secret, 'msg_2', at, body)).toBe(new Webhook(secret).sign('msg_2', new Date(at * 1000), body));
  });

  it('refuses a malformed secret or timestamp instead of signing with them', () => {
    expect(() => signatureOf('whsec_nope', 'msg_1', now(), body)).toThrow(/signing secret/);
    expect(() => signatureOf(newSecret(), 'msg_1', 1.5, body)).toThrow(/whole seconds/);
  });
});

describe('webhookHeaders', () => {
  it('verifies with the Standard Webhooks library', () => {
    const secret = newSecret();
    const headers = webhookHeaders([secret], 'msg_3', now(), body);
    expect(headers['webhook-id']).toBe('msg_3');
    expect(headers['webhook-signature'].split(' ')).toHaveLength(1);
    expect(verifies(secret, body, headers)).toBe(true);
  });

  it('during a rotation signs with each secret, newest first, and either secret verifies', () => {
    const newest = newSecret();
    const oldest = newSecret();
    const at = now();
    const headers = webhookHeaders([newest, oldest], 'msg_4', at, body);
    expect(headers['webhook-signature']).toBe(`${signatureOf(newest, 'msg_4', at, body)} ${signatureOf(oldest, 'msg_4', at, body)}`);
    expect(verifies(newest, body, headers)).toBe(true);
    expect(verifies(oldest, body, headers)).toBe(true);
    expect(verifies(newSecret(), body, headers)).toBe(false);
  });

  it('fails verification for a tampered body, another id or a shifted timestamp', () => {
    const secret = newSecret();
    const at = now();
    const headers = webhookHeaders([secret], 'msg_5', at, body);
    expect(verifies(secret, body.replace('1250', '1251'), headers)).toBe(false);
    expect(verifies(secret, body, { ...headers, 'webhook-id': 'msg_6' })).toBe(false);
    // Within the library's five-minute tolerance, so only the signature can reject it.
    expect(verifies(secret, body, { ...headers, 'webhook-timestamp': String(at - 1) })).toBe(false);
    expect(verifies(secret, body, headers)).toBe(true);
  });

  it('signs a unicode body as UTF-8', () => {
    const secret = newSecret();
    const unicode = JSON.stringify({ name: 'Zoë Ørsted', city: '東京', mood: '🎉' });
    const headers = webhookHeaders([secret], 'msg_7', now(), unicode);
    expect(verifies(secret, unicode, headers)).toBe(true);
    expect(verifies(secret, unicode.replace('🎉', '🎊'), headers)).toBe(false);
  });

  it('needs at least one secret', () => {
    expect(() => webhookHeaders([], 'msg_8', now(), body)).toThrow(/at least one/);
  });
});
