import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JunctionError } from '@junction/observability';
import { afterAll, describe, expect, it } from 'vitest';
import { clientOptionsOf, loadRouteTable, routeScope } from './route-table.ts';

const dir = mkdtempSync(join(tmpdir(), 'junction-routes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tableFile = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};
const rejection = (load: () => unknown) => {
  try {
    load();
  } catch (error) {
    return error as JunctionError;
  }
  throw new Error('the table loaded');
};

describe('loadRouteTable', () => {
  it('loads the default table: a route to each backend service DESIGN.md names', () => {
    const table = loadRouteTable(fileURLToPath(new URL('../../routes.yaml', import.meta.url)));
    expect(table.routes.map((r) => [r.name, r.prefix, r.upstream])).toEqual([
      ['orders', '/v1/orders', 'http://127.0.0.1:8101'],
      ['inventory', '/v1/inventory', 'http://127.0.0.1:8102'],
      ['billing', '/v1/billing', 'http://127.0.0.1:8103'],
      ['notifications', '/v1/notifications', 'http://127.0.0.1:8104'],
    ]);
    const orders = table.routes[0];
    expect(orders).toMatchObject({ stripPrefix: '/v1', timeoutMs: 5000, maxBodyBytes: 1024 * 1024 });
    expect(orders && routeScope(orders, 'get')).toBe('orders:read');
    expect(orders && routeScope(orders, 'POST')).toBe('orders:write');
    expect(table.routes[2] && routeScope(table.routes[2], 'DELETE')).toBeUndefined();
    expect(orders && routeScope(orders, 'constructor')).toBeUndefined();
    expect(clientOptionsOf(table).upstreams?.['http://127.0.0.1:8104']).toEqual({
      timeoutMs: 5000,
      breaker: { failureThreshold: 5, openMs: 15000 },
    });
  });

  it('reports every problem at once, with the file and each field path', () => {
    const file = tableFile(
      'bad.yaml',
      `routes:
  - prefix: /orders
    upstream: ftp://127.0.0.1:8101
    scopes: { FETCH: orders:read }
    timeoutMs: -5
  - prefix: /v1/stock
    upstream: http://127.0.0.1:8102?token=x
    stripPrefix: /v2
    scopes: { GET: inventory:read }
    timeoutMs: 1000
    breaker: { failureThreshold: 0, openMs: 100 }
    surprise: true
  - prefix: /v1/stock
    upstream: http://127.0.0.1:8102
    scopes: { GET: inventory:read }
    timeoutMs: 1000
`,
    );
    const error = rejection(() => loadRouteTable(file));
    expect(error).toBeInstanceOf(JunctionError);
    expect(error.code).toBe('config.invalid');
    expect(error.message).toContain(file);
    const paths = (error.context.fields as { path: string }[]).map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'routes.0.prefix',
        'routes.0.upstream',
        'routes.0.scopes.FETCH',
        'routes.0.timeoutMs',
        'routes.1.upstream',
        'routes.1.breaker.failureThreshold',
        'routes.1.surprise',
        'routes.1.stripPrefix',
        'routes.2.prefix',
      ]),
    );
    expect(error.context.file).toBe(file);
  });

  it('checks what only the whole table shows: stripPrefix against prefix, repeated prefixes, the gateway’s own paths', () => {
    const file = tableFile(
      'cross.yaml',
      `routes:
  - { prefix: /v1/stock, upstream: "http://127.0.0.1:8102", stripPrefix: /v2, scopes: { GET: inventory:read }, timeoutMs: 1000 }
  - { prefix: /v1/stock, upstream: "http://127.0.0.1:8102", scopes: { GET: inventory:read }, timeoutMs: 1000 }
  - { prefix: /v1/events/x, upstream: "http://127.0.0.1:8102", scopes: { GET: inventory:read }, timeoutMs: 1000 }
`,
    );
    const paths = (rejection(() => loadRouteTable(file)).context.fields as { path: string }[]).map((f) => f.path);
    expect(paths).toEqual(['routes.0.stripPrefix', 'routes.1.prefix', 'routes.2.prefix']);
  });

  it('names the line of a YAML syntax error, and a missing file', () => {
    const file = tableFile('broken.yaml', 'routes:\n  - prefix: /v1/a\n   upstream: [\n');
    expect(rejection(() => loadRouteTable(file)).message).toMatch(/broken\.yaml.*line \d/);
    expect(rejection(() => loadRouteTable(join(dir, 'none.yaml')))).toMatchObject({
      code: 'config.invalid',
      context: { file: join(dir, 'none.yaml') },
    });
  });
});
