import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { JunctionError } from '@junction/observability';
import { afterEach, describe, expect, it } from 'vitest';
import { catalog as generated } from '../../../../schemas/generated/events.ts';
import { type Catalog, catalogPiiNames, eventContract, eventVersion, piiFields, renameTopics } from './catalog.ts';
import { loadCatalog, parseRetention } from './load.ts';

const SCHEMAS = resolve(import.meta.dirname, '../../../../schemas');
const copies: string[] = [];

/** A private copy of schemas/ to break. */
async function copy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'junction-schemas-'));
  copies.push(dir);
  await cp(SCHEMAS, dir, { recursive: true, filter: (source) => !source.includes('node_modules') });
  return dir;
}

async function problemsOf(dir: string): Promise<string[]> {
  const error = await loadCatalog(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(JunctionError);
  expect((error as JunctionError).code).toBe('config.invalid');
  return ((error as JunctionError).context.problems as string[] | undefined) ?? [(error as Error).message];
}

afterEach(async () => {
  await Promise.all(copies.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('loadCatalog on schemas/', () => {
  it('reads every topic and event of the order-to-cash domain', async () => {
    const catalog = await loadCatalog(SCHEMAS);
    expect(catalog.topics.map((t) => t.name)).toEqual(['orders.order', 'inventory.stock', 'billing.payment', 'notifications.delivery']);
    const placed = eventContract(catalog, 'com.junction.orders.OrderPlaced');
    expect(placed).toMatchObject({ topic: 'orders.order', keyField: 'orderId', subject: 'orders.order-com.junction.orders.OrderPlaced' });
    expect(placed.versions.map((v) => v.ceType)).toEqual(['com.junction.orders.OrderPlaced.v1', 'com.junction.orders.OrderPlaced.v2']);
    expect(eventVersion(placed).version).toBe(2);
    expect(catalog.events).toHaveLength(9);
    expect(catalog.topics[0]).toMatchObject({ partitions: 6, retentionMs: 30 * 86_400_000, compatibility: 'FULL_TRANSITIVE' });
  });

  it('equals the catalog embedded in the generated code, which needs no cast to be a Catalog', async () => {
    const embedded: Catalog = generated;
    expect(await loadCatalog(SCHEMAS)).toEqual(embedded);
  });

  it('finds the customer fields marked junction.pii', async () => {
    const placed = eventContract(await loadCatalog(SCHEMAS), 'com.junction.orders.OrderPlaced');
    expect(piiFields(eventVersion(placed).schema)).toEqual(['customerEmail', 'shippingAddress']);
  });

  it('names every personal field of the catalog, for log redaction', async () => {
    const names = catalogPiiNames(await loadCatalog(SCHEMAS));
    expect(names).toEqual(expect.arrayContaining(['customerEmail', 'shippingAddress']));
    expect(names).not.toContain('orderId');
  });

  it('renames topics and their subjects together', async () => {
    const renamed = renameTopics(await loadCatalog(SCHEMAS), (name) => `${name}.t1`);
    expect(eventContract(renamed, 'com.junction.billing.PaymentFailed')).toMatchObject({
      topic: 'billing.payment.t1',
      subject: 'billing.payment.t1-com.junction.billing.PaymentFailed',
    });
  });

  it('names an unknown event type and version clearly', async () => {
    const catalog = await loadCatalog(SCHEMAS);
    expect(() => eventContract(catalog, 'com.junction.orders.OrderShipped')).toThrow(/no event type com.junction.orders.OrderShipped/);
    expect(() => eventVersion(eventContract(catalog, 'com.junction.orders.OrderPlaced'), 7)).toThrow(/has no version 7; it has v1, v2/);
  });
});

describe('loadCatalog on broken schemas', () => {
  it('reports every problem at once, each with its file', async () => {
    const dir = await copy();
    const topics = await readFile(join(dir, 'topics.yaml'), 'utf8');
    await writeFile(join(dir, 'topics.yaml'), topics.replace('partitions: 3', 'partitions: 0'));
    const problems = await problemsOf(dir);
    expect(problems).toEqual(['topics.yaml: topics.notifications.delivery.partitions: Too small: expected number to be >=1']);
  });

  it('catches bad JSON, a wrong name, a missing key field, a version gap and an unlisted event', async () => {
    const dir = await copy();
    await writeFile(join(dir, 'orders/OrderCancelled/v1.avsc'), '{ "type": "record",');
    const captured = JSON.parse(await readFile(join(dir, 'billing/PaymentCaptured/v1.avsc'), 'utf8'));
    await writeFile(join(dir, 'billing/PaymentCaptured/v1.avsc'), JSON.stringify({ ...captured, name: 'PaymentTaken' }));
    const failed = JSON.parse(await readFile(join(dir, 'billing/PaymentFailed/v1.avsc'), 'utf8'));
    failed.fields = failed.fields.filter((f: { name: string }) => f.name !== 'orderId');
    await writeFile(join(dir, 'billing/PaymentFailed/v1.avsc'), JSON.stringify(failed));
    await cp(join(dir, 'inventory/StockReserved/v1.avsc'), join(dir, 'inventory/StockReserved/v3.avsc'));
    await cp(join(dir, 'inventory/StockRejected'), join(dir, 'inventory/StockCounted'), { recursive: true });
    const problems = await problemsOf(dir);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^orders\/OrderCancelled\/v1.avsc: not valid JSON/),
        'billing/PaymentCaptured/v1.avsc: record name must be PaymentCaptured (its directory), not "PaymentTaken"',
        'billing/PaymentFailed/v1.avsc: has no field orderId, the key field of its topic',
        'inventory/StockReserved: versions must run v1, v2, … without gaps; v2 is missing',
        'inventory/StockCounted: com.junction.inventory.StockCounted is on no topic in topics.yaml',
      ]),
    );
  });

  it('says where YAML is broken', async () => {
    const dir = await copy();
    await writeFile(join(dir, 'topics.yaml'), 'topics:\n  orders.order:\n    owner: [orders\n');
    const error = await loadCatalog(dir).catch((e: unknown) => e as JunctionError);
    expect(error).toBeInstanceOf(JunctionError);
    expect((error as JunctionError).message).toMatch(/topics.yaml is not valid YAML[\s\S]*line 4, column 1/);
  });
});

describe('parseRetention', () => {
  it.each([
    ['7d', 604_800_000],
    ['12h', 43_200_000],
    ['forever', -1],
  ])('%s is %d ms', (text, ms) => {
    expect(parseRetention(text)).toBe(ms);
  });
});
