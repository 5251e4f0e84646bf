import type { AddressInfo } from 'node:net';
import { JunctionError } from '@junction/observability';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemHandler, toProblem } from './problem.ts';

describe('problemHandler', () => {
  let base: string;
  let close: () => void;

  beforeAll(async () => {
    const app = express();
    app.get('/invalid', () => {
      throw new JunctionError('event.invalid', 'event does not match its schema: invalid amount, customer.email', {
        context: { fields: [{ path: 'amount', reason: 'expected a decimal string, got 12.5' }, 'customer.email'] },
      });
    });
    app.get('/down', () => {
      throw new JunctionError('registry.unavailable', 'schema registry unavailable');
    });
    app.get('/bug', () => {
      throw new Error('password=hunter2 leaked in a message');
    });
    app.use(problemHandler());
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });

  afterAll(() => close());

  it('answers a validation failure with 400 problem+json naming every field', async () => {
    const response = await fetch(`${base}/invalid?x=1`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.json()).toEqual({
      type: 'https://junction.dev/problems/event.invalid',
      title: 'Event does not match its schema',
      status: 400,
      detail: 'event does not match its schema: invalid amount, customer.email',
      code: 'event.invalid',
      retriable: false,
      instance: '/invalid?x=1',
      errors: [
        { path: 'amount', message: 'expected a decimal string, got 12.5' },
        { path: 'customer.email', message: 'invalid value' },
      ],
    });
  });

  it('answers an unavailable dependency with 503 and Retry-After', async () => {
    const response = await fetch(`${base}/down`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toMatchObject({ code: 'registry.unavailable', retriable: true });
  });

  it('hides the message of an unexpected error', async () => {
    const response = await fetch(`${base}/bug`);
    expect(response.status).toBe(500);
    const body = await response.text();
    expect(body).not.toContain('hunter2');
    expect(JSON.parse(body)).toMatchObject({ code: 'internal', title: 'Internal error' });
  });
});

describe('toProblem', () => {
  it('maps each code to its status', () => {
    expect(toProblem(new JunctionError('schema.incompatible', 'x')).status).toBe(409);
    expect(toProblem(new JunctionError('timeout', 'x')).status).toBe(504);
    expect(toProblem(new JunctionError('event.undecodable', 'x')).status).toBe(400);
  });
});
