import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { postgresFromEnv, stackFromEnv } from '@junction/stack';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Database, fromPgPool } from '../outbox/database.ts';
import { migrateOutbox } from '../outbox/migrations.ts';
import { createPublisher, type Publisher } from '../publisher/publisher.ts';
import { type PrivateContracts, privateContracts, until } from '../testing/contracts.ts';
import { sampleEvent } from '../testing/samples.ts';
import { postgresInbox } from './inbox/postgres.ts';
import { createSubscriber } from './subscriber.ts';
import type { Subscriber } from './subscriber-options.ts';
import type { EventContext } from './types.ts';

// Effects counted in PostgreSQL: with the inbox, each event's effect is applied exactly once,
// through a kill -9 in the middle of a handler and through a member leaving its group.

const { brokers, schemaRegistryUrl } = stackFromEnv();
const CANCELLED = 'com.junction.orders.OrderCancelled';
const SUBSCRIBER_PROCESS = resolve(import.meta.dirname, '../testing/subscriber-process.ts');

let contracts: PrivateContracts;
let publisher: Publisher;
let admin: pg.Client;
const databases: string[] = [];

beforeAll(async () => {
  admin = new pg.Client({ connectionString: postgresFromEnv() });
  await admin.connect();
});

afterAll(async () => {
  for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
  await admin?.end();
});

// Each test has topics of its own.
beforeEach(async () => {
  contracts = await privateContracts({ brokers, registryUrl: schemaRegistryUrl, partitions: 3 });
  publisher = createPublisher({ service: 'orders', kafka: { brokers }, registry: { url: schemaRegistryUrl }, catalog: contracts.catalog });
});

afterEach(async () => {
  await publisher.close();
  await contracts.cleanup();
});

/** A fresh database with the inbox and an `effects` table that would show a double effect. */
async function effectsDatabase(): Promise<{
  url: string;
  pool: pg.Pool;
  db: Database;
  effects(): Promise<{ total: number; distinct: number }>;
}> {
  const name = `effects_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  databases.push(name);
  const url = new URL(postgresFromEnv());
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 8 });
  pool.on('error', () => {});
  const db = fromPgPool(pool);
  await migrateOutbox(db);
  await db.query('CREATE TABLE effects (n bigserial PRIMARY KEY, event_id text NOT NULL, pid integer)');
  return {
    url: url.toString(),
    pool,
    db,
    effects: async () => {
      const { rows } = await db.query('SELECT count(*)::int AS total, count(DISTINCT event_id)::int AS distinct FROM effects');
      return rows[0] as { total: number; distinct: number };
    },
  };
}

async function publishMany(count: number): Promise<Set<string>> {
  const keys = Array.from({ length: 40 }, () => randomUUID());
  const sent = await Promise.all(
    Array.from({ length: count }, (_, i) => publisher.publish(CANCELLED, sampleEvent(CANCELLED, keys[i % keys.length]))),
  );
  return new Set(sent.map((s) => s.id));
}

function subscriberProcess(env: Record<string, string>): {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
} {
  const child = spawn(process.execPath, ['--conditions=junction-source', '--no-warnings', SUBSCRIBER_PROCESS], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  return { child, exited };
}

describe('exactly-once effects with the PostgreSQL inbox', () => {
  it('after a kill -9 in the middle of a handler, every event has its effect exactly once', { timeout: 180_000 }, async () => {
    const store = await effectsDatabase();
    const ids = await publishMany(400);
    const env = {
      SUB_DB: `postgres:${store.url}`,
      SUB_GROUP: `crash-${randomBytes(4).toString('hex')}`,
      RELAY_TOPIC_SUFFIX: contracts.suffix,
    };

    const crashing = subscriberProcess({ ...env, SUB_CRASH_AFTER: '150' });
    const crash = await crashing.exited;
    expect(crash.signal).toBe('SIGKILL');
    const afterCrash = await store.effects();
    expect(afterCrash.total).toBeLessThan(400);
    expect(afterCrash.total).toBe(afterCrash.distinct);

    const resumed = subscriberProcess(env);
    try {
      await until(async () => (await store.effects()).total >= 400, 90_000, '400 effects');
      await new Promise((settle) => setTimeout(settle, 1000)); // time for a double effect to show, if there were one
    } finally {
      resumed.child.kill('SIGTERM');
    }
    // SIGTERM drains, commits and disconnects, and the process exits cleanly.
    expect(await resumed.exited).toEqual({ code: 0, signal: null });
    expect(await store.effects()).toEqual({ total: 400, distinct: 400 });
    const { rows } = await store.db.query('SELECT event_id FROM effects');
    expect(new Set((rows as Array<{ event_id: string }>).map((r) => r.event_id))).toEqual(ids);
    await store.pool.end();
  });

  it('when one of two members leaves mid-stream, nothing is lost and nothing is done twice', { timeout: 180_000 }, async () => {
    const store = await effectsDatabase();
    const group = `pair-${randomBytes(4).toString('hex')}`;
    const handledBy = { first: 0, second: 0 };
    const member = (name: keyof typeof handledBy): Subscriber =>
      createSubscriber({
        group,
        kafka: { brokers },
        registry: { url: schemaRegistryUrl },
        catalog: contracts.catalog,
        ordering: 'key',
        commitIntervalMs: 200,
        idempotency: { store: postgresInbox(store.db), ttlMs: 3_600_000 },
        handlers: {
          [CANCELLED]: async (ctx: EventContext) => {
            await new Promise((wait) => setTimeout(wait, 2));
            await ctx.tx?.query('INSERT INTO effects (event_id) VALUES ($1)', [ctx.event?.id]);
            handledBy[name] += 1;
          },
        },
      });
    const [first, second] = [member('first'), member('second')];
    await first.start();
    await second.start();
    const ids = await publishMany(600);
    try {
      // Both members have partitions and work before one leaves.
      await until(async () => handledBy.first > 50 && handledBy.second > 50, 60_000, 'both members to handle events');
      await first.stop({ deadlineMs: 10_000 });
      // Events published after the leave land on the leaver's partitions too: the member that
      // stayed must take them over.
      for (const id of await publishMany(200)) ids.add(id);
      await until(async () => (await store.effects()).total >= 800, 90_000, '800 effects');
      await new Promise((settle) => setTimeout(settle, 1000));
      expect(second.stats.rebalances).toBeGreaterThan(0);
    } finally {
      await first.stop({ deadlineMs: 1000 }).catch(() => {});
      await second.stop({ deadlineMs: 5000 });
    }
    expect(await store.effects()).toEqual({ total: 800, distinct: 800 });
    const { rows } = await store.db.query('SELECT event_id FROM effects');
    expect(new Set((rows as Array<{ event_id: string }>).map((r) => r.event_id))).toEqual(ids);
    await store.pool.end();
  });

  it('takes no inbox transaction and leaves no row for an event type it does not handle', { timeout: 120_000 }, async () => {
    const store = await effectsDatabase();
    const PLACED = 'com.junction.orders.OrderPlaced';
    // The same topic carries both types; this subscriber handles only the cancellations.
    const placed = await Promise.all(Array.from({ length: 30 }, () => publisher.publish(PLACED, sampleEvent(PLACED, randomUUID()))));
    const cancelled = await publishMany(20);
    const subscriber = createSubscriber({
      group: `skip-${randomBytes(4).toString('hex')}`,
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog: contracts.catalog,
      commitIntervalMs: 200,
      idempotency: { store: postgresInbox(store.db), ttlMs: 3_600_000 },
      handlers: {
        [CANCELLED]: async (ctx: EventContext) => {
          await ctx.tx?.query('INSERT INTO effects (event_id) VALUES ($1)', [ctx.event?.id]);
        },
      },
    });
    await subscriber.start();
    try {
      await until(async () => subscriber.stats.outcomes.ok + subscriber.stats.outcomes.skipped >= 50, 60_000, '50 records');
    } finally {
      await subscriber.stop({ deadlineMs: 5000 });
    }
    expect(subscriber.stats.outcomes).toMatchObject({ ok: 20, skipped: 30 });
    const { rows } = await store.db.query('SELECT event_id FROM junction_inbox');
    expect(new Set((rows as Array<{ event_id: string }>).map((r) => r.event_id))).toEqual(cancelled);
    expect(placed.map((p) => p.id).filter((id) => cancelled.has(id))).toEqual([]);
    await store.pool.end();
  });
});
