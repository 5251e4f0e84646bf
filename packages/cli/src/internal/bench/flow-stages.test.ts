import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Database, migrateOutbox, openPGlite, type Queryable } from '@junction/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowStages } from './flow-stages.ts';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const at = (ms: number) => new Date(T0 + ms);

/** One service's outbox row: an event made at `made`, in a transaction begun at `began`. */
async function emitted(db: Queryable, schema: string, type: string, began: number, made: number, cause?: string): Promise<string> {
  const id = randomUUID();
  await db.query(
    `INSERT INTO ${schema}.junction_outbox (event_id, topic, key, event_type, event_version, headers, body, event_time, created_at)
     VALUES ($1, 't', 'k', $2, 1, $3, '\\x00', $4, $5)`,
    [id, type, JSON.stringify(cause ? { 'causation-id': cause } : {}), at(made), at(began)],
  );
  return id;
}

/** One service's inbox row: `eventId` handled in a transaction begun at `began`. */
async function handled(db: Queryable, schema: string, eventId: string, began: number): Promise<void> {
  await db.query(`INSERT INTO ${schema}.junction_inbox (group_name, event_id, processed_at, expires_at) VALUES ($1, $2, $3, $3)`, [
    schema,
    eventId,
    at(began),
  ]);
}

/** An order through the whole confirmation path; each span is a stage's length in ms, in the path's order. */
async function confirmedOrder(db: Queryable, placedAt: number, spans: [number, number, number, number, number, number]): Promise<void> {
  // The moments between the stages: placed, OrderPlaced made, inventory began, … orders began.
  const t = [placedAt];
  for (const span of spans) t.push((t.at(-1) ?? 0) + span);
  const [placed0, placedMade, inventoryBegan, reservedMade, billingBegan, capturedMade, ordersBegan] = t as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const placed = await emitted(db, 'orders', 'com.junction.orders.OrderPlaced', placed0, placedMade);
  await handled(db, 'inventory', placed, inventoryBegan);
  const reserved = await emitted(db, 'inventory', 'com.junction.inventory.StockReserved', inventoryBegan, reservedMade, placed);
  await handled(db, 'billing', reserved, billingBegan);
  const captured = await emitted(db, 'billing', 'com.junction.billing.PaymentCaptured', billingBegan, capturedMade, reserved);
  await handled(db, 'orders', captured, ordersBegan);
}

describe('flowStages', () => {
  let dir: string;
  let db: Database;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'junction-flow-stages-'));
    db = await openPGlite(dir);
    // The services' own tables, each in its schema, as the kit makes them.
    for (const schema of ['orders', 'inventory', 'billing']) {
      await db.query(`CREATE SCHEMA ${schema}`);
      await db.query(`SET search_path TO ${schema}`);
      await migrateOutbox(db);
    }
    await db.query('SET search_path TO public');
  });

  afterAll(async () => {
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("follows each confirmed order of the window through every service's outbox and inbox, stage by stage", async () => {
    await confirmedOrder(db, 1_000, [4, 10, 3, 10, 30, 12]);
    await confirmedOrder(db, 2_000, [6, 30, 5, 50, 40, 20]);
    // Placed before the window: not counted.
    await confirmedOrder(db, -5_000, [1000, 1000, 1000, 1000, 1000, 1000]);
    // Rejected for stock: it never takes the confirmation path, and is not counted.
    const rejected = await emitted(db, 'orders', 'com.junction.orders.OrderPlaced', 3_000, 3_002);
    await handled(db, 'inventory', rejected, 3_010);
    await emitted(db, 'inventory', 'com.junction.inventory.StockRejected', 3_010, 3_012, rejected);

    const result = await flowStages(db, { from: at(0), to: at(10_000) });
    expect(result?.orders).toBe(2);
    expect(result?.stages.map((stage) => stage.label)).toEqual([
      "orders: the request's transaction until OrderPlaced",
      'OrderPlaced to inventory (relay, Kafka, fetch, queue)',
      'inventory: handling until StockReserved',
      'StockReserved to billing (relay, Kafka, fetch, queue)',
      'billing: handling until PaymentCaptured',
      'PaymentCaptured to orders (relay, Kafka, fetch, queue)',
    ]);
    expect(result?.stages.map((stage) => stage.meanMs)).toEqual([5, 20, 4, 30, 35, 16]);
    expect(result?.stages.map((stage) => stage.p50Ms)).toEqual([5, 20, 4, 30, 35, 16]);
    // p99 of two values lies just under the larger.
    expect(result?.stages.map((stage) => Math.round(stage.p99Ms))).toEqual([6, 30, 5, 50, 40, 20]);
  });

  it('is undefined for a window in which no order went the whole way', async () => {
    expect(await flowStages(db, { from: at(50_000), to: at(60_000) })).toBeUndefined();
  });
});
