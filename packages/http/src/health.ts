import { JunctionError } from '@junction/observability';
import { type Router, Router as router } from 'express';
import type { LogSink } from './log.ts';
import { refuseOtherMethods } from './methods.ts';

/** A dependency check for `/readyz`: resolves when the dependency answers, rejects (or times out) when not. */
export type ReadinessCheck = (signal: AbortSignal) => Promise<unknown>;

/** Options of {@link healthRoutes}. */
export interface HealthOptions {
  /** Named checks, e.g. `{ kafka, registry }`, run in parallel when `/readyz` needs a fresh answer. */
  checks: Record<string, ReadinessCheck>;
  /** Milliseconds each check may take. Default 2000. */
  timeoutMs?: number;
  /** Milliseconds one round of checks answers every `/readyz`. Default 1000. */
  cacheMs?: number;
  /** False once shutdown began, so load balancers stop sending before the server stops listening. */
  accepting?: () => boolean;
  /** Told why a check failed, at most once a minute per check: the public body never says. */
  logger?: LogSink<'warn'>;
}

/** One check's answer on `/readyz`: whether it answered, and how long it took. */
export interface CheckResult {
  ok: boolean;
  ms: number;
}

/** How long a failing check stays quiet in the log after it was reported. */
const WARN_EVERY_MS = 60_000;

async function run(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult & { error?: unknown }> {
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
    return { ok: false, ms: Math.round(performance.now() - started), error };
  }
}

/**
 * `/healthz`: the process is alive and its event loop turns (no dependency is asked, so a broker
 * outage never gets the process restarted). `/readyz`: every check answered within its timeout,
 * and shutdown has not begun; the body names each check with ok and ms.
 *
 * `/readyz` is open, so it must not be an amplifier: one round of checks runs at a time (callers
 * meanwhile share it) and its answer serves every request for `cacheMs`. Why a check failed goes
 * to the log, not to the caller: dependency errors name hosts and internals.
 */
export function healthRoutes(options: HealthOptions): Router {
  const timeoutMs = options.timeoutMs ?? 2000;
  const cacheMs = options.cacheMs ?? 1000;
  const names = Object.keys(options.checks);
  const warnedAt = new Map<string, number>();
  let last: { at: number; checks: Record<string, CheckResult> } | undefined;
  let running: Promise<Record<string, CheckResult>> | undefined;

  const checkAll = async (): Promise<Record<string, CheckResult>> => {
    const results = await Promise.all(names.map((name) => run(options.checks[name] as ReadinessCheck, timeoutMs)));
    const checks: Record<string, CheckResult> = {};
    names.forEach((name, i) => {
      const { ok, ms, error } = results[i] as CheckResult & { error?: unknown };
      checks[name] = { ok, ms };
      if (!ok && Date.now() - (warnedAt.get(name) ?? Number.NEGATIVE_INFINITY) >= WARN_EVERY_MS) {
        warnedAt.set(name, Date.now());
        options.logger?.warn(`readiness check ${name} failed`, { check: name, err: error });
      }
    });
    last = { at: performance.now(), checks };
    return checks;
  };
  const current = (): Promise<Record<string, CheckResult>> => {
    if (last && performance.now() - last.at < cacheMs) return Promise.resolve(last.checks);
    running ??= checkAll().finally(() => {
      running = undefined;
    });
    return running;
  };

  const routes = router();
  routes.get('/healthz', (_req, res) => {
    res.type('application/json').send('{"status":"alive"}');
  });
  routes.get('/readyz', async (_req, res) => {
    const checks = await current();
    const accepting = options.accepting?.() ?? true;
    const ready = accepting && Object.values(checks).every((result) => result.ok);
    res
      .status(ready ? 200 : 503)
      .type('application/json')
      .send(JSON.stringify({ status: ready ? 'ready' : accepting ? 'not ready' : 'shutting down', checks }));
  });
  refuseOtherMethods(routes, '/healthz', ['GET']);
  refuseOtherMethods(routes, '/readyz', ['GET']);
  return routes;
}
