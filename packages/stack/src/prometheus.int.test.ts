import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StackError } from './errors.ts';
import { freePorts, isPortFree } from './internal/ports.ts';
import { commandLine, isAlive, processesMentioning } from './internal/processes.ts';
import { runTool, which } from './internal/tools.ts';
import { type PrometheusServer, startPrometheus } from './prometheus.ts';
import { prometheusAlerts, queryPrometheus } from './prometheus-query.ts';
import { type Stack, startStack } from './stack.ts';
import { stackStatus } from './status.ts';
import { stopStack } from './stop.ts';

// A throwaway Prometheus scraping tiny exporters of the test's own, every second.

let root: string;
const exporters: Server[] = [];

/** Serves `/metrics` in the text exposition format, on a free loopback port; resolves `host:port`. */
async function exporter(body: string): Promise<string> {
  const server = createServer((request, response) => {
    if (request.url !== '/metrics') return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
  });
  exporters.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return `127.0.0.1:${address.port}`;
}

const WIDGETS = `# HELP junction_test_widgets_total Widgets made.
# TYPE junction_test_widgets_total counter
junction_test_widgets_total{kind="blue"} 42
`;

const RULES = `groups:
  - name: junction-test
    rules:
      - alert: JunctionTestWidgetsHigh
        expr: junction_test_widgets_total > 10
        labels:
          severity: page
        annotations:
          summary: more than ten widgets
`;

let widgets: string;
let gadgets: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'junction-prometheus-int-'));
  await mkdir(join(root, 'rules'));
  await writeFile(join(root, 'rules', 'widgets.yaml'), RULES);
  widgets = await exporter(WIDGETS);
  gadgets = await exporter('junction_test_gadgets 7\n');
});

afterAll(async () => {
  for (const server of exporters) server.close();
  await rm(root, { recursive: true, force: true });
});

describe('startPrometheus', () => {
  let prometheus: PrometheusServer;

  afterAll(async () => {
    await prometheus?.stop(5000);
  });

  it('starts on a free loopback port, its command line marked with its directory, its config valid', async () => {
    prometheus = await startPrometheus({
      dir: join(root, 'prometheus'),
      scrapeInterval: '1s',
      evaluationInterval: '1s',
      targets: [{ job: 'widgets', targets: [widgets] }],
      // A glob over a directory that does not exist yet matches nothing, and that is fine.
      ruleFiles: [join(root, 'rules', '*.yaml'), join(root, 'not-yet', '*.yaml')],
    });
    expect(prometheus.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(commandLine(prometheus.pid)).toContain(`junction.component=${join(root, 'prometheus')}`);
    expect(await readFile(join(root, 'prometheus', 'prometheus.pid'), 'utf8')).toBe(`${prometheus.pid}\n`);
    const promtool = which('promtool', process.env) ?? '/usr/bin/promtool';
    const check = await runTool(promtool, ['check', 'config', join(root, 'prometheus', 'prometheus.yml')], { timeoutMs: 30_000 });
    expect(check.stdout).toContain('SUCCESS');
    expect(check.code).toBe(0);
  });

  it('scrapes the target, labelled with its job and namespace local', async () => {
    await expect
      .poll(() => queryPrometheus(prometheus.url, 'junction_test_widgets_total', { timeoutMs: 5000 }), { timeout: 20_000, interval: 500 })
      .toEqual([
        {
          metric: { __name__: 'junction_test_widgets_total', instance: widgets, job: 'widgets', kind: 'blue', namespace: 'local' },
          value: 42,
          timestamp: expect.any(Number),
        },
      ]);
  });

  it('fires the alert of the rule file', async () => {
    await expect
      .poll(async () => (await prometheusAlerts(prometheus.url)).find((a) => a.labels.alertname === 'JunctionTestWidgetsHigh'), {
        timeout: 20_000,
        interval: 500,
      })
      .toMatchObject({
        state: 'firing',
        value: 42,
        labels: { severity: 'page', namespace: 'local', job: 'widgets', kind: 'blue' },
        annotations: { summary: 'more than ten widgets' },
      });
  });

  it('takes new targets at run time, without a restart', async () => {
    const [closed] = await freePorts(1);
    await prometheus.setTargets([
      { job: 'widgets', targets: [widgets] },
      { job: 'gadgets', targets: [gadgets], labels: { role: 'added' } },
      { job: 'nobody', targets: [`127.0.0.1:${closed}`] },
    ]);
    const up = async () =>
      Object.fromEntries(
        (await queryPrometheus(prometheus.url, 'up')).map((s) => [`${s.metric.job}/${s.metric.namespace}/${s.metric.role ?? ''}`, s.value]),
      );
    await expect
      .poll(up, { timeout: 20_000, interval: 500 })
      .toEqual({ 'widgets/local/': 1, 'gadgets/local/added': 1, 'nobody/local/': 0 });
    expect(await queryPrometheus(prometheus.url, 'sum(junction_test_gadgets) + 1')).toMatchObject([{ metric: {}, value: 8 }]);
  });

  it('says what is wrong with a query', async () => {
    await expect(queryPrometheus(prometheus.url, 'sum(')).rejects.toThrow(/Prometheus refused the query sum\(: bad_data/);
    await expect(queryPrometheus(prometheus.url, 'up[1m]')).rejects.toThrow('gave a matrix, not an instant vector');
  });

  it('refuses a second server in the same directory', async () => {
    const error = await startPrometheus({ dir: join(root, 'prometheus') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackError);
    expect(error).toMatchObject({
      code: 'state-conflict',
      message: `a Prometheus (pid ${prometheus.pid}) already runs in ${join(root, 'prometheus')}`,
    });
  });

  it('stops, leaving no process, no pid file and a free port', async () => {
    const port = Number(new URL(prometheus.url).port);
    await prometheus.stop();
    expect(isAlive(prometheus.pid)).toBe(false);
    expect(processesMentioning(join(root, 'prometheus'))).toEqual([]);
    expect(await isPortFree(port)).toBe(true);
    await expect(readFile(join(root, 'prometheus', 'prometheus.pid'))).rejects.toThrow('ENOENT');
  });

  it('fails to start on a broken rule file, saying which, and leaves nothing running', async () => {
    await mkdir(join(root, 'broken'));
    await writeFile(join(root, 'broken', 'bad.yaml'), 'groups:\n  - name: x\n    rules:\n      - alert: Bad\n        expr: sum(\n');
    const dir = join(root, 'prometheus-broken');
    const error = await startPrometheus({ dir, ruleFiles: [join(root, 'broken', '*.yaml')] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackError);
    expect(error).toMatchObject({ code: 'component-exited', hint: `read its log: ${join(dir, 'prometheus.log')}` });
    expect((error as StackError).logTail.join('\n')).toContain(join(root, 'broken', 'bad.yaml'));
    expect(processesMentioning(dir)).toEqual([]);
  });
});

describe('Prometheus in the stack', () => {
  let stateDir: string;
  let stack: Stack;

  afterAll(async () => {
    if (stateDir) await stopStack({ stateDir, purge: true, graceMs: 5000 });
  });

  it('starts only when asked for, marked with its directory, and shows in the status', async () => {
    stateDir = join(root, 'stack');
    stack = await startStack({
      stateDir,
      ports: 'auto',
      registry: false,
      postgres: false,
      redis: false,
      prometheus: { scrapeInterval: '1s', targets: [{ job: 'widgets', targets: [widgets] }] },
    });
    expect(stack.started).toEqual(['kafka-1', 'prometheus']);
    expect(stack.prometheusUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const status = await stackStatus({ stateDir });
    const component = status.components.find((c) => c.name === 'prometheus');
    expect(component).toMatchObject({
      kind: 'prometheus',
      state: 'running',
      healthy: true,
      version: expect.stringMatching(/^\d+\.\d+\.\d+$/),
    });
    expect(status.prometheusUrl).toBe(stack.prometheusUrl);
    expect(commandLine(component?.pid ?? 0)).toContain(`junction.component=${join(stateDir, 'prometheus')}`);
    await expect
      .poll(async () => (await queryPrometheus(stack.prometheusUrl ?? '', 'up{job="widgets"}')).map((s) => s.value), { timeout: 20_000 })
      .toEqual([1]);
  });

  it('takes new targets through the stack, and keeps them on record', async () => {
    await stack.setPrometheusTargets([{ job: 'gadgets', targets: [gadgets] }]);
    await expect
      .poll(async () => (await queryPrometheus(stack.prometheusUrl ?? '', 'junction_test_gadgets')).map((s) => s.metric.job), {
        timeout: 20_000,
      })
      .toEqual(['gadgets']);
    const config = await readFile(join(stateDir, 'prometheus', 'prometheus.yml'), 'utf8');
    expect(config).toContain(`"${gadgets}"`);
    expect(config).not.toContain(`"${widgets}"`);
  });

  it('reloads, rather than restarts, when a start asks for other rules', async () => {
    const pid = (await stackStatus({ stateDir })).components.find((c) => c.name === 'prometheus')?.pid;
    const again = await startStack({ stateDir, prometheus: { ruleFiles: [join(root, 'rules', '*.yaml')] } });
    expect(again.started).toEqual([]);
    expect((await stackStatus({ stateDir })).components.find((c) => c.name === 'prometheus')?.pid).toBe(pid);
    const rules = (await (await fetch(`${again.prometheusUrl}/api/v1/rules`)).json()) as { data: { groups: Array<{ name: string }> } };
    expect(rules.data.groups.map((g) => g.name)).toEqual(['junction-test']);
  });

  it('stops with the stack and frees its port', async () => {
    const port = Number(new URL(stack.prometheusUrl ?? '').port);
    expect((await stopStack({ stateDir })).sort()).toEqual(['kafka-1', 'prometheus']);
    expect(processesMentioning(join(stateDir, 'prometheus'))).toEqual([]);
    expect(await isPortFree(port)).toBe(true);
  });
});
