import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

function capture(level = 'info') {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { logger: createLogger({ service: 'orders', level, stream }), lines };
}

describe('createLogger', () => {
  it('writes one JSON object per line with service, level, message and timestamp', async () => {
    const { logger, lines } = capture();
    logger.info('order placed', { event_id: 'e-1' });
    await expect.poll(() => lines.length).toBe(1);
    expect(lines[0]).toMatchObject({ service: 'orders', level: 'info', message: 'order placed', event_id: 'e-1' });
    expect(Number.isNaN(Date.parse(String(lines[0]?.timestamp)))).toBe(false);
  });

  it('drops lines below its level', async () => {
    const { logger, lines } = capture('warn');
    logger.info('chatty');
    logger.warn('worth knowing');
    await expect.poll(() => lines.length).toBe(1);
    expect(lines[0]?.message).toBe('worth knowing');
  });
});
