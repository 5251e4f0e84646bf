import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { labelValueProblems, metricOf } from '@junction/observability';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The alert rules as the local Prometheus, the chart and promtool load them: promtool checks their
// syntax and runs their unit tests; this file checks what promtool cannot see (annotations,
// runbooks, that every alert is tested both ways, and metric names against the one table).

const ROOT = resolve(import.meta.dirname, '../..');
const ALERTS_DIR = join(ROOT, 'helm/junction/alerts');
const TESTS_DIR = join(ALERTS_DIR, 'tests');
// The week-long JunctionTopicSilent case takes a few seconds; a slow CI machine gets ample room.
const PROMTOOL_TIMEOUT_MS = 120_000;

/** Labels every series may carry besides its own: the registry's default, and Prometheus's target labels. */
const TARGET_LABELS = ['service', 'job', 'instance', 'namespace', 'pod'];

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface AlertCase {
  alertname: string;
  exp_alerts?: unknown[] | null;
}

interface UnitTestFile {
  rule_files: string[];
  tests: { alert_rule_test?: AlertCase[] }[];
}

const yamlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => join(dir, file));

const ruleFiles = yamlFiles(ALERTS_DIR);
const testFiles = yamlFiles(TESTS_DIR);
const rulesOf = (file: string) => (parse(readFileSync(file, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const rules = ruleFiles.flatMap(rulesOf);
const alerts = rules.filter((rule): rule is Rule & { alert: string } => rule.alert !== undefined);

const execFileAsync = promisify(execFile);

/** Runs promtool, failing with its whole output, or with what to install when it is missing. */
async function promtool(args: string[]): Promise<void> {
  try {
    await execFileAsync('promtool', args, { cwd: ALERTS_DIR, timeout: PROMTOOL_TIMEOUT_MS });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string; killed?: boolean };
    if (failure.code === 'ENOENT') {
      throw new Error("promtool is not on PATH: install Debian's prometheus package (apt-get install prometheus)");
    }
    const why = failure.killed ? `timed out after ${PROMTOOL_TIMEOUT_MS} ms` : `failed (exit ${failure.code})`;
    throw new Error(`promtool ${args.join(' ')} ${why}:\n${failure.stdout ?? ''}${failure.stderr ?? ''}`);
  }
}

const kebab = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/** One label matcher of a selector, its value with PromQL's quoting taken off. */
interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

// A selector's matchers end at the first `}` outside a quoted string (double, single or back quotes),
// so a regex such as `[0-9]{2}` does not cut it short.
const SELECTOR = /\b(junction_[a-z0-9_]+)(?:\{((?:[^{}"'`]|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)*)\})?/g;
const MATCHER = /([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)/g;
/** A PromQL string's value: backquoted strings are raw, the others drop their escaping backslashes. */
const unquote = (quoted: string) => (quoted.startsWith('`') ? quoted.slice(1, -1) : quoted.slice(1, -1).replace(/\\(.)/g, '$1'));

/** Every `junction_…` series an expression names, with the matchers of its selector. */
function selectors(expr: string): { series: string; matchers: Matcher[] }[] {
  return [...expr.matchAll(SELECTOR)].map(([, series = '', matchers = '']) => ({
    series,
    matchers: [...matchers.matchAll(MATCHER)].map(([, label = '', op, value = '']) => ({
      label,
      op: op as Matcher['op'],
      value: unquote(value),
    })),
  }));
}

describe('alert rules', () => {
  it('finds the rule files and their tests', () => {
    expect(ruleFiles.length).toBeGreaterThan(0);
    expect(testFiles.length).toBeGreaterThan(0);
    expect(alerts.length).toBeGreaterThan(0);
  });

  it('pass promtool check rules', { timeout: PROMTOOL_TIMEOUT_MS }, async () => {
    await promtool(['check', 'rules', ...ruleFiles]);
  });

  it.each(testFiles.map((file) => basename(file)))('pass promtool test rules tests/%s', { timeout: PROMTOOL_TIMEOUT_MS }, async (file) => {
    await promtool(['test', 'rules', join(TESTS_DIR, file)]);
  });

  it('name each alert once, Junction-prefixed, with a severity, a summary, a description and a runbook that exists', () => {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const { alert, labels, annotations } of alerts) {
      if (seen.has(alert)) problems.push(`${alert}: defined twice`);
      seen.add(alert);
      if (!/^Junction(?:[A-Z][a-z0-9]+)+$/.test(alert)) problems.push(`${alert}: not a Junction-prefixed CamelCase name`);
      if (!['critical', 'warning'].includes(labels?.severity ?? '')) problems.push(`${alert}: severity is ${labels?.severity}`);
      for (const key of ['summary', 'description', 'runbook_url']) {
        if (!annotations?.[key]?.trim()) problems.push(`${alert}: no ${key} annotation`);
      }
      const runbook = `docs/runbooks/${kebab(alert)}.md`;
      if (annotations?.runbook_url !== runbook) problems.push(`${alert}: runbook_url is ${annotations?.runbook_url}, not ${runbook}`);
      else if (!existsSync(join(ROOT, runbook))) problems.push(`${alert}: ${runbook} does not exist`);
    }
    expect(problems).toEqual([]);
  });

  it('list every alert in the runbook index', () => {
    const index = readFileSync(join(ROOT, 'docs/runbooks/README.md'), 'utf8');
    expect(alerts.map((a) => a.alert).filter((alert) => !index.includes(`(${kebab(alert)}.md)`))).toEqual([]);
  });

  it('have every alert tested both firing and not, in a test file that loads its rules', () => {
    const fires = new Set<string>();
    const quiet = new Set<string>();
    for (const file of testFiles) {
      const unit = parse(readFileSync(file, 'utf8')) as UnitTestFile;
      // A case about an alert its file does not load would pass without testing anything.
      const loaded = new Set(unit.rule_files.flatMap((ruleFile) => rulesOf(resolve(TESTS_DIR, ruleFile)).map((rule) => rule.alert)));
      for (const { alertname, exp_alerts } of unit.tests.flatMap((test) => test.alert_rule_test ?? [])) {
        if (!loaded.has(alertname)) continue;
        (exp_alerts?.length ? fires : quiet).add(alertname);
      }
    }
    const untested = alerts.flatMap(({ alert }) => [
      ...(fires.has(alert) ? [] : [`${alert}: no case where it fires`]),
      ...(quiet.has(alert) ? [] : [`${alert}: no case where it stays quiet`]),
    ]);
    expect(untested).toEqual([]);
  });

  it('watch only metrics of METRICS, with their own labels', () => {
    const problems: string[] = [];
    for (const rule of rules) {
      for (const { series, matchers } of selectors(rule.expr)) {
        const spec = metricOf(series);
        if (!spec) {
          problems.push(`${rule.alert ?? rule.record}: ${series} is not in METRICS`);
          continue;
        }
        const known = [...spec.labels, ...TARGET_LABELS, ...(series.endsWith('_bucket') ? ['le'] : [])];
        for (const { label } of matchers.filter((m) => !known.includes(m.label)))
          problems.push(`${rule.alert ?? rule.record}: ${series} has no label ${label}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('match only label values METRICS declares', () => {
    expect(rules.flatMap((rule) => labelValueProblems(rule.expr).map((problem) => `${rule.alert ?? rule.record}: ${problem}`))).toEqual([]);
  });

  it('send runbook readers to metrics of METRICS, with label values it declares', () => {
    const dir = join(ROOT, 'docs/runbooks');
    const problems = readdirSync(dir)
      .filter((file) => file.endsWith('.md'))
      .flatMap((file) => {
        const where = relative(ROOT, join(dir, file));
        // SQL blocks name the outbox table (junction_outbox), not a metric.
        const text = readFileSync(join(dir, file), 'utf8').replace(/```sql[\s\S]*?```/g, '');
        return [
          ...selectors(text)
            .filter(({ series }) => !metricOf(series))
            .map(({ series }) => `${where}: ${series}`),
          ...labelValueProblems(text).map((problem) => `${where}: ${problem}`),
        ];
      });
    expect(problems).toEqual([]);
  });
});
