import { InvalidArgumentError } from 'commander';

/**
 * What an event type pattern may be: a fullname, a namespace followed by `.*`, or `*` for all.
 * The same rule as services/notifications' `EVENT_PATTERN` (the CLI may not import a service);
 * checking it here turns a typo into a clear message before anything starts.
 */
export const EVENT_PATTERN = /^(\*|[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(\.\*)?)$/;

/** As many patterns as the service takes on one subscription. */
export const MAX_EVENT_PATTERNS = 50;

/** A commander parser for `--events`: comma-separated patterns, each checked, every bad one named at once. */
export function eventPatterns(value: string): string[] {
  const patterns = value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  if (patterns.length === 0)
    throw new InvalidArgumentError('expected one or more event types, comma-separated, e.g. com.junction.orders.*');
  const bad = patterns.filter((pattern) => !EVENT_PATTERN.test(pattern));
  if (bad.length > 0) {
    throw new InvalidArgumentError(
      `${bad.map((p) => `"${p}"`).join(', ')} ${bad.length === 1 ? 'is not an event type pattern' : 'are not event type patterns'}: expected an event type (com.junction.orders.OrderPlaced), a namespace followed by .* (com.junction.orders.*) or *`,
    );
  }
  if (patterns.length > MAX_EVENT_PATTERNS)
    throw new InvalidArgumentError(`expected at most ${MAX_EVENT_PATTERNS} patterns, got ${patterns.length}`);
  return [...new Set(patterns)];
}

/** A commander parser for `--port`: 0 (any free port) up to 65535. */
export function listenPort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(port) || port > 65_535) {
    throw new InvalidArgumentError(`expected a port from 0 to 65535 (0: any free one), got "${value}"`);
  }
  return port;
}

/** A commander parser for `--gateway`: an http(s) URL with nothing past its origin but an optional path prefix. */
export function gatewayUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`expected a URL such as http://127.0.0.1:8080, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError(`expected an http: or https: URL such as http://127.0.0.1:8080, got "${value}"`);
  if (url.search || url.hash || url.username || url.password) {
    throw new InvalidArgumentError(`expected the gateway's address alone (no query, fragment or credentials), got "${value}"`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
