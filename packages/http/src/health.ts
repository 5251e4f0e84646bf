import { JunctionError } from '@junction/observability';
import { type Router, Router as router } from 'express';

/** A dependency check for `/readyz`: resolves when the dependency answers, rejects (or times out) when not. */
export type ReadinessCheck = (signal: AbortSignal) => Promise<unknown>;

/** Options of {@link healthRoutes}. */
export interface HealthOptions {
  /** Named checks, e.g. `{ kafka, registry }`, run in parallel on every `/readyz`. */
  checks: Record<string, ReadinessCheck>;
  /** Milliseconds each check may take. Default 2000. */
  timeoutMs?: number;
  /** False once shutdown began, so load balancers stop sending before the server stops listening. */
  accepting?: () => boolean;
}

/** One check's answer on `/readyz`. */
export interface CheckResult {
  ok: boolean;
  ms: number;
  error?: string;
}

async function run(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    await Promise.race([
      check(signal),
      new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(new JunctionError('timeout', `no answer in ${timeoutMs} ms`)), { once: true }),
      ),
    ]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, ms: Math.round(performance.now() - started), error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * `/healthz`: the process is alive and its event loop turns (no dependency is asked, so a broker
 * outage never gets the process restarted). `/readyz`: every check answered within its timeout,
 * and shutdown has not begun; the body says which check failed and why.
 */
export function healthRoutes(options: HealthOptions): Router {
  const timeoutMs = options.timeoutMs ?? 2000;
  const routes = router();
  routes.get('/healthz', (_req, res) => {
    res.type('application/json').send('{"status":"alive"}');
  });
  routes.get('/readyz', async (_req, res) => {
    const names = Object.keys(options.checks);
    const results = await Promise.all(names.map((name) => run(options.checks[name] as ReadinessCheck, timeoutMs)));
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    const accepting = options.accepting?.() ?? true;
    const ready = accepting && results.every((result) => result.ok);
    res
      .status(ready ? 200 : 503)
      .type('application/json')
      .send(JSON.stringify({ status: ready ? 'ready' : accepting ? 'not ready' : 'shutting down', checks }));
  });
  return routes;
}
