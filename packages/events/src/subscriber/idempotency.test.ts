import { JunctionError } from '@junction/observability';
import { describe, expect, it } from 'vitest';
import type { Queryable } from '../outbox/database.ts';
import { idempotency } from './idempotency.ts';
import { memoryInbox } from './inbox/memory.ts';
import type { InboxStore } from './inbox/store.ts';
import type { EventContext } from './types.ts';

function context(options: { eventId?: string; header?: string } = {}): EventContext {
  return {
    group: 'billing',
    record: {
      topic: 'orders.order',
      partition: 0,
      offset: '3',
      key: 'o-1',
      value: null,
      headers: options.header ? { ce_id: options.header } : {},
      timestamp: 0,
    },
    ...(options.eventId
      ? { event: { id: options.eventId, type: 'com.junction.orders.OrderPlaced', version: 1, schemaId: 1, data: {} } }
      : {}),
    attempt: 1,
    signal: new AbortController().signal,
  };
}

describe('idempotency', () => {
  it('runs the handler once per event id; a duplicate is marked deduplicated and reported', async () => {
    const outcomes: string[] = [];
    let calls = 0;
    const handle = idempotency({ store: memoryInbox(), ttlMs: 60_000, onOutcome: (o) => outcomes.push(o) })(async () => {
      calls += 1;
    });
    await handle(context({ eventId: 'e-1' }));
    const again = context({ eventId: 'e-1' });
    await handle(again);
    expect(calls).toBe(1);
    expect(again.outcome).toBe('deduplicated');
    expect(outcomes).toEqual(['processed', 'duplicate']);
  });

  it('falls back to the ce_id header before decode, and passes records without an id through', async () => {
    let calls = 0;
    const outcomes: string[] = [];
    const handle = idempotency({ store: memoryInbox(), ttlMs: 60_000, onOutcome: (o) => outcomes.push(o) })(async () => {
      calls += 1;
    });
    await handle(context({ header: 'e-2' }));
    await handle(context({ eventId: 'e-2' }));
    await handle(context());
    await handle(context());
    expect(calls).toBe(3);
    expect(outcomes).toEqual(['processed', 'duplicate']);
  });

  it('dedupes per group: another group processes the same event', async () => {
    let calls = 0;
    const handle = idempotency({ store: memoryInbox(), ttlMs: 60_000 })(async () => {
      calls += 1;
    });
    await handle(context({ eventId: 'e-3' }));
    await handle({ ...context({ eventId: 'e-3' }), group: 'notifications' });
    expect(calls).toBe(2);
  });

  it('forgets a failed event, so a retry processes it', async () => {
    let calls = 0;
    const failure = new JunctionError('broker.unavailable', 'down');
    const handle = idempotency({ store: memoryInbox(), ttlMs: 60_000 })(async () => {
      calls += 1;
      if (calls === 1) throw failure;
    });
    await expect(handle(context({ eventId: 'e-4' }))).rejects.toBe(failure);
    await handle(context({ eventId: 'e-4' }));
    expect(calls).toBe(2);
  });

  it('gives the handler the store transaction as ctx.tx, only for the call', async () => {
    const tx: Queryable = { query: async () => ({ rows: [] }) };
    const store: InboxStore = {
      run: async (_key, work) => {
        await work(tx);
        return 'processed';
      },
      close: async () => {},
    };
    let seen: Queryable | undefined;
    const ctx = context({ eventId: 'e-5' });
    await idempotency({ store, ttlMs: 1_000 })(async (inner) => {
      seen = inner.tx;
    })(ctx);
    expect(seen).toBe(tx);
    expect(ctx.tx).toBeUndefined();
  });

  it('refuses a TTL that is not positive', () => {
    expect(() => idempotency({ store: memoryInbox(), ttlMs: 0 })).toThrow(expect.objectContaining({ code: 'config.invalid' }));
  });

  it('asks the store for a lock per key only with lockKey, and only for records that have a key', async () => {
    const keys: unknown[] = [];
    const store: InboxStore = {
      run: async (key, work) => {
        keys.push(key);
        await work(undefined);
        return 'processed';
      },
      close: async () => {},
    };
    const keyless = context({ eventId: 'e-3' });
    keyless.record.key = null;
    await idempotency({ store, ttlMs: 1_000, lockKey: true })(async () => {})(context({ eventId: 'e-1' }));
    await idempotency({ store, ttlMs: 1_000 })(async () => {})(context({ eventId: 'e-2' }));
    await idempotency({ store, ttlMs: 1_000, lockKey: true })(async () => {})(keyless);
    expect(keys).toEqual([
      { group: 'billing', eventId: 'e-1', ttlMs: 1_000, lock: 'billing/o-1' },
      { group: 'billing', eventId: 'e-2', ttlMs: 1_000 },
      { group: 'billing', eventId: 'e-3', ttlMs: 1_000 },
    ]);
  });

  it('leaves ctx.tx as it was for a store without transactions, and marks nothing on a first delivery', async () => {
    const outer: Queryable = { query: async () => ({ rows: [] }) };
    const ctx = { ...context({ eventId: 'e-9' }), tx: outer };
    let seen: Queryable | undefined;
    await idempotency({ store: memoryInbox(), ttlMs: 1_000 })(async (inner) => {
      seen = inner.tx;
    })(ctx);
    expect(seen).toBe(outer);
    expect(ctx.outcome).toBeUndefined();
  });

  it('names the TTL it refused', () => {
    expect(() => idempotency({ store: memoryInbox(), ttlMs: -5 })).toThrow('idempotency: ttlMs must be positive, got -5');
  });
});
