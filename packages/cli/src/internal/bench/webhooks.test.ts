import { describe, expect, it } from 'vitest';
import type { Delivery } from '../webhooks/receiver.ts';
import { arrangements, RoundTally } from './webhooks.ts';

const event = (id: string, sentMsAgo: number, receivedAt = new Date()): Delivery => ({
  kind: 'event',
  webhookId: id,
  receivedAt,
  event: { id, time: new Date(receivedAt.getTime() - sentMsAgo).toISOString() },
});

describe('RoundTally', () => {
  it('finishes once every published id has come, counting a delivery that beat its publish call', async () => {
    const tally = new RoundTally();
    let finished = false;
    void tally.finished.then(() => {
      finished = true;
    });
    tally.record(event('a', 30), 100);
    tally.expect('a');
    tally.expect('b');
    tally.seal();
    expect(tally.left).toBe(1);
    await Promise.resolve();
    expect(finished).toBe(false);
    tally.record(event('b', 10), 250);
    await tally.finished;
    expect(tally.outcome()).toEqual({ latencies: [10, 30], last: 250 });
  });

  it('does not finish before it is sealed, though every id told so far has come', async () => {
    const tally = new RoundTally();
    let finished = false;
    void tally.finished.then(() => {
      finished = true;
    });
    tally.expect('a');
    tally.record(event('a', 5), 1);
    await Promise.resolve();
    expect(finished).toBe(false);
    tally.seal();
    await tally.finished;
    expect(finished).toBe(true);
  });

  it("ignores an earlier round's late delivery, counts a repeat as again, and keeps the first receipt of an id", () => {
    const tally = new RoundTally();
    tally.expect('a');
    tally.record(event('old', 5), 1);
    tally.record(event('a', 20), 10);
    tally.record(event('a', 99), 50);
    tally.record({ kind: 'again', webhookId: 'a', receivedAt: new Date() }, 60);
    tally.seal();
    expect(tally.left).toBe(0);
    expect(tally.again).toBe(1);
    expect(tally.outcome()).toEqual({ latencies: [20], last: 10 });
  });
});

describe('arrangements', () => {
  it('alternates which arrangement goes first, so drift favours neither', () => {
    expect(arrangements(3)).toEqual(['alone', 'beside', 'beside', 'alone', 'alone', 'beside']);
    expect(arrangements(1)).toEqual(['alone', 'beside']);
  });
});
