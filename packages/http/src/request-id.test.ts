import { currentLogFields } from '@junction/observability';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { listen } from './internal/testing.ts';
import { requestId } from './request-id.ts';

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
