import { Agent, request } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { createPublisher, type Publisher } from '@junction/events';
import { stackStatus } from '@junction/stack';
import { Webhook } from 'standardwebhooks';
import { sampleOrder } from '../demo-orders.ts';
import { cliPiiKeyring, localPiiEnv } from '../pii.ts';
import { type ServiceProcess, startService } from '../services.ts';
import { type Delivery, type Receiver, startReceiver } from '../webhooks/receiver.ts';
import { type ApiAccess, createSubscription, deleteSubscription } from '../webhooks/subscriptions.ts';
import { cpuBetween, cpuSeconds } from './cpu.ts';
import { freePort } from './gateway-rig.ts';
import { median, percentile, pooled } from './produce.ts';
import { withThrowawayStack } from './throwaway-stack.ts';

/** The healthy receiver's deliveries/s beside dead endpoints must stay at least this fraction of its deliveries/s alone. */
export const TARGET_RATIO = 0.9;

/** The event type every round publishes and every subscription asks for. */
const EVENT_TYPE = 'com.junction.orders.OrderPlaced';

/** Deadline of each call to the subscriptions API. */
const API_TIMEOUT_MS = 10_000;

/** Publishes outstanding at once while a round publishes its events. */
const PUBLISH_WINDOW = 500;

/** How a dead endpoint fails: it accepts connections and never answers, or nothing listens on its port. */
export type DeadKind = 'silent' | 'refused';

/** Options of {@link runWebhooksBench}. */
export interface WebhooksBenchOptions {
  /** Events each round publishes; each is one delivery to the healthy receiver. */
  events: number;
  /** Rounds of each arrangement (alone, beside the dead endpoints), alternating. */
  rounds: number;
  /** Dead endpoints subscribed beside the healthy one in the "beside" rounds. */
  dead: number;
  deadKind: DeadKind;
  /** Distinct record keys (order ids) the events are spread over. */
  keys: number;
  /** Whether the healthy subscription asks for each key's events in order. */
  ordered: boolean;
  /** The service's requests in flight to one endpoint (JUNCTION_NOTIFICATIONS_ENDPOINT_CONCURRENCY). */
  endpointConcurrency: number;
  onProgress: (message: string) => void;
}

/** What one round measured at the healthy receiver. */
export interface WebhookRound {
  arrangement: 'alone' | 'beside';
  events: number;
  /** From the first publish to the last delivery received. */
  seconds: number;
  deliveriesPerSecond: number;
  /** An event's `time` (set when it was published) to its receipt. */
  p50Ms: number;
  p99Ms: number;
  /** Deliveries of an event received before (at-least-once: allowed, counted). */
  again: number;
  /** CPU seconds each process used during the round (Linux; the bench itself as `bench`). */
  cpu: Map<string, number>;
}

/** The plain-HTTP baseline: the same bodies, signed and POSTed with the same requests in flight, nothing stored. */
export interface RawRun {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
}

export interface WebhooksBenchResult {
  rounds: WebhookRound[];
  raw: RawRun;
  /** Median deliveries/s of the rounds of each arrangement. */
  alone: number;
  beside: number;
  /** beside / alone. */
  ratio: number;
  /** Bytes of one delivery's body, as received. */
  bodyBytes: number;
  brokers: string[];
}

/** An endpoint that accepts connections and never answers: each attempt to it lasts until the service's deadline. */
async function startSilentEndpoint(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // Read and ignore what comes, so the sender's writes never block on a full buffer.
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Subscriptions are made at the service itself, naming the caller as the gateway would (its `x-junction-client`). */
const serviceAccess = (serviceUrl: string): ApiAccess => ({
  baseUrl: serviceUrl,
  headers: async () => ({ 'x-junction-client': 'bench' }),
  caller: 'the bench',
  startHint: 'the notifications service the bench started has stopped; see its log',
});

/** Subscribes `url` to the bench's events. */
const subscribe = (access: ApiAccess, url: string, ordered: boolean) =>
  createSubscription(access, { url, eventTypes: [EVENT_TYPE], ordered, description: 'bench webhooks' }, API_TIMEOUT_MS);

/**
 * The healthy receiver's view of a round: every event delivered since the round began, and the
 * ids the round published, told as each publish returns (a delivery can come before its publish
 * call returned). The round is over once every published id has come. Deliveries of other ids
 * (an earlier round's, late) are not counted.
 */
export class RoundTally {
  readonly #received = new Map<string, { at: number; latencyMs: number }>();
  readonly #expected = new Set<string>();
  #matched = 0;
  #sealed = false;
  #done: () => void = () => {};
  /** Deliveries the receiver had verified before ("again"): at-least-once allows them, the bench counts them. */
  again = 0;
  readonly finished = new Promise<void>((resolve) => {
    this.#done = resolve;
  });

  /** How many published ids have not come yet. */
  get left(): number {
    return this.#expected.size - this.#matched;
  }

  /** A published event's id. */
  expect(id: string): void {
    if (this.#expected.has(id)) return;
    this.#expected.add(id);
    if (this.#received.has(id)) this.#matched += 1;
    this.#check();
  }

  /** Every id is told: the round ends when they have all come. */
  seal(): void {
    this.#sealed = true;
    this.#check();
  }

  /** A delivery the receiver answered; `at` is `performance.now()` of its receipt. */
  record(delivery: Delivery, at: number): void {
    if (delivery.kind === 'again') this.again += 1;
    if (delivery.kind !== 'event' || this.#received.has(delivery.webhookId)) return;
    const latencyMs = delivery.receivedAt.getTime() - Date.parse(String(delivery.event.time));
    this.#received.set(delivery.webhookId, { at, latencyMs });
    if (this.#expected.has(delivery.webhookId)) this.#matched += 1;
    this.#check();
  }

  /** The published events' latencies (their `time` to their receipt), sorted, and when the last came. */
  outcome(): { latencies: number[]; last: number } {
    const mine = [...this.#expected].flatMap((id) => {
      const received = this.#received.get(id);
      return received ? [received] : [];
    });
    return {
      latencies: mine.map((r) => r.latencyMs).sort((a, b) => a - b),
      last: mine.reduce((last, r) => Math.max(last, r.at), 0),
    };
  }

  #check(): void {
    if (this.#sealed && this.left === 0) this.#done();
  }
}

/** Publishes `events` OrderPlaced over `keys` order ids, `PUBLISH_WINDOW` at a time, telling `tally` each id. */
async function publishRound(publisher: Publisher, events: number, keys: readonly string[], tally: RoundTally): Promise<void> {
  await pooled(
    events,
    PUBLISH_WINDOW,
    async (i) => {
      const order = { ...sampleOrder(), orderId: keys[i % keys.length] };
      tally.expect((await publisher.publish(EVENT_TYPE, order)).id);
    },
    () => {},
  );
  tally.seal();
}

/** Signs and POSTs `body` to `url` `requests` times, `concurrency` in flight over kept-alive connections. */
async function rawRun(url: string, secret: string, body: string, requests: number, concurrency: number): Promise<RawRun> {
  const webhook = new Webhook(secret);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(url);
  const post = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const id = `raw-${i}-${Date.now()}`;
      const now = new Date();
      const call = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          timeout: 10_000,
          headers: {
            'content-type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
            'webhook-signature': webhook.sign(id, now, body),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 204 ? resolve() : reject(new Error(`the receiver answered ${res.statusCode}`))));
        },
      );
      call.on('timeout', () => call.destroy(new Error('no answer within 10 s')));
      call.on('error', reject);
      call.end(body);
    });
  const started = performance.now();
  try {
    await pooled(requests, concurrency, post, () => {});
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  return { requests, seconds, requestsPerSecond: requests / seconds };
}

/** The order of the arrangements: alone first in odd rounds, beside first in even ones, so drift favours neither. */
export function arrangements(rounds: number): Array<'alone' | 'beside'> {
  return Array.from({ length: rounds }, (_, i) => (i % 2 === 0 ? (['alone', 'beside'] as const) : (['beside', 'alone'] as const))).flat();
}

/**
 * The webhook delivery benchmark: a throwaway stack (Kafka, registry, PostgreSQL) and the
 * notifications service as its own process, as `./junction up` runs it (its per-endpoint rate
 * limit raised out of reach: the bench measures delivery, not the limiter). A healthy receiver
 * (this process: it verifies each signature, as `./junction webhooks listen` does) is subscribed
 * to OrderPlaced; each round publishes `events` of them and times them until the last arrives.
 * Rounds alternate between the healthy subscription alone and beside `dead` subscriptions to
 * endpoints that never answer (or refuse connections), made afresh for each such round, when
 * they hurt most: before their breakers open. The baseline is plain HTTP: the same body signed
 * and POSTed to the same receiver with the same requests in flight, nothing stored.
 */
export async function runWebhooksBench(options: WebhooksBenchOptions): Promise<WebhooksBenchResult> {
  const progress = options.onProgress;
  return withThrowawayStack('webhooks', progress, async ({ dir, stack, registryUrl, catalog }) => {
    let service: ServiceProcess | undefined;
    let publisher: Publisher | undefined;
    let receiver: Receiver | undefined;
    try {
      progress('starting the notifications service');
      const port = await freePort();
      service = await startService({
        name: 'notifications',
        url: `http://127.0.0.1:${port}`,
        readyPath: '/readyz',
        logFile: join(dir, 'logs', 'notifications.log'),
        env: {
          JUNCTION_NOTIFICATIONS_PORT: String(port),
          JUNCTION_NOTIFICATIONS_DATA_DIR: join(dir, 'services', 'notifications'),
          JUNCTION_KAFKA_BROKERS: stack.brokers.join(','),
          JUNCTION_SCHEMA_REGISTRY_URL: registryUrl,
          ...(stack.postgresUrl ? { JUNCTION_POSTGRES_URL: stack.postgresUrl } : {}),
          ...(stack.security ? stack.security.env('notifications') : {}),
          JUNCTION_NOTIFICATIONS_ALLOW_HTTP: 'true',
          JUNCTION_NOTIFICATIONS_ALLOW_ADDRESSES: '127.0.0.1',
          JUNCTION_NOTIFICATIONS_ENDPOINT_RATE: '10000',
          JUNCTION_NOTIFICATIONS_ENDPOINT_CONCURRENCY: String(options.endpointConcurrency),
          LOG_LEVEL: 'warn',
          // The key OrderPlaced's personal fields are encrypted with (this machine's, or a throwaway one in the stack's directory).
          ...(await localPiiEnv(dir)),
        },
      });
      const api = serviceAccess(service.url);
      const pids = new Map<string, number>([['notifications', service.pid]]);
      for (const component of (await stackStatus({ stateDir: dir })).components) {
        if (component.pid !== undefined) pids.set(component.name, component.pid);
      }
      publisher = createPublisher({
        service: 'bench',
        kafka: { brokers: stack.brokers },
        registry: { url: registryUrl },
        catalog,
        pii: await cliPiiKeyring(dir),
      });

      let tally = new RoundTally();
      let bodyBytes = 0;
      let sampleBody = '';
      receiver = await startReceiver({
        host: '127.0.0.1',
        port: 0,
        rememberIds: (2 * options.rounds + 1) * options.events + 1000,
        onDelivery: (delivery) => {
          if (delivery.kind === 'event' && !sampleBody) {
            sampleBody = JSON.stringify(delivery.event);
            bodyBytes = Buffer.byteLength(sampleBody);
          }
          tally.record(delivery, performance.now());
        },
      });
      const healthy = await subscribe(api, receiver.url, options.ordered);
      receiver.setSecret(healthy.secret);
      const keys = Array.from({ length: options.keys }, () => String(sampleOrder().orderId));

      const round = async (label: string, arrangement: 'alone' | 'beside'): Promise<WebhookRound> => {
        const dead: string[] = [];
        const endpoints: Array<() => Promise<void>> = [];
        if (arrangement === 'beside') {
          for (let i = 0; i < options.dead; i += 1) {
            const endpoint =
              options.deadKind === 'silent'
                ? await startSilentEndpoint()
                : { url: `http://127.0.0.1:${await freePort()}/`, close: async () => {} };
            endpoints.push(endpoint.close);
            dead.push((await subscribe(api, endpoint.url, false)).id);
          }
        }
        try {
          const current = new RoundTally();
          tally = current;
          const [cpuBefore, ownBefore] = [cpuSeconds(pids), process.cpuUsage()];
          const started = performance.now();
          await publishRound(publisher as Publisher, options.events, keys, current);
          const ticker = setInterval(() => progress(`${label}: ${options.events - current.left} of ${options.events} delivered`), 2000);
          const deadlineMs = Math.max(60_000, options.events * 20);
          let timer: NodeJS.Timeout | undefined;
          try {
            await Promise.race([
              current.finished,
              new Promise((_, reject) => {
                timer = setTimeout(
                  () =>
                    reject(new Error(`${label}: ${current.left} of ${options.events} events not delivered within ${deadlineMs / 1000} s`)),
                  deadlineMs,
                );
              }),
            ]);
          } finally {
            clearInterval(ticker);
            clearTimeout(timer);
          }
          const { latencies, last } = current.outcome();
          const seconds = (last - started) / 1000;
          const cpu = cpuBetween(cpuBefore, cpuSeconds(pids));
          const own = process.cpuUsage(ownBefore);
          cpu.set('bench', (own.user + own.system) / 1e6);
          return {
            arrangement,
            events: options.events,
            seconds,
            deliveriesPerSecond: options.events / seconds,
            p50Ms: percentile(latencies, 0.5),
            p99Ms: percentile(latencies, 0.99),
            again: current.again,
            cpu,
          };
        } finally {
          for (const id of dead) await deleteSubscription(api, id, API_TIMEOUT_MS);
          for (const close of endpoints) await close();
        }
      };

      progress(`warming up: ${options.events} events to the healthy receiver`);
      await round('warm-up', 'alone');
      const rounds: WebhookRound[] = [];
      const order = arrangements(options.rounds);
      for (const [i, arrangement] of order.entries()) {
        const label = `round ${i + 1} of ${order.length} (${arrangement === 'alone' ? 'alone' : `beside ${options.dead} dead`})`;
        progress(label);
        rounds.push(await round(label, arrangement));
      }

      progress(`plain HTTP: ${options.events} signed POSTs of the same body, ${options.endpointConcurrency} in flight`);
      tally = new RoundTally();
      const raw = await rawRun(receiver.url, healthy.secret, sampleBody, options.events, options.endpointConcurrency);
      await deleteSubscription(api, healthy.id, API_TIMEOUT_MS);

      const alone = median(rounds.filter((r) => r.arrangement === 'alone').map((r) => r.deliveriesPerSecond));
      const beside = median(rounds.filter((r) => r.arrangement === 'beside').map((r) => r.deliveriesPerSecond));
      return { rounds, raw, alone, beside, ratio: beside / alone, bodyBytes, brokers: stack.brokers };
    } finally {
      await receiver?.close();
      await publisher?.close();
      if (service) {
        progress('stopping the notifications service');
        await service.stop();
      }
    }
  });
}
