import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { recordingControl } from '../testing/fetch-control.ts';
import { RetryDue } from './retry-due.ts';

describe('RetryDue', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 10_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('takes a record that is due, at its time or after, and holds nothing', () => {
    const control = recordingControl();
    const due = new RetryDue(control, () => true);
    expect(due.holdIfEarly('r', 0, '5', 10_000)).toBe(false);
    expect(due.holdIfEarly('r', 0, '5', 9_000)).toBe(false);
    expect(due.holdIfEarly('r', 0, '5', 0)).toBe(false);
    expect(control.calls).toEqual([]);
    expect(due.size).toBe(0);
    expect(due.isHeld('r', 0)).toBe(false);
  });

  it('holds an early record: pauses its partition, rewinds to it, and resumes it when it falls due', () => {
    const control = recordingControl();
    const due = new RetryDue(control, () => true);
    expect(due.holdIfEarly('r', 2, '7', 10_500)).toBe(true);
    expect(control.calls).toEqual(['pause r[2]', 'seek r[2]@7']);
    expect(due.isHeld('r', 2)).toBe(true);
    expect(due.isHeld('r', 1)).toBe(false);
    expect(due.isHeld('s', 2)).toBe(false);
    expect(due.size).toBe(1);
    vi.advanceTimersByTime(499);
    expect(due.isHeld('r', 2)).toBe(true);
    vi.advanceTimersByTime(1);
    expect(due.isHeld('r', 2)).toBe(false);
    expect(due.size).toBe(0);
    expect(control.calls).toEqual(['pause r[2]', 'seek r[2]@7', 'resume r[2]']);
  });

  it('leaves the partition paused when it falls due while fetching must stay paused', () => {
    const control = recordingControl();
    let mayResume = false;
    const due = new RetryDue(control, () => mayResume);
    due.holdIfEarly('r', 0, '1', 10_100);
    vi.advanceTimersByTime(100);
    expect(due.size).toBe(0);
    expect(control.calls).toEqual(['pause r[0]', 'seek r[0]@1']);
    mayResume = true;
    due.holdIfEarly('r', 0, '1', 10_200);
    vi.advanceTimersByTime(100);
    expect(control.calls.at(-1)).toBe('resume r[0]');
  });

  it('pauses the held partitions again after everything was resumed', () => {
    const control = recordingControl();
    const due = new RetryDue(control, () => true);
    due.holdIfEarly('r', 0, '1', 11_000);
    due.holdIfEarly('s', 3, '9', 12_000);
    control.calls.length = 0;
    due.pauseHeld();
    expect(control.calls).toEqual(['pause r[0]', 'pause s[3]']);
  });

  it('a second hold of a partition replaces the first: one timer, the later time', () => {
    const control = recordingControl();
    const due = new RetryDue(control, () => true);
    due.holdIfEarly('r', 0, '1', 10_100);
    due.holdIfEarly('r', 0, '1', 10_300);
    expect(due.size).toBe(1);
    vi.advanceTimersByTime(100);
    expect(due.isHeld('r', 0)).toBe(true);
    vi.advanceTimersByTime(200);
    expect(due.isHeld('r', 0)).toBe(false);
    expect(control.calls.filter((c) => c.startsWith('resume'))).toEqual(['resume r[0]']);
  });

  it('forgets every hold on clear, and resumes none of them later', () => {
    const control = recordingControl();
    const due = new RetryDue(control, () => true);
    due.holdIfEarly('r', 0, '1', 10_100);
    due.holdIfEarly('r', 1, '1', 10_100);
    due.clear();
    expect(due.size).toBe(0);
    expect(due.isHeld('r', 0)).toBe(false);
    vi.advanceTimersByTime(1_000);
    expect(control.calls.filter((c) => c.startsWith('resume'))).toEqual([]);
  });
});
