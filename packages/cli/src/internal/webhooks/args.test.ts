import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { EVENT_PATTERN, eventPatterns, gatewayUrl, listenPort, MAX_EVENT_PATTERNS } from './args.ts';

describe('eventPatterns', () => {
  it('splits on commas, trims, and drops empty parts and repeats', () => {
    expect(eventPatterns('com.junction.orders.*, com.junction.billing.PaymentFailed,,com.junction.orders.*')).toEqual([
      'com.junction.orders.*',
      'com.junction.billing.PaymentFailed',
    ]);
    expect(eventPatterns('*')).toEqual(['*']);
  });

  it.each(['foo-bar', 'com.junction.*.OrderPlaced', 'com..orders', '.com', 'com.', '**', '1com.orders', 'com.junction.orders.*.*'])(
    'refuses %j, naming it and saying what a pattern is',
    (value) => {
      expect(() => eventPatterns(value)).toThrow(InvalidArgumentError);
      expect(() => eventPatterns(value)).toThrow(`"${value}" is not an event type pattern`);
      expect(() => eventPatterns(value)).toThrow('a namespace followed by .* (com.junction.orders.*) or *');
    },
  );

  it('names every bad pattern at once', () => {
    expect(() => eventPatterns('ok.Type,bad-one,also bad')).toThrow('"bad-one", "also bad" are not event type patterns');
  });

  it('refuses nothing at all, and more patterns than a subscription takes', () => {
    expect(() => eventPatterns(' , ')).toThrow('expected one or more event types');
    const many = Array.from({ length: MAX_EVENT_PATTERNS + 1 }, (_, i) => `com.junction.t${i}`).join(',');
    expect(() => eventPatterns(many)).toThrow(`at most ${MAX_EVENT_PATTERNS} patterns`);
  });

  it('is the rule services/notifications applies', () => {
    expect(EVENT_PATTERN.source).toBe(String.raw`^(\*|[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(\.\*)?)$`);
  });
});

describe('listenPort', () => {
  it('takes 0 (any free port) up to 65535', () => {
    expect(listenPort('0')).toBe(0);
    expect(listenPort('9999')).toBe(9999);
    expect(listenPort('65535')).toBe(65_535);
  });

  it.each(['-1', '65536', '70000', '8.5', 'http', '', '1e3', '0x10'])('refuses %j, naming the range', (value) => {
    expect(() => listenPort(value)).toThrow('expected a port from 0 to 65535 (0: any free one)');
  });
});

describe('gatewayUrl', () => {
  it('takes an http(s) origin, with an optional path prefix, without a trailing slash', () => {
    expect(gatewayUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(gatewayUrl('https://gateway.example.com/')).toBe('https://gateway.example.com');
    expect(gatewayUrl('http://127.0.0.1:8080/junction/')).toBe('http://127.0.0.1:8080/junction');
  });

  it.each([
    ['127.0.0.1:8080', 'expected a URL'],
    ['ftp://127.0.0.1', 'expected an http: or https: URL'],
    ['http://user:pw@127.0.0.1:8080', 'no query, fragment or credentials'],
    ['http://127.0.0.1:8080/?x=1', 'no query, fragment or credentials'],
  ])('refuses %j', (value, message) => {
    expect(() => gatewayUrl(value)).toThrow(message);
  });
});
