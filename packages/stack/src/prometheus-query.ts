import { StackError } from './errors.ts';

/** One series of an instant query's answer. */
export interface PrometheusSample {
  /** Its labels, `__name__` included when the expression kept it. */
  metric: Record<string, string>;
  value: number;
  /** Unix seconds, with fractions, as Prometheus gives it. */
  timestamp: number;
}

/** An alert as `/api/v1/alerts` lists it: pending while its `for` runs, then firing. */
export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  /** ISO time it became active. */
  activeAt: string | undefined;
  /** The value of the expression that made it active. */
  value: number;
}

/** Options of {@link queryPrometheus} and {@link prometheusAlerts}. */
export interface PrometheusQueryOptions {
  /** For the whole request, and Prometheus's own evaluation. Default 10 s. */
  timeoutMs?: number;
  /** Evaluation time of a query. Default: now. */
  time?: Date;
}

type ApiAnswer<T> = { status: 'success'; data: T } | { status: 'error'; errorType?: string; error?: string };

// Prometheus writes special floats as strings; Number() would read "+Inf" as NaN.
function sampleValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

async function api<T>(url: string, what: string, timeoutMs: number): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new StackError('query-failed', `Prometheus did not answer ${what}: ${(error as Error).message}`, {
      hint: 'is it running? ./junction stack status shows it',
      cause: error,
    });
  }
  const text = await response.text();
  let answer: ApiAnswer<T>;
  try {
    answer = JSON.parse(text) as ApiAnswer<T>;
  } catch {
    throw new StackError('query-failed', `Prometheus answered ${what} with HTTP ${response.status} and no JSON: ${text.slice(0, 200)}`, {
      hint: 'is that URL a Prometheus server?',
    });
  }
  if (answer.status === 'success') return answer.data;
  throw new StackError(
    'query-failed',
    `Prometheus refused ${what}: ${answer.errorType ?? 'error'}: ${answer.error ?? `HTTP ${response.status}`}`,
    {
      hint: 'check the expression; the UI at /graph shows the same error as you type',
    },
  );
}

/**
 * Runs an instant query through `/api/v1/query` and returns its series (a scalar as one series
 * with no labels). An expression that yields a range vector or a string fails: ask for it
 * through an instant function such as `rate(…[1m])`.
 */
export async function queryPrometheus(url: string, promql: string, options: PrometheusQueryOptions = {}): Promise<PrometheusSample[]> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const params = new URLSearchParams({ query: promql, timeout: `${timeoutMs}ms` });
  if (options.time) params.set('time', String(options.time.getTime() / 1000));
  const what = `the query ${promql}`;
  const data = await api<{ resultType: string; result: unknown }>(`${url}/api/v1/query?${params}`, what, timeoutMs);
  if (data.resultType === 'vector') {
    const series = data.result as Array<{ metric: Record<string, string>; value: [number, string] }>;
    return series.map(({ metric, value: [timestamp, value] }) => ({ metric, value: sampleValue(value), timestamp }));
  }
  if (data.resultType === 'scalar') {
    const [timestamp, value] = data.result as [number, string];
    return [{ metric: {}, value: sampleValue(value), timestamp }];
  }
  throw new StackError('query-failed', `${what} gave a ${data.resultType}, not an instant vector`, {
    hint: 'wrap a range selector in a function such as rate(…[1m]) or last_over_time(…[1m])',
  });
}

/** The alerts Prometheus holds now (pending and firing), from `/api/v1/alerts`. */
export async function prometheusAlerts(url: string, options: Pick<PrometheusQueryOptions, 'timeoutMs'> = {}): Promise<PrometheusAlert[]> {
  const data = await api<{
    alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string>; state: string; activeAt?: string; value: string }>;
  }>(`${url}/api/v1/alerts`, 'the alerts request', options.timeoutMs ?? 10_000);
  return data.alerts.map((alert) => ({
    labels: alert.labels,
    annotations: alert.annotations,
    state: alert.state as PrometheusAlert['state'],
    activeAt: alert.activeAt,
    value: sampleValue(alert.value),
  }));
}
