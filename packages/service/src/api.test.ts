import type { AddressInfo } from 'node:net';
import { createLogger, createMetrics, type JunctionError } from '@junction/observability';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { idempotencyKeyHeader, openApiOf, type ServiceApi } from './api.ts';
import { createServiceApp } from './http.ts';

const thing = z.object({ id: z.uuid(), name: z.string() }).strict();

const api: ServiceApi = {
  operations: [
    {
      method: 'post',
      path: '/things',
      operationId: 'createThing',
      summary: 'Creates a thing',
      headers: { 'Idempotency-Key': idempotencyKeyHeader('One key per thing') },
      body: { schema: z.object({ name: z.string().min(1) }).strict(), required: true, example: { name: 'lamp' } },
      responses: {
        201: {
          description: 'Created',
          body: thing,
          headers: { Location: { description: 'Where it is', schema: z.string(), required: true } },
        },
        422: { description: 'Breaks a rule', body: 'problem' },
      },
    },
    {
      method: 'get',
      path: '/things/:id',
      operationId: 'getThing',
      summary: 'A thing',
      params: { id: { description: 'Its id', schema: z.uuid() } },
      responses: { 200: { description: 'The thing', body: thing }, 404: { description: 'No such thing', body: 'problem' } },
    },
  ],
};

const parts = (routes: Parameters<typeof createServiceApp>[0]['routes'], described: ServiceApi = api) => ({
  name: 'things',
  api: described,
  routes,
  readiness: {},
  metrics: createMetrics({ service: 'things', processMetrics: false }),
  logger: createLogger({ service: 'things', level: 'error' }),
  accepting: () => true,
});

const mountBoth: Parameters<typeof createServiceApp>[0]['routes'] = (router) => {
  router.post('/things', (_req, res) => {
    res.status(201).json({});
  });
  router.get('/things/:id', (_req, res) => {
    res.json({});
  });
};

describe('openApiOf', () => {
  it('describes each operation with its parameters, body, answers and the kit’s own', () => {
    interface Operation {
      parameters: unknown[];
      requestBody: { content: Record<string, unknown> };
      responses: Record<string, { headers: Record<string, unknown>; content?: unknown }>;
    }
    const document = openApiOf('things', api) as { paths: Record<string, Record<string, Operation>> };
    const create = document.paths['/things']?.post as Operation;
    expect(create.parameters).toEqual([
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: true,
        description: 'One key per thing',
        schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
      },
    ]);
    expect(create.requestBody.content['application/json']).toMatchObject({
      example: { name: 'lamp' },
      schema: { type: 'object', required: ['name'], additionalProperties: false },
    });
    expect(Object.keys(create.responses).sort()).toEqual(['201', '400', '413', '415', '422', '503']);
    expect(create.responses['201']?.headers.Location).toMatchObject({ required: true, schema: { type: 'string' } });
    expect(create.responses['201']?.headers['X-Request-Id']).toMatchObject({ required: true });
    expect(create.responses['422']?.content).toEqual({
      'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
    });
    const get = document.paths['/things/{id}']?.get as Operation;
    expect(get.parameters[0]).toMatchObject({ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } });
    // No body read, so no 400/413/415 of the kit's.
    expect(Object.keys(get.responses).sort()).toEqual(['200', '404', '503']);
  });
});

describe('createServiceApp with an api', () => {
  it('serves the document, and answers a method a path does not declare with 405 and Allow', async () => {
    const server = createServiceApp(parts(mountBoth)).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const document = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(document.paths)).toEqual(['/things', '/things/{id}']);
      const put = await fetch(`${base}/things/7`, { method: 'PUT' });
      expect(put.status).toBe(405);
      expect(put.headers.get('allow')).toBe('GET, HEAD');
      const get = await fetch(`${base}/things`);
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
      expect((await fetch(`${base}/openapi.json`, { method: 'POST' })).status).toBe(405);
      expect((await fetch(`${base}/metrics`, { method: 'DELETE' })).status).toBe(405);
      expect((await fetch(`${base}/nowhere`, { method: 'DELETE' })).status).toBe(404);
    } finally {
      server.close();
    }
  });

  it('refuses to start when the api and the routes differ, naming every difference', () => {
    const onlyPost: Parameters<typeof createServiceApp>[0]['routes'] = (router) => {
      router.post('/things', (_req, res) => {
        res.status(201).json({});
      });
      router.delete('/things/:id', (_req, res) => {
        res.status(204).end();
      });
    };
    let thrown: JunctionError | undefined;
    try {
      createServiceApp(parts(onlyPost));
    } catch (error) {
      thrown = error as JunctionError;
    }
    expect(thrown?.code).toBe('config.invalid');
    expect(thrown?.context.problems).toEqual([
      'DELETE /things/:id is mounted but not in the api',
      'GET /things/:id is in the api but not mounted',
    ]);
  });

  it('refuses an operation whose params are not its path’s', () => {
    const wrong: ServiceApi = { operations: api.operations.map((o) => (o.method === 'get' ? { ...o, params: {} } : o)) };
    expect(() => createServiceApp(parts(mountBoth, wrong))).toThrow(/declares params \[\], its path has \[id\]/);
  });
});
