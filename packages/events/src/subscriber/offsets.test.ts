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

describe('PartitionOffsets position and age', () => {
  it('tells the next unfinished record and the timestamp of the oldest one, for lag', () => {
    const offsets = new PartitionOffsets();
    expect(offsets.position).toBeUndefined();
    offsets.start(10, 1000);
    offsets.start(11, 2000);
    offsets.start(12, 3000);
    expect(offsets.position).toBe(10);
    expect(offsets.oldestPendingTimestamp).toBe(1000);
    offsets.finish(11);
    expect(offsets.oldestPendingTimestamp).toBe(1000);
    offsets.finish(10);
    expect(offsets.position).toBe(12);
    expect(offsets.oldestPendingTimestamp).toBe(3000);
    offsets.finish(12);
    expect(offsets.position).toBe(13);
    expect(offsets.oldestPendingTimestamp).toBeUndefined();
  });

  it('keeps timestamps beside offsets when the queue is compacted', () => {
    const offsets = new PartitionOffsets();
    for (let i = 0; i < 3000; i += 1) offsets.start(i, i * 10);
    for (let i = 0; i < 2500; i += 1) offsets.finish(i);
    expect(offsets.position).toBe(2500);
    expect(offsets.oldestPendingTimestamp).toBe(25_000);
  });
});

describe('PartitionOffsets over many records', () => {
  it('keeps the commit point right when records finish in and out of order', () => {
    const offsets = new PartitionOffsets();
    for (let offset = 0; offset < 5000; offset += 1) offsets.start(offset);
    for (let offset = 0; offset < 3000; offset += 2) offsets.finish(offset + 1);
    expect(offsets.commitPoint()).toBe(0);
    for (let offset = 0; offset < 3000; offset += 2) offsets.finish(offset);
    expect(offsets.commitPoint()).toBe(3000);
    expect(offsets.pending).toBe(2000);
    for (let offset = 3000; offset < 5000; offset += 1) offsets.finish(offset);
    expect(offsets.commitPoint()).toBe(5000);
    expect(offsets.pending).toBe(0);
  });

  it('holds memory for the unfinished records, not for every record ever taken', () => {
    const offsets = new PartitionOffsets();
    for (let offset = 0; offset < 10_000; offset += 1) {
      offsets.start(offset, offset);
      offsets.finish(offset);
    }
    expect(offsets.retained).toBeLessThanOrEqual(1025);
    expect(offsets.position).toBe(10_000);
    // One record left unfinished holds back the commit, and everything behind it is kept...
    offsets.start(10_000, 1);
    for (let offset = 10_001; offset < 13_000; offset += 1) {
      offsets.start(offset, offset);
      offsets.finish(offset);
    }
    expect(offsets.commitPoint()).toBe(10_000);
    expect(offsets.pending).toBe(1);
    expect(offsets.oldestPendingTimestamp).toBe(1);
    expect(offsets.retained).toBeGreaterThanOrEqual(3000);
    // ...until it finishes: then the queue is compacted on the next finish past the limit.
    offsets.finish(10_000);
    expect(offsets.retained).toBeLessThanOrEqual(1025);
    expect(offsets.pending).toBe(0);
    expect(offsets.oldestPendingTimestamp).toBeUndefined();
    expect(offsets.commitPoint()).toBe(13_000);
  });

  it('counts pending records with some finished out of order', () => {
    const offsets = new PartitionOffsets();
    expect(offsets.commitPoint()).toBeUndefined();
    expect(offsets.pending).toBe(0);
    for (const offset of [1, 2, 3, 4]) offsets.start(offset, offset * 100);
    offsets.finish(3);
    expect(offsets.pending).toBe(3);
    offsets.finish(1);
    expect(offsets.pending).toBe(2);
    expect(offsets.oldestPendingTimestamp).toBe(200);
    offsets.committed(2);
    expect(offsets.commitPoint()).toBeUndefined();
    offsets.finish(2);
    expect(offsets.commitPoint()).toBe(4);
  });

  it('lets go of the finished offsets once more than 1,024 of them are the larger part, not before', () => {
    const offsets = new PartitionOffsets();
    for (let offset = 0; offset < 4000; offset += 1) offsets.start(offset, offset);
    for (let offset = 0; offset < 1024; offset += 1) offsets.finish(offset);
    // 1,024 finished: not more than 1,024 yet.
    expect(offsets.retained).toBe(4000);
    for (let offset = 1024; offset < 2000; offset += 1) offsets.finish(offset);
    // 2,000 of 4,000: not the larger part yet.
    expect(offsets.retained).toBe(4000);
    offsets.finish(2000);
    expect(offsets.retained).toBe(1999);
    expect([offsets.position, offsets.oldestPendingTimestamp, offsets.pending]).toEqual([2001, 2001, 1999]);
  });

  it('lets go of nothing at 1,024 finished, though they are the larger part', () => {
    const offsets = new PartitionOffsets();
    for (let offset = 0; offset < 2000; offset += 1) offsets.start(offset);
    for (let offset = 0; offset < 1024; offset += 1) offsets.finish(offset);
    expect(offsets.retained).toBe(2000);
    offsets.finish(1024);
    expect([offsets.retained, offsets.position]).toEqual([975, 1025]);
  });

  it('keeps a short queue whole: under 1,024 finished, nothing is let go of', () => {
    const offsets = new PartitionOffsets();
    for (let offset = 0; offset < 10; offset += 1) offsets.start(offset);
    for (let offset = 0; offset < 8; offset += 1) offsets.finish(offset);
    expect([offsets.retained, offsets.position]).toEqual([10, 8]);
  });

  it('passes, with the oldest, every record finished out of order right behind it, and stops at the first unfinished', () => {
    const offsets = new PartitionOffsets();
    for (let offset = 0; offset < 6; offset += 1) offsets.start(offset, offset * 10);
    offsets.finish(1);
    offsets.finish(2);
    offsets.finish(4);
    expect([offsets.position, offsets.pending]).toEqual([0, 3]);
    offsets.finish(0);
    expect([offsets.position, offsets.oldestPendingTimestamp, offsets.pending]).toEqual([3, 30, 2]);
    offsets.finish(3);
    expect([offsets.position, offsets.oldestPendingTimestamp, offsets.pending]).toEqual([5, 50, 1]);
  });

  it('never moves the point past everything taken on back: a record fetched again after a seek', () => {
    const offsets = new PartitionOffsets();
    offsets.start(7);
    offsets.finish(7);
    offsets.start(5);
    offsets.finish(5);
    expect(offsets.commitPoint()).toBe(8);
  });
});
