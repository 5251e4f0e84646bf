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

  it('keeps the message to 1,000 characters and the stack to maxStackChars (4,000 by default)', async () => {
    const failWith = (error: JunctionError) => async () => {
      throw error;
    };
    const long = new JunctionError('event.invalid', 'x'.repeat(5000));
    long.stack = `JunctionError: ${'s'.repeat(10_000)}`;
    const { sink, written } = keepingSink();
    await deadLetter({ sink })(failWith(long))(recordContext());
    await deadLetter({ sink, maxStackChars: 10 })(failWith(long))(recordContext());
    expect(written[0]?.headers[DLQ_HEADERS.errorMessage]).toBe('x'.repeat(1000));
    expect(written[0]?.headers[DLQ_HEADERS.errorStack]).toHaveLength(4000);
    expect(written[1]?.headers[DLQ_HEADERS.errorStack]).toBe('JunctionEr');
    const stackless = new JunctionError('event.invalid', 'no stack');
    stackless.stack = undefined;
    await deadLetter({ sink })(failWith(stackless))(recordContext());
    expect(written[2]?.headers[DLQ_HEADERS.errorStack]).toBe('');
  });

  it('drops earlier dead-letter and retry headers, keeps the rest', async () => {
    const { sink, written } = keepingSink();
    await deadLetter({ sink })(async () => {
      throw new JunctionError('event.invalid', 'bad');
    })(
      recordContext('orders.order', {
        'junction.dlq.error-code': 'old',
        'junction.dlq.note': 'from an older version',
        'junction.retry.attempts': '3',
        traceparent: 't',
        'x-junction.dlq': 'kept',
      }),
    );
    const headers = written[0]?.headers ?? {};
    expect(headers).toMatchObject({ ce_id: 'e1', traceparent: 't', 'x-junction.dlq': 'kept', [DLQ_HEADERS.errorCode]: 'event.invalid' });
    expect(headers['junction.retry.attempts']).toBeUndefined();
    expect(headers['junction.dlq.note']).toBeUndefined();
  });

  it('fingerprints a kind of failure: the same for other ids and numbers, different for another code, message or topic', async () => {
    const { sink, written } = keepingSink();
    const dlq = (topic: string, code: 'event.invalid' | 'timeout', message: string) =>
      deadLetter({ sink })(async () => {
        throw new JunctionError(code, message);
      })(recordContext(topic));
    await dlq('orders.order', 'event.invalid', 'order 0193f6d2-7c1e-7abc-8def-0123456789ab has 3 lines');
    await dlq('orders.order', 'event.invalid', 'order 0193f6d2-aaaa-7abc-8def-ffffffffffff has 12 lines');
    await dlq('orders.order', 'timeout', 'order 0193f6d2-aaaa-7abc-8def-ffffffffffff has 12 lines');
    await dlq('orders.order', 'event.invalid', 'order 0193f6d2-aaaa-7abc-8def-ffffffffffff has no lines');
    await dlq('inventory.stock', 'event.invalid', 'order 0193f6d2-7c1e-7abc-8def-0123456789ab has 3 lines');
    await dlq('orders.order', 'event.invalid', 'order zzzzzzzz-7c1e-7abc-8def-0123456789ab has 3 lines');
    const prints = written.map((w) => w.headers[DLQ_HEADERS.fingerprint]);
    expect(prints[0]).toBe(prints[1]);
    expect(new Set(prints.slice(1, 5)).size).toBe(4);
    expect(prints[5]).not.toBe(prints[0]); // not an id: kept as it is
  });

  it('tells onDeadLetter, and says which record could not be dead-lettered and why', async () => {
    const seen: string[] = [];
    const { sink } = keepingSink();
    await deadLetter({ sink, onDeadLetter: (ctx, error) => seen.push(`${ctx.record.offset} ${error.code}`) })(async () => {
      throw new Error('a bug');
    })(recordContext());
    expect(seen).toEqual(['41 internal']);
    const error = await deadLetter({
      sink: async () => {
        throw new Error('broker gone');
      },
    })(async () => {
      throw new JunctionError('timeout', 'slow');
    })(recordContext()).catch((e: unknown) => e as Error);
    expect((error as Error).message).toBe('could not dead-letter orders.order/2@41: broker gone');
    const odd = await deadLetter({
      sink: async () => {
        throw 'refused';
      },
    })(async () => {
      throw new JunctionError('timeout', 'slow');
    })(recordContext()).catch((e: unknown) => e as Error);
    expect((odd as Error).message).toBe('could not dead-letter orders.order/2@41: refused');
  });
});
