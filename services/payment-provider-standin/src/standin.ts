import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';

/**
 * A STAND-IN for a third-party payment provider. The provider is outside Junction's world, so
 * this small process plays it locally and in tests, behaving as real providers do where it
 * matters to a client: every POST needs an `Idempotency-Key`, and the same key returns the same
 * answer (a different body with it is refused); it takes time (latency) and sometimes fails
 * (503, nothing recorded); it declines charges above a card limit; and it keeps a ledger a test
 * can read to prove that nothing was charged twice.
 */
export interface StandinOptions {
  /** Milliseconds each POST takes before its answer. */
  latencyMs: number;
  /** Fraction of POSTs answered 503 without doing anything, 0 to 1. */
  failureRate: number;
  /** Charges above this amount (a decimal string) are declined: 402. */
  cardLimit: string;
  /** Random numbers in [0, 1): tests pass a fixed sequence. */
  random?: () => number;
}

/** One operation the provider performed. */
export interface LedgerEntry {
  id: string;
  kind: 'charge' | 'refund';
  status: 'captured' | 'declined' | 'refunded';
  amount: string;
  currency: string;
  /** The client's reference (Junction's order id) of a charge, or the refunded charge's id. */
  reference: string;
  idempotencyKey: string;
  at: string;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

const amount = z.string().regex(/^(0|[1-9]\d{0,9})(\.\d{1,2})?$/, 'a decimal amount such as "28.20"');
const chargeBody = z.object({ amount, currency: z.string().regex(/^[A-Z]{3}$/), reference: z.string().min(1).max(200) }).strict();
const refundBody = z.object({ charge: z.string().min(1), amount }).strict();

const cents = (value: string): bigint => {
  const [units = '0', fraction = ''] = value.split('.');
  return BigInt(units) * 100n + BigInt(fraction.padEnd(2, '0'));
};

/** The stand-in's request handler and ledger. */
export function createStandin(options: StandinOptions): {
  handle(req: IncomingMessage, res: ServerResponse): void;
  ledger: readonly LedgerEntry[];
} {
  const random = options.random ?? Math.random;
  const ledger: LedgerEntry[] = [];
  /** Answers by idempotency key, with the request body they answered. */
  const answered = new Map<string, { body: string; answer: Answer }>();
  const refunded = new Map<string, bigint>();

  const charge = (key: string, input: z.infer<typeof chargeBody>): Answer => {
    const id = `ch_${randomUUID()}`;
    const declined = cents(input.amount) > cents(options.cardLimit);
    const entry: LedgerEntry = {
      id,
      kind: 'charge',
      status: declined ? 'declined' : 'captured',
      amount: input.amount,
      currency: input.currency,
      reference: input.reference,
      idempotencyKey: key,
      at: new Date().toISOString(),
    };
    ledger.push(entry);
    return declined
      ? { status: 402, body: { ...entry, declineCode: 'card_limit_exceeded', message: `above the card limit of ${options.cardLimit}` } }
      : { status: 201, body: { ...entry } };
  };

  const refund = (key: string, input: z.infer<typeof refundBody>): Answer => {
    const original = ledger.find((e) => e.id === input.charge && e.kind === 'charge' && e.status === 'captured');
    if (!original) return { status: 404, body: { error: 'no_such_charge', message: `no captured charge ${input.charge}` } };
    const already = refunded.get(original.id) ?? 0n;
    if (already + cents(input.amount) > cents(original.amount)) {
      return {
        status: 422,
        body: { error: 'refund_exceeds_charge', message: `${input.amount} more than the ${original.amount} charged less refunds` },
      };
    }
    refunded.set(original.id, already + cents(input.amount));
    const entry: LedgerEntry = {
      id: `re_${randomUUID()}`,
      kind: 'refund',
      status: 'refunded',
      amount: input.amount,
      currency: original.currency,
      reference: original.id,
      idempotencyKey: key,
      at: new Date().toISOString(),
    };
    ledger.push(entry);
    return { status: 201, body: { ...entry } };
  };

  const send = (res: ServerResponse, answer: Answer, headers: Record<string, string> = {}) => {
    res.writeHead(answer.status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(answer.body));
  };

  const post = async (req: IncomingMessage, res: ServerResponse, text: string) => {
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key === '') return send(res, { status: 400, body: { error: 'idempotency_key_required' } });
    await new Promise((resolve) => setTimeout(resolve, options.latencyMs));
    const earlier = answered.get(key);
    if (earlier) {
      if (earlier.body !== text)
        return send(res, { status: 422, body: { error: 'idempotency_key_reused', message: 'this key was used with another body' } });
      return send(res, earlier.answer, { 'idempotent-replayed': 'true' });
    }
    if (random() < options.failureRate)
      return send(res, { status: 503, body: { error: 'temporarily_unavailable' } }, { 'retry-after': '0' });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return send(res, { status: 400, body: { error: 'invalid_json' } });
    }
    const schema = req.url === '/v1/charges' ? chargeBody : refundBody;
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      return send(res, {
        status: 400,
        body: { error: 'invalid_request', issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) },
      });
    const answer =
      req.url === '/v1/charges'
        ? charge(key, parsed.data as z.infer<typeof chargeBody>)
        : refund(key, parsed.data as z.infer<typeof refundBody>);
    answered.set(key, { body: text, answer });
    send(res, answer);
  };

  return {
    ledger,
    handle(req, res) {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > 64 * 1024) req.destroy();
        else chunks.push(chunk);
      });
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (req.method === 'GET' && req.url === '/healthz') return send(res, { status: 200, body: { ok: true } });
        if (req.method === 'GET' && req.url === '/v1/ledger') return send(res, { status: 200, body: { entries: ledger } });
        if (req.method === 'POST' && (req.url === '/v1/charges' || req.url === '/v1/refunds')) {
          post(req, res, text).catch(() => send(res, { status: 500, body: { error: 'internal' } }));
          return;
        }
        send(res, { status: 404, body: { error: 'not_found' } });
      });
    },
  };
}
