import { describe, expect, it } from 'vitest';
import { createProgressBar, renderProgress } from './progress.ts';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, writes, write: (text: string) => writes.push(text) };
}

describe('renderProgress', () => {
  it('shows the bar, done/total, the percentage and the rate', () => {
    expect(renderProgress('replaying', 0, 40, 0)).toBe(`replaying [${' '.repeat(24)}] 0/40  0%  0.0/s`);
    expect(renderProgress('replaying', 10, 40, 2000)).toBe(`replaying [=====>${' '.repeat(18)}] 10/40  25%  5.0/s`);
    expect(renderProgress('replaying', 40, 40, 4000)).toBe(`replaying [${'='.repeat(24)}] 40/40  100%  10.0/s`);
    expect(renderProgress('x', 1500, 12000, 1000)).toContain('1,500/12,000  12%  1500.0/s');
  });

  it('shows an empty run as complete', () => {
    expect(renderProgress('replaying', 0, 0, 0)).toContain(`[${'='.repeat(24)}] 0/0  100%`);
  });
});

describe('createProgressBar', () => {
  it('redraws in place on a terminal, at most every 100 ms, and ends the line', () => {
    let now = 0;
    const stream = fakeStream(true);
    const bar = createProgressBar({ label: 'replaying', total: 10, stream, now: () => now });
    bar.update(1);
    now = 50;
    bar.update(2);
    now = 150;
    bar.update(3);
    now = 1000;
    bar.finish();
    expect(stream.writes).toHaveLength(4);
    expect(stream.writes.slice(0, 3).every((w) => w.startsWith('\r') && w.endsWith('\u001b[K'))).toBe(true);
    expect(stream.writes[0]).toContain(' 1/10 ');
    expect(stream.writes[1]).toContain(' 3/10 ');
    expect(stream.writes[2]).toContain(' 3/10 ');
    expect(stream.writes[3]).toBe('\n');
  });

  it('prints whole lines every few seconds without a terminal, and the final state once', () => {
    let now = 0;
    const stream = fakeStream(false);
    const bar = createProgressBar({ label: 'replaying', total: 100, stream, now: () => now, lineEveryMs: 3000 });
    for (let done = 1; done <= 100; done += 1) {
      now = done * 100;
      bar.update(done);
    }
    bar.finish();
    bar.finish();
    // 10 s of updates: a line at 0.1 s, 3.1 s, 6.1 s, 9.1 s, then the final one.
    expect(stream.writes).toHaveLength(5);
    expect(stream.writes.every((w) => w.endsWith('\n') && !w.includes('\r'))).toBe(true);
    expect(stream.writes.at(-1)).toContain('100/100  100%  10.0/s');
  });
});
