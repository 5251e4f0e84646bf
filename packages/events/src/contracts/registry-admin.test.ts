import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JunctionError } from '@junction/observability';
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistryAdmin } from './registry-admin.ts';

// A fake registry on a real socket: what the admin sends and how it maps answers and failures.
// What Apicurio really answers is covered by registry-admin.int.test.ts.

interface Seen {
  method: string;
  url: string;
  body: string;
}

const fast = { initialMs: 1, multiplier: 1, maxMs: 1, jitter: 0 };
let server: Server | undefined;

async function fakeRegistry(
  answer: (req: IncomingMessage, res: ServerResponse, seen: Seen[]) => void,
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', body });
      answer(req, res, seen);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/apis/ccompat/v7`, seen };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const failure = async (promise: Promise<unknown>): Promise<JunctionError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(JunctionError);
  return error as JunctionError;
};

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

describe('createRegistryAdmin', () => {
  it('URL-encodes subjects and sends the Confluent request bodies', async () => {
    const { url, seen } = await fakeRegistry((_req, res) => json(res, 200, { id: 7, compatibility: 'FULL' }));
    const admin = createRegistryAdmin({ registryUrl: `${url}/` });
    const schema = { type: 'record', name: 'A', fields: [] };
    expect(await admin.register('orders.order-com.junction.orders.A/x', schema)).toBe(7);
    await admin.setCompatibility('a b', 'FULL');
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/apis/ccompat/v7/subjects/orders.order-com.junction.orders.A%2Fx/versions',
        body: JSON.stringify({ schemaType: 'AVRO', schema: JSON.stringify(schema) }),
      },
      { method: 'PUT', url: '/apis/ccompat/v7/config/a%20b', body: '{"compatibility":"FULL"}' },
    ]);
  });

  it('maps 409 and 422 to schema.incompatible and 404 to schema.unknown, without retrying', async () => {
    const { url, seen } = await fakeRegistry((req, res) => {
      if (req.url?.includes('conflict')) json(res, 409, { error_code: 409, message: 'incompatible' });
      else if (req.url?.includes('invalid')) json(res, 422, { error_code: 42201, message: 'invalid schema' });
      else json(res, 404, { error_code: 40401, message: 'Subject not found' });
    });
    const admin = createRegistryAdmin({ registryUrl: url, backoff: fast });
    expect((await failure(admin.register('conflict', {}))).code).toBe('schema.incompatible');
    expect((await failure(admin.register('invalid', {}))).code).toBe('schema.incompatible');
    const unknown = await failure(admin.versions('missing'));
    expect(unknown.code).toBe('schema.unknown');
    expect(unknown.context).toMatchObject({ subject: 'missing', status: 404 });
    expect(seen).toHaveLength(3);
  });

  it('treats an unknown subject as compatible with anything, and reports verbose messages', async () => {
    const { url } = await fakeRegistry((req, res) => {
      if (req.url?.includes('new-subject')) json(res, 404, { error_code: 40401, message: 'Subject not found' });
      else json(res, 200, { is_compatible: false, messages: ['reader field x has no default'] });
    });
    const admin = createRegistryAdmin({ registryUrl: url });
    expect(await admin.testCompatibility('new-subject', {})).toEqual({ compatible: true, messages: [] });
    expect(await admin.testCompatibility('old', {})).toEqual({ compatible: false, messages: ['reader field x has no default'] });
  });

  it('falls back to the global compatibility when the subject has none', async () => {
    const { url } = await fakeRegistry((req, res) => {
      if (req.url?.endsWith('/config')) json(res, 200, { compatibilityLevel: 'FULL_TRANSITIVE' });
      else json(res, 404, { error_code: 40408, message: 'no config' });
    });
    expect(await createRegistryAdmin({ registryUrl: url }).compatibility('s')).toBe('FULL_TRANSITIVE');
  });

  it('retries 5xx a bounded number of times, then reports registry.unavailable', async () => {
    const { url, seen } = await fakeRegistry((_req, res) => json(res, 503, { message: 'starting' }));
    const error = await failure(createRegistryAdmin({ registryUrl: url, retries: 2, backoff: fast }).versions('s'));
    expect(error.code).toBe('registry.unavailable');
    expect(error.message).toContain('after 3 attempts');
    expect(seen).toHaveLength(3);
  });

  it('gives up on a registry that does not answer within the timeout', async () => {
    const { url, seen } = await fakeRegistry(() => {
      // never answers
    });
    const started = Date.now();
    const error = await failure(createRegistryAdmin({ registryUrl: url, timeoutMs: 100, retries: 1, backoff: fast }).versions('s'));
    expect(error.code).toBe('registry.unavailable');
    expect(error.message).toContain('no answer within 100 ms');
    expect(seen).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reports a refused connection as registry.unavailable', async () => {
    const { url } = await fakeRegistry(() => {});
    server?.close();
    const error = await failure(createRegistryAdmin({ registryUrl: url, retries: 1, backoff: fast }).versions('s'));
    expect(error.code).toBe('registry.unavailable');
    expect(error.message).toMatch(/does not answer/);
  });
});
