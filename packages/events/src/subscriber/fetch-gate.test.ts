import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { recordingControl } from '../testing/fetch-control.ts';
import { FetchGate } from './fetch-gate.ts';

function gate(limits: { maxRecords?: number; maxBytes?: number } = {}) {
  const control = recordingControl();
  const work = { records: 0 };
  const fetchGate = new FetchGate({
    control,
    topics: ['orders', 'orders.retry.1'],
    maxRecords: limits.maxRecords ?? 10,
    maxBytes: limits.maxBytes ?? 1000,
    records: () => work.records,
  });
  return { control, work, gate: fetchGate };
}

describe('FetchGate', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('counts bytes taken and released', () => {
    const { gate: g } = gate();
    g.take(300);
    g.take(200);
    expect(g.bytes).toBe(500);
    g.release(300);
    expect(g.bytes).toBe(200);
  });

  it('does not hold below both high watermarks, at the edge of either', async () => {
    const { gate: g, work } = gate();
    const heartbeat = vi.fn(async () => {});
    work.records = 9;
    g.take(999);
    await g.holdWhileFull(heartbeat, () => true);
    expect(heartbeat).not.toHaveBeenCalled();
    expect(g.pausedPartitions(4)).toBe(0);
  });

  it('holds at the record limit, heartbeating each second, until half the records are done', async () => {
    const { gate: g, work } = gate();
    const heartbeat = vi.fn(async () => {});
    work.records = 10;
    let released = false;
    const held = g
      .holdWhileFull(heartbeat, () => true)
      .then(() => {
        released = true;
      });
    await vi.advanceTimersByTimeAsync(0);
    expect(g.pausedPartitions(4)).toBe(4);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(heartbeat).toHaveBeenCalledTimes(2);
    expect(released).toBe(false);
    work.records = 6; // above half: still held
    g.release(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(released).toBe(false);
    work.records = 5; // half: a finish wakes it at once, without waiting for the second
    g.release(0);
    await vi.advanceTimersByTimeAsync(0);
    await held;
    expect(released).toBe(true);
    expect(heartbeat).toHaveBeenCalledTimes(3);
    expect(g.pausedPartitions(4)).toBe(0);
  });

  it('holds at the byte limit until at most half the bytes are left', async () => {
    const { gate: g } = gate();
    g.take(1000);
    let released = false;
    const held = g
      .holdWhileFull(
        async () => {},
        () => true,
      )
      .then(() => {
        released = true;
      });
    g.release(499);
    await vi.advanceTimersByTimeAsync(0);
    expect(released).toBe(false);
    g.release(1);
    await held;
    expect(released).toBe(true);
  });

  it('lets go of a held loop when the gate stops, or when its generation ends (revoked)', async () => {
    const { gate: g, work } = gate();
    work.records = 10;
    const stopped = g.holdWhileFull(
      async () => {},
      () => true,
    );
    g.stop();
    await vi.advanceTimersByTimeAsync(1_000);
    await stopped;

    const other = gate();
    other.work.records = 10;
    let current = true;
    let released = false;
    const rebalanced = other.gate
      .holdWhileFull(
        async () => {},
        () => current,
      )
      .then(() => {
        released = true;
      });
    other.gate.due.holdIfEarly('orders', 0, '1', 60_000);
    current = false;
    other.gate.revoked();
    expect(other.gate.due.size).toBe(0);
    await vi.advanceTimersByTimeAsync(0);
    await rebalanced;
    expect(released).toBe(true);
  });

  it('pauses everything while the breaker is open and resumes on half-open, keeping retry holds paused', () => {
    const { gate: g, control } = gate();
    g.due.holdIfEarly('orders.retry.1', 2, '5', 60_000);
    control.calls.length = 0;
    g.breaker('open');
    expect(control.calls).toEqual(['pause orders orders.retry.1']);
    expect(g.pausedPartitions(6)).toBe(6);
    // A retry falling due while open does not resume its partition.
    g.due.holdIfEarly('orders.retry.1', 3, '1', 100);
    vi.advanceTimersByTime(100);
    expect(control.calls).not.toContain('resume orders.retry.1[3]');
    g.breaker('half-open');
    expect(control.calls.slice(-2)).toEqual(['resume orders orders.retry.1', 'pause orders.retry.1[2]']);
    expect(g.pausedPartitions(6)).toBe(1);
    g.breaker('closed');
    expect(control.calls.slice(-2)).toEqual(['resume orders orders.retry.1', 'pause orders.retry.1[2]']);
  });

  it('after stop pauses everything once and resumes nothing: not the breaker closing, not a retry falling due', () => {
    const { gate: g, control } = gate();
    g.due.holdIfEarly('orders.retry.1', 0, '1', 100);
    control.calls.length = 0;
    g.stop();
    expect(g.stopped).toBe(true);
    expect(g.due.size).toBe(0);
    expect(control.calls).toEqual(['pause orders orders.retry.1']);
    g.breaker('closed');
    vi.advanceTimersByTime(1_000);
    expect(control.calls).toEqual(['pause orders orders.retry.1']);
  });

  it('stops quietly when the consumer cannot pause (never started)', () => {
    const fetchGate = new FetchGate({
      control: {
        pause: () => {
          throw new Error('not running');
        },
        resume: () => {},
        seek: () => {},
      },
      topics: ['orders'],
      maxRecords: 1,
      maxBytes: 1024,
      records: () => 0,
    });
    expect(() => fetchGate.stop()).not.toThrow();
    expect(fetchGate.stopped).toBe(true);
  });
});
