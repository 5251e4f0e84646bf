import { describe, expect, it } from 'vitest';
import { JunctionError } from './errors.ts';
import { initObservability } from './init.ts';

describe('initObservability', () => {
  it('reports every problem of the environment at once, naming each variable', async () => {
    const failure = await initObservability({
      service: 'orders',
      env: { LOG_LEVEL: 'loud', JUNCTION_METRICS_PORT: '99999', OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' },
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(JunctionError);
    expect((failure as JunctionError).code).toBe('config.invalid');
    const message = (failure as JunctionError).message;
    for (const name of ['LOG_LEVEL', 'JUNCTION_METRICS_PORT', 'OTEL_EXPORTER_OTLP_ENDPOINT']) expect(message).toContain(name);
  });

  it('serves metrics on the port the environment names, once per process, without tracing when no endpoint is set', async () => {
    const observability = await initObservability({ service: 'orders', env: { JUNCTION_METRICS_PORT: '0' } });
    try {
      expect(observability.tracing).toBe(false);
      const text = await (await fetch(`${observability.server?.url}/metrics`)).text();
      expect(text).toContain('service="orders"');
      await expect(initObservability({ service: 'again', env: {} })).rejects.toThrow(/once per process/);
    } finally {
      await observability.shutdown();
    }
    // After a shutdown a process may set up again (tests, a restart in place).
    const again = await initObservability({ service: 'orders', env: {} });
    expect(again.server).toBeUndefined();
    await again.shutdown();
  });
});
