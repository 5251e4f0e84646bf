import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { addressPolicy } from './address-policy.ts';
import { type SendOptions, type SendResult, sendWebhook } from './sender.ts';
import { newSecret, webhookHeaders } from './signing.ts';

// A self-signed certificate for localhost and 127.0.0.1, valid 2000-2100; it is its own CA.
const TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg11UrJyVi9kXFLv/q
6B51A7XS7tXKOCHWwOjFiRFWgy6hRANCAASt/jm0G1UWljCczecebN4K35NWtisp
4D7v5i9SKHO4HJ2yEOvg9u492Y04/1+nWryY9t/6DbLHzQSvKwmcIf7e
-----END PRIVATE KEY-----`;
const TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBfjCCASWgAwIBAgIBATAKBggqhkjOPQQDAjAgMR4wHAYDVQQDDBVKdW5jdGlv
biB3ZWJob29rIHRlc3QwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBa
MCAxHjAcBgNVBAMMFUp1bmN0aW9uIHdlYmhvb2sgdGVzdDBZMBMGByqGSM49AgEG
CCqGSM49AwEHA0IABK3+ObQbVRaWMJzN5x5s3grfk1a2KyngPu/mL1Ioc7gcnbIQ
6+D27j3ZjTj/X6davJj23/oNssfNBK8rCZwh/t6jTjBMMBoGA1UdEQQTMBGCCWxv
Y2FsaG9zdIcEfwAAATAPBgNVHRMBAf8EBTADAQH/MB0GA1UdDgQWBBTlTNt1MZPd
/bBNX6ncU27tkS5GWjAKBggqhkjOPQQDAgNHADBEAiBSwUGmPY66JxQEmrKgPvIY
+h3N+btCSF4QBgoSbu0X8QIgeVTkHcK8dXkYOa1C5mS8lLrS2RBN1ucpiN0tuLBp
GrE=
-----END CERTIFICATE-----`;

const servers: { server: Server; connections: Socket[] }[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(async ({ server, connections }) => {
      for (const socket of connections) socket.destroy();
      await new Promise((done) => server.close(done));
    }),
  );
});

/** Starts `server` on `host` port 0 and records every TCP connection it accepts. */
async function listen(server: Server, host = '127.0.0.1') {
  const connections: Socket[] = [];
  server.on('connection', (socket: Socket) => connections.push(socket));
  server.listen(0, host);
  await once(server, 'listening');
  servers.push({ server, connections });
  return { port: (server.address() as AddressInfo).port, connections };
}

/** An HTTP server on 127.0.0.1 answering with `handle`, recording the requests it got. */
async function http(handle: (req: IncomingMessage, res: ServerResponse) => void, host = '127.0.0.1') {
  const requests: { req: IncomingMessage; body: string }[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    requests.push({ req, body: Buffer.concat(chunks).toString('utf8') });
    handle(req, res);
  });
  return { ...(await listen(server, host)), requests };
}

const local = addressPolicy(['127.0.0.1/32']);
const body = JSON.stringify({ type: 'order.placed', data: { orderId: 'o-1', note: 'Zoë' } });
const send = (url: string, more: Partial<SendOptions> = {}): Promise<SendResult> =>
  sendWebhook({ url, body, headers: {}, policy: local, connectTimeoutMs: 2_000, timeoutMs: 5_000, maxResponseBytes: 64 * 1024, ...more });
const closed = (socket: Socket | undefined) => (socket === undefined || socket.closed ? Promise.resolve() : once(socket, 'close'));

describe('sendWebhook', () => {
  it('POSTs the body with the sender headers and the webhook headers a receiver can verify', async () => {
    const secret = newSecret();
    const headers = webhookHeaders([secret], 'msg_1', Math.floor(Date.now() / 1000), body);
    const up = await http((_, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks ✓'));
    const result = await send(`http://127.0.0.1:${up.port}/hooks/orders?tenant=t1`, { headers });
    expect(result).toMatchObject({ kind: 'answered', status: 200, body: 'thanks ✓', truncated: false });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    const [got] = up.requests;
    expect(got?.req.method).toBe('POST');
    expect(got?.req.url).toBe('/hooks/orders?tenant=t1');
    expect(got?.body).toBe(body);
    expect(got?.req.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'Junction-Webhooks/1',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    });
    expect(new Webhook(secret).verify(got?.body ?? '', got?.req.headers as Record<string, string>)).toEqual(JSON.parse(body));
  });

  it('keeps its own content-type, user-agent and content-length over the caller’s', async () => {
    const up = await http((_, res) => res.end());
    await send(`http://127.0.0.1:${up.port}/`, { headers: { 'Content-Type': 'text/plain', 'User-Agent': 'evil', 'Content-Length': '1' } });
    expect(up.requests[0]?.req.headers).toMatchObject({ 'content-type': 'application/json', 'user-agent': 'Junction-Webhooks/1' });
    expect(up.requests[0]?.body).toBe(body);
  });

  it('returns a redirect as the answer and never follows it', async () => {
    const elsewhere = await http((_, res) => res.end('followed'));
    const up = await http((_, res) => res.writeHead(302, { location: `http://127.0.0.1:${elsewhere.port}/` }).end('moved'));
    const result = await send(`http://127.0.0.1:${up.port}/`);
    expect(result).toMatchObject({ kind: 'answered', status: 302, body: 'moved', truncated: false });
    await sleep(50);
    expect(elsewhere.connections).toHaveLength(0);
  });

  it('answers 4xx and 5xx as answers, not failures', async () => {
    const up = await http((req, res) => res.writeHead(req.url === '/gone' ? 410 : 503).end('no'));
    expect(await send(`http://127.0.0.1:${up.port}/gone`)).toMatchObject({ kind: 'answered', status: 410 });
    expect(await send(`http://127.0.0.1:${up.port}/busy`)).toMatchObject({ kind: 'answered', status: 503 });
    // A fresh connection each time, so no delivery rides a socket whose address was judged for another.
    expect(up.connections).toHaveLength(2);
  });

  it('reads at most maxResponseBytes of a 1 MiB body, then drops the connection', async () => {
    const up = await http((_, res) => res.end('x'.repeat(1024 * 1024)));
    const result = await send(`http://127.0.0.1:${up.port}/`, { maxResponseBytes: 1000 });
    expect(result).toMatchObject({ kind: 'answered', status: 200, truncated: true });
    expect(result.kind === 'answered' && result.body).toBe('x'.repeat(1000));
    await closed(up.connections[0]);
  });

  it('keeps a body of exactly maxResponseBytes whole, and drops a character split by the cut', async () => {
    const up = await http((req, res) => res.end(req.url === '/exact' ? 'y'.repeat(1000) : '€€€€'));
    expect(await send(`http://127.0.0.1:${up.port}/exact`, { maxResponseBytes: 1000 })).toMatchObject({ truncated: false });
    // Each € is three bytes: ten bytes hold three of them and a third of the fourth.
    expect(await send(`http://127.0.0.1:${up.port}/euro`, { maxResponseBytes: 10 })).toMatchObject({ body: '€€€', truncated: true });
  });

  it('times out a receiver that accepts and never answers, and lets go of the connection', async () => {
    const up = await http(() => {});
    const result = await send(`http://127.0.0.1:${up.port}/`, { timeoutMs: 300 });
    expect(result).toMatchObject({ kind: 'failed', reason: 'timeout', error: 'timeout: no answer within 300 ms' });
    expect(result.durationMs).toBeGreaterThanOrEqual(290);
    expect(result.durationMs).toBeLessThan(1_500);
    await closed(up.connections[0]);
  });

  it('keeps the status of an answer whose body is still trickling at the deadline', async () => {
    const up = await http((_, res) => {
      res.writeHead(200);
      res.write('partial');
    });
    const result = await send(`http://127.0.0.1:${up.port}/`, { timeoutMs: 300 });
    expect(result).toMatchObject({ kind: 'answered', status: 200, body: 'partial', truncated: true });
    expect(result.durationMs).toBeGreaterThanOrEqual(290);
  });

  it('fails as refused where nothing listens', async () => {
    const { port } = await listen(createTcpServer());
    await new Promise((done) => servers.pop()?.server.close(done));
    const result = await send(`http://127.0.0.1:${port}/`);
    expect(result).toMatchObject({ kind: 'failed', reason: 'refused', error: `connection refused by 127.0.0.1:${port}` });
  });

  it('counts a stalled TLS handshake against the connect deadline', async () => {
    // Reads and ignores the ClientHello, so that it sees the client give up.
    const silent = await listen(createTcpServer((socket) => socket.resume()));
    const result = await send(`https://127.0.0.1:${silent.port}/`, { connectTimeoutMs: 300, timeoutMs: 5_000 });
    expect(result).toMatchObject({ kind: 'failed', reason: 'timeout' });
    expect(result.kind === 'failed' && result.error).toBe('timeout: no connection within 300 ms (TLS handshake unfinished)');
    expect(result.durationMs).toBeGreaterThanOrEqual(290);
    expect(result.durationMs).toBeLessThan(1_500);
    await closed(silent.connections[0]);
  });

  it('trusts an extra CA for https, and fails as tls without it', async () => {
    const server = createHttpsServer({ key: TLS_KEY, cert: TLS_CERT }, (_, res) => res.end('secure'));
    const up = await listen(server);
    expect(await send(`https://127.0.0.1:${up.port}/`, { ca: TLS_CERT })).toMatchObject({ kind: 'answered', status: 200, body: 'secure' });
    expect(await send(`https://localhost:${up.port}/`, { ca: TLS_CERT })).toMatchObject({ kind: 'answered', status: 200 });
    const untrusted = await send(`https://127.0.0.1:${up.port}/`);
    expect(untrusted).toMatchObject({ kind: 'failed', reason: 'tls' });
    expect(untrusted.kind === 'failed' && untrusted.error).toMatch(/^tls: .*self-signed/);
  });

  it('resolves a name through the policy: localhost reaches 127.0.0.1 when that is allowed', async () => {
    const up = await http((_, res) => res.end('ok'));
    expect(await send(`http://localhost:${up.port}/`)).toMatchObject({ kind: 'answered', status: 200 });
  });

  it('fails as dns for a name that does not resolve', async () => {
    const result = await send('http://nosuch.invalid/');
    expect(result).toMatchObject({ kind: 'failed', reason: 'dns' });
    expect(result.kind === 'failed' && result.error).toMatch(
      /^dns: (no address for nosuch\.invalid|nosuch\.invalid could not be resolved)/,
    );
  });
});

describe('sendWebhook under the default policy', () => {
  const strict = addressPolicy([]);
  const hint = '(allow it with JUNCTION_NOTIFICATIONS_ALLOW_ADDRESSES)';

  it.each([
    ['an IPv4 literal', '127.0.0.1', '127.0.0.1', `127.0.0.1 is a loopback address ${hint}`],
    ['a name resolving to loopback', 'localhost', '127.0.0.1', `localhost: 127.0.0.1 is a loopback address ${hint}`],
    ['an IPv6 literal', '[::1]', '::1', `::1 is a loopback address ${hint}`],
    ['an IPv4-mapped IPv6 literal', '[::ffff:127.0.0.1]', '127.0.0.1', `::ffff:7f00:1 carries 127.0.0.1, a loopback address ${hint}`],
  ])('refuses %s (%s) without connecting', async (_, host, listenOn, error) => {
    const up = await http((_, res) => res.end('reached'), listenOn);
    const result = await send(`http://${host}:${up.port}/`, { policy: strict });
    expect(result).toMatchObject({ kind: 'failed', reason: 'blocked', error });
    await sleep(50);
    expect(up.connections).toHaveLength(0);
  });

  it('refuses the cloud metadata address before any packet leaves', async () => {
    const result = await send('http://169.254.169.254/latest/meta-data/', { policy: strict, connectTimeoutMs: 100_000 });
    expect(result).toMatchObject({ kind: 'failed', reason: 'blocked', error: `169.254.169.254 is the cloud metadata address ${hint}` });
  });

  it('refuses what is not an http(s) URL, without echoing it', async () => {
    expect(await send('ftp://127.0.0.1/x')).toMatchObject({ reason: 'blocked', error: 'webhook URLs are http: or https:, not ftp:' });
    expect(await send('/relative?token=secret')).toMatchObject({ reason: 'blocked', error: 'not an absolute URL' });
  });

  it('refuses a header that cannot be sent', async () => {
    const up = await http((_, res) => res.end());
    const result = await send(`http://127.0.0.1:${up.port}/`, { headers: { 'x-bad': 'a\r\nInjected: 1' } });
    expect(result).toMatchObject({ kind: 'failed', reason: 'blocked' });
    expect(result.kind === 'failed' && result.error).toMatch(/^cannot send: /);
    expect(up.requests).toHaveLength(0);
  });
});
