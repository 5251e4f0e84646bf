import { afterCommit, chain, type Middleware, type Outbox, type Queryable } from '@junction/events';
import { recordContext, sampleEvent } from '@junction/events/testing';
import { describe, expect, it } from 'vitest';
import { relayWaking } from './relay-wake.ts';

/** Stores nothing: what is under test is which transactions added events, not the storing. */
const outbox: Outbox = { add: async () => ({ id: 'stored' }) };

/** Gives each attempt a transaction of its own, as the database inbox does, and notes its commit in `log`. */
const transactions =
  (log: string[]): Middleware =>
  (next) =>
  async (ctx) => {
    ctx.tx = { query: async () => ({ rows: [] }) } satisfies Queryable;
    try {
      await next(ctx);
      log.push('commit');
    } finally {
      ctx.tx = undefined;
    }
  };

describe('relayWaking', () => {
  const setup = (body: (tx: Queryable, waking: ReturnType<typeof relayWaking>) => Promise<void>) => {
    const log: string[] = [];
    const waking = relayWaking(outbox, () => log.push('wake'));
    const handle = chain(
      [afterCommit(), transactions(log)],
      waking.handler((ctx) => body(ctx.tx as Queryable, waking)),
    );
    return { log, wakes: () => log.filter((entry) => entry === 'wake'), handle };
  };
  const event = { type: 'com.junction.orders.OrderPlaced', data: sampleEvent('com.junction.orders.OrderPlaced', 'o-1') };

  it('wakes the relay after the transaction of a handler that added an event commits', async () => {
    const { log, handle } = setup(async (tx, waking) => {
      await waking.outbox.add(tx, event);
      log.push('handler done');
    });
    await handle(recordContext());
    expect(log).toEqual(['handler done', 'commit', 'wake']);
  });

  it('does not wake it for a handler that added nothing, nor for one that failed after adding', async () => {
    const quiet = setup(async (tx) => {
      await tx.query('UPDATE orders SET status = $1', ['reserved']);
    });
    await quiet.handle(recordContext());
    expect(quiet.log).toEqual(['commit']);

    const failing = setup(async (tx, waking) => {
      await waking.outbox.add(tx, event);
      throw new Error('rolled back');
    });
    await expect(failing.handle(recordContext())).rejects.toThrow('rolled back');
    expect(failing.wakes()).toEqual([]);
  });

  it('tells one transaction from another: an event added by one handler does not wake for the next', async () => {
    let adds = true;
    const { log, handle } = setup(async (tx, waking) => {
      if (adds) await waking.outbox.add(tx, event);
    });
    await handle(recordContext());
    adds = false;
    await handle(recordContext());
    expect(log).toEqual(['commit', 'wake', 'commit']);
  });
});
