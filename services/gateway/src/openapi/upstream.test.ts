import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { upstreamDescriptions } from './upstream.ts';

let close: (() => void) | undefined;
afterEach(() => close?.());

/** A backend whose description answers as `answer` says, counting the requests it gets. */
async function backend(answer: () => { status: number; body?: unknown; delayMs?: number }) {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests += 1;
    const { status, body, delayMs = 0 } = answer();
    setTimeout(() => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? {})), delayMs);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  close = () => server.close();
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/openapi.json`, requests: () => requests };
}

describe('upstreamDescriptions', () => {
  it('fetches once per ttl, shares one fetch among callers, and keeps the last good copy while the backend fails', async () => {
    let state: 'good' | 'failing' = 'good';
    const service = await backend(() => (state === 'good' ? { status: 200, body: { paths: { '/a': {} } } } : { status: 500 }));
    const descriptions = upstreamDescriptions({ ttlMs: 50 });
    const [first, second] = await Promise.all([descriptions.describe(service.url), descriptions.describe(service.url)]);
    expect(first.document).toEqual({ paths: { '/a': {} } });
    expect(second.document).toBe(first.document);
    expect(service.requests()).toBe(1);
    await descriptions.describe(service.url);
    expect(service.requests()).toBe(1);
    state = 'failing';
    await new Promise((wait) => setTimeout(wait, 60));
    expect((await descriptions.describe(service.url)).document).toEqual({ paths: { '/a': {} } });
    expect(service.requests()).toBe(2);
  });

  it('says why there is no description: an error status, not a document, or no answer in time', async () => {
    let answer: { status: number; body?: unknown; delayMs?: number } = { status: 404 };
    const service = await backend(() => answer);
    const warned: string[] = [];
    const descriptions = upstreamDescriptions({ ttlMs: 0, timeoutMs: 100, logger: { warn: (message) => warned.push(message) } });
    expect(await descriptions.describe(service.url)).toEqual({ reason: 'it answered 404' });
    answer = { status: 200, body: { items: [] } };
    expect(await descriptions.describe(service.url)).toEqual({ reason: 'it is not an OpenAPI document' });
    answer = { status: 200, body: { paths: {} }, delayMs: 300 };
    expect(await descriptions.describe(service.url)).toEqual({ reason: 'no answer in 100 ms' });
    // Told once a minute per backend, not on every request for the document.
    expect(warned).toHaveLength(1);
  });
});
