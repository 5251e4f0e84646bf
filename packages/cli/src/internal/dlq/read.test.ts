import { describe, expect, it } from 'vitest';
import { plan } from './read.ts';

const offsets = [
  { partition: 0, low: '0', high: '10' },
  { partition: 1, low: '5', high: '8' },
  { partition: 2, low: '3', high: '3' },
];

describe('plan', () => {
  it('reads every partition from its first offset to its end', () => {
    expect(plan(offsets, {})).toEqual(
      new Map([
        [0, { next: 0n, end: 10n }],
        [1, { next: 5n, end: 8n }],
      ]),
    );
  });

  it('starts at --offset, never below the first offset, and leaves out partitions with nothing past it', () => {
    expect(plan(offsets, { offset: 6n })).toEqual(
      new Map([
        [0, { next: 6n, end: 10n }],
        [1, { next: 6n, end: 8n }],
      ]),
    );
    expect(plan(offsets, { offset: 2n })).toEqual(
      new Map([
        [0, { next: 2n, end: 10n }],
        [1, { next: 5n, end: 8n }],
      ]),
    );
    expect(plan(offsets, { offset: 10n })).toEqual(new Map());
  });

  it('reads only --partition', () => {
    expect(plan(offsets, { partition: 1 })).toEqual(new Map([[1, { next: 5n, end: 8n }]]));
    expect(plan(offsets, { partition: 7 })).toEqual(new Map());
  });
});
