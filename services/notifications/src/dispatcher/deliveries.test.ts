import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from '@junction/events';
import { migrateService, openServiceDatabase, readMigrations } from '@junction/service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClaimedDelivery, type FailureClock, settle } from './deliveries.ts';

/** The failure clock of an endpoint, on the service's own tables (PGlite, its migrations applied). */
describe('settle: the failure clock of an endpoint', () => {
  let dir: string;
  let db: Database;
  const clock: FailureClock = { disableAfterMs: 3000, pauseMs: 1000 };
  const t0 = Date.parse('2026-12-07T10:00:00Z');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'junction-deliveries-'));
    db = await openServiceDatabase({ database: { kind: 'pglite', dir }, schema: 'notifications' });
    await migrateService(db, await readMigrations(fileURLToPath(new URL('../../migrations', import.meta.url))));
  });
  afterAll(async () => {
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const endpoint = async (): Promise<string> => {
    const id = randomUUID();
    await db.query(
      `INSERT INTO subscriptions (subscription_id, owner, url, event_types) VALUES ($1, 'team', 'http://127.0.0.1:1/hooks', '{*}')`,
      [id],
    );
    return id;
  };
  /** One attempt of a fresh delivery to `subscription`, from `at` (ms after t0) for 10 ms; whether it disabled the endpoint. */
  const attempt = async (subscription: string, at: number, ok: boolean): Promise<boolean> => {
    const eventId = randomUUID();
    const deliveryId = randomUUID();
    await db.query(
      `INSERT INTO webhook_events (event_id, event_type, key, body, masked_body) VALUES ($1, 'com.junction.orders.OrderPlaced', 'k', '{}', '{}')`,
      [eventId],
    );
    await db.query(`INSERT INTO deliveries (delivery_id, subscription_id, event_id, key, attempts) VALUES ($1, $2, $3, 'k', 1)`, [
      deliveryId,
      subscription,
      eventId,
    ]);
    const delivery: ClaimedDelivery = {
      deliveryId,
      subscriptionId: subscription,
      eventId,
      eventType: 'com.junction.orders.OrderPlaced',
      attempt: 1,
      roundAttempt: 1,
      roundStartedAt: new Date(t0),
      url: 'http://127.0.0.1:1/hooks',
      body: '{}',
      secrets: [],
    };
    const { settled, disabled } = await settle(
      db,
      delivery,
      { startedAt: new Date(t0 + at), durationMs: 10, statusCode: ok ? 200 : 500, error: ok ? null : 'HTTP 500', responseBody: null },
      ok ? { status: 'delivered' } : { status: 'pending', retryAt: new Date(t0 + at + 100) },
      clock,
    );
    expect(settled).toBe(true);
    return disabled;
  };
  const state = async (subscription: string) =>
    (await db.query('SELECT status, disabled_reason, failing_since FROM subscriptions WHERE subscription_id = $1', [subscription]))
      .rows[0] as { status: string; disabled_reason: string | null; failing_since: Date | null };

  it('disables an endpoint whose attempts failed one after another for the bound', async () => {
    const id = await endpoint();
    for (const at of [0, 800, 1600, 2400]) expect(await attempt(id, at, false)).toBe(false);
    expect((await state(id)).failing_since?.getTime()).toBe(t0);
    expect(await attempt(id, 3000, false)).toBe(true);
    expect(await state(id)).toMatchObject({
      status: 'disabled',
      disabled_reason: expect.stringMatching(/^every attempt failed for 3000 ms/),
    });
  });

  it('starts the clock again after a success', async () => {
    const id = await endpoint();
    await attempt(id, 0, false);
    await attempt(id, 800, true);
    expect((await state(id)).failing_since).toBeNull();
    for (const at of [1600, 2400, 3200]) expect(await attempt(id, at, false)).toBe(false);
    expect((await state(id)).failing_since?.getTime()).toBe(t0 + 1600);
  });

  it('starts the clock again after a pause in the attempts (the dispatcher down): nobody was trying meanwhile', async () => {
    const id = await endpoint();
    await attempt(id, 0, false);
    await attempt(id, 500, false);
    // 10 s later, beyond the pause: a restarted dispatcher's first failure does not disable it.
    expect(await attempt(id, 10_500, false)).toBe(false);
    expect(await state(id)).toMatchObject({ status: 'active', failing_since: new Date(t0 + 10_500) });
    // Failures that go on from there do, once they span the bound.
    for (const at of [11_300, 12_100, 12_900]) expect(await attempt(id, at, false)).toBe(false);
    expect(await attempt(id, 13_500, false)).toBe(true);
  });
});
