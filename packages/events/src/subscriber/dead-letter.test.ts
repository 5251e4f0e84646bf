import { JunctionError } from '@junction/observability';
import { describe, expect, it } from 'vitest';
import { keepingSink, recordContext } from '../testing/contexts.ts';
import { deadLetter } from './dead-letter.ts';
import { DLQ_HEADERS, RETRY_HEADERS, type RecordSink } from './types.ts';

describe('deadLetter', () => {
  it('writes a failed record to <group>.<topic>.dlq with its story and marks it dead-lettered', async () => {
    const { sink, written } = keepingSink();
    const ctx = recordContext();
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
    })(recordContext()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors.map((e) => (e as Error).message)).toEqual(['no schema 9', 'broker gone']);
  });

  it('names the original topic and coordinates of a record that came through retry topics', async () => {
    const { sink, written } = keepingSink();
    await deadLetter({ sink })(async () => {
      throw new JunctionError('timeout', 'slow');
    })(
      recordContext('billing.orders.order.retry.2', {
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
