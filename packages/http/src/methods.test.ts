import { request } from 'node:http';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { allowHeader, refuseOtherMethods } from './methods.ts';
import { problemHandler } from './problem.ts';

describe('allowHeader', () => {
  it('lists the methods once each, upper case, in the order given', () => {
    expect(allowHeader(['get'])).toBe('GET');
    expect(allowHeader(['POST', 'get', 'GET'])).toBe('POST, GET');
  });
});

/** Any method, TRACE included (fetch refuses to send it). */
function send(url: string, method: string): Promise<{ status: number; allow: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, allow: res.headers.allow }));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('refuseOtherMethods', () => {
  it('answers an undeclared method 405 with Allow, and leaves declared ones to their handlers', async () => {
    const app = express();
    const router = express.Router();
    router.get('/things/:id', (_req, res) => {
      res.json({ ok: true });
    });
    refuseOtherMethods(router, '/things/:id', ['GET']);
    app.use(router);
    app.use(problemHandler());
    const server = app.listen(0);
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/things/7`;
      expect((await send(url, 'GET')).status).toBe(200);
      expect((await send(url, 'HEAD')).status).toBe(200);
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'QUERY']) {
        expect(await send(url, method), method).toEqual({ status: 405, allow: 'GET, HEAD' });
      }
      const body = await (await fetch(url, { method: 'DELETE' })).json();
      expect(body).toMatchObject({ code: 'method.unsupported', status: 405 });
    } finally {
      server.close();
    }
  });
});
