import { describe, expect, it } from 'vitest';
import { PartitionOffsets } from './offsets.ts';

describe('PartitionOffsets', () => {
  it('commits only below the lowest unfinished offset', () => {
    const offsets = new PartitionOffsets();
    for (const offset of [10, 11, 12, 13]) offsets.start(offset);
    expect(offsets.commitPoint()).toBe(10);
    offsets.finish(12);
    offsets.finish(11);
    expect(offsets.commitPoint()).toBe(10);
    offsets.finish(10);
    expect(offsets.commitPoint()).toBe(13);
    offsets.finish(13);
    expect(offsets.commitPoint()).toBe(14);
    expect(offsets.pending).toBe(0);
  });

  it('has nothing new to commit after a commit until more is finished', () => {
    const offsets = new PartitionOffsets();
    offsets.start(0);
    offsets.finish(0);
    offsets.committed(1);
    expect(offsets.commitPoint()).toBeUndefined();
    offsets.start(1);
    expect(offsets.commitPoint()).toBeUndefined();
    offsets.finish(1);
    expect(offsets.commitPoint()).toBe(2);
  });
});
