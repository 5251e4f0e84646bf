import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiAccess, createSubscription, deleteSubscription } from './subscriptions.ts';

/** A stand-in for the gateway: answers each request with `reply`, records what it got. */
async function gateway(reply: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const got: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      got.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      reply(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { got, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

const problem = (res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/problem+json', ...headers });
  res.end(JSON.stringify(body));
};

const access = (baseUrl: string): ApiAccess => ({
  baseUrl,
  headers: async () => ({ authorization: 'Bearer t0ken' }),
  caller: 'client downstream',
  startHint: 'start it with ./junction up (or pass --gateway)',
});
const request = { url: 'http://127.0.0.1:1234/', eventTypes: ['*'], description: 'junction webhooks listen (pid 1, here)', ordered: false };

describe('createSubscription', () => {
  it('posts the subscription with the caller’s headers and returns its id and secret', async () => {
    const api = await gateway((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'a1b2', secret: 'whsec_c2VjcmV0', url: request.url, status: 'active' }));
    });
    expect(await createSubscription(access(`${api.url}/v1`), request, 5000)).toEqual({ id: 'a1b2', secret: 'whsec_c2VjcmV0' });
    expect(api.got).toEqual([
      expect.objectContaining({ method: 'POST', url: '/v1/notifications/subscriptions', body: JSON.stringify(request) }),
    ]);
    expect(api.got[0]?.headers).toMatchObject({ authorization: 'Bearer t0ken', 'content-type': 'application/json' });
  });

  it('lists every field a 422 names, one a line', async () => {
    const api = await gateway((_req, res) =>
      problem(res, 422, {
        title: 'Request breaks a business rule',
        detail: '…',
        errors: [
          { path: 'eventTypes.0', message: 'com.junction.nothing.* matches no event; known: com.junction.orders.OrderPlaced' },
          { path: 'url', message: 'plain http: is not allowed here; use https:' },
        ],
      }),
    );
    await expect(createSubscription(access(api.url), request, 5000)).rejects.toMatchObject({
      code: 'request.unprocessable',
      message:
        'cannot create the subscription (422):\n  eventTypes.0: com.junction.nothing.* matches no event; known: com.junction.orders.OrderPlaced\n  url: plain http: is not allowed here; use https:',
    });
  });

  it('says which scope the client lacks on a 403, and whose token was refused on a 401', async () => {
    const forbidden = await gateway((_req, res) =>
      problem(
        res,
        403,
        { detail: 'this request needs the scope notifications:write, which the token does not carry' },
        { 'www-authenticate': 'Bearer realm="junction", error="insufficient_scope", scope="notifications:write"' },
      ),
    );
    await expect(createSubscription(access(forbidden.url), request, 5000)).rejects.toMatchObject({
      code: 'auth.forbidden',
      message: expect.stringContaining('client downstream may not create the subscription: its token lacks the scope notifications:write'),
    });
    const unauthenticated = await gateway((_req, res) => problem(res, 401, { detail: 'the token has expired' }));
    await expect(createSubscription(access(unauthenticated.url), request, 5000)).rejects.toMatchObject({
      code: 'auth.unauthenticated',
      message: expect.stringContaining("the gateway did not accept client downstream's token (401: the token has expired)"),
    });
  });

  it('points at the notifications service when the gateway cannot reach it', async () => {
    const api = await gateway((_req, res) => problem(res, 502, { detail: 'notifications: connection refused' }));
    await expect(createSubscription(access(api.url), request, 5000)).rejects.toMatchObject({
      code: 'upstream.unavailable',
      message: expect.stringContaining(
        'the gateway answered 502 (notifications: connection refused) → is the notifications service running?',
      ),
    });
  });

  it('says the gateway is not running when the connection is refused, and when it is too slow', async () => {
    const api = await gateway(() => {
      // Never answers.
    });
    await expect(createSubscription(access(api.url), request, 200)).rejects.toMatchObject({
      code: 'timeout',
      message: `${api.url} did not answer POST /notifications/subscriptions within 0.2 s`,
    });
    servers.splice(0).forEach((s) => {
      s.closeAllConnections();
      s.close();
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(createSubscription(access(api.url), request, 5000)).rejects.toMatchObject({
      code: 'upstream.unavailable',
      message: `the gateway at ${api.url} is not running (connection refused) → start it with ./junction up (or pass --gateway)`,
    });
  });
});

describe('deleteSubscription', () => {
  it('deletes by id, and takes one already gone (404) as deleted', async () => {
    const api = await gateway((req, res) => {
      res.statusCode = req.url?.endsWith('/gone') ? 404 : 204;
      res.end();
    });
    await deleteSubscription(access(api.url), 'a1b2', 5000);
    await deleteSubscription(access(api.url), 'gone', 5000);
    expect(api.got.map((g) => `${g.method} ${g.url}`)).toEqual([
      'DELETE /notifications/subscriptions/a1b2',
      'DELETE /notifications/subscriptions/gone',
    ]);
  });

  it('fails with what the gateway answered otherwise', async () => {
    const api = await gateway((_req, res) => problem(res, 503, { detail: 'circuit open' }));
    await expect(deleteSubscription(access(api.url), 'a1b2', 5000)).rejects.toMatchObject({
      message: expect.stringContaining('cannot delete subscription a1b2: the gateway answered 503 (circuit open)'),
    });
  });
});
