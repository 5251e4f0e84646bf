import { JunctionError } from '@junction/observability';
import { describe, expect, it } from 'vitest';
import { deadLetter } from './dead-letter.ts';
import { DLQ_HEADERS, type EventContext, RETRY_HEADERS, type RecordSink } from './types.ts';

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

/** A sink that keeps what it was given: these middlewares' contract is what they write, the broker part is in the int tests. */
function keeping(): { sink: RecordSink; written: Array<{ topic: string; headers: Record<string, string> }> } {
  const written: Array<{ topic: string; headers: Record<string, string> }> = [];
  return { written, sink: async (topic, record) => void written.push({ topic, headers: record.headers }) };
}

describe('deadLetter', () => {
  it('writes a failed record to <group>.<topic>.dlq with its story and marks it dead-lettered', async () => {
    const { sink, written } = keeping();
    const ctx = context();
    await deadLetter({ sink })(async () => {
      throw new JunctionError('event.invalid', 'amount 12 is not a decimal string');
    })(ctx);
    expect(ctx.outcome).toBe('dead-lettered');
    expect(written[0]?.topic).toBe('billing.orders.order.dlq');
    expect(written[0]?.headers).toMatchObject({
      ce_id: 'e1',
      [DLQ_HEADERS.originalTopic]: 'orders.order',
      [DLQ_HEADERS.originalPartition]: '2',
      [DLQ_HEADERS.originalOffset]: '41',
      [DLQ_HEADERS.group]: 'billing',
      [DLQ_HEADERS.errorCode]: 'event.invalid',
      [DLQ_HEADERS.attempts]: '1',
    });
    expect(written[0]?.headers[DLQ_HEADERS.fingerprint]).toMatch(/^[0-9a-f]{16}$/);
  });

  it('surfaces both errors when the dead-letter write fails, and the record is not done', async () => {
    const failing: RecordSink = async () => {
      throw new Error('broker gone');
    };
    const error = await deadLetter({ sink: failing })(async () => {
      throw new JunctionError('schema.unknown', 'no schema 9');
    })(context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors.map((e) => (e as Error).message)).toEqual(['no schema 9', 'broker gone']);
  });

  it('names the original topic and coordinates of a record that came through retry topics', async () => {
    const { sink, written } = keeping();
    await deadLetter({ sink })(async () => {
      throw new JunctionError('timeout', 'slow');
    })(
      context('billing.orders.order.retry.2', {
        [RETRY_HEADERS.originalTopic]: 'orders.order',
        [RETRY_HEADERS.originalPartition]: '0',
        [RETRY_HEADERS.originalOffset]: '7',
        [RETRY_HEADERS.firstFailure]: '2026-11-24T09:00:00.000Z',
      }),
    );
    expect(written[0]?.topic).toBe('billing.orders.order.dlq');
    expect(written[0]?.headers).toMatchObject({
      [DLQ_HEADERS.originalOffset]: '7',
      [DLQ_HEADERS.firstFailure]: '2026-11-24T09:00:00.000Z',
    });
    expect(Object.keys(written[0]?.headers ?? {}).some((name) => name.startsWith('junction.retry.'))).toBe(false);
  });
});
