import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { JunctionError } from '@junction/observability';
import { postgresFromEnv, stackFromEnv } from '@junction/stack';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAvroCodec } from '../codec.ts';
import { eventContract } from '../contracts/catalog.ts';
import { createPublisher, type Publisher } from '../publisher/publisher.ts';
import {
  countRecords,
  expectKeyOrder,
  type PrivateContracts,
  privateContracts,
  type ReadRecord,
  readRecords,
  until,
} from '../testing/contracts.ts';
import { sampleEvent } from '../testing/samples.ts';
import { type Database, fromPgPool, openPGlite, type Queryable } from './database.ts';
import { migrateOutbox } from './migrations.ts';
import { createOutbox, type Outbox } from './outbox.ts';
import { createOutboxRelay } from './relay.ts';

// The same SQL and the same tests on PGlite (embedded, file-backed) and on real PostgreSQL.

const { brokers, schemaRegistryUrl } = stackFromEnv();
const ORDER = 'com.junction.orders.OrderPlaced';
const CANCELLED = 'com.junction.orders.OrderCancelled';
const RELAY_PROCESS = resolve(import.meta.dirname, '../testing/relay-process.ts');

/** A fresh, empty database of one kind, and how a relay process reaches it. */
interface TestDatabase {
  open(): Promise<Database>;
  /** `RELAY_DB` for the relay process. */
  target: string;
  cleanup(): Promise<void>;
}

async function pgliteDatabase(): Promise<TestDatabase> {
  const dir = await mkdtemp(join(tmpdir(), 'junction-outbox-'));
  return { open: () => openPGlite(dir), target: `pglite:${dir}`, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

async function postgresDatabase(): Promise<TestDatabase> {
  const server = postgresFromEnv();
  const name = `outbox_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const pools: pg.Pool[] = [];
  return {
    open: async () => {
      const pool = new pg.Pool({ connectionString: url.toString(), max: 4, connectionTimeoutMillis: 5000 });
      // DROP DATABASE … WITH (FORCE) at the end ends idle connections: expected, not a failure.
      pool.on('error', () => {});
      pools.push(pool);
      return fromPgPool(pool);
    },
    target: `postgres:${url}`,
    cleanup: async () => {
      await Promise.all(pools.map((pool) => pool.end()));
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** Runs the relay in its own process; resolves with its exit code and signal. */
function relayProcess(env: Record<string, string>): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--conditions=junction-source', '--no-warnings', RELAY_PROCESS],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, _stdout, stderr) => {
        const failure = error as (Error & { code?: number; signal?: string }) | null;
        done({ code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0, signal: failure?.signal ?? null, stderr });
      },
    );
  });
}

/** `db` for a relay, noting each of its reads and marks, in order, as its session runs them. */
function relayStatements(db: Database): { db: Database; kinds: Array<'read' | 'mark+read' | 'mark'> } {
  const kinds: Array<'read' | 'mark+read' | 'mark'> = [];
  const kindOf = (text: string) =>
    text.startsWith('WITH marked')
      ? 'mark+read'
      : text.startsWith('SELECT seq')
        ? 'read'
        : text.startsWith('UPDATE junction_outbox SET sent_at')
          ? 'mark'
          : undefined;
  const watched: Database = {
    kind: db.kind,
    query: (text, params) => db.query(text, params),
    transaction: (work) => db.transaction(work),
    async session() {
      const session = await db.session();
      return {
        query: (text: string, params?: unknown[]) => {
          const kind = kindOf(text);
          if (kind) kinds.push(kind);
          return session.query(text, params);
        },
        release: () => session.release(),
      };
    },
    close: async () => {},
  };
  return { db: watched, kinds };
}

/** Every record of `topic` so far. */
async function readAll(contracts: PrivateContracts, topic: string): Promise<ReadRecord[]> {
  return readRecords(contracts.kafka, [topic], await countRecords(contracts.admin, [topic]));
}

describe.each([
  ['PGlite', pgliteDatabase],
  ['PostgreSQL', postgresDatabase],
])('the outbox on %s', (_kind, makeDatabase) => {
  let contracts: PrivateContracts;
  let publisher: Publisher;
  let outbox: Outbox;
  let database: TestDatabase;
  let db: Database;
  let topic: string;

  beforeAll(async () => {
    contracts = await privateContracts({ brokers, registryUrl: schemaRegistryUrl, partitions: 6 });
    topic = eventContract(contracts.catalog, ORDER).topic;
    publisher = createPublisher({
      service: 'orders',
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog: contracts.catalog,
    });
    outbox = createOutbox({ service: 'orders', catalog: contracts.catalog });
    database = await makeDatabase();
    db = await database.open();
    expect(await migrateOutbox(db)).toEqual([1, 2, 3]);
    expect(await migrateOutbox(db)).toEqual([]);
    await db.query('CREATE TABLE orders (id uuid PRIMARY KEY, status text NOT NULL)');
  });

  afterAll(async () => {
    await publisher?.close();
    await db?.close();
    await database?.cleanup();
    await contracts?.cleanup();
  });

  /** Drains the outbox with a relay in this process. */
  async function drain(): Promise<number> {
    const relay = createOutboxRelay({ db, publisher });
    let sent = 0;
    for (let round = await relay.runOnce(); round > 0; round = await relay.runOnce()) sent += round;
    return sent;
  }

  it("stores an event with the caller's transaction: published after commit, never after rollback", async () => {
    const kept = randomUUID();
    const dropped = randomUUID();
    await db.transaction(async (tx) => {
      await tx.query("INSERT INTO orders (id, status) VALUES ($1, 'placed')", [kept]);
      await outbox.add(tx, { type: ORDER, data: sampleEvent(ORDER, kept) });
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO orders (id, status) VALUES ($1, 'placed')", [dropped]);
        await outbox.add(tx, { type: ORDER, data: sampleEvent(ORDER, dropped) });
        throw new Error('the order could not be saved');
      }),
    ).rejects.toThrow('the order could not be saved');
    // The relay as a service runs it: in the background, until stopped.
    const relay = createOutboxRelay({ db, publisher, pollIntervalMs: 20 });
    await relay.start();
    try {
      await readRecords(contracts.kafka, [topic], 1);
      await new Promise((settle) => setTimeout(settle, 200));
      expect((await relay.backlog()).pending).toBe(0);
    } finally {
      await relay.stop();
    }
    const records = await readAll(contracts, topic);
    expect(records.map((r) => r.key)).toEqual([kept]);
  });

  it('on PostgreSQL adds the event with the COMMIT, no round trip of its own; key, headers and bytes as they were made', async () => {
    // The deferred insert carries its values as literals: quotes, backslashes and $-signs in a
    // field and in a header must arrive as they were.
    const odd = `it's a \\ "coupon" $1 $& ${randomUUID()}`;
    const key = randomUUID();
    const base = sampleEvent(ORDER, key);
    const data = { ...base, couponCode: odd };
    let statements = 0;
    const { id } = await db.transaction((tx) => {
      const counted: Queryable = {
        query: (text, params) => {
          statements += 1;
          return tx.query(text, params);
        },
        ...(tx.defer ? { defer: tx.defer } : {}),
      };
      return outbox.add(counted, { type: ORDER, data, options: { causedBy: { id: randomUUID(), correlationId: odd } } });
    });
    expect(statements).toBe(db.kind === 'postgres' ? 0 : 1);
    const { rows } = await db.query('SELECT key, headers FROM junction_outbox WHERE event_id = $1', [id]);
    expect(rows).toEqual([{ key, headers: expect.objectContaining({ ce_id: id, 'correlation-id': odd }) }]);
    await drain();
    const [record] = (await readAll(contracts, topic)).filter((r) => r.headers.ce_id === id);
    expect(record?.key).toBe(key);
    expect(record?.headers['correlation-id']).toBe(odd);
    const decoded = await createAvroCodec({ registryUrl: schemaRegistryUrl }).decode<Record<string, unknown>>(record?.value as Buffer);
    expect(decoded.value).toMatchObject({ orderId: key, couponCode: odd, total: base.total, customerId: base.customerId });
  });

  it('reads again after a round that took every pending row only when woken, not at once to find nothing', async () => {
    const { db: counting, kinds } = relayStatements(db);
    const reads = () => kinds.filter((kind) => kind !== 'mark').length;
    const relay = createOutboxRelay({ db: counting, publisher, pollIntervalMs: 2000 });
    const sendOne = async () => {
      const before = reads();
      const key = randomUUID();
      await db.transaction((tx) => outbox.add(tx, { type: ORDER, data: sampleEvent(ORDER, key) }));
      relay.wake();
      await expect.poll(async () => (await relay.backlog()).pending, { timeout: 1500, interval: 20 }).toBe(0);
      await new Promise((settle) => setTimeout(settle, 300));
      return reads() - before;
    };
    await relay.start();
    try {
      await expect.poll(reads).toBeGreaterThan(0); // its first look, at start
      // One read each: the one that found the event. Well before the 2 s poll, so the wake sent it.
      expect(await sendOne()).toBe(1);
      expect(await sendOne()).toBe(1);
    } finally {
      await relay.stop();
    }
  });

  it("marks a round's rows sent with the next round's read when that comes at once, else alone within 50 ms", async () => {
    const { db: counting, kinds } = relayStatements(db);
    const [first, second] = [randomUUID(), randomUUID()];
    let added = false;
    const relay = createOutboxRelay({
      db: counting,
      publisher,
      pollIntervalMs: 2000,
      // While the first round sends, the second event commits and wakes the relay.
      afterSend: async () => {
        if (added) return;
        added = true;
        await db.transaction((tx) => outbox.add(tx, { type: ORDER, data: sampleEvent(ORDER, second) }));
        relay.wake();
      },
    });
    await relay.start();
    try {
      await expect.poll(() => kinds.length).toBe(1); // its first look, at start
      await db.transaction((tx) => outbox.add(tx, { type: ORDER, data: sampleEvent(ORDER, first) }));
      relay.wake();
      await expect.poll(async () => (await relay.backlog()).pending, { timeout: 1500, interval: 20 }).toBe(0);
      expect(kinds).toEqual(['read', 'read', 'mark+read', 'mark']);
    } finally {
      await relay.stop();
    }
    const keys = (await readAll(contracts, topic)).map((r) => r.key);
    expect(keys).toEqual(expect.arrayContaining([first, second]));
  });

  it('refuses an invalid event before storing anything, naming the field', async () => {
    const before = await db.query('SELECT count(*)::int AS n FROM junction_outbox');
    const error = await db
      .transaction((tx) => outbox.add(tx, { type: CANCELLED, data: { ...sampleEvent(CANCELLED), cancelledAt: 'now' } }))
      .catch((e: unknown) => e as JunctionError);
    expect(error).toMatchObject({ code: 'event.invalid', context: { fields: [{ path: 'cancelledAt', reason: expect.any(String) }] } });
    expect((await db.query('SELECT count(*)::int AS n FROM junction_outbox')).rows).toEqual(before.rows);
  });

  it('stores personal fields encrypted: the row holds no clear PII, and the relay sends it as stored', async () => {
    const tag = randomBytes(6).toString('hex');
    const secrets = [`pii-${tag}@example.test`, `${tag} Secret Lane`, `Town${tag}`, `PC${tag}`];
    const orderId = randomUUID();
    const data = {
      ...sampleEvent(ORDER, orderId),
      customerEmail: secrets[0],
      shippingAddress: { line1: secrets[1], line2: null, city: secrets[2], postalCode: secrets[3], country: 'GB' },
    };
    const { id } = await db.transaction((tx) => outbox.add(tx, { type: ORDER, data }));
    const { rows } = await db.query(
      'SELECT event_id, key, headers, body, row_to_json(o)::text AS everything FROM junction_outbox o WHERE event_id = $1',
      [id],
    );
    const row = rows[0] as { key: string; headers: Record<string, string>; body: Uint8Array; everything: string };
    const body = Buffer.from(row.body);
    for (const secret of secrets) {
      expect(body.includes(Buffer.from(secret)), `${secret} in the body`).toBe(false);
      expect(row.everything, 'the row as text').not.toContain(secret);
      expect(JSON.stringify(row.headers)).not.toContain(secret);
    }
    expect(body.toString('latin1')).toMatch(/jpii:v1:[^:]+:/);
    expect(row.headers['junction.pii.key-id']).toBeTruthy();
    expect(row.key).toBe(orderId);
    await drain();
    const sent = (await readAll(contracts, topic)).find((record) => record.headers.ce_id === id);
    expect(sent?.value.subarray(5).equals(body)).toBe(true);
  });

  it('publishes every key in the order its transactions committed', async () => {
    const keys: string[] = Array.from({ length: 12 }, () => randomUUID());
    // Transactions of several keys each, interleaved: key k gets events 0..9 in order.
    for (let seq = 0; seq < 10; seq += 1) {
      await db.transaction(async (tx) => {
        for (const key of keys) {
          const type = seq === 9 ? CANCELLED : ORDER;
          await outbox.add(tx, { type, data: sampleEvent(type, key), options: { headers: { 'x-seq': String(seq) } } });
        }
      });
    }
    expect(await drain()).toBe(120);
    const records = (await readAll(contracts, topic)).filter((r) => keys.includes(r.key));
    expect(records).toHaveLength(120);
    expectKeyOrder(records);
  });

  it('after a crash between send and mark, re-sends with the same ce_id and loses or reorders nothing', async () => {
    const keys: string[] = Array.from({ length: 30 }, () => randomUUID());
    const ids = new Set<string>();
    for (let seq = 0; seq < 10; seq += 1) {
      await db.transaction(async (tx) => {
        for (const key of keys) {
          const { id } = await outbox.add(tx, {
            type: ORDER,
            data: sampleEvent(ORDER, key),
            options: { headers: { 'x-seq': String(seq) } },
          });
          ids.add(id);
        }
      });
    }
    await db.close(); // PGlite is one process's: the relay process opens it in turn.
    const env = { RELAY_DB: database.target, RELAY_TOPIC_SUFFIX: contracts.suffix, RELAY_BATCH: '100' };
    const crashed = await relayProcess({ ...env, RELAY_CRASH: 'after-send' });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    const finished = await relayProcess(env);
    expect(finished.code, finished.stderr).toBe(0);
    db = await database.open();

    const records = (await readAll(contracts, topic)).filter((r) => keys.includes(r.key));
    // The crashed round reached Kafka and was sent again: 100 copies, each with its original ce_id.
    expect(records).toHaveLength(400);
    const byId = new Map<string, ReadRecord[]>();
    for (const record of records) byId.set(record.headers.ce_id as string, [...(byId.get(record.headers.ce_id as string) ?? []), record]);
    expect(new Set(byId.keys())).toEqual(ids);
    const copies = [...byId.values()].filter((same) => same.length > 1);
    expect(copies).toHaveLength(100);
    for (const [first, second] of copies) expect(second?.value.equals(first?.value as Buffer)).toBe(true);
    // Order per key holds for first deliveries; a copy only ever repeats an event already delivered.
    const firsts = records
      .toSorted((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset))
      .filter((record, i, all) => all.findIndex((other) => other.headers.ce_id === record.headers.ce_id) === i);
    expectKeyOrder(firsts);
    expect((await db.query('SELECT count(*)::int AS n FROM junction_outbox WHERE sent_at IS NULL')).rows).toEqual([{ n: 0 }]);
  });

  it('keeps events pending while Kafka is unreachable, with the error on each row, and sends them later', async () => {
    const away = createPublisher({
      service: 'orders',
      kafka: { brokers: ['127.0.0.1:1'] },
      registry: { url: schemaRegistryUrl },
      catalog: contracts.catalog,
      retry: { retries: 1, initialMs: 50, maxMs: 100 },
    });
    const key = randomUUID();
    await db.transaction((tx) => outbox.add(tx, { type: ORDER, data: sampleEvent(ORDER, key) }));
    const start = await countRecords(contracts.admin, [topic]);
    try {
      await expect(createOutboxRelay({ db, publisher: away }).runOnce()).rejects.toMatchObject({
        code: 'broker.unavailable',
        retriable: true,
      });
    } finally {
      await away.close();
    }
    const { rows } = await db.query('SELECT attempts, last_error FROM junction_outbox WHERE sent_at IS NULL');
    expect(rows).toEqual([{ attempts: 1, last_error: expect.stringContaining('cannot reach Kafka') }]);
    expect(await countRecords(contracts.admin, [topic])).toBe(start);
    expect((await createOutboxRelay({ db, publisher }).backlog()).pending).toBe(1);
    expect(await drain()).toBe(1);
    expect((await readAll(contracts, topic)).filter((r) => r.key === key)).toHaveLength(1);
  });
});

describe("the outbox's own autovacuum settings, on PostgreSQL", { timeout: 120_000 }, () => {
  it('vacuums a large outbox after 1,000 rows were marked sent, not after a fifth of it', async () => {
    const database = await postgresDatabase();
    try {
      const db = await database.open();
      await migrateOutbox(db);
      // 20,000 rows: by PostgreSQL's defaults, 4,050 would have to be dead before a vacuum.
      await db.query(`INSERT INTO junction_outbox (event_id, topic, key, event_type, event_version, headers, body, event_time)
        SELECT gen_random_uuid(), 'orders.order', 'k' || i, 'x', 1, '{}', '\\x00', now() FROM generate_series(1, 20000) i`);
      await db.query('ANALYZE junction_outbox');
      await db.query(`UPDATE junction_outbox SET sent_at = now() WHERE seq IN (SELECT seq FROM junction_outbox ORDER BY seq LIMIT 1500)`);
      const vacuumed = async () => {
        const { rows } = await db.query(
          "SELECT autovacuum_count::int AS count, n_dead_tup::int AS dead FROM pg_stat_user_tables WHERE relname = 'junction_outbox'",
        );
        return rows[0] as { count: number; dead: number };
      };
      // The stack's autovacuum looks every 10 s (its naptime); a cycle or two, then the dead rows are gone.
      await until(async () => (await vacuumed()).count > 0, 90_000, 'autovacuum to vacuum the outbox');
      expect((await vacuumed()).dead).toBeLessThan(1500);
    } finally {
      await database.cleanup();
    }
  });
});

describe('two relays on one PostgreSQL database', () => {
  it('one sends while the other stands by and takes over when it stops; nothing goes twice or out of order', async () => {
    const contracts = await privateContracts({ brokers, registryUrl: schemaRegistryUrl, partitions: 3 });
    const database = await postgresDatabase();
    const publisher = createPublisher({
      service: 'orders',
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog: contracts.catalog,
    });
    const [first, second] = [await database.open(), await database.open()];
    const leader = createOutboxRelay({ db: first, publisher, pollIntervalMs: 20 });
    const standby = createOutboxRelay({ db: second, publisher, pollIntervalMs: 20 });
    const outbox = createOutbox({ service: 'orders', catalog: contracts.catalog });
    const keys: string[] = Array.from({ length: 5 }, () => randomUUID());
    const topic = eventContract(contracts.catalog, ORDER).topic;
    const add = async (from: number, to: number) => {
      for (let seq = from; seq < to; seq += 1) {
        const key = keys[seq % keys.length] as string;
        await first.transaction((tx) =>
          outbox.add(tx, { type: ORDER, data: sampleEvent(ORDER, key), options: { headers: { 'x-seq': String(seq) } } }),
        );
        leader.wake();
        standby.wake();
      }
    };
    try {
      await leader.start();
      await add(0, 5);
      await readRecords(contracts.kafka, [topic], 5); // the first relay leads by now
      await standby.start();
      await add(5, 25);
      await readRecords(contracts.kafka, [topic], 25);
      await leader.stop(); // the stand-by takes over within its next look (about a second)
      await add(25, 50);
      const records = await readRecords(contracts.kafka, [topic], 50);
      await new Promise((settle) => setTimeout(settle, 500));
      expect(await countRecords(contracts.admin, [topic])).toBe(50);
      expect(new Set(records.map((r) => r.headers.ce_id)).size).toBe(50);
      expectKeyOrder(records);
      expect((await standby.backlog()).pending).toBe(0);
    } finally {
      await Promise.all([leader.stop(), standby.stop()]);
      await publisher.close();
      await database.cleanup();
      await contracts.cleanup();
    }
  });
});

describe('connections PostgreSQL ends (a restart, a failover)', () => {
  it("survives the server ending the relay's session and a transaction's connection, and sends what is pending afterwards", async () => {
    const contracts = await privateContracts({ brokers, registryUrl: schemaRegistryUrl, partitions: 1 });
    const database = await postgresDatabase();
    const db = await database.open();
    const publisher = createPublisher({
      service: 'orders',
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog: contracts.catalog,
    });
    const relay = createOutboxRelay({
      db,
      publisher,
      pollIntervalMs: 20,
      backoff: { initialMs: 50, multiplier: 2, maxMs: 200, jitter: 0 },
    });
    const outbox = createOutbox({ service: 'orders', catalog: contracts.catalog });
    const topic = eventContract(contracts.catalog, ORDER).topic;
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    const terminate = async () => {
      const admin = new pg.Client({ connectionString: database.target.slice('postgres:'.length) });
      await admin.connect();
      const { rows } = await admin.query(
        'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      await admin.end();
      return rows.length;
    };
    try {
      await relay.start();
      await db.transaction((tx) => outbox.add(tx, { type: ORDER, data: sampleEvent(ORDER, randomUUID()) }));
      relay.wake();
      await readRecords(contracts.kafka, [topic], 1);
      // A transaction holds a connection while the server ends every connection, the relay's too.
      const held = db.transaction(async (tx) => {
        await tx.query('SELECT 1');
        await new Promise((settle) => setTimeout(settle, 300));
        await tx.query('SELECT 1');
      });
      await new Promise((settle) => setTimeout(settle, 100));
      expect(await terminate()).toBeGreaterThanOrEqual(2);
      await expect(held).rejects.toThrow(/terminat|Connection/i);
      // New connections replace the dead ones: the next event goes out.
      await db.transaction((tx) => outbox.add(tx, { type: ORDER, data: sampleEvent(ORDER, randomUUID()) }));
      relay.wake();
      const records = await readRecords(contracts.kafka, [topic], 2);
      expect(records).toHaveLength(2);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await relay.stop();
      await publisher.close();
      await database.cleanup();
      await contracts.cleanup();
    }
  });
});

describe('two services sharing one PostgreSQL database, each with its own schema', () => {
  it('each relay sends its own outbox: leadership is per schema, not per database', async () => {
    const contracts = await privateContracts({ brokers, registryUrl: schemaRegistryUrl, partitions: 3 });
    const database = await postgresDatabase();
    const admin = await database.open();
    const pools: pg.Pool[] = [];
    const inSchema = async (schema: string): Promise<Database> => {
      await admin.query(`CREATE SCHEMA ${schema}`);
      const url = new URL(database.target.slice('postgres:'.length));
      const pool = new pg.Pool({
        connectionString: url.toString(),
        options: `-c search_path=${schema}`,
        max: 2,
        connectionTimeoutMillis: 5000,
      });
      pool.on('error', () => {});
      pools.push(pool);
      const db = fromPgPool(pool);
      await migrateOutbox(db);
      return db;
    };
    const publisher = createPublisher({
      service: 'orders',
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog: contracts.catalog,
    });
    const outbox = createOutbox({ service: 'orders', catalog: contracts.catalog });
    const [orders, billing] = [await inSchema('orders_svc'), await inSchema('billing_svc')];
    const relays = [
      createOutboxRelay({ db: orders, publisher, pollIntervalMs: 20 }),
      createOutboxRelay({ db: billing, publisher, pollIntervalMs: 20 }),
    ];
    const topic = eventContract(contracts.catalog, ORDER).topic;
    try {
      for (const relay of relays) await relay.start();
      const [a, b] = [randomUUID(), randomUUID()];
      await orders.transaction((tx) => outbox.add(tx, { type: ORDER, data: sampleEvent(ORDER, a) }));
      await billing.transaction((tx) => outbox.add(tx, { type: ORDER, data: sampleEvent(ORDER, b) }));
      for (const relay of relays) relay.wake();
      const records = await readRecords(contracts.kafka, [topic], 2);
      expect(records.map((r) => r.key).sort()).toEqual([a, b].sort());
      // Each marks its own rows sent, with its next read or alone 50 ms after the send.
      await expect.poll(async () => (await relays[0]?.backlog())?.pending, { timeout: 1000, interval: 20 }).toBe(0);
      await expect.poll(async () => (await relays[1]?.backlog())?.pending, { timeout: 1000, interval: 20 }).toBe(0);
    } finally {
      for (const relay of relays) await relay.stop();
      await publisher.close();
      await Promise.all(pools.map((pool) => pool.end()));
      await database.cleanup();
      await contracts.cleanup();
    }
  });
});

describe('concurrent transactions on one PostgreSQL database', () => {
  it('publish one key in the order its transactions committed, with the relay running meanwhile', async () => {
    const contracts = await privateContracts({ brokers, registryUrl: schemaRegistryUrl, partitions: 3 });
    const database = await postgresDatabase();
    const publisher = createPublisher({
      service: 'orders',
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog: contracts.catalog,
    });
    const db = await database.open();
    const relay = createOutboxRelay({ db, publisher, pollIntervalMs: 5 });
    const outbox = createOutbox({ service: 'orders', catalog: contracts.catalog });
    const key = randomUUID();
    const committed: number[] = [];
    try {
      await relay.start();
      // Each transaction takes a while to commit after adding its event; inserts and commits interleave.
      await Promise.all(
        Array.from({ length: 30 }, async (_, task) => {
          await db.transaction(async (tx) => {
            await outbox.add(tx, { type: ORDER, data: sampleEvent(ORDER, key), options: { headers: { 'x-task': String(task) } } });
            await new Promise((wait) => setTimeout(wait, 5 + Math.random() * 20));
          });
          committed.push(task);
        }),
      );
      const topic = eventContract(contracts.catalog, ORDER).topic;
      const records = await readRecords(contracts.kafka, [topic], 30);
      const published = records.toSorted((a, b) => Number(a.offset) - Number(b.offset)).map((r) => Number(r.headers['x-task']));
      // The order of commit, as PostgreSQL made it: a key's rows take their seq under the key's
      // lock, held to the commit (a relay that sent a later row while an earlier one was still
      // invisible would break it). Node's order of seeing the commits is close to it, not exact:
      // PostgreSQL lets the lock go before it answers, so under load the next transaction may be
      // through before the first one's answer is read (tasks 8 and 9 once came swapped).
      const { rows } = await db.query("SELECT (headers->>'x-task')::int AS task FROM junction_outbox WHERE key = $1 ORDER BY seq", [key]);
      expect(rows.map((row) => (row as { task: number }).task)).toHaveLength(30);
      expect(published).toEqual(rows.map((row) => (row as { task: number }).task));
      expect(committed.toSorted((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, task) => task));
    } finally {
      await relay.stop();
      await publisher.close();
      await database.cleanup();
      await contracts.cleanup();
    }
  });
});
