import { describe, expect, it } from 'vitest';
import type { Catalog } from '../contracts/catalog.ts';
import { type PublisherOptions, resolvePublisherOptions } from './options.ts';

const base: PublisherOptions = {
  service: 'orders',
  kafka: { brokers: ['127.0.0.1:9092'] },
  registry: { url: 'http://127.0.0.1:8081' },
  catalog: { events: [], topics: [] } as unknown as Catalog,
  pii: false,
};

describe('publisher options', () => {
  it('compresses nothing by default, and gzip or zstd when asked', () => {
    expect(resolvePublisherOptions(base).compression).toBe('none');
    expect(resolvePublisherOptions({ ...base, compression: 'zstd' }).compression).toBe('zstd');
    expect(resolvePublisherOptions({ ...base, compression: 'gzip' }).compression).toBe('gzip');
  });

  it('refuses a compression it does not write, naming the ones it does', () => {
    const refused = () => resolvePublisherOptions({ ...base, compression: 'lz4' as never });
    expect(refused).toThrow(expect.objectContaining({ code: 'config.invalid' }));
    expect(refused).toThrow(/compression: .*"none".*"gzip".*"zstd"/);
  });
});
