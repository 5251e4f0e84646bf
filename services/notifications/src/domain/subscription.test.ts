import { describe, expect, it } from 'vitest';
import { EVENT_PATTERN, matches, unknownPatterns, urlProblem } from './subscription.ts';

const known = ['com.junction.orders.OrderPlaced', 'com.junction.orders.OrderCancelled', 'com.junction.billing.PaymentCaptured'];

describe('event type patterns', () => {
  it('match exactly, by namespace, or all', () => {
    expect(matches('com.junction.orders.OrderPlaced', 'com.junction.orders.OrderPlaced')).toBe(true);
    expect(matches('com.junction.orders.OrderPlaced', 'com.junction.orders.OrderPlacedV2')).toBe(false);
    expect(matches('com.junction.orders.*', 'com.junction.orders.OrderCancelled')).toBe(true);
    expect(matches('com.junction.orders.*', 'com.junction.ordersarchive.X')).toBe(false);
    expect(matches('com.junction.*', 'com.junction.billing.PaymentCaptured')).toBe(true);
    expect(matches('*', 'anything.At.All')).toBe(true);
  });

  it('name the patterns that match no known type', () => {
    expect(unknownPatterns(['com.junction.orders.*', 'com.junction.inventory.*', 'com.junction.orders.OrderPlacd'], known)).toEqual([
      'com.junction.inventory.*',
      'com.junction.orders.OrderPlacd',
    ]);
  });

  it('take fullnames, namespaces with .* and *, nothing else', () => {
    for (const ok of ['*', 'com.junction.orders.*', 'com.junction.orders.OrderPlaced', 'a']) expect(EVENT_PATTERN.test(ok), ok).toBe(true);
    for (const bad of ['', 'com.*.OrderPlaced', 'com.junction.orders.Order*', 'orders placed', '.x', 'x.', '**'])
      expect(EVENT_PATTERN.test(bad), bad).toBe(false);
  });
});

describe('endpoint URLs', () => {
  it('take absolute https URLs, and http where allowed', () => {
    expect(urlProblem('https://hooks.example.com/junction?team=a', false)).toBeUndefined();
    expect(urlProblem('http://127.0.0.1:9000/hooks', true)).toBeUndefined();
    expect(urlProblem('http://hooks.example.com/', false)).toMatch(/use https/);
  });

  it('refuse other schemes, credentials, fragments and what is no URL, saying why', () => {
    expect(urlProblem('ftp://example.com/x', true)).toMatch(/ftp: is not a webhook scheme/);
    expect(urlProblem('file:///etc/passwd', true)).toMatch(/not a webhook scheme/);
    expect(urlProblem('https://u:p@example.com/', true)).toMatch(/credentials/);
    expect(urlProblem('https://example.com/#x', true)).toMatch(/fragment/);
    expect(urlProblem('/relative/path', true)).toMatch(/not an absolute URL/);
  });
});
