import { randomUUID } from 'node:crypto';
import type { Publisher } from '@junction/events';
import autocannon from 'autocannon';
import { type Load, type LoadRun, laneBudgets, orderPlaced } from './gateway-stats.ts';

/** The pacing both sides share. */
export interface Pace {
  load: Load;
  /** Requests per second in all (fixed load only). */
  rate: number;
  /** Connections (gateway) or calls in flight (raw publisher). */
  connections: number;
  seconds: number;
  /** Called about every five seconds with what has finished so far. */
  onTick?: (elapsedSeconds: number, finished: number) => void;
  /** Ends the run early (Ctrl-C); what finished so far is still returned. */
  signal?: AbortSignal;
}

const TICK_SECONDS = 5;

/** What one run counts as it goes, the same for both sides; `run` makes its {@link LoadRun}. */
class Tally {
  readonly latencies: number[] = [];
  ok = 0;
  failed = 0;
  firstFailure: string | undefined;
  readonly started = performance.now();

  succeeded(ms: number): void {
    this.ok += 1;
    this.latencies.push(ms);
  }

  /** Counts a failure; the first one that says something is kept, as it usually says why. */
  fail(why?: string): void {
    this.failed += 1;
    this.firstFailure ??= why;
  }

  run(side: LoadRun['side'], load: Load): LoadRun {
    const { ok, failed, latencies, firstFailure } = this;
    const seconds = (performance.now() - this.started) / 1000;
    return { side, load, ok, failed, seconds, latencies, ...(firstFailure === undefined ? {} : { firstFailure }) };
  }
}

/**
 * Drives `POST <url>` with autocannon, one distinct OrderPlaced per request. At a fixed load
 * autocannon's `overallRate` gives each connection its share of the requests of each second,
 * sent one after another as answers come; at max load each connection sends its next request
 * as soon as the previous one is answered. Latency is each successful request's, measured by
 * autocannon with hrtime (its own histogram rounds to whole milliseconds, too coarse here).
 */
export async function gatewayLoad(url: string, token: string, pace: Pace): Promise<LoadRun> {
  const tally = new Tally();
  const finished = Promise.withResolvers<void>();
  const instance = autocannon(
    {
      url,
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      connections: pace.connections,
      ...(pace.load === 'fixed' ? { overallRate: pace.rate } : {}),
      duration: pace.seconds,
      timeout: 10,
      requests: [
        {
          setupRequest: (request) => ({ ...request, body: JSON.stringify(orderPlaced(randomUUID())) }),
          onResponse: (status, body) => {
            if (status >= 300) tally.firstFailure ??= `${status} ${body.slice(0, 500)}`;
          },
        },
      ],
    },
    (error) => (error ? finished.reject(error) : finished.resolve()),
  );
  instance.on('response', (_client, status, _bytes, responseTime) => {
    if (status >= 200 && status < 300) tally.succeeded(responseTime);
    else tally.fail();
  });
  instance.on('reqError', (error) => tally.fail(error instanceof Error ? error.message : String(error)));
  let ticks = 0;
  instance.on('tick', () => {
    ticks += 1;
    if (ticks % TICK_SECONDS === 0) pace.onTick?.(ticks, tally.ok + tally.failed);
  });
  const stop = () => instance.stop();
  pace.signal?.addEventListener('abort', stop, { once: true });
  try {
    await finished.promise;
  } finally {
    pace.signal?.removeEventListener('abort', stop);
  }
  return tally.run('gateway', pace.load);
}

/**
 * `publish` calls in this process, paced as autocannon paces the gateway so that both see the
 * same arrivals: lanes stand for connections, each with one call in flight; at a fixed load each
 * lane has its share of each second's requests (the window opens again every second), at max
 * load none. Latency is each call's, from `publish` to Kafka's acknowledgement.
 */
export async function publisherLoad(publisher: Publisher, type: string, pace: Pace): Promise<LoadRun> {
  const tally = new Tally();
  const budgets = pace.load === 'fixed' ? laneBudgets(pace.rate, pace.connections) : Array.from({ length: pace.connections }, () => 0);
  const used = budgets.map(() => 0);
  let window = Promise.withResolvers<void>();
  const deadline = tally.started + pace.seconds * 1000;
  let elapsed = 0;
  const second = setInterval(() => {
    elapsed += 1;
    used.fill(0);
    window.resolve();
    window = Promise.withResolvers<void>();
    if (elapsed % TICK_SECONDS === 0) pace.onTick?.(elapsed, tally.ok + tally.failed);
  }, 1000);
  const ended = () => performance.now() >= deadline || pace.signal?.aborted === true;
  // Wakes lanes waiting for the next second when the run ends between two.
  const end = setTimeout(() => window.resolve(), pace.seconds * 1000);
  const onAbort = () => window.resolve();
  pace.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.all(
      budgets.map(async (budget, lane) => {
        while (!ended()) {
          if (budget > 0 && (used[lane] ?? 0) >= budget) {
            await window.promise;
            continue;
          }
          used[lane] = (used[lane] ?? 0) + 1;
          const sent = performance.now();
          try {
            await publisher.publish(type, orderPlaced(randomUUID()));
            tally.succeeded(performance.now() - sent);
          } catch (error) {
            tally.fail(error instanceof Error ? error.message : String(error));
          }
        }
      }),
    );
  } finally {
    clearInterval(second);
    clearTimeout(end);
    pace.signal?.removeEventListener('abort', onAbort);
  }
  return tally.run('raw', pace.load);
}
