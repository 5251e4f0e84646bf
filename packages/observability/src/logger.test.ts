import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { withLogFields } from './context.ts';
import { createLogger } from './logger.ts';
import { REDACTED } from './redact.ts';

function capture(level = 'info', redact: string[] = []) {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { logger: createLogger({ service: 'orders', level, stream, redact }), lines };
}

describe('createLogger', () => {
  it('writes one JSON object per line with service, level, message and timestamp', async () => {
    const { logger, lines } = capture();
    logger.info('order placed', { event_id: 'e-1' });
    await expect.poll(() => lines.length).toBe(1);
    expect(lines[0]).toMatchObject({ service: 'orders', level: 'info', message: 'order placed', event_id: 'e-1' });
    expect(Number.isNaN(Date.parse(String(lines[0]?.timestamp)))).toBe(false);
  });

  it('writes an error under a field with its name, message, stack, context and cause, secrets still redacted', async () => {
    const { logger, lines } = capture();
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:8101');
    const error = Object.assign(new Error('the orders service is unavailable', { cause }), {
      code: 'upstream.unavailable',
      password: 'hunter2',
    });
    logger.error('request failed', { err: error });
    await expect.poll(() => lines.length).toBe(1);
    const err = lines[0]?.err as Record<string, unknown>;
    expect(err).toMatchObject({
      name: 'Error',
      message: 'the orders service is unavailable',
      code: 'upstream.unavailable',
      password: REDACTED,
      cause: { message: 'connect ECONNREFUSED 127.0.0.1:8101' },
    });
    expect(String(err.stack)).toContain('logger.test.ts');
  });

  it('drops lines below its level', async () => {
    const { logger, lines } = capture('warn');
    logger.info('chatty');
    logger.warn('worth knowing');
    await expect.poll(() => lines.length).toBe(1);
    expect(lines[0]?.message).toBe('worth knowing');
  });

  it('stamps the trace, event and conversation of the code it runs in, across awaits', async () => {
    const { logger, lines } = capture();
    const fields = { trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16), event_id: 'e-7', correlation_id: 'c-7' };
    await withLogFields(fields, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      logger.info('inside');
    });
    logger.info('outside');
    await expect.poll(() => lines.length).toBe(2);
    expect(lines[0]).toMatchObject(fields);
    expect(lines[1]).not.toHaveProperty('event_id');
    expect(lines[1]).not.toHaveProperty('trace_id');
  });

  it('lets a field given on the line win over the context', async () => {
    const { logger, lines } = capture();
    withLogFields({ event_id: 'outer' }, () => logger.info('x', { event_id: 'inner' }));
    await expect.poll(() => lines.length).toBe(1);
    expect(lines[0]?.event_id).toBe('inner');
  });

  it('works out fields given as a function only when a line is logged, inner over outer', async () => {
    const { logger, lines } = capture();
    let asked = 0;
    const lazy = () => {
      asked += 1;
      return { event_id: 'e-lazy', trace_id: 'c'.repeat(32) };
    };
    withLogFields(lazy, () => undefined);
    expect(asked).toBe(0);
    withLogFields({ correlation_id: 'outer', event_id: 'outer' }, () =>
      withLogFields(lazy, () => {
        logger.info('nested');
      }),
    );
    withLogFields(lazy, () => withLogFields({ event_id: 'inner' }, () => logger.info('inner wins')));
    await expect.poll(() => lines.length).toBe(2);
    expect(asked).toBe(2);
    expect(lines[0]).toMatchObject({ correlation_id: 'outer', event_id: 'e-lazy', trace_id: 'c'.repeat(32) });
    expect(lines[1]).toMatchObject({ event_id: 'inner', trace_id: 'c'.repeat(32) });
  });

  it('redacts secrets and personal fields at any depth, and keeps the rest', async () => {
    const { logger, lines } = capture('info', ['email', 'shippingAddress']);
    logger.info('order placed', {
      password: 'hunter2',
      headers: { Authorization: 'Bearer abc', accept: 'json' },
      order: { orderId: 'o-1', customer: { Email: 'ann@example.com', name: 'Ann' }, lines: [{ shippingAddress: 'Main St 1' }] },
      clientSecret: 's3cret',
      sasl_password: 'x',
    });
    await expect.poll(() => lines.length).toBe(1);
    const line = lines[0] as Record<string, unknown>;
    expect(line.password).toBe(REDACTED);
    expect(line.clientSecret).toBe(REDACTED);
    expect(line.sasl_password).toBe(REDACTED);
    expect(line.headers).toEqual({ Authorization: REDACTED, accept: 'json' });
    expect(line.order).toEqual({ orderId: 'o-1', customer: { Email: REDACTED, name: 'Ann' }, lines: [{ shippingAddress: REDACTED }] });
    expect(JSON.stringify(line)).not.toMatch(/hunter2|ann@example|Main St|s3cret|Bearer/);
  });
});
