import type { JsonSchema } from './json-schema.ts';

/** A backend's own OpenAPI document, or why there is none to show. */
export type Described = { document: JsonSchema; fetchedAt: number } | { document?: undefined; reason: string };

/** Options of {@link upstreamDescriptions}. */
export interface UpstreamDescriptionsOptions {
  /** How long one fetch may take. Default 2000 ms: the gateway's document waits for it. */
  timeoutMs?: number;
  /** How long a fetched document is served before it is asked for again. Default 10 s. */
  ttlMs?: number;
  /** Told when a backend's description could not be fetched, at most once per backend and minute. */
  logger?: { warn(message: string, fields?: Record<string, unknown>): void };
}

/** Backends' descriptions, fetched on demand and cached. */
export interface UpstreamDescriptions {
  /** The description at `url` (`<upstream>/openapi.json`): fresh, cached, or the last good one when the backend does not answer now. */
  describe(url: string): Promise<Described>;
  /** The last good description at `url`, without asking: for answers that must not wait. */
  cached(url: string): JsonSchema | undefined;
}

interface Entry {
  good?: { document: JsonSchema; fetchedAt: number };
  checkedAt: number;
  reason?: string;
  pending?: Promise<void>;
  warnedAt?: number;
}

const WARN_EVERY_MS = 60_000;

/**
 * Each backend describes its own API (the kit serves it at `/openapi.json`), so a service can
 * change its routes without a gateway release. The gateway asks with a short timeout, keeps the
 * answer for `ttlMs`, keeps the last good copy when a backend stops answering, and shares one
 * fetch among concurrent callers: `/v1/openapi.json` is open, and must not multiply requests.
 */
export function upstreamDescriptions(options: UpstreamDescriptionsOptions = {}): UpstreamDescriptions {
  const timeoutMs = options.timeoutMs ?? 2000;
  const ttlMs = options.ttlMs ?? 10_000;
  const entries = new Map<string, Entry>();

  const refresh = async (url: string, entry: Entry): Promise<void> => {
    try {
      const response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) throw new Error(`it answered ${response.status}`);
      const document = (await response.json()) as JsonSchema;
      if (typeof document !== 'object' || document === null || typeof document.paths !== 'object')
        throw new Error('it is not an OpenAPI document');
      entry.good = { document, fetchedAt: Date.now() };
      entry.reason = undefined;
    } catch (error) {
      entry.reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : (error as Error).message;
      if (Date.now() - (entry.warnedAt ?? Number.NEGATIVE_INFINITY) >= WARN_EVERY_MS) {
        entry.warnedAt = Date.now();
        options.logger?.warn(
          `a backend's API description could not be fetched; ${entry.good ? 'its last copy' : 'a generic entry'} stands in`,
          {
            url,
            reason: entry.reason,
          },
        );
      }
    } finally {
      entry.checkedAt = Date.now();
    }
  };

  return {
    async describe(url) {
      let entry = entries.get(url);
      if (!entry) {
        entry = { checkedAt: Number.NEGATIVE_INFINITY };
        entries.set(url, entry);
      }
      if (Date.now() - entry.checkedAt >= ttlMs) {
        const current = entry;
        current.pending ??= refresh(url, current).finally(() => {
          current.pending = undefined;
        });
        await current.pending;
      }
      return entry.good ? entry.good : { reason: entry.reason ?? 'not fetched yet' };
    },
    cached(url) {
      return entries.get(url)?.good?.document;
    },
  };
}
