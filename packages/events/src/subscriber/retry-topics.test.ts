import { JunctionError } from '@junction/observability';
import { describe, expect, it } from 'vitest';
import { keepingSink, recordContext } from '../testing/contexts.ts';
import { retryStage, retryTopics } from './retry-topics.ts';
import { RETRY_HEADERS } from './types.ts';

describe('retryTopics', () => {
  it('sends a retriable failure to the next stage with its due time, and lets a non-retriable one through', async () => {
    const { sink, written } = keepingSink();
    const ctx = recordContext();
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
      })(recordContext()),
    ).rejects.toMatchObject({ code: 'event.invalid' });
  });

  it('gives up after the last stage', async () => {
    const { sink } = keepingSink();
    await expect(
      retryTopics({ delaysMs: [1000], sink })(async () => {
        throw new JunctionError('timeout', 'slow');
      })(recordContext('billing.orders.order.retry.1', { [RETRY_HEADERS.originalTopic]: 'orders.order' })),
    ).rejects.toMatchObject({ code: 'timeout' });
    expect(retryStage('billing.orders.order.retry.3', 'billing')).toBe(3);
    expect(retryStage('orders.order', 'billing')).toBe(0);
  });

  it('keeps where a record first came from and when it first failed as it goes on to a later stage', async () => {
    const { sink, written } = keepingSink();
    const ctx = recordContext('billing.orders.order.retry.1', {
      [RETRY_HEADERS.originalTopic]: 'orders.order',
      [RETRY_HEADERS.originalPartition]: '4',
      [RETRY_HEADERS.originalOffset]: '1234',
      [RETRY_HEADERS.firstFailure]: '2026-12-01T10:00:00.000Z',
    });
    await retryTopics({ delaysMs: [1000, 5000], sink })(async () => {
      throw new JunctionError('timeout', 'slow again');
    })(ctx);
    expect(written[0]?.topic).toBe('billing.orders.order.retry.2');
    expect(written[0]?.headers).toMatchObject({
      [RETRY_HEADERS.originalTopic]: 'orders.order',
      [RETRY_HEADERS.originalPartition]: '4',
      [RETRY_HEADERS.originalOffset]: '1234',
      [RETRY_HEADERS.firstFailure]: '2026-12-01T10:00:00.000Z',
    });
  });
});
