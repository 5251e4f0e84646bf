import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JunctionError } from '@junction/observability';
import { postgresFromEnv } from '@junction/stack';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, fromPgPool, openPGlite } from '../../outbox/database.ts';
import { migrateOutbox } from '../../outbox/migrations.ts';
import { idempotency } from '../idempotency.ts';
import type { EventContext, Handler } from '../types.ts';
import { postgresInbox } from './postgres.ts';

// The same SQL and the same tests on PGlite (embedded, file-backed) and on real PostgreSQL.

/** A fresh, empty database of one kind. */
interface TestDatabase {
  db: Database;
  cleanup(): Promise<void>;
}

async function pgliteDatabase(): Promise<TestDatabase> {
  const dir = await mkdtemp(join(tmpdir(), 'junction-inbox-'));
  const db = await openPGlite(dir);
  return {
    db,
    cleanup: async () => {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function postgresDatabase(): Promise<TestDatabase> {
  const server = postgresFromEnv();
  const name = `inbox_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {});
  return {
    db: fromPgPool(pool),
    cleanup: async () => {
      await pool.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

function context(eventId: string, key = 'o-1'): EventContext {
  return {
    group: 'billing',
    record: { topic: 'orders.order', partition: 0, offset: '1', key, value: null, headers: { ce_id: eventId }, timestamp: 0 },
    attempt: 1,
    signal: new AbortController().signal,
  };
}

describe.each([
  ['PGlite', pgliteDatabase],
  ['PostgreSQL', postgresDatabase],
])('the inbox on %s', (kind, makeDatabase) => {
  let database: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    database = await makeDatabase();
    db = database.db;
    await migrateOutbox(db);
    await db.query('CREATE TABLE payments (event_id text PRIMARY KEY, amount integer NOT NULL)');
    await db.query('CREATE TABLE ledger (key text NOT NULL, seq integer NOT NULL, PRIMARY KEY (key, seq))');
  });

  afterAll(async () => {
    await database?.cleanup();
  });

  /** A handler that records a payment through ctx.tx, then fails when told to. */
  function paying(options: { fail?: boolean; delayMs?: number } = {}): Handler & { calls: number } {
    const handler = async (ctx: EventContext) => {
      state.calls += 1;
      if (!ctx.tx) throw new Error('no transaction');
      await ctx.tx.query('INSERT INTO payments (event_id, amount) VALUES ($1, 100)', [ctx.record.headers.ce_id]);
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      if (options.fail) throw new JunctionError('broker.unavailable', 'could not publish the receipt');
    };
    const state = Object.assign(handler, { calls: 0 });
    return state;
  }

  const rows = async (table: string, eventId: string) =>
    (await db.query(`SELECT 1 FROM ${table} WHERE event_id = $1`, [eventId])).rows.length;

  it('commits the handler write through ctx.tx together with the inbox row, and skips a duplicate', async () => {
    const id = randomUUID();
    const outcomes: string[] = [];
    const handler = paying();
    const handle = idempotency({ store: postgresInbox(db), ttlMs: 60_000, onOutcome: (o) => outcomes.push(o) })(handler);
    await handle(context(id));
    const duplicate = context(id);
    await handle(duplicate);
    expect(handler.calls).toBe(1);
    expect(duplicate.outcome).toBe('deduplicated');
    expect(outcomes).toEqual(['processed', 'duplicate']);
    expect(await rows('junction_inbox', id)).toBe(1);
    expect(await rows('payments', id)).toBe(1);
  });

  it('rolls back the inbox row and the effects when the handler fails, so a retry processes it', async () => {
    const id = randomUUID();
    const store = postgresInbox(db);
    await expect(idempotency({ store, ttlMs: 60_000 })(paying({ fail: true }))(context(id))).rejects.toMatchObject({
      code: 'broker.unavailable',
    });
    expect(await rows('junction_inbox', id)).toBe(0);
    expect(await rows('payments', id)).toBe(0);
    const retry = paying();
    await idempotency({ store, ttlMs: 60_000 })(retry)(context(id));
    expect(retry.calls).toBe(1);
    expect(await rows('payments', id)).toBe(1);
  });

  it(`runs the handler once for duplicates that arrive at the same time${kind === 'PGlite' ? ' (PGlite serialises them)' : ''}`, async () => {
    const id = randomUUID();
    const handler = paying({ delayMs: 200 });
    const handle = idempotency({ store: postgresInbox(db), ttlMs: 60_000 })(handler);
    const first = context(id);
    const second = context(id);
    await Promise.all([handle(first), handle(second)]);
    expect(handler.calls).toBe(1);
    expect([first.outcome, second.outcome].sort()).toEqual(['deduplicated', undefined].sort());
    expect(await rows('payments', id)).toBe(1);
  });

  it('with lockKey, runs the handlers of one key in turn, each seeing what the last committed; other keys at once', async () => {
    const key = `o-${randomUUID()}`;
    const other = `o-${randomUUID()}`;
    const spans: Record<string, [number, number]> = {};
    // Reads, waits, then writes what it read plus one: two at once on one key would both write 1.
    const next = async (ctx: EventContext) => {
      const tx = ctx.tx as NonNullable<EventContext['tx']>;
      const started = performance.now();
      const { rows: read } = await tx.query('SELECT count(*)::int AS n FROM ledger WHERE key = $1', [ctx.record.key]);
      await new Promise((resolve) => setTimeout(resolve, 150));
      await tx.query('INSERT INTO ledger (key, seq) VALUES ($1, $2)', [ctx.record.key, (read[0] as { n: number }).n + 1]);
      spans[ctx.record.headers.ce_id as string] = [started, performance.now()];
    };
    const handle = idempotency({ store: postgresInbox(db), ttlMs: 60_000, lockKey: true })(next);
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    await Promise.all([handle(context(a, key)), handle(context(b, key)), handle(context(c, other))]);
    const { rows: written } = await db.query('SELECT key, seq FROM ledger WHERE key IN ($1, $2) ORDER BY key = $2, seq', [key, other]);
    expect(written).toEqual([
      { key, seq: 1 },
      { key, seq: 2 },
      { key: other, seq: 1 },
    ]);
    const [first, second] = [spans[a], spans[b]].sort((x, y) => (x?.[0] ?? 0) - (y?.[0] ?? 0));
    expect(second?.[0]).toBeGreaterThanOrEqual(first?.[1] ?? Number.POSITIVE_INFINITY);
    // PGlite has one connection and runs one transaction at a time; PostgreSQL runs the other key alongside.
    if (kind === 'PostgreSQL') expect(spans[c]?.[0]).toBeLessThan(Math.max(first?.[1] ?? 0, second?.[1] ?? 0));
  });

  it('takes over an expired row, and deletes expired rows in bounded chunks', async () => {
    const id = randomUUID();
    const store = postgresInbox(db, { purgeEveryMs: 0, purgeChunk: 2 });
    await db.query('DELETE FROM junction_inbox');
    expect(await store.run({ group: 'g', eventId: id, ttlMs: 1 }, async () => {})).toBe('processed');
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (let i = 0; i < 4; i += 1) {
      await db.query("INSERT INTO junction_inbox (group_name, event_id, expires_at) VALUES ('old', $1, now() - interval '1 hour')", [
        randomUUID(),
      ]);
    }
    expect(await store.run({ group: 'g', eventId: id, ttlMs: 60_000 }, async () => {})).toBe('processed');
    // `id`'s expired row was taken over, not added to; of the four old rows one purge took two.
    const left = await db.query('SELECT count(*)::int AS n FROM junction_inbox WHERE expires_at <= now()');
    expect((left.rows[0] as { n: number }).n).toBe(2);
  });

  it('keeps ids and groups with quotes and backslashes exactly as given (they reach the claim as literals)', async () => {
    const store = postgresInbox(db);
    const eventId = `it's \\'; DROP TABLE payments; -- ${randomUUID()}`;
    const group = "billing's \\ group";
    expect(await store.run({ group, eventId, ttlMs: 60_000 }, async () => {})).toBe('processed');
    expect(await store.run({ group, eventId, ttlMs: 60_000 }, async () => {})).toBe('duplicate');
    const { rows: stored } = await db.query('SELECT group_name, event_id FROM junction_inbox WHERE event_id = $1', [eventId]);
    expect(stored).toEqual([{ group_name: group, event_id: eventId }]);
    expect((await db.query('SELECT count(*)::int AS n FROM payments')).rows).toHaveLength(1);
  });

  it('fails retriably with inbox.unavailable when its table is missing', async () => {
    const other = await makeDatabase();
    try {
      const error = await postgresInbox(other.db)
        .run({ group: 'g', eventId: 'x', ttlMs: 1_000 }, async () => {})
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JunctionError);
      expect(error).toMatchObject({ code: 'inbox.unavailable', retriable: true, context: { store: other.db.kind } });
    } finally {
      await other.cleanup();
    }
  });
});
