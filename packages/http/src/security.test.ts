import express from 'express';
import { describe, expect, it } from 'vitest';
import { listen } from './internal/testing.ts';
import { problemHandler } from './problem.ts';
import { jsonBody, securityHeaders } from './security.ts';

describe('securityHeaders and jsonBody', () => {
  async function app() {
    const web = express();
    web.use(securityHeaders());
    web.post('/echo', jsonBody({ limitBytes: 100 }), (req, res) => {
      res.json(req.body);
    });
    web.use(problemHandler());
    return listen(web);
  }
  const post = (base: string, body: string, type = 'application/json') =>
    fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': type }, body });

  it('sends the API security headers and no X-Powered-By', async () => {
    const { base, close } = await app();
    const response = await post(base, '{"a":1}');
    expect(await response.json()).toEqual({ a: 1 });
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-powered-by')).toBeNull();
    close();
  });

  it('answers 413 over the limit, 400 for broken JSON and 415 for another type, as problems', async () => {
    const { base, close } = await app();
    const big = await post(base, JSON.stringify({ text: 'x'.repeat(200) }));
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ code: 'request.too-large', detail: expect.stringContaining('100 bytes') });
    const broken = await post(base, '{"a":');
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ code: 'request.invalid' });
    const xml = await post(base, '<a/>', 'application/xml');
    expect(xml.status).toBe(415);
    expect(await xml.json()).toMatchObject({ code: 'request.unsupported-type', detail: expect.stringContaining('application/xml') });
    close();
  });
});
