import { openPostgres } from '@junction/events';
import { stackStatus } from '@junction/stack';
import { fetchToken } from '../../commands/token.ts';
import { type Flow, type FlowPorts, startFlow } from '../flow.ts';
import { type LoadStats, percentile, runOrderLoad } from '../load/order-load.ts';
import { cpuBetween, cpuSeconds } from './cpu.ts';
import { type FlowStage, flowStages } from './flow-stages.ts';
import { freePort } from './gateway-rig.ts';
import { type KafkaHop, kafkaHop } from './kafka-java.ts';
import { withThrowawayStack } from './throwaway-stack.ts';

/** A rate is held when the orders placed at it are confirmed with p99 under this. */
export const HELD_P99_MS = 1000;

/** SKUs the load generator orders (order-load's catalogue), restocked before the bench so no order is refused for stock. */
const RESTOCKED = ['BOOK-0001', 'PEN-0042', 'SKU-LAMP', 'SKU-BULB', 'MUG-0007'];

/** Options of {@link runFlowBench}. */
export interface FlowBenchOptions {
  /** Orders per second of the measured run. */
  rate: number;
  /** How long the measured run places orders. */
  durationMs: number;
  /** How many times the measured rate is run, back to back; judged by the run with the median p99. Default 3. */
  runs?: number;
  /**
   * Orders first, not counted: the first half at half the rate (JIT, plans, caches), the second at
   * the measured rate, so that connection pools and queues have grown to what that rate needs and
   * the measured run starts in its steady state, not in the step from one rate to another.
   */
  warmupMs: number;
  /**
   * Rates the search may try after the measured run: when that run held, those above it, lowest
   * first, until one is not held; when it did not, those below it, highest first, until one is.
   * Empty for no search.
   */
  searchRates: readonly number[];
  /** How long each rate of the search places orders. */
  searchMs: number;
  /** The payment provider stand-in's answer time. */
  providerLatencyMs: number;
  onProgress: (message: string) => void;
}

/** One run at one rate. */
export interface FlowPhase {
  rate: number;
  seconds: number;
  stats: LoadStats;
  p50Ms?: number;
  p99Ms?: number;
  /** p99 under {@link HELD_P99_MS}, every order settled and none refused or dropped, the rate reached. */
  held: boolean;
  /** Why not, when not held. */
  why?: string;
}

export interface FlowBenchResult {
  /** The measured run with the median p99 (of {@link runs}): what the rate is judged by. */
  measured: FlowPhase;
  /** Every run of the measured rate, in order. */
  runs: FlowPhase[];
  /** CPU seconds each process used during the measured runs (Linux); the load generator as `bench`. */
  cpu: Map<string, number>;
  /** How long the measured run took, placing and settling: what the CPU seconds are shares of. */
  cpuWallSeconds: number;
  /** Where the measured run's confirmed orders spent their time, from the services' outbox and inbox tables (PostgreSQL only). */
  stages?: { orders: number; stages: FlowStage[] };
  search: FlowPhase[];
  /** The highest rate held: of the measured run and the search. */
  maxHeld?: number;
  kafkaHop?: KafkaHop;
  /** Why the Kafka baseline is missing, when it is. */
  kafkaHopError?: string;
  /** The stack the flow ran on, for the printed header. */
  brokers: string[];
  postgres: boolean;
}

/**
 * The run with the median p99 (the upper one of two middles; a run with no p99, nothing
 * confirmed, counts as the slowest): runs of one rate differ widely near saturation, and one run
 * says little.
 */
export function medianRun(runs: readonly FlowPhase[]): FlowPhase {
  const sorted = [...runs].sort((a, b) => (a.p99Ms ?? Number.POSITIVE_INFINITY) - (b.p99Ms ?? Number.POSITIVE_INFINITY));
  const median = sorted[Math.floor(sorted.length / 2)];
  if (!median) throw new Error('no measured run');
  return median;
}

/** Whether a run at `rate` held, and why not. */
export function judgePhase(rate: number, seconds: number, stats: LoadStats): Pick<FlowPhase, 'held' | 'why' | 'p50Ms' | 'p99Ms'> {
  const p50Ms = percentile(stats.completionMs, 50);
  const p99Ms = percentile(stats.completionMs, 99);
  const expected = rate * seconds;
  const why =
    stats.refused > 0
      ? `${stats.refused} refused (first: ${(stats.firstRefusal ?? 'no answer').slice(0, 160)})`
      : stats.dropped > 0
        ? `${stats.dropped} dropped: too many orders being placed at once`
        : stats.pending > 0
          ? `${stats.pending} never settled`
          : stats.confirmed === 0
            ? 'no order was confirmed'
            : p99Ms !== undefined && p99Ms > HELD_P99_MS
              ? `p99 ${Math.round(p99Ms)} ms is over ${HELD_P99_MS} ms`
              : stats.placed < expected * 0.9
                ? `placed ${stats.placed} of about ${Math.round(expected)}: the generator could not keep the rate`
                : undefined;
  return {
    held: why === undefined,
    ...(why ? { why } : {}),
    ...(p50Ms !== undefined ? { p50Ms } : {}),
    ...(p99Ms !== undefined ? { p99Ms } : {}),
  };
}

/** The rates a search tries after a run at `rate`: up from it when it held, down when not. */
export function searchOrder(rate: number, held: boolean, rates: readonly number[]): number[] {
  const unique = [...new Set(rates)];
  return held ? unique.filter((r) => r > rate).sort((a, b) => a - b) : unique.filter((r) => r < rate).sort((a, b) => b - a);
}

async function freePorts(): Promise<FlowPorts> {
  const ports = new Set<number>();
  while (ports.size < 6) ports.add(await freePort());
  const [gateway, auth, orders, inventory, billing, provider] = [...ports] as [number, number, number, number, number, number];
  return { gateway, auth, orders, inventory, billing, provider };
}

/** Restocks the load's SKUs through the gateway as the `warehouse` client, so stock never refuses a bench order. */
async function restock(flow: Flow, stateDir: string): Promise<void> {
  const { token } = await fetchToken({ client: 'warehouse', timeout: 10, authUrl: flow.auth.url, stateDir });
  for (const sku of RESTOCKED) {
    const response = await fetch(`${flow.gateway.url}/v1/inventory/items/${sku}/restock`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ quantity: 1_000_000 }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`restocking ${sku} answered ${response.status}: ${await response.text()}`);
  }
}

/** {@link flowStages} of the measured window on the throwaway stack's PostgreSQL; undefined (and said) when it cannot be read. */
async function measuredStages(
  url: string,
  window: { from: Date; to: Date },
  progress: (message: string) => void,
): Promise<{ orders: number; stages: FlowStage[] } | undefined> {
  const db = openPostgres(url, { max: 1 });
  try {
    return await flowStages(db, window);
  } catch (error) {
    progress(`the stages of the measured run could not be read: ${(error as Error).message}`);
    return undefined;
  } finally {
    await db.close();
  }
}

/**
 * The order-flow benchmark: a throwaway stack (Kafka, registry, PostgreSQL, Redis) with the auth
 * server, the gateway, orders, inventory, billing and the payment stand-in, each its own process
 * as `./junction up` runs them; orders through the gateway at a random (Poisson) rate, each
 * followed to confirmed by the orders' own timestamps; then higher rates until one is not held.
 * Kafka's EndToEndLatency on the same broker is the baseline: the flow crosses Kafka three times.
 */
export async function runFlowBench(options: FlowBenchOptions): Promise<FlowBenchResult> {
  const progress = options.onProgress;
  return withThrowawayStack('flow', progress, async ({ dir, stack }) => {
    let flow: Flow | undefined;
    try {
      progress('starting auth, the payment stand-in, orders, inventory, billing and the gateway');
      flow = await startFlow(stack, {
        ports: await freePorts(),
        providerEnv: { PAYMENT_STANDIN_LATENCY_MS: String(options.providerLatencyMs), PAYMENT_STANDIN_FAILURE_RATE: '0' },
        // The bench measures the flow, not the rate limiter: the client's quota is out of reach.
        gatewayEnv: {
          JUNCTION_GATEWAY_RATE_LIMIT_PER_SECOND: '100000',
          JUNCTION_GATEWAY_RATE_LIMIT_BURST: '100000',
          JUNCTION_GATEWAY_IP_RATE_LIMIT_PER_SECOND: '100000',
          JUNCTION_GATEWAY_IP_RATE_LIMIT_BURST: '100000',
        },
      });
      await restock(flow, stack.stateDir);
      const running = flow;
      const runningStack = stack;

      const phase = async (rate: number, ms: number, label: string): Promise<FlowPhase> => {
        // A fresh token each phase: a long search outlives one.
        const { token } = await fetchToken({ client: 'shop', timeout: 10, authUrl: running.auth.url, stateDir: runningStack.stateDir });
        let last = 0;
        const stats = await runOrderLoad({
          gatewayUrl: running.gateway.url,
          token,
          rate,
          durationMs: ms,
          maxInFlight: 512,
          settleMs: 15_000,
          onTick: (now) => {
            if (Date.now() - last < 5000) return;
            last = Date.now();
            const p99 = percentile(now.completionMs, 99);
            progress(
              `${label}: placed ${now.placed}, confirmed ${now.confirmed}, pending ${now.pending}${p99 === undefined ? '' : `, p99 ${Math.round(p99)} ms`}`,
            );
          },
        });
        return { rate, seconds: ms / 1000, stats, ...judgePhase(rate, ms / 1000, stats) };
      };

      const half = Math.max(1, options.rate / 2);
      progress(`warming up: ${Math.round(half)} orders/s, then ${options.rate}/s, for ${options.warmupMs / 1000} s`);
      await phase(half, options.warmupMs / 2, 'warm-up');
      await phase(options.rate, options.warmupMs / 2, 'warm-up');
      const count = Math.max(1, options.runs ?? 3);
      progress(`measuring: ${options.rate} orders/s for ${options.durationMs / 1000} s${count > 1 ? `, ${count} times` : ''}`);
      const pids = new Map<string, number>(running.services.map((service) => [service.name, service.pid]));
      for (const component of (await stackStatus({ stateDir: dir })).components) {
        if (component.pid !== undefined) pids.set(component.name, component.pid);
      }
      const [cpuBefore, ownBefore, wallBefore, from] = [cpuSeconds(pids), process.cpuUsage(), performance.now(), new Date()];
      const runs: FlowPhase[] = [];
      for (let run = 1; run <= count; run += 1) {
        runs.push(await phase(options.rate, options.durationMs, `${options.rate}/s${count > 1 ? ` (run ${run} of ${count})` : ''}`));
      }
      const measured = medianRun(runs);
      const cpuWallSeconds = (performance.now() - wallBefore) / 1000;
      const own = process.cpuUsage(ownBefore);
      const cpu = cpuBetween(cpuBefore, cpuSeconds(pids));
      cpu.set('bench', (own.user + own.system) / 1e6);
      const stages = stack.postgresUrl ? await measuredStages(stack.postgresUrl, { from, to: new Date() }, progress) : undefined;
      const search: FlowPhase[] = [];
      for (const rate of searchOrder(options.rate, measured.held, options.searchRates)) {
        progress(`searching ${measured.held ? 'up' : 'down'}: ${rate} orders/s for ${options.searchMs / 1000} s`);
        const result = await phase(rate, options.searchMs, `${rate}/s`);
        search.push(result);
        if (result.held !== measured.held) break;
      }
      const maxHeld = [measured, ...search]
        .filter((p) => p.held)
        .reduce<number | undefined>((max, p) => Math.max(max ?? 0, p.rate), undefined);

      progress("Kafka's EndToEndLatency on the same broker (5,000 messages, acks=all, 1 KiB)");
      let hop: KafkaHop | undefined;
      let hopError: string | undefined;
      try {
        hop = await kafkaHop(stack.brokers, 5000, progress);
      } catch (error) {
        hopError = (error as Error).message;
      }
      return {
        measured,
        runs,
        cpu,
        cpuWallSeconds,
        ...(stages ? { stages } : {}),
        search,
        ...(maxHeld !== undefined ? { maxHeld } : {}),
        ...(hop ? { kafkaHop: hop } : {}),
        ...(hopError ? { kafkaHopError: hopError } : {}),
        brokers: stack.brokers,
        postgres: Boolean(stack.postgresUrl),
      };
    } finally {
      if (flow) {
        progress('stopping the flow');
        await flow.stop();
      }
    }
  });
}
