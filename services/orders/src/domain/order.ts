import { z } from 'zod';
import { fromCents, isCurrency, toCents } from './money.ts';

/** Where an order is in its life. `placed` → `reserved` → `confirmed`; any but `cancelled` → `cancelled`. */
export const ORDER_STATUSES = ['placed', 'reserved', 'confirmed', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** One reason a request breaks a rule, at a field path (`lines.0.quantity`). */
export interface RuleProblem {
  path: string;
  reason: string;
}

/**
 * A string PostgreSQL can store: text and jsonb refuse NUL, so a body holding one is a 400 here
 * rather than a failed insert (a 500).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what it refuses
const text = z.string().regex(/^[^\u0000]*$/, 'no NUL characters');

const line = z.object({ sku: text.min(1).max(64), quantity: z.number(), unitPrice: z.string() }).strict();

/** The shape of `POST /orders` (the rules it must meet are checked by {@link checkOrder}). */
export const placeOrderBody = z
  .object({
    orderId: z.uuid().optional(),
    customerId: z.uuid(),
    customerEmail: text,
    shippingAddress: z
      .object({
        line1: text.min(1).max(200),
        line2: text.max(200).nullable().optional(),
        city: text.min(1).max(100),
        postalCode: text.min(1).max(20),
        country: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166 alpha-2 country code, e.g. GB'),
      })
      .strict(),
    lines: z.array(line),
    total: z.string(),
    currency: z.string(),
    couponCode: text.min(1).max(40).nullable().optional(),
  })
  .strict();

/** The shape of `POST /orders/:id/cancel`: why, optionally. */
export const cancelOrderBody = z.object({ reason: text.min(1).max(500).optional() }).strict();

/** A body of the right shape, before its rules are checked. */
export type PlaceOrderBody = z.infer<typeof placeOrderBody>;

/** A well-formed address: one @, a dotted domain, no spaces (RFC 5322 allows more; mail servers do not). */
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

/** Lines per order at most: more is a bulk import, not an order. */
export const MAX_LINES = 100;

/**
 * The business rules an Avro schema cannot state: at least one line, at most {@link MAX_LINES};
 * quantities whole and at least 1; prices amounts of at least 0 with two places at most; the
 * total equal to the sum of the lines; an ISO 4217 currency; a well-formed email. Every broken
 * rule is returned, each at its field path; none means the order may be placed.
 */
export function checkOrder(body: PlaceOrderBody): RuleProblem[] {
  const problems: RuleProblem[] = [];
  if (body.lines.length === 0) problems.push({ path: 'lines', reason: 'an order needs at least one line' });
  if (body.lines.length > MAX_LINES) problems.push({ path: 'lines', reason: `at most ${MAX_LINES} lines` });
  let sum = 0n;
  let priced = true;
  body.lines.forEach((l, i) => {
    if (!Number.isInteger(l.quantity) || l.quantity < 1 || l.quantity > 10_000) {
      problems.push({ path: `lines.${i}.quantity`, reason: 'a whole number from 1 to 10000' });
      priced = false;
    }
    const cents = toCents(l.unitPrice);
    if (cents === undefined) {
      problems.push({ path: `lines.${i}.unitPrice`, reason: 'an amount of at least 0 with at most two decimals, e.g. "12.50"' });
      priced = false;
    } else sum += cents * BigInt(Number.isInteger(l.quantity) ? l.quantity : 0);
  });
  const total = toCents(body.total);
  if (total === undefined) problems.push({ path: 'total', reason: 'an amount of at least 0 with at most two decimals, e.g. "28.20"' });
  else if (priced && total !== sum) problems.push({ path: 'total', reason: `the lines add up to ${fromCents(sum)}, not ${body.total}` });
  if (!isCurrency(body.currency)) problems.push({ path: 'currency', reason: 'an ISO 4217 currency code, e.g. EUR' });
  if (body.customerEmail.length > 254 || !EMAIL.test(body.customerEmail)) {
    problems.push({ path: 'customerEmail', reason: 'a well-formed email address, e.g. ada@example.com' });
  }
  return problems;
}

/**
 * What moves an order, and where to: undefined when the order is past it (a late or repeated
 * event). Stock and payment news come on two topics, so a payment can arrive before the
 * reservation it followed: a payment on a placed order moves it on all the same (billing charges
 * only reserved orders), and the reservation arriving after it changes nothing.
 */
export function nextStatus(
  current: OrderStatus,
  event: 'reserved' | 'rejected' | 'captured' | 'failed' | 'cancel',
): OrderStatus | undefined {
  switch (event) {
    case 'reserved':
      return current === 'placed' ? 'reserved' : undefined;
    case 'rejected':
      return current === 'placed' ? 'cancelled' : undefined;
    case 'captured':
      return current === 'placed' || current === 'reserved' ? 'confirmed' : undefined;
    case 'failed':
      return current === 'placed' || current === 'reserved' ? 'cancelled' : undefined;
    case 'cancel':
      return current === 'cancelled' ? undefined : 'cancelled';
  }
}

/**
 * A step of the saga as one move: the statuses it moves an order from, and the one it moves it to
 * (the same for each of them). Read off {@link nextStatus}, so that stays the one place the rules live.
 */
export function sagaMove(event: 'reserved' | 'rejected' | 'captured' | 'failed'): { from: OrderStatus[]; to: OrderStatus } {
  const from = ORDER_STATUSES.filter((status) => nextStatus(status, event) !== undefined);
  const targets = new Set(from.map((status) => nextStatus(status, event)));
  const [to] = targets;
  if (!to || targets.size !== 1) throw new Error(`the saga step ${event} does not move every order to one status`);
  return { from, to };
}
