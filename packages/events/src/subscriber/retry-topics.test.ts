import { JunctionError } from '@junction/observability';
import { describe, expect, it } from 'vitest';
import { retryStage, retryTopics } from './retry-topics.ts';
import { type EventContext, RETRY_HEADERS, type RecordSink } from './types.ts';

function context(topic = 'orders.order', headers: Record<string, string> = {}): EventContext {
  return {
    group: 'billing',
    record: {
      topic,
      partition: 2,
      offset: '41',
      key: 'k1',
      value: Buffer.from('v'),
      headers: { ce_id: 'e1', ...headers },
      timestamp: 1_700_000_000_000,
    },
    attempt: 1,
    signal: new AbortController().signal,
  };
}

/** A sink that keeps what it was given: the broker part is in the subscriber's int tests. */
function keeping(): { sink: RecordSink; written: Array<{ topic: string; headers: Record<string, string> }> } {
  const written: Array<{ topic: string; headers: Record<string, string> }> = [];
  return { written, sink: async (topic, record) => void written.push({ topic, headers: record.headers }) };
}

describe('retryTopics', () => {
  it('sends a retriable failure to the next stage with its due time, and lets a non-retriable one through', async () => {
    const { sink, written } = keeping();
    const ctx = context();
    const before = Date.now();
    await retryTopics({ delaysMs: [1000, 5000], sink })(async () => {
      throw new JunctionError('timeout', 'slow');
    })(ctx);
    expect(ctx.outcome).toBe('retried');
    expect(written[0]?.topic).toBe('billing.orders.order.retry.1');
    expect(Number(written[0]?.headers[RETRY_HEADERS.dueAt])).toBeGreaterThanOrEqual(before + 1000);
    await expect(
      retryTopics({ delaysMs: [1000], sink })(async () => {
        throw new JunctionError('event.invalid', 'bad');
      })(context()),
    ).rejects.toMatchObject({ code: 'event.invalid' });
  });

  it('gives up after the last stage', async () => {
    const { sink } = keeping();
    await expect(
      retryTopics({ delaysMs: [1000], sink })(async () => {
        throw new JunctionError('timeout', 'slow');
      })(context('billing.orders.order.retry.1', { [RETRY_HEADERS.originalTopic]: 'orders.order' })),
    ).rejects.toMatchObject({ code: 'timeout' });
    expect(retryStage('billing.orders.order.retry.3', 'billing')).toBe(3);
    expect(retryStage('orders.order', 'billing')).toBe(0);
  });
});

describe('retryTopics and an open circuit', () => {
  it('lets circuit.open through: the subscriber runs the record again rather than spend a stage', async () => {
    const { sink, written } = keeping();
    await expect(
      retryTopics({ delaysMs: [1000], sink })(async () => {
        throw new JunctionError('circuit.open', 'the breaker is open');
      })(context()),
    ).rejects.toMatchObject({ code: 'circuit.open' });
    expect(written).toEqual([]);
  });
});
