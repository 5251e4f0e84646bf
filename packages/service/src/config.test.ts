import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { envPrefix, readServiceConfig } from './config.ts';

const base = { JUNCTION_KAFKA_BROKERS: '127.0.0.1:9092', JUNCTION_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7' };
const read = (env: NodeJS.ProcessEnv, own?: z.ZodObject<z.ZodRawShape>) =>
  readServiceConfig({ name: 'orders', defaultPort: 8101, env, defaultDataDir: '/data/orders', ...(own ? { own } : {}) });

describe('readServiceConfig', () => {
  it('fills the platform defaults: port, loopback, PGlite in the default directory, a schema named after the service', () => {
    const config = read(base);
    expect(config).toMatchObject({
      name: 'orders',
      host: '127.0.0.1',
      port: 8101,
      kafka: { brokers: ['127.0.0.1:9092'] },
      database: { kind: 'pglite', dir: '/data/orders' },
      schema: 'orders',
      shutdownTimeoutMs: 10_000,
    });
  });

  it('takes PostgreSQL from JUNCTION_POSTGRES_URL and the port from JUNCTION_<NAME>_PORT', () => {
    const config = read({ ...base, JUNCTION_POSTGRES_URL: 'postgres://junction@127.0.0.1:5432/junction', JUNCTION_ORDERS_PORT: '9101' });
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://junction@127.0.0.1:5432/junction' });
    expect(config.port).toBe(9101);
  });

  it("reports every problem at once, the platform's and the service's own, each with its variable", () => {
    const own = z.object({ ORDERS_MAX_LINES: z.coerce.number().int().min(1) });
    let error: unknown;
    try {
      read({ JUNCTION_ORDERS_PORT: 'eighty', JUNCTION_POSTGRES_URL: 'mysql://x', ORDERS_MAX_LINES: '0' }, own);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'config.invalid' });
    const message = (error as Error).message;
    expect(message).toMatch(/^the orders service's environment is not valid: /);
    for (const variable of [
      'JUNCTION_ORDERS_PORT',
      'JUNCTION_SCHEMA_REGISTRY_URL',
      'JUNCTION_POSTGRES_URL',
      'ORDERS_MAX_LINES',
      'JUNCTION_KAFKA_BROKERS',
    ]) {
      expect(message).toContain(variable);
    }
  });

  it('compresses published batches as JUNCTION_PUBLISH_COMPRESSION says (none by default), refusing what the publisher does not write', () => {
    expect(read(base).publishCompression).toBe('none');
    expect(read({ ...base, JUNCTION_PUBLISH_COMPRESSION: 'zstd' }).publishCompression).toBe('zstd');
    expect(() => read({ ...base, JUNCTION_PUBLISH_COMPRESSION: 'lz4' })).toThrow(/JUNCTION_PUBLISH_COMPRESSION: .*"gzip"/);
  });

  it('gives the service its own settings, typed and defaulted', () => {
    const own = z.object({ ORDERS_MAX_LINES: z.coerce.number().int().min(1).default(50) });
    expect(read({ ...base, ORDERS_MAX_LINES: '7' }, own).own).toEqual({ ORDERS_MAX_LINES: 7 });
    expect(read(base, own).own).toEqual({ ORDERS_MAX_LINES: 50 });
  });

  it('refuses a name that cannot be a group, a schema and a variable prefix', () => {
    expect(() => readServiceConfig({ name: 'Orders Service', defaultPort: 1, env: base, defaultDataDir: '/x' })).toThrow(
      /is not a service name/,
    );
    expect(envPrefix('payment-provider')).toBe('JUNCTION_PAYMENT_PROVIDER');
  });
});
