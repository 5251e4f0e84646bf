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
    expect(deadlines.held).toBe(0);
    const fired: string[] = [];
    const started = Date.now();
    deadlines.arm(() => fired.push(`a@${Date.now() - started}`));
    vi.advanceTimersByTime(300);
    const b = deadlines.arm(() => fired.push('b'));
    vi.advanceTimersByTime(100);
    deadlines.arm(() => fired.push(`c@${Date.now() - started}`));
    deadlines.disarm(b);
    expect([deadlines.armed, deadlines.held]).toEqual([2, 3]);
    vi.advanceTimersByTime(599);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['a@1000']);
    // The two the timer passed (a fired, b disarmed) are the larger part: they go.
    expect([deadlines.armed, deadlines.held]).toEqual([1, 1]);
    vi.advanceTimersByTime(5000);
    expect(fired).toEqual(['a@1000', 'c@1400']);
    expect([deadlines.armed, deadlines.held]).toEqual([0, 0]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps one timer for any number of deadlines, and no entries once all are disarmed; the timer then ends at its time', () => {
    const deadlines = new Deadlines(30_000, clock);
    const fired: number[] = [];
    const armed = Array.from({ length: 1000 }, (_, i) => deadlines.arm(() => fired.push(i)));
    expect(vi.getTimerCount()).toBe(1);
    for (const deadline of armed.slice(1)) deadlines.disarm(deadline);
    expect([deadlines.armed, deadlines.held, vi.getTimerCount()]).toEqual([1, 1000, 1]);
    deadlines.disarm(armed[0] as (typeof armed)[0]);
    expect([deadlines.armed, deadlines.held, vi.getTimerCount()]).toEqual([0, 0, 1]);
    vi.advanceTimersByTime(30_000);
    expect([fired, vi.getTimerCount()]).toEqual([[], 0]);
  });

  it('arms and disarms one call at a time on one timer, not a timer each', () => {
    const deadlines = new Deadlines(1000, clock);
    const fired: number[] = [];
    for (let i = 0; i < 100; i += 1) {
      deadlines.disarm(deadlines.arm(() => fired.push(i)));
      vi.advanceTimersByTime(5);
    }
    // 500 ms passed: the first timer is still the one set; at its time it finds nothing and sets no other.
    expect(vi.getTimerCount()).toBe(1);
    const last = deadlines.arm(() => fired.push(100));
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual([100]);
    deadlines.disarm(last);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sets a timer that holds no process up', () => {
    const deadlines = new Deadlines(1000, clock);
    const spy = vi.spyOn(globalThis, 'setTimeout');
    deadlines.arm(() => {});
    const timer = spy.mock.results[0]?.value as NodeJS.Timeout;
    spy.mockRestore();
    expect(timer.hasRef()).toBe(false);
  });

  it('keeps one timer when a firing deadline arms another while an earlier one waits', () => {
    const deadlines = new Deadlines(1000, clock);
    const fired: string[] = [];
    const started = Date.now();
    deadlines.arm(() => {
      fired.push(`a@${Date.now() - started}`);
      deadlines.arm(() => fired.push(`c@${Date.now() - started}`));
    });
    vi.advanceTimersByTime(500);
    deadlines.arm(() => fired.push(`b@${Date.now() - started}`));
    const spy = vi.spyOn(globalThis, 'setTimeout');
    vi.advanceTimersByTime(500);
    // a fired and armed c (at 2000): c's timer was set, then replaced by one for b, the front (at 1500).
    expect([fired, vi.getTimerCount(), spy.mock.calls.length]).toEqual([['a@1000'], 1, 2]);
    vi.advanceTimersByTime(500);
    // b fired; c is the front, and the timer set for it is the only one.
    expect([fired, vi.getTimerCount(), spy.mock.calls.length]).toEqual([['a@1000', 'b@1500'], 1, 3]);
    vi.advanceTimersByTime(500);
    spy.mockRestore();
    expect([fired, vi.getTimerCount()]).toEqual([['a@1000', 'b@1500', 'c@2000'], 0]);
  });

  it('sets no second timer when the deadline a firing one armed is the front', () => {
    const deadlines = new Deadlines(1000, clock);
    const fired: string[] = [];
    deadlines.arm(() => {
      fired.push('a');
      deadlines.arm(() => fired.push('b'));
    });
    const spy = vi.spyOn(globalThis, 'setTimeout');
    vi.advanceTimersByTime(1000);
    expect([fired, spy.mock.calls.length, vi.getTimerCount()]).toEqual([['a'], 1, 1]);
    spy.mockRestore();
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

  it('fires a deadline armed while another fires at its own time', () => {
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

  it('fires every deadline due by the time the timer runs late, in order, in one go', () => {
    let now = 0;
    const deadlines = new Deadlines(100, () => now);
    const fired: number[] = [];
    for (const at of [0, 10, 20]) {
      now = at;
      deadlines.arm(() => fired.push(at));
    }
    now = 500;
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([0, 10, 20]);
    expect(deadlines.held).toBe(0);
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
    const later = deadlines.arm(() => {
      fired += 100;
    });
    vi.advanceTimersByTime(10);
    expect(fired).toBe(111);
    deadlines.disarm(once);
    deadlines.disarm(once);
    deadlines.disarm(other);
    expect(deadlines.armed).toBe(0);
    const next = deadlines.arm(() => {
      fired += 1000;
    });
    deadlines.disarm(later);
    expect(deadlines.armed).toBe(1);
    vi.advanceTimersByTime(10);
    expect(fired).toBe(1111);
    deadlines.disarm(next);
    expect(deadlines.armed).toBe(0);
  });

  it('drops disarmed entries once they are over 1,024 and more than the armed ones, keeping the armed in order', () => {
    const deadlines = new Deadlines(60_000, clock);
    const fired: string[] = [];
    deadlines.arm(() => fired.push('oldest'));
    for (let i = 0; i < 1024; i += 1) deadlines.disarm(deadlines.arm(() => fired.push('never')));
    expect([deadlines.armed, deadlines.held]).toEqual([1, 1025]);
    deadlines.arm(() => fired.push('newest'));
    deadlines.disarm(deadlines.arm(() => fired.push('never')));
    // 1,025 disarmed against 2 armed: only the armed ones stay.
    expect([deadlines.armed, deadlines.held]).toEqual([2, 2]);
    // Over 1,024 but not more than the armed ones: they stay.
    const many = Array.from({ length: 3000 }, (_, i) => deadlines.arm(() => fired.push(`many ${i}`)));
    for (const deadline of many.slice(0, 1100)) deadlines.disarm(deadline);
    expect([deadlines.armed, deadlines.held]).toEqual([1902, 3002]);
    vi.advanceTimersByTime(60_000);
    expect(fired).toEqual(['oldest', 'newest', ...Array.from({ length: 1900 }, (_, i) => `many ${1100 + i}`)]);
    expect([deadlines.armed, deadlines.held]).toEqual([0, 0]);
  });

  it('keeps disarmed entries that are only as many as the armed ones', () => {
    const deadlines = new Deadlines(60_000, clock);
    const all = Array.from({ length: 2050 }, () => deadlines.arm(() => {}));
    for (const deadline of all.slice(0, 1025)) deadlines.disarm(deadline);
    // 1,025 disarmed, 1,025 armed.
    expect([deadlines.armed, deadlines.held]).toEqual([1025, 2050]);
    deadlines.disarm(all[1025] as (typeof all)[0]);
    // 1,026 and 1,024: the disarmed are more now.
    expect([deadlines.armed, deadlines.held]).toEqual([1024, 1024]);
  });

  it('holds about twice the armed deadlines however long the oldest one waits', () => {
    const deadlines = new Deadlines(60_000, clock);
    let fired = false;
    deadlines.arm(() => {
      fired = true;
    });
    let most = 0;
    for (let i = 0; i < 50_000; i += 1) {
      deadlines.disarm(deadlines.arm(() => {}));
      most = Math.max(most, deadlines.held);
    }
    expect(most).toBe(1025);
    vi.advanceTimersByTime(60_000);
    expect(fired).toBe(true);
  });

  it('lets go of the entries the timer passed once they are more than half of those held', () => {
    const deadlines = new Deadlines(100, clock);
    let fired = 0;
    for (let i = 0; i < 30; i += 1) {
      deadlines.arm(() => {
        fired += 1;
      });
      vi.advanceTimersByTime(1);
    }
    // Armed at 0…29 ms, each due 100 ms later: by 119 ms, twenty fired. At the sixteenth the
    // passed ones were more than half of thirty and went; four more passed since.
    vi.advanceTimersByTime(89);
    expect([fired, deadlines.armed, deadlines.held]).toEqual([20, 10, 14]);
  });
});
