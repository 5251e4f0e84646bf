import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRegistryAdmin } from '@junction/events';
import { stackFromEnv } from '@junction/stack';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { repositoryRoot } from '../internal/paths.ts';
import { runCli } from '../testing/cli.ts';

const repoSchemas = join(repositoryRoot(), 'schemas');

interface TopicsFile {
  topics: Record<string, { partitions: number; compatibility?: string; [key: string]: unknown }>;
}

/** A private copy of schemas/ in a temporary directory. */
async function copySchemas(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'junction-schemas-'));
  await cp(repoSchemas, dir, { recursive: true });
  return dir;
}

async function editTopics(dir: string, edit: (file: TopicsFile) => void): Promise<void> {
  const file = parse(await readFile(join(dir, 'topics.yaml'), 'utf8')) as TopicsFile;
  edit(file);
  await writeFile(join(dir, 'topics.yaml'), stringify(file));
}

/** Adds OrderPlaced v3 with a required field and no default: it breaks FULL_TRANSITIVE. */
async function addBreakingV3(dir: string): Promise<void> {
  const v2 = JSON.parse(await readFile(join(dir, 'orders/OrderPlaced/v2.avsc'), 'utf8')) as { fields: unknown[] };
  v2.fields.push({ name: 'giftWrap', type: 'boolean', doc: 'Whether to wrap it.' });
  await writeFile(join(dir, 'orders/OrderPlaced/v3.avsc'), JSON.stringify(v2, null, 2));
}

describe('junction schemas --help', () => {
  it.each(['check', 'register', 'codegen', 'docs'])('%s --help says what it does', async (sub) => {
    const result = await runCli(['schemas', sub, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: junction schemas ${sub} [options]`);
    expect(result.stdout).toContain('--dir <dir>');
  });
});

describe('junction schemas check (offline)', () => {
  const temps: string[] = [];
  afterAll(async () => {
    for (const dir of temps) await rm(dir, { recursive: true, force: true });
  });

  it("passes on the repository's schemas", async () => {
    const result = await runCli(['schemas', 'check']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^SUBJECT\s+VERSIONS\s+COMPATIBILITY\s+RESULT$/m);
    expect(result.stdout).toMatch(/^orders\.order-com\.junction\.orders\.OrderPlaced\s+v1 v2\s+FULL_TRANSITIVE\s+ok$/m);
  });

  it('fails on a breaking v3, naming subject, field and rule', async () => {
    const dir = await copySchemas();
    temps.push(dir);
    await addBreakingV3(dir);
    const result = await runCli(['schemas', 'check', '--dir', dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^orders\.order-com\.junction\.orders\.OrderPlaced\s+v1 v2 v3\s+FULL_TRANSITIVE\s+FAIL/m);
    expect(result.stdout).toContain(
      'incompatible: orders.order-com.junction.orders.OrderPlaced: field giftWrap: added without a default, so a v3 reader cannot read v2 events (reader field missing in writer needs a default)',
    );
  });

  it('fails on stale generated files, saying which command to run', async () => {
    const dir = await copySchemas();
    temps.push(dir);
    await editTopics(dir, (file) => {
      if (file.topics['orders.order']) file.topics['orders.order'].description = 'Orders, described anew.';
    });
    const result = await runCli(['schemas', 'check', '--dir', dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('generated/events.ts differs from the schemas: run ./junction schemas codegen');
    expect(result.stdout).toContain('asyncapi.yaml differs from the schemas: run ./junction schemas docs');
    expect((await runCli(['schemas', 'codegen', '--dir', dir, '--check'])).code).toBe(1);
    expect((await runCli(['schemas', 'codegen', '--dir', dir])).code).toBe(0);
    expect((await runCli(['schemas', 'docs', '--dir', dir])).code).toBe(0);
    expect((await runCli(['schemas', 'check', '--dir', dir])).code).toBe(0);
  });
});

describe('junction schemas register | check --registry (real stack)', () => {
  const { brokers, schemaRegistryUrl } = stackFromEnv();
  const suffix = randomBytes(4).toString('hex');
  const renamed = (topic: string) => `${topic}-${suffix}`;
  const admin = new Kafka({ clientId: 'schemas-cli-test', brokers, logLevel: logLevel.NOTHING }).admin();
  const registry = createRegistryAdmin({ registryUrl: schemaRegistryUrl });
  const flags = ['--brokers', brokers.join(','), '--registry', schemaRegistryUrl];
  let dir: string;
  let topics: string[];
  let subjects: string[];

  beforeAll(async () => {
    dir = await copySchemas();
    await editTopics(dir, (file) => {
      file.topics = Object.fromEntries(Object.entries(file.topics).map(([name, entry]) => [renamed(name), entry]));
      const stock = file.topics[renamed('inventory.stock')];
      if (stock) stock.compatibility = 'BACKWARD';
    });
    topics = ['orders.order', 'inventory.stock', 'billing.payment', 'notifications.delivery'].map(renamed);
    subjects = [
      `${renamed('orders.order')}-com.junction.orders.OrderPlaced`,
      `${renamed('inventory.stock')}-com.junction.inventory.StockReserved`,
    ];
    await admin.connect();
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics }).catch(() => {});
    await admin.disconnect();
    for (const subject of subjects) {
      const url = `${schemaRegistryUrl}/subjects/${encodeURIComponent(subject)}`;
      await fetch(url, { method: 'DELETE', signal: AbortSignal.timeout(5000) }).catch(() => {});
      await fetch(`${url}?permanent=true`, { method: 'DELETE', signal: AbortSignal.timeout(5000) }).catch(() => {});
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the topics with their partitions and configs and registers every version', async () => {
    const result = await runCli(['schemas', 'register', '--dir', dir, ...flags]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(`^${renamed('orders.order').replace(/\./g, '\\.')}\\s+6\\s+2592000000\\s+delete\\s+created$`, 'm'),
    );
    const metadata = await admin.fetchTopicMetadata({ topics });
    expect(Object.fromEntries(metadata.topics.map((t) => [t.name, t.partitions.length]))).toEqual({
      [renamed('orders.order')]: 6,
      [renamed('inventory.stock')]: 6,
      [renamed('billing.payment')]: 6,
      [renamed('notifications.delivery')]: 3,
    });
    const configs = await admin.describeConfigs({
      resources: [{ type: 2, name: renamed('billing.payment'), configNames: ['retention.ms', 'cleanup.policy'] }],
      includeSynonyms: false,
    });
    expect(Object.fromEntries(configs.resources[0]?.configEntries.map((e) => [e.configName, e.configValue]) ?? [])).toEqual({
      'retention.ms': '7776000000',
      'cleanup.policy': 'delete',
    });
    const [orderPlaced = '', stockReserved = ''] = subjects;
    expect(await registry.versions(orderPlaced)).toEqual([1, 2]);
    expect(await registry.compatibility(orderPlaced)).toBe('FULL_TRANSITIVE');
    expect(await registry.compatibility(stockReserved)).toBe('BACKWARD');
    expect(result.stdout).toMatch(new RegExp(`^${orderPlaced.replace(/\./g, '\\.')}\\s+v1 v2\\s+FULL_TRANSITIVE\\s+\\d+ \\d+$`, 'm'));
  });

  it('is idempotent: a second run creates nothing and registers no new version', async () => {
    const result = await runCli(['schemas', 'register', '--dir', dir, ...flags]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('created');
    expect(result.stdout).toMatch(
      new RegExp(`^${renamed('orders.order').replace(/\./g, '\\.')}\\s+6\\s+\\S+\\s+delete\\s+unchanged$`, 'm'),
    );
    expect(await registry.versions(subjects[0] ?? '')).toEqual([1, 2]);
  });

  it('check --registry passes on what was registered', async () => {
    const result = await runCli(['schemas', 'check', '--dir', dir, '--registry', schemaRegistryUrl]);
    expect(result.stdout).toMatch(
      new RegExp(`^${(subjects[0] ?? '').replace(/\./g, '\\.')}\\s+v1 v2\\s+FULL_TRANSITIVE\\s+ok \\(registry has v1, v2\\)$`, 'm'),
    );
    // Only the renamed copy's generated files are stale.
    expect(result.stdout).not.toContain('incompatible:');
  });

  it('reports drift when topics.yaml changes a topic, and changes nothing', async () => {
    await editTopics(dir, (file) => {
      const orders = file.topics[renamed('orders.order')];
      if (orders) orders.partitions = 8;
    });
    const result = await runCli(['schemas', 'register', '--dir', dir, ...flags]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`warning: drift on ${renamed('orders.order')}: partitions is 6 in the cluster but 8 in topics.yaml`);
    const metadata = await admin.fetchTopicMetadata({ topics: [renamed('orders.order')] });
    expect(metadata.topics[0]?.partitions).toHaveLength(6);
  });

  it('check --registry fails on a breaking v3, naming the subject and the field', async () => {
    await addBreakingV3(dir);
    const result = await runCli(['schemas', 'check', '--dir', dir, '--registry', schemaRegistryUrl]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`^${(subjects[0] ?? '').replace(/\./g, '\\.')}\\s+v1 v2 v3\\s+FULL_TRANSITIVE\\s+FAIL`, 'm'));
    expect(result.stdout).toContain(`incompatible: ${subjects[0]}: field giftWrap: added without a default`);
  });

  it('check --registry fails on a version edited in place, which only the registry can tell', async () => {
    await unlink(join(dir, 'orders/OrderPlaced/v3.avsc'));
    const path = join(dir, 'orders/OrderPlaced/v2.avsc');
    const v2 = JSON.parse(await readFile(path, 'utf8')) as { fields: Array<{ name: string; type: unknown }> };
    for (const field of v2.fields) if (field.name === 'couponCode') field.type = ['null', 'int'];
    await writeFile(path, JSON.stringify(v2, null, 2));
    const result = await runCli(['schemas', 'check', '--dir', dir, '--registry', schemaRegistryUrl]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `incompatible: ${subjects[0]}: field couponCode: the writer's string matches no branch of the reader's union [null, int]`,
    );
  });
});
