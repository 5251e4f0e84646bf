import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** The CloudEvents attributes a delivery carries (services/notifications sends structured JSON). */
export interface CloudEventDocument {
  id?: unknown;
  type?: unknown;
  subject?: unknown;
  time?: unknown;
  data?: unknown;
  [attribute: string]: unknown;
}

/** What one request to the receiver came to: a new event, one seen before, or a refusal. Each is answered before it is reported. */
export type Delivery =
  | { kind: 'event'; webhookId: string; receivedAt: Date; event: CloudEventDocument }
  | { kind: 'again'; webhookId: string; receivedAt: Date }
  | { kind: 'rejected'; webhookId: string | undefined; receivedAt: Date; reason: string };

/** How many requests came to what, so far. */
export interface Tally {
  events: number;
  again: number;
  rejected: number;
}

/** How the receiver listens, and whom it tells. */
export interface ReceiverOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  /** Told of every request once it is answered. */
  onDelivery: (delivery: Delivery) => void;
  /** Bodies past this are refused (413); the service's events are a few KiB. */
  maxBodyBytes?: number;
  /** Webhook ids remembered to recognise a retry; the oldest are forgotten past this. */
  rememberIds?: number;
}

/** A local HTTP endpoint that verifies Standard Webhooks signatures. */
export interface Receiver {
  /** `http://<host>:<port>/`, known once listening. */
  readonly url: string;
  /** The signing secret (`whsec_…`); until it is set, every request is answered 503. */
  setSecret(secret: string): void;
  tally(): Tally;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

const WEBHOOK_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_REMEMBER_IDS = 10_000;

/**
 * The webhook ids verified so far, the least recently seen forgotten first. Only verified ids
 * go in, so an unsigned request cannot make a real event look like a repeat.
 */
export class SeenIds {
  readonly #ids = new Set<string>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Records `id` as the newest; true when it was already there. */
  seen(id: string): boolean {
    const again = this.#ids.delete(id);
    this.#ids.add(id);
    if (again) return true;
    // A Set iterates in insertion order: the first is the oldest.
    if (this.#ids.size > this.#capacity) this.#ids.delete(this.#ids.values().next().value as string);
    return false;
  }
}

const headerValue = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(' ') : value;
};

/** The body as JSON when it is a JSON object, else its text as `data`, so a signed oddity is still shown. */
function documentOf(body: string): CloudEventDocument {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as CloudEventDocument;
  } catch {
    // Not JSON: shown as text below.
  }
  return { data: body };
}

/** Reads a body up to `max` bytes; undefined (and the request destroyed) when it is longer. */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Starts the receiver; it answers 503 until {@link Receiver.setSecret} gives it the secret. */
export async function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const seen = new SeenIds(options.rememberIds ?? DEFAULT_REMEMBER_IDS);
  const tally: Tally = { events: 0, again: 0, rejected: 0 };
  let webhook: Webhook | undefined;

  const answer = (res: ServerResponse, status: number, text?: string) => {
    res.statusCode = status;
    if (text) res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return answer(res, 405, 'only POST: this is a webhook receiver\n');
    }
    if (!webhook) return answer(res, 503, 'not subscribed yet\n');
    if (Number(req.headers['content-length'] ?? 0) > maxBodyBytes) {
      // The body is not read: the connection goes with the answer.
      res.setHeader('connection', 'close');
      return answer(res, 413, `body over ${maxBodyBytes} bytes\n`);
    }
    const body = await readBody(req, maxBodyBytes);
    // Longer than it said (or chunked and too long): reading stopped, which ends the connection.
    if (!body) return;
    const receivedAt = new Date();
    const webhookId = headerValue(req.headers, 'webhook-id');
    const headers: Record<string, string> = {};
    for (const name of WEBHOOK_HEADERS) {
      const value = headerValue(req.headers, name);
      if (value !== undefined) headers[name] = value;
    }
    try {
      // Parsed here, not by verify: a signed body that is not JSON is shown, not refused.
      webhook.verify(body, headers, { jsonParse: false });
    } catch (error) {
      tally.rejected += 1;
      answer(res, 401, 'signature did not verify\n');
      options.onDelivery({ kind: 'rejected', webhookId, receivedAt, reason: (error as Error).message });
      return;
    }
    // verify() fails without a webhook-id, so there is one here.
    const id = webhookId as string;
    if (seen.seen(id)) {
      tally.again += 1;
      answer(res, 204);
      options.onDelivery({ kind: 'again', webhookId: id, receivedAt });
      return;
    }
    tally.events += 1;
    answer(res, 204);
    options.onDelivery({ kind: 'event', webhookId: id, receivedAt, event: documentOf(body.toString('utf8')) });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) answer(res, 500, `${(error as Error).message}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    url: `http://${host}:${port}/`,
    setSecret(secret) {
      webhook = new Webhook(secret);
    },
    tally: () => ({ ...tally }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // The service keeps connections alive; close() alone would wait for them to idle out.
        server.closeAllConnections();
      }),
  };
}
