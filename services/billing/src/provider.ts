import { JunctionError, type ServiceContext } from '@junction/service';

/** What the payment provider said to a charge. */
export type ChargeResult = { kind: 'captured'; chargeId: string } | { kind: 'declined'; code: string; message: string };

/**
 * The payment provider's API, through the kit's resilient client: a deadline per call, bounded
 * retries with backoff, and the same `Idempotency-Key` on every retry (and on every redelivery of
 * the event), so the provider charges an order once however often it is asked. An outage (5xx,
 * timeout, open breaker) is thrown as the client's retriable error: the subscription retries the
 * event later. Any other refusal is a bug here and is not retried.
 */
export function paymentProvider(service: ServiceContext<unknown>, baseUrl: string) {
  const call = async (path: string, key: string, body: Record<string, string>) => {
    const response = await service.http.request({
      method: 'POST',
      url: `${baseUrl}${path}`,
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
    const answer = await response.json<Record<string, unknown>>().catch((): Record<string, unknown> => ({}));
    return { status: response.status, answer };
  };
  const refused = (what: string, status: number, answer: Record<string, unknown>) =>
    new JunctionError(
      'upstream.unavailable',
      `the payment provider refused ${what} (${status}): ${String(answer.message ?? answer.error ?? 'no reason')}`,
      {
        retriable: status >= 500,
        context: { status },
      },
    );
  return {
    async charge(orderId: string, amount: string, currency: string): Promise<ChargeResult> {
      const { status, answer } = await call('/v1/charges', `charge-${orderId}`, { amount, currency, reference: orderId });
      if (status === 201) return { kind: 'captured', chargeId: String(answer.id) };
      if (status === 402)
        return { kind: 'declined', code: String(answer.declineCode ?? 'declined'), message: String(answer.message ?? 'declined') };
      throw refused(`the charge of order ${orderId}`, status, answer);
    },
    async refund(orderId: string, chargeId: string, amount: string): Promise<string> {
      const { status, answer } = await call('/v1/refunds', `refund-${orderId}`, { charge: chargeId, amount });
      if (status === 201) return String(answer.id);
      throw refused(`the refund of order ${orderId}`, status, answer);
    },
  };
}
