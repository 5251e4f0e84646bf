import { describe, expect, it } from 'vitest';
import { labelValueProblems, metricNameProblem } from './promql-check.ts';

describe('metricNameProblem', () => {
  it('names a metric the table lacks, and a histogram queried without its suffix', () => {
    expect(metricNameProblem('junction_events_published_total')).toBeUndefined();
    expect(metricNameProblem('junction_publish_duration_seconds_bucket')).toBeUndefined();
    expect(metricNameProblem('junction_publish_duration_seconds')).toMatch(/histogram/);
    expect(metricNameProblem('junction_events_published_total_count')).toMatch(/not in METRICS|only histograms/);
    expect(metricNameProblem('junction_dlq_depth_sum')).toMatch(/only histograms/);
    expect(metricNameProblem('junction_event_published_total')).toMatch(/not in METRICS/);
  });
});

describe('labelValueProblems', () => {
  it('catches a label value the table does not declare, in equality, regex, negative and __name__ selectors', () => {
    expect(
      labelValueProblems('sum(rate(junction_events_published_total{service=~"$service",outcome=~"invalid|refused|failed"}[1m]))'),
    ).toEqual([]);
    expect(labelValueProblems('junction_handler_duration_seconds_bucket{outcome!="error",le="0.25"}')).toEqual([]);
    expect(labelValueProblems('junction_events_consumed_total{outcome="error"}')).toEqual([
      'junction_events_consumed_total{outcome="error"}: outcome is never "error" (ok, retried, dead-lettered, deduplicated, skipped)',
    ]);
    expect(labelValueProblems('junction_http_requests_total{status_class!~"4xx|5XX"}')).toHaveLength(1);
    expect(labelValueProblems('junction_probe_failures_total{probe!="outbox"}')).toHaveLength(1);
    expect(labelValueProblems('{__name__=~"junction_events_published_total|junction_events_consumed_total",outcome="retried"}')).toEqual([
      'junction_events_published_total{outcome="retried"}: outcome is never "retried" (ok, invalid, refused, failed)',
    ]);
    expect(labelValueProblems('junction_events_published_total{outcome=~"ok|.*"}')).toEqual([
      'junction_events_published_total{outcome=~"ok|.*"}: not a plain alternation of values, so it cannot be checked',
    ]);
    expect(labelValueProblems('junction_events_published_total{outcome=~"$outcome"}')).toHaveLength(1);
  });

  it('reads every kind of PromQL quoting, and leaves labels without declared values alone', () => {
    expect(labelValueProblems('rate(junction_events_consumed_total{outcome="dead-lettered"}[5m])')).toEqual([]);
    expect(labelValueProblems('junction_handler_duration_seconds_count{outcome!~"ok|error", topic=~`a|.*`}')).toEqual([]);
    expect(labelValueProblems('junction_http_requests_total{status_class="500"}')).toEqual([
      'junction_http_requests_total{status_class="500"}: status_class is never "500" (1xx, 2xx, 3xx, 4xx, 5xx)',
    ]);
    expect(labelValueProblems("junction_events_consumed_total{outcome=~'ok|error'}")).toHaveLength(1);
    expect(labelValueProblems('junction_events_published_total{outcome!="dead-lettered"}')).toHaveLength(1);
    expect(labelValueProblems('junction_probe_failures_total{probe!~"lag|dlq"}')).toHaveLength(1);
    expect(labelValueProblems('junction_events_published_total{outcome=~".*ok"}')).toEqual([
      'junction_events_published_total{outcome=~".*ok"}: not a plain alternation of values, so it cannot be checked',
    ]);
    expect(labelValueProblems('junction_events_published_total{outcome=~"ok|"}')).toHaveLength(1);
  });
});
