import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cpuBetween, cpuSeconds, parseProcStat } from './cpu.ts';

describe('CPU accounting from /proc', () => {
  it('reads a stat line whose command name holds spaces and parentheses', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime …
    const line = '4242 (my (odd) name) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 1 0 123 0';
    expect(parseProcStat(line)).toEqual({ pid: 4242, ppid: 17, own: 300, reaped: 10 });
    expect(parseProcStat('garbage')).toBeUndefined();
  });

  it("counts a process's descendants: a child burning CPU shows in its parent's tree", async () => {
    if (process.platform !== 'linux') throw new Error('this test reads /proc: run it on Linux');
    // A shell whose child burns 400 ms of CPU (measured as CPU, so a busy machine only slows it), then ends.
    const burn = 'const start = process.cpuUsage(); while (process.cpuUsage(start).user < 400000);';
    const parent = spawn('sh', ['-c', `${JSON.stringify(process.execPath)} -e ${JSON.stringify(burn)}; sleep 30`], { stdio: 'ignore' });
    try {
      const names = new Map([['shell', parent.pid as number]]);
      const before = cpuSeconds(names);
      const deadline = Date.now() + 20_000;
      let used = 0;
      while (used < 0.4 && Date.now() < deadline) {
        await new Promise((settle) => setTimeout(settle, 100));
        used = cpuBetween(before, cpuSeconds(names)).get('shell') ?? 0;
      }
      // The child's time counts while it runs and after the shell reaped it (the shell's cutime).
      expect(used).toBeGreaterThanOrEqual(0.4);
      expect(used).toBeLessThan(5);
      expect(cpuSeconds(new Map([['gone', 2 ** 22 + 1]]))).toEqual(new Map());
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
