import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadlines } from './deadlines.ts';

describe('Deadlines', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const clock = () => Date.now();

  it('fires each armed deadline once, its length after it was armed, in order; a disarmed one never', () => {
    const deadlines = new Deadlines(1000, clock);
    const fired: string[] = [];
    deadlines.arm(() => fired.push(`a@${Date.now()}`));
    vi.advanceTimersByTime(300);
    const b = deadlines.arm(() => fired.push('b'));
    vi.advanceTimersByTime(100);
    deadlines.arm(() => fired.push(`c@${Date.now()}`));
    deadlines.disarm(b);
    const started = Date.now() - 400;
    vi.advanceTimersByTime(599);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([`a@${started + 1000}`]);
    vi.advanceTimersByTime(5000);
    expect(fired).toEqual([`a@${started + 1000}`, `c@${started + 1400}`]);
    expect(deadlines.armed).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps one timer for any number of deadlines, and none once all are disarmed', () => {
    const deadlines = new Deadlines(30_000, clock);
    const armed = Array.from({ length: 1000 }, () => deadlines.arm(() => {}));
    expect(vi.getTimerCount()).toBe(1);
    for (const deadline of armed) deadlines.disarm(deadline);
    expect(vi.getTimerCount()).toBe(0);
    expect(deadlines.held).toBe(0);
  });

  it('follows an early front that was disarmed: the next deadline fires at its own time, not sooner', () => {
    const deadlines = new Deadlines(1000, clock);
    let firedAt: number | undefined;
    const start = Date.now();
    const first = deadlines.arm(() => {});
    vi.advanceTimersByTime(500);
    deadlines.arm(() => {
      firedAt = Date.now();
    });
    deadlines.disarm(first);
    vi.advanceTimersByTime(999);
    expect(firedAt).toBeUndefined();
    vi.advanceTimersByTime(1);
    expect(firedAt).toBe(start + 1500);
  });

  it('keeps a deadline armed while another fires, and fires it at its time', () => {
    const deadlines = new Deadlines(100, clock);
    const fired: number[] = [];
    const start = Date.now();
    deadlines.arm(() => {
      fired.push(Date.now() - start);
      deadlines.arm(() => fired.push(Date.now() - start));
    });
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual([100, 200]);
  });

  it('disarming twice, or after it fired, changes nothing', () => {
    const deadlines = new Deadlines(10, clock);
    let fired = 0;
    const once = deadlines.arm(() => {
      fired += 1;
    });
    const other = deadlines.arm(() => {
      fired += 10;
    });
    vi.advanceTimersByTime(10);
    deadlines.disarm(once);
    deadlines.disarm(once);
    expect(deadlines.armed).toBe(0);
    expect(fired).toBe(11);
    deadlines.disarm(other);
    expect(deadlines.armed).toBe(0);
  });

  it('holds about twice the armed deadlines however long the oldest one waits', () => {
    const deadlines = new Deadlines(60_000, clock);
    let fired = false;
    deadlines.arm(() => {
      fired = true;
    });
    let most = 0;
    for (let i = 0; i < 50_000; i += 1) {
      const deadline = deadlines.arm(() => {});
      deadlines.disarm(deadline);
      most = Math.max(most, deadlines.held);
    }
    expect(deadlines.armed).toBe(1);
    expect(most).toBeLessThanOrEqual(2 * 1 + 1025);
    vi.advanceTimersByTime(60_000);
    expect(fired).toBe(true);
  });
});
