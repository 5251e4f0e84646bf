import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StackError } from '../errors.ts';
import { resolveOptions } from '../options.ts';
import { configurePrometheus, renderConfig } from './prometheus.ts';
import type { PrometheusRecord } from './state.ts';

const record = (): PrometheusRecord => ({
  kind: 'prometheus',
  name: 'prometheus',
  port: 9090,
  dir: '/tmp/junction-x/prometheus',
  logFile: '/tmp/junction-x/prometheus/prometheus.log',
  marker: 'junction.component=/tmp/junction-x/prometheus',
  version: 'unknown',
  scrapeInterval: '15s',
  evaluationInterval: '15s',
  targets: [],
  ruleFiles: [],
});

describe('renderConfig', () => {
  it('writes the intervals, the rule files and one job per target, each labelled namespace local', () => {
    const r = record();
    configurePrometheus(r, {
      scrapeInterval: '1s',
      evaluationInterval: '2s',
      ruleFiles: ['/repo/helm/junction/alerts/*.yaml'],
      targets: [
        { job: 'gateway', targets: ['127.0.0.1:8080'] },
        { job: 'orders', targets: ['127.0.0.1:8101', '127.0.0.1:8111'], labels: { tier: 'core' } },
      ],
    });
    expect(renderConfig(r)).toBe(`# Written by @junction/stack; rewritten on every start and whenever the targets change.
global:
  scrape_interval: "1s"
  evaluation_interval: "2s"
rule_files:
  - "/repo/helm/junction/alerts/*.yaml"
scrape_configs:
  - job_name: "gateway"
    static_configs:
      - targets: ["127.0.0.1:8080"]
        labels:
          namespace: "local"
  - job_name: "orders"
    static_configs:
      - targets: ["127.0.0.1:8101", "127.0.0.1:8111"]
        labels:
          namespace: "local"
          tier: "core"
`);
  });

  it('writes empty lists when there is nothing to scrape or evaluate', () => {
    const text = renderConfig(record());
    expect(text).toContain('rule_files: []\n');
    expect(text).toContain('scrape_configs: []\n');
  });

  it('lets a caller name another namespace, and quotes what YAML would misread', () => {
    const r = record();
    configurePrometheus(r, { targets: [{ job: 'a "job": yes', targets: ['localhost:1'], labels: { namespace: 'staging' } }] });
    const text = renderConfig(r);
    expect(text).toContain('job_name: "a \\"job\\": yes"');
    expect(text).toContain('namespace: "staging"');
    expect(text).not.toContain('namespace: "local"');
  });
});

describe('configurePrometheus', () => {
  it('changes only what it is given and says whether the configuration changed', () => {
    const r = record();
    expect(configurePrometheus(r, {})).toBe(false);
    expect(configurePrometheus(r, { targets: [{ job: 'a', targets: ['127.0.0.1:1'] }] })).toBe(true);
    expect(configurePrometheus(r, { targets: [{ job: 'a', targets: ['127.0.0.1:1'] }] })).toBe(false);
    expect(configurePrometheus(r, { scrapeInterval: '1s' })).toBe(true);
    expect(r.targets).toEqual([{ job: 'a', targets: ['127.0.0.1:1'] }]);
    expect(r.evaluationInterval).toBe('15s');
  });
});

describe('Prometheus options', () => {
  it('are off for a new stack unless asked for, and true means the defaults', () => {
    expect(resolveOptions({}).prometheus).toBeUndefined();
    expect(resolveOptions({ prometheus: true }).prometheus).toEqual({});
    expect(resolveOptions({ prometheus: false }).prometheus).toBe(false);
  });

  it('make relative rule files absolute: Prometheus would read them from its own directory', () => {
    const options = resolveOptions({ prometheus: { ruleFiles: ['helm/junction/alerts/*.yaml', '/abs/rules.yaml'] } });
    expect(options.prometheus).toEqual({ ruleFiles: [resolve('helm/junction/alerts/*.yaml'), '/abs/rules.yaml'] });
  });

  it('report every mistake Prometheus would refuse, at once', () => {
    let caught: unknown;
    try {
      resolveOptions({
        prometheus: {
          scrapeInterval: '1 second',
          ruleFiles: ['/rules/*/alerts.yaml'],
          targets: [
            { job: 'a', targets: ['http://127.0.0.1:1/metrics'] },
            { job: 'a', targets: ['127.0.0.1:2'], labels: { 'bad-name': 'x', __reserved: 'y' } },
          ],
        },
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StackError);
    const message = (caught as StackError).message;
    expect(message).toContain('prometheus.scrapeInterval: a Prometheus duration such as 15s');
    expect(message).toContain('prometheus.ruleFiles.0: a path with at most one * in its last part');
    expect(message).toContain('prometheus.targets.0.targets.0: host:port');
    expect(message).toContain('prometheus.targets.1.labels.bad-name: a Prometheus label name');
    expect(message).toContain('prometheus.targets.1.labels.__reserved: not a reserved __ label');
  });

  it('refuse a job named twice: Prometheus would not start', () => {
    const targets = [
      { job: 'a', targets: ['127.0.0.1:1'] },
      { job: 'a', targets: ['127.0.0.1:2'] },
    ];
    expect(() => resolveOptions({ prometheus: { targets } })).toThrow('invalid stack options: prometheus.targets: each job name once');
  });
});
