import { currentLogFields, type JunctionError } from '@junction/observability';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { listen } from './internal/testing.ts';
import { idempotencyKeyOf, requestId } from './request-id.ts';

describe('requestId', () => {
  it("keeps a caller's plain id, replaces an unsafe one, and puts it in the log fields", async () => {
    const app = express();
    app.use(requestId());
    app.get('/', async (req, res) => {
      await new Promise((resolve) => setImmediate(resolve));
      res.json({ id: req.id, logged: currentLogFields().request_id });
    });
    const { base, close } = await listen(app);
    const given = await fetch(base, { headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    expect(await given.json()).toEqual({ id: 'abc-123', logged: 'abc-123' });
    const unsafe = await fetch(base, { headers: { 'x-request-id': 'a b\u00e9<script>' } });
    const id = unsafe.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await unsafe.json()).toEqual({ id, logged: id });
    close();
  });
});

describe('idempotencyKeyOf', () => {
  const of = (key?: string | string[]) => ({ headers: key === undefined ? {} : { 'idempotency-key': key } });
  const problem = (call: () => unknown) => {
    try {
      call();
    } catch (error) {
      return error as JunctionError;
    }
    throw new Error('no problem raised');
  };

  it('returns a plain key, and nothing for none unless one is required', () => {
    expect(idempotencyKeyOf(of('order-42:retry.1'))).toBe('order-42:retry.1');
    expect(idempotencyKeyOf(of())).toBeUndefined();
    expect(problem(() => idempotencyKeyOf(of(), { required: 'a retry returns the same order' }))).toMatchObject({
      code: 'request.invalid',
      message: 'Idempotency-Key is required: a retry returns the same order',
    });
  });

  it('refuses a key that is not 1 to 128 plain characters, or sent twice, naming the header', () => {
    for (const key of ['', 'a b', 'x'.repeat(129), ['a', 'b']]) {
      const error = problem(() => idempotencyKeyOf(of(key)));
      expect(error.code).toBe('request.invalid');
      expect(error.context).toMatchObject({ fields: [{ path: '(header).Idempotency-Key' }] });
    }
  });
});
