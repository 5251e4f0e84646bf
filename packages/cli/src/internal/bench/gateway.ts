import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { createPublisher, type Publisher } from '@junction/events';
import { Command } from 'commander';
import { integer } from '../args.ts';
import { progress, style, table } from '../output.ts';
import { stateDir } from '../paths.ts';
import { gatewayLoad, type Pace, publisherLoad } from './gateway-load.ts';
import { BENCH_TYPE, type GatewayRig, startGatewayRig } from './gateway-rig.ts';
import {
  CONCURRENCY_HEADROOM,
  calibratedConnections,
  type Load,
  type LoadRun,
  type LoadSummary,
  mean,
  SUMMARY_HEADERS,
  summarise,
  summaryRow,
  verdictOf,
} from './gateway-stats.ts';

/** What the gateway may add to the raw publisher's p99 at the fixed rate. */
const TARGET_MS = 5;

/** How long the gateway runs alone on one connection to measure its latency at low concurrency. */
const CALIBRATION_SECONDS = 2;

/** Flags of `bench gateway`, validated by commander before anything starts. */
interface GatewayFlags {
  rate: number;
  duration: number;
  connections: number;
  warmUp: number;
  stateDir?: string;
  profile?: string;
}

/** The fixed-rate runs' concurrency and what it was derived from. */
interface Calibration {
  /** Mean gateway latency on one connection, ms. */
  latencyMs: number;
  connections: number;
}

const loadAverage = (): string =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(', ');

/** Both sides at one load: the gateway over HTTP, then the publisher in this process. */
async function bothSides(rig: GatewayRig, publisher: Publisher, pace: Pace, label: string): Promise<[LoadRun, LoadRun]> {
  const url = `${rig.gateway.url}/v1/events/${BENCH_TYPE}`;
  const tick = (side: string) => (elapsed: number, finished: number) =>
    progress(`${side}, ${label}: ${elapsed} of ${pace.seconds} s, ${finished.toLocaleString('en')} requests finished`);
  progress(`gateway, ${label}, ${pace.seconds} s`);
  const gateway = await gatewayLoad(url, rig.token, { ...pace, onTick: tick('gateway') });
  if (pace.signal?.aborted) return [gateway, { ...gateway, side: 'raw', ok: 0, failed: 0, latencies: [] }];
  progress(`raw publisher, ${label}, ${pace.seconds} s`);
  const raw = await publisherLoad(publisher, BENCH_TYPE, { ...pace, onTick: tick('raw publisher') });
  return [gateway, raw];
}

function print(runs: LoadRun[], flags: GatewayFlags, calibration: Calibration, rig: GatewayRig, loadBefore: string): void {
  const summaries = runs.map(summarise);
  const of = (side: LoadSummary['side'], load: Load) => summaries.find((s) => s.side === side && s.load === load) as LoadSummary;
  console.log(
    `\n${BENCH_TYPE} with acks=all to ${rig.topic} on ${rig.brokers.join(',')}; rate limits and idempotency keys in ${rig.redisUrl ? 'Redis' : 'memory'}:\n`,
  );
  console.log(
    table(
      SUMMARY_HEADERS,
      summaries.map((s) => summaryRow(s, flags.rate, { fixed: calibration.connections, max: flags.connections })),
    ),
  );
  for (const run of runs) {
    if (run.firstFailure) console.log(style('yellow', `${run.side}, ${run.load}: first failure: ${run.firstFailure}`));
  }
  const verdict = verdictOf(
    { gateway: { fixed: of('gateway', 'fixed'), max: of('gateway', 'max') }, raw: { fixed: of('raw', 'fixed'), max: of('raw', 'max') } },
    flags.rate,
    TARGET_MS,
  );
  const target = `target ≤ ${TARGET_MS} ms`;
  const held = of('gateway', 'fixed');
  console.log(
    `\ngateway adds ${style('bold', `${verdict.addedP99Ms.toFixed(2)} ms`)} at p99 at ${flags.rate.toLocaleString('en')} requests/s (${target}): ${
      verdict.meets
        ? style('green', 'meets it')
        : style(
            'red',
            verdict.addedP99Ms <= TARGET_MS
              ? `misses it: the gateway did not hold the rate without errors (${Math.round(held.okRate).toLocaleString('en')} ok/s, ${(held.errorRatio * 100).toFixed(2)} % errors)`
              : 'misses it',
          )
    }`,
  );
  console.log(
    `max-rate throughput, gateway / raw publisher: ${style('bold', `${verdict.throughputRatio.toFixed(2)}×`)} (${Math.round(of('gateway', 'max').okRate).toLocaleString('en')} vs ${Math.round(of('raw', 'max').okRate).toLocaleString('en')} successful requests/s)`,
  );
  if (!verdict.meets) process.exitCode = 1;
  console.log(
    style(
      'dim',
      `\nGateway: autocannon over HTTP/1.1 keep-alive, a bearer token (ES256) on every request (its signature verified once, then remembered until it expires), body validated against the Avro schema, PII encrypted, published and answered 202 after Kafka's ack. Raw publisher: createPublisher in this process with the same keys and contracts, one publish call per event. Both paced alike: at the fixed rate ${calibration.connections} connections (lanes), each with its share of every second's requests (${Math.ceil(flags.rate / calibration.connections).toLocaleString('en')} at most), sent one after another as answers come; ${calibration.connections} because one connection alone saw ${calibration.latencyMs.toFixed(2)} ms on average, and Little's law keeps ${flags.rate.toLocaleString('en')}/s × ${calibration.latencyMs.toFixed(2)} ms in flight, ×${CONCURRENCY_HEADROOM} headroom, so the requests spread over each second instead of starting it in a burst that queues. At max rate ${flags.connections} connections (lanes), each sending as soon as it is answered. Latency: send to answer, or publish call to ack. A warm-up of ${flags.warmUp} s of each side came first, unmeasured. Load average (1, 5, 15 min) before: ${loadBefore}; after: ${loadAverage()}.`,
    ),
  );
}

/**
 * The fixed-rate runs' connections: the gateway's mean latency on one connection, warm, turned
 * into a concurrency by Little's law ({@link calibratedConnections}).
 */
async function calibrate(rig: GatewayRig, rate: number, signal: AbortSignal): Promise<Calibration> {
  progress(`calibrating: the gateway on one connection for ${CALIBRATION_SECONDS} s, to choose the fixed-rate runs' connections`);
  const run = await gatewayLoad(`${rig.gateway.url}/v1/events/${BENCH_TYPE}`, rig.token, {
    load: 'max',
    rate,
    connections: 1,
    seconds: CALIBRATION_SECONDS,
    signal,
  });
  const latencyMs = mean(run.latencies);
  const connections = calibratedConnections(rate, latencyMs);
  progress(`one connection: ${latencyMs.toFixed(2)} ms on average → ${connections} connections at ${rate.toLocaleString('en')}/s`);
  return { latencyMs, connections };
}

async function gatewayBench(flags: GatewayFlags): Promise<void> {
  const abort = new AbortController();
  const onSignal = () => {
    if (abort.signal.aborted) process.exit(130);
    progress('stopping: the runs end, then the gateway and auth server stop and the bench topic is deleted (Ctrl-C again to quit at once)');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const loadBefore = loadAverage();
  let rig: GatewayRig | undefined;
  let publisher: Publisher | undefined;
  try {
    rig = await startGatewayRig({
      stateDir: stateDir(flags.stateDir),
      onProgress: progress,
      ...(flags.profile ? { profileDir: resolve(flags.profile) } : {}),
    });
    publisher = createPublisher({
      service: 'bench',
      kafka: { brokers: rig.brokers },
      registry: { url: rig.registryUrl },
      catalog: rig.catalog,
      pii: rig.pii,
      // As the gateway's publisher is set up, so both paths wait and give up alike.
      backpressureTimeoutMs: 1000,
      sendTimeoutMs: 10_000,
    });
    const base = { rate: flags.rate, connections: flags.connections, signal: abort.signal };
    progress(`warming up both sides for ${flags.warmUp} s each (JIT, connections, schema ids, token keys)`);
    await bothSides(rig, publisher, { ...base, load: 'max', seconds: flags.warmUp }, 'warm-up');
    const calibration = await calibrate(rig, flags.rate, abort.signal);
    const fixed = { ...base, connections: calibration.connections };
    const runs: LoadRun[] = [];
    runs.push(...(await bothSides(rig, publisher, { ...fixed, load: 'fixed', seconds: flags.duration }, `fixed ${flags.rate}/s`)));
    if (!abort.signal.aborted)
      runs.push(
        ...(await bothSides(rig, publisher, { ...base, load: 'max', seconds: flags.duration }, `max, ${flags.connections} in flight`)),
      );
    if (abort.signal.aborted) {
      progress('interrupted: no numbers printed');
      process.exitCode = 130;
      return;
    }
    print(runs, flags, calibration, rig, loadBefore);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (publisher) await publisher.close().catch(() => {});
    if (rig) {
      progress('stopping the gateway and the auth server, deleting the bench topic');
      await rig.close();
    }
  }
}

/** `junction bench gateway`: authenticated POST /v1/events through the gateway beside the raw publisher, in one run. */
export function gatewayBenchCommand(): Command {
  return new Command('gateway')
    .description(
      `POST /v1/events/${BENCH_TYPE} through a gateway with autocannon at a fixed rate and at max rate, beside the raw publisher in the same run; print p50/p90/p99, error ratios and what the gateway adds (exit 1 above ${TARGET_MS} ms at p99)`,
    )
    .option('--rate <n>', 'requests per second in all, for the fixed-rate runs', integer(1, 20_000), 1000)
    .option('--duration <seconds>', 'length of each measured run (four runs)', integer(1, 120), 10)
    .option(
      '--connections <n>',
      'HTTP connections to the gateway, and publish calls in flight on the raw side, at max rate (the fixed rate calibrates its own)',
      integer(1, 1000),
      20,
    )
    .option('--warm-up <seconds>', 'unmeasured run of each side before the measured ones', integer(1, 60), 3)
    .option('--state-dir <dir>', "the running stack's state directory (default .junction, as ./junction stack up)")
    .option('--profile <dir>', "write the gateway process's V8 CPU profile (.cpuprofile, for Chrome DevTools) into <dir> when it stops")
    .addHelpText(
      'after',
      `
Needs the stack running (./junction stack up, or ./junction up): Kafka, the schema registry and,
when the stack has it, Redis. The bench starts its own auth server and gateway as child processes
on free ports of 127.0.0.1 (so it runs beside ./junction up's 8080 and 8090), with a client that
may publish to a private topic orders.gateway-bench-<random>: the real OrderPlaced contract, but
not the real orders.order, whose subscribers would act on the bench's orders. The topic, its
subject, the processes and their temporary files are gone when it ends, on Ctrl-C too.

Runs: a warm-up of each side, a calibration (the gateway alone on one connection), then the
gateway and the raw publisher at --rate requests/s, then both at max rate with --connections in
flight. Each request is a distinct order (its own orderId). autocannon paces a fixed rate by
giving each connection its share of every second's requests, sent back to back; so the fixed
rate uses only as many connections as Little's law asks (rate × the calibrated latency, ×1.5),
or each second would start with a burst of one request per connection that queues in the
gateway. The raw publisher is paced the same way (same lanes, same budgets), so both see the
same arrivals.

Target: the gateway adds at most ${TARGET_MS} ms at p99 to the raw publisher's, at 1,000 requests/s,
holding the rate without errors. The machine's load average is printed beside the numbers: other
work on it moves them.`,
    )
    .action(gatewayBench);
}
