import { JunctionError } from '@junction/observability';
import { describe, expect, it } from 'vitest';
import { recordContext } from '../testing/contexts.ts';
import { afterCommit } from './after-commit.ts';
import { idempotency } from './idempotency.ts';
import { memoryInbox } from './inbox/memory.ts';
import { retryInPlace } from './retry.ts';
import { chain } from './types.ts';

const context = (eventId: string) => recordContext('billing.payment', { ce_id: eventId });

describe('afterCommit', () => {
  it('runs the effects a handler asked for only after everything inside it succeeded', async () => {
    const seen: string[] = [];
    const handle = afterCommit()(async (ctx) => {
      ctx.afterCommit?.(() => seen.push('effect'));
      seen.push('handler done');
    });
    await handle(context('e-1'));
    expect(seen).toEqual(['handler done', 'effect']);
  });

  it('drops the effects of a failed attempt, runs those of the attempt that succeeded, and none for a duplicate', async () => {
    let effects = 0;
    let attempts = 0;
    const handle = chain(
      [
        retryInPlace({ retries: 2, backoff: { initialMs: 1, multiplier: 1, maxMs: 1, jitter: 0 } }),
        afterCommit(),
        idempotency({ store: memoryInbox(), ttlMs: 60_000 }),
      ],
      async (ctx) => {
        attempts += 1;
        ctx.afterCommit?.(() => {
          effects += 1;
        });
        // The first attempt's writes would roll back: its effect must not happen.
        if (attempts === 1) throw new JunctionError('timeout', 'the database went away', { retriable: true });
      },
    );
    await handle(context('e-2'));
    await handle(context('e-2'));
    expect(attempts).toBe(2);
    expect(effects).toBe(1);
  });

  it('reports an effect that throws instead of failing the record, and still runs the others', async () => {
    const errors: unknown[] = [];
    let ran = false;
    const handle = afterCommit({ onError: (error) => errors.push(error) })(async (ctx) => {
      ctx.afterCommit?.(() => {
        throw new Error('metrics broke');
      });
      ctx.afterCommit?.(() => {
        ran = true;
      });
    });
    await expect(handle(context('e-3'))).resolves.toBeUndefined();
    expect(String(errors[0])).toContain('metrics broke');
    expect(ran).toBe(true);
  });

  it('gives the context back its own afterCommit when the call ends, failed or not', async () => {
    const outer = () => {};
    for (const fails of [false, true]) {
      const ctx = { ...context('e-9'), afterCommit: outer };
      let inside: unknown;
      const call = afterCommit()(async (c) => {
        inside = c.afterCommit;
        if (fails) throw new Error('handler failed');
      })(ctx);
      if (fails) await expect(call).rejects.toThrow('handler failed');
      else await call;
      expect(inside).not.toBe(outer);
      expect(ctx.afterCommit).toBe(outer);
    }
  });
});
