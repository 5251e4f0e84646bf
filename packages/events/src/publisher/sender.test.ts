import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, type Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { SendExpired, Sender, sendFailure } from './sender.ts';

// The in-flight budget of a Sender, which needs no Kafka: no record is sent here, so no producer
// is ever made.
const noProducer = (): Producer => {
  throw new Error('no producer in this test');
};
const sender = (maxInFlightBytes: number, backpressureTimeoutMs = 5000) =>
  new Sender(noProducer, { sendTimeoutMs: 1000, maxInFlightBytes, backpressureTimeoutMs, maxBatchBytes: maxInFlightBytes });

describe('Sender budget', () => {
  it('admits waiters in arrival order as room comes back, a large one holding back those behind it', async () => {
    const budget = sender(100);
    expect(budget.tryReserve(100)).toBe(true);
    const admitted: string[] = [];
    const big = budget.reserve(60).then(() => admitted.push('big'));
    const small = budget.reserve(10).then(() => admitted.push('small'));
    expect(budget.waitingBytes).toBe(70);
    // A newcomer may not jump the queue even when it would fit.
    budget.release(20);
    expect(budget.tryReserve(10)).toBe(false);
    await Promise.resolve();
    expect(admitted).toEqual([]);
    budget.release(50);
    await Promise.all([big, small]);
    expect(admitted).toEqual(['big', 'small']);
    expect(budget.inFlightBytes).toBe(100);
    expect(budget.waitingBytes).toBe(0);
  });

  it('turns a caller away at once when as many bytes wait as may be in flight, and after its wait runs out', async () => {
    const budget = sender(100, 30);
    expect(budget.tryReserve(100)).toBe(true);
    const waiting = budget.reserve(100);
    expect(() => budget.reserve(1)).toThrow(expect.objectContaining({ code: 'publisher.backpressure', retriable: true }));
    await expect(waiting).rejects.toMatchObject({ code: 'publisher.backpressure', context: { waitedMs: 30 } });
    expect(budget.waitingBytes).toBe(0);
    // The expired waiter holds nothing: room given back goes to the next caller.
    budget.release(100);
    expect(budget.tryReserve(100)).toBe(true);
  });

  it('skips a waiter whose wait ran out, and admits the one behind it', async () => {
    const budget = sender(100, 20);
    expect(budget.tryReserve(100)).toBe(true);
    const gone = budget.reserve(30);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const after = budget.reserve(40);
    await expect(gone).rejects.toMatchObject({ code: 'publisher.backpressure' });
    budget.release(40);
    await after;
    expect(budget.inFlightBytes).toBe(100);
    expect(budget.waitingBytes).toBe(0);
  });

  it('keeps its queue bounded under backpressure that never lets up', async () => {
    const budget = sender(1000);
    expect(budget.tryReserve(1000)).toBe(true);
    // One caller always waits while another is admitted: the queue never empties.
    let pending = budget.reserve(10);
    for (let i = 0; i < 20_000; i += 1) {
      const next = budget.reserve(10);
      budget.release(10);
      await pending;
      pending = next;
    }
    expect(budget.waitingBytes).toBe(10);
    expect(budget.waiterSlots).toBeLessThan(3000);
    budget.release(10);
    await pending;
  });
});

describe('sendFailure', () => {
  const RetriesExceeded = KafkaJSNumberOfRetriesExceeded as unknown as new (error: Error, options: object) => Error;
  const notEnoughReplicas = () =>
    new KafkaJSProtocolError({
      type: 'NOT_ENOUGH_REPLICAS',
      message: 'fewer in-sync replicas than required',
      code: 19,
      retriable: true,
    } as never);
  const context = { topics: ['orders.order'], events: 3, sendTimeoutMs: 6000 };

  it('says nothing was sent when the timeout ends the wait for a connection', () => {
    expect(sendFailure(new SendExpired(), false, undefined, context)).toMatchObject({
      code: 'timeout',
      message: expect.stringContaining('nothing was sent'),
    });
  });

  it("names Kafka's last refusal when the timeout ends an attempt in flight, as retries that ran out do", () => {
    const expired = sendFailure(new SendExpired(), true, notEnoughReplicas(), context);
    const exhausted = sendFailure(new RetriesExceeded(notEnoughReplicas(), { retryCount: 9, retryTime: 800 }), true, undefined, context);
    for (const failure of [expired, exhausted]) {
      expect(failure).toMatchObject({
        code: 'publisher.outcome-unknown',
        retriable: true,
        context: { reason: 'broker.unavailable', sendTimeoutMs: 6000 },
      });
      expect(failure.message).toContain('within 6000 ms of retries (last: NOT_ENOUGH_REPLICAS: fewer in-sync replicas than required)');
    }
  });

  it('leaves the reason out when Kafka refused nothing before the timeout', () => {
    const failure = sendFailure(new SendExpired(), true, undefined, context);
    expect(failure).toMatchObject({
      code: 'publisher.outcome-unknown',
      message: expect.stringContaining('within 6000 ms (sendTimeoutMs)'),
    });
    expect(failure.context).not.toHaveProperty('reason');
  });

  it('passes on a refusal that blames the records, and any failure before the request left', () => {
    const tooLarge = new KafkaJSProtocolError({ type: 'MESSAGE_TOO_LARGE', message: 'too large', code: 10, retriable: false } as never);
    expect(sendFailure(tooLarge, true, notEnoughReplicas(), context)).toMatchObject({ code: 'event.invalid' });
    expect(sendFailure(new KafkaJSConnectionError('Connection refused'), false, undefined, context)).toMatchObject({
      code: 'broker.unavailable',
    });
  });
});
