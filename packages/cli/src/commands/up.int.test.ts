import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPortFree, processesMentioning, queryPrometheus, stackStatus, stopStack } from '@junction/stack';
import { afterAll, describe, expect, it } from 'vitest';
import { repositoryRoot } from '../internal/paths.ts';
import { freePortPair, runCli, startCli } from '../testing/cli.ts';
import { pathWithout } from '../testing/path.ts';

/** Free ports for the business services and the payment stand-in, and the flags that place them. */
async function servicePorts(): Promise<{ flags: string[]; orders: number; provider: number }> {
  const [orders, inventory, billing, notifications, provider] = [
    await freePortPair(),
    await freePortPair(),
    await freePortPair(),
    await freePortPair(),
    await freePortPair(),
  ];
  const flags = [
    '--orders-port',
    String(orders),
    '--inventory-port',
    String(inventory),
    '--billing-port',
    String(billing),
    '--notifications-port',
    String(notifications),
    '--provider-port',
    String(provider),
  ];
  return { flags, orders: orders ?? 0, provider: provider ?? 0 };
}

/** The environment of the business service `name` that `up` started for `stateDir` (its data directory is there). */
async function serviceEnvironment(stateDir: string, name: string): Promise<Record<string, string>> {
  const marker = `JUNCTION_${name.toUpperCase()}_DATA_DIR=${join(stateDir, 'services', name)}\0`;
  for (const pid of processesMentioning(`services/${name}/`)) {
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    if (!environ.includes(marker)) continue;
    return Object.fromEntries(
      environ
        .split('\0')
        .filter((entry) => entry.includes('='))
        .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
    );
  }
  throw new Error(`no ${name} process of the stack in ${stateDir}`);
}

describe('junction up', () => {
  let stateDir: string;

  afterAll(async () => {
    if (stateDir) await stopStack({ stateDir, purge: true, graceMs: 5000 });
  });

  it('starts the stack, round-trips a demo Avro event, stays up, and stops what it started on Ctrl-C', { timeout: 300_000 }, async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'junction-cli-up-'));
    const kafkaPort = await freePortPair();
    const registryPort = await freePortPair();
    const postgresPort = await freePortPair();
    const redisPort = await freePortPair();
    const prometheusPort = await freePortPair();
    const gatewayPort = await freePortPair();
    const authPort = await freePortPair();
    const services = await servicePorts();
    const up = startCli([
      'up',
      ...services.flags,
      '--state-dir',
      stateDir,
      '--kafka-port',
      String(kafkaPort),
      '--registry-port',
      String(registryPort),
      '--postgres-port',
      String(postgresPort),
      '--redis-port',
      String(redisPort),
      '--prometheus-port',
      String(prometheusPort),
      '--gateway-port',
      String(gatewayPort),
      '--auth-port',
      String(authPort),
    ]);
    await up.waitFor('Junction is up.', 240_000);
    const output = up.output();
    expect(output).toContain('Started kafka-1, registry, postgres, redis, prometheus.');
    expect(output).toContain(`Prometheus        http://127.0.0.1:${prometheusPort}`);
    expect(output).toContain('Published an Avro event and consumed it back:');
    expect(output).toMatch(/topic\s+demo\.greeting \(partition \d, offset \d+\)/);
    expect(output).toContain('ce_type     com.junction.demo.Greeting.v1');
    expect(output).toMatch(/value\s+\{"greetingId":"[0-9a-f-]{36}","message":"Hello from Junction","sentAt":"\d{4}-\d\d-\d\dT[\d:.]+Z"\}/);
    const schemaId = Number(/schema\s+id (\d+), subject demo\.greeting-com\.junction\.demo\.Greeting/.exec(output)?.[1]);
    expect(schemaId).toBeGreaterThan(0);
    // The contracts of schemas/ are registered: topics with their partitions and configs, every version.
    expect(output).toMatch(/orders\.order\s+6\s+2592000000\s+delete\s+created/);
    expect(output).toMatch(/orders\.order-com\.junction\.orders\.OrderPlaced\s+v1 v2\s+FULL_TRANSITIVE\s+\d+ \d+/);

    // The auth server and the gateway run: the printed token command and curl publish an order.
    expect(output).toContain(`API gateway       http://127.0.0.1:${gatewayPort}`);
    expect(output).toContain(`TOKEN=$(./junction token --client shop --auth-url http://127.0.0.1:${authPort} --state-dir ${stateDir})`);
    const token = await runCli(['token', '--client', 'demo', '--auth-url', `http://127.0.0.1:${authPort}`, '--state-dir', stateDir]);
    expect(token.code).toBe(0);
    const example = await readFile(join(repositoryRoot(), 'schemas/examples/order-placed.json'), 'utf8');
    const published = await fetch(`http://127.0.0.1:${gatewayPort}/v1/events/com.junction.orders.OrderPlaced`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.stdout.trim()}`, 'content-type': 'application/json' },
      body: example,
    });
    expect(published.status).toBe(202);
    expect(await published.json()).toMatchObject({ type: 'com.junction.orders.OrderPlaced.v2', topic: 'orders.order' });

    // The whole flow: a storefront's order, as printed, goes placed → reserved → confirmed
    // through orders, inventory, billing and the payment provider stand-in.
    expect(output).toMatch(new RegExp(`Orders\\s+http://127\\.0\\.0\\.1:${services.orders}`));
    expect(output).toMatch(new RegExp(`Payment STAND-IN\\s+http://127\\.0\\.0\\.1:${services.provider}`));
    const shop = await runCli(['token', '--client', 'shop', '--auth-url', `http://127.0.0.1:${authPort}`, '--state-dir', stateDir]);
    expect(shop.code).toBe(0);
    const shopAuth = { authorization: `Bearer ${shop.stdout.trim()}` };
    // A downstream team's view, as printed: the listener subscribes through the gateway, then
    // receives the order's events as signed webhooks from the notifications service.
    const listenFlags = [
      '--auth-url',
      `http://127.0.0.1:${authPort}`,
      '--state-dir',
      stateDir,
      '--gateway',
      `http://127.0.0.1:${gatewayPort}`,
    ];
    expect(output).toContain(`./junction webhooks listen --events 'com.junction.orders.*,com.junction.billing.*' ${listenFlags.join(' ')}`);
    const listen = startCli(['webhooks', 'listen', '--events', 'com.junction.orders.*,com.junction.billing.*', ...listenFlags]);
    await listen.waitFor('Ctrl-C stops and deletes it', 30_000);
    const placed = await fetch(`http://127.0.0.1:${gatewayPort}/v1/orders`, {
      method: 'POST',
      headers: { ...shopAuth, 'content-type': 'application/json', 'idempotency-key': `up-${Date.now()}` },
      body: await readFile(join(repositoryRoot(), 'schemas/examples/place-order.json'), 'utf8'),
    });
    expect(placed.status).toBe(201);
    const { orderId } = (await placed.json()) as { orderId: string };
    const order = async () =>
      (await (await fetch(`http://127.0.0.1:${gatewayPort}/v1/orders/${orderId}`, { headers: shopAuth })).json()) as {
        status: string;
        history: Array<{ event: string }>;
      };
    await expect.poll(async () => (await order()).status, { timeout: 30_000 }).toBe('confirmed');
    expect((await order()).history.map((h) => h.event)).toEqual(['OrderPlaced', 'StockReserved', 'PaymentCaptured']);
    await listen.waitFor('com.junction.billing.PaymentCaptured.v1', 30_000);
    listen.child.kill('SIGINT');
    expect(await listen.exited).toBe(0);
    // Both events of the order, once each, with the order as their subject, verified (none refused).
    expect(listen.output()).toMatch(new RegExp(`com\\.junction\\.orders\\.OrderPlaced\\.v2\\n  subject  ${orderId}\\n`));
    expect(listen.output()).toMatch(new RegExp(`com\\.junction\\.billing\\.PaymentCaptured\\.v1\\n  subject  ${orderId}\\n`));
    expect(listen.output().split(`subject  ${orderId}\n`)).toHaveLength(3);
    // (The event published through /v1/events above may have been fanned out after the listener subscribed.)
    expect(listen.output()).toMatch(/^[23] events received \(0 again, 0 refused\)$/m);
    // Least privilege for personal data: orders encrypts OrderPlaced's personal fields with the
    // local key file, notifications sends them to subscriptions entitled to them; inventory and
    // billing read other fields only and get no key.
    // (This run's environment has a key, JUNCTION_PII_KEYS from the test setup, which orders inherits.)
    const piiVariables = (env: Record<string, string>) => Object.keys(env).filter((name) => name.startsWith('JUNCTION_PII_'));
    expect(piiVariables(await serviceEnvironment(stateDir, 'orders'))).not.toEqual([]);
    expect(piiVariables(await serviceEnvironment(stateDir, 'notifications'))).not.toEqual([]);
    expect(piiVariables(await serviceEnvironment(stateDir, 'inventory'))).toEqual([]);
    expect(piiVariables(await serviceEnvironment(stateDir, 'billing'))).toEqual([]);

    // demo load keeps orders flowing: a short run, every order followed to its end.
    const load = await runCli(
      [
        ...['demo', 'load', '--rate', '20', '--count', '20', '--duration', '30'],
        ...['--gateway-url', `http://127.0.0.1:${gatewayPort}`, '--auth-url', `http://127.0.0.1:${authPort}`, '--state-dir', stateDir],
        ...['--prometheus-url', `http://127.0.0.1:${prometheusPort}`],
      ],
      120_000,
    );
    expect(load.code, load.stderr).toBe(0);
    expect(load.stdout).toMatch(/^20\s+20\s+0\s+0\s+0\s+0\s+\d+ ms\s+\d+ ms$/m);

    // Prometheus scrapes every service at its default port (up or down: whatever this machine
    // runs there) and holds the alert rules of helm/junction/alerts.
    const prometheus = `http://127.0.0.1:${prometheusPort}`;
    await expect
      .poll(async () => (await queryPrometheus(prometheus, 'up{namespace="local"}')).map((s) => s.metric.job).sort(), {
        timeout: 60_000,
      })
      .toEqual(['auth', 'billing', 'gateway', 'inventory', 'notifications', 'orders']);
    const rules = (await (await fetch(`${prometheus}/api/v1/rules`)).json()) as { data: { groups: Array<{ file: string }> } };
    expect(rules.data.groups.map((g) => g.file)).toContainEqual(expect.stringMatching(/\/helm\/junction\/alerts\/[^/]+\.yaml$/));

    // Still up a while later: it waits for Ctrl-C.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(up.child.exitCode).toBeNull();
    up.child.kill('SIGINT');
    expect(await up.exited).toBe(0);
    expect(up.output()).toContain('Stopped.');
    expect(processesMentioning(stateDir)).toEqual([]);
    for (const port of [
      kafkaPort,
      registryPort,
      postgresPort,
      redisPort,
      prometheusPort,
      gatewayPort,
      authPort,
      services.orders,
      services.provider,
    ])
      expect(await isPortFree(port)).toBe(true);

    // The registry stores into Kafka (kafkasql): the schema survives a restart.
    const restarted = await runCli(['stack', 'up', '--state-dir', stateDir]);
    expect(restarted.code).toBe(0);
    const schema = await fetch(`http://127.0.0.1:${registryPort}/apis/ccompat/v7/schemas/ids/${schemaId}`);
    expect(schema.status).toBe(200);
    expect(((await schema.json()) as { schema: string }).schema).toContain('"name":"Greeting"');
  });

  it('leaves a stack it did not start running after Ctrl-C', { timeout: 120_000 }, async () => {
    const before = await stackStatus({ stateDir });
    expect(before.components.every((c) => c.state === 'running')).toBe(true);
    const up = startCli(['up', '--state-dir', stateDir, '--no-services']);
    await up.waitFor('Junction is up.', 90_000);
    expect(up.output()).toContain('The stack was already running.');
    expect(up.output()).toContain('Ctrl-C leaves the stack running');
    up.child.kill('SIGINT');
    expect(await up.exited).toBe(0);
    const after = await stackStatus({ stateDir });
    expect(after.components.map((c) => [c.pid, c.healthy])).toEqual(before.components.map((c) => [c.pid, true]));
  });

  it('after Ctrl-C, stops only the components it had to start', { timeout: 180_000 }, async () => {
    const before = await stackStatus({ stateDir });
    const registry = before.components.find((c) => c.name === 'registry');
    if (!registry?.pid) throw new Error('the registry should be running');
    process.kill(registry.pid, 'SIGKILL');
    await expect
      .poll(async () => (await stackStatus({ stateDir })).components.find((c) => c.name === 'registry')?.state, { timeout: 10_000 })
      .toBe('exited');

    const up = startCli(['up', '--state-dir', stateDir, '--no-services']);
    await up.waitFor('Junction is up.', 150_000);
    expect(up.output()).toContain('Started registry.');
    expect(up.output()).toContain('Ctrl-C stops what this command started (registry) and leaves the rest running.');
    up.child.kill('SIGINT');
    expect(await up.exited).toBe(0);
    const after = await stackStatus({ stateDir });
    expect(after.components.map((c) => [c.name, c.state])).toEqual([
      ['kafka-1', 'running'],
      ['registry', 'stopped'],
      ['postgres', 'running'],
      ['redis', 'running'],
      ['prometheus', 'running'],
    ]);
    expect(after.components[0]?.pid).toBe(before.components[0]?.pid);
  });
});

describe('junction up on a machine without redis-server and prometheus', () => {
  let stateDir: string;

  afterAll(async () => {
    if (stateDir) await stopStack({ stateDir, purge: true, graceMs: 5000 });
  });

  it('starts without them, says what that costs and the one command that restores them, and serves the API', {
    timeout: 300_000,
  }, async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'junction-cli-up-lacking-'));
    const [kafkaPort, registryPort, postgresPort, redisPort, prometheusPort, gatewayPort, authPort] = await Promise.all(
      Array.from({ length: 7 }, () => freePortPair()),
    );
    // Hidden, not uninstalled: the machine keeps its packages, this run does not see them.
    const PATH = await pathWithout(['redis-server', 'prometheus', 'promtool']);
    const up = startCli(
      [
        'up',
        '--state-dir',
        stateDir,
        ...['--kafka-port', String(kafkaPort), '--registry-port', String(registryPort), '--postgres-port', String(postgresPort)],
        ...['--redis-port', String(redisPort), '--prometheus-port', String(prometheusPort)],
        ...['--gateway-port', String(gatewayPort), '--auth-port', String(authPort)],
        ...(await servicePorts()).flags,
      ],
      { PATH },
    );
    await up.waitFor('Junction is up.', 240_000);
    const output = up.output();
    expect(output).toContain('Started kafka-1, registry, postgres.');
    expect(output).toMatch(/^redis\s+left out\s+-\s+\d+\s+\S+\s+no server here \((sudo )?apt-get install -y redis-server\)$/m);
    expect(output).toMatch(/^prometheus\s+left out\s+-\s+\d+\s+\S+\s+no server here \((sudo )?apt-get install -y prometheus\)$/m);
    expect(output).toContain('This machine lacks some servers, so Junction runs with reduced features:');
    expect(output).toMatch(/^redis\s+no Redis: rate limits and Idempotency-Key claims live in the gateway's memory/m);
    expect(output).toMatch(/^prometheus\s+no Prometheus: nothing scrapes/m);
    expect(output).toMatch(/^Restore them: (sudo )?apt-get install -y redis-server prometheus, then run this command again\.$/m);
    expect(output).not.toContain(`Redis             redis://`);
    expect(output).not.toContain('Prometheus        http://');

    // The gateway runs on in-memory stores: an Idempotency-Key'd event is accepted once, replayed after.
    const token = await runCli(['token', '--client', 'demo', '--auth-url', `http://127.0.0.1:${authPort}`, '--state-dir', stateDir]);
    expect(token.code).toBe(0);
    const example = await readFile(join(repositoryRoot(), 'schemas/examples/order-placed.json'), 'utf8');
    const publish = () =>
      fetch(`http://127.0.0.1:${gatewayPort}/v1/events/com.junction.orders.OrderPlaced`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token.stdout.trim()}`, 'content-type': 'application/json', 'idempotency-key': 'lacking-1' },
        body: example,
      });
    const first = await publish();
    expect(first.status).toBe(202);
    const again = await publish();
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as { id: string }).id).toBe(((await first.json()) as { id: string }).id);

    // The left-out components are not reported as failing while it stays up.
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    expect(up.output()).not.toMatch(/(redis|prometheus) is stopped/);
    up.child.kill('SIGINT');
    expect(await up.exited).toBe(0);
    expect(processesMentioning(stateDir)).toEqual([]);
  });
});
