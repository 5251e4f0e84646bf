import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { isAlive } from './processes.ts';

describe('isAlive', () => {
  it('is true for a running process and false for one that has exited', async () => {
    expect(isAlive(process.pid)).toBe(true);
    const child = spawn('true');
    await once(child, 'exit');
    expect(isAlive(child.pid ?? 0)).toBe(false);
  });

  it('counts a zombie (exited, not reaped) as gone although signal 0 still reaches it', async () => {
    // The shell starts `sleep 1`, prints its pid, and becomes `sleep 10`, which never reaps it.
    // (The child must outlive the exec: a shell may reap a child that ends before it.)
    const parent = spawn('sh', ['-c', 'sleep 1 & echo $!; exec sleep 10'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const [line] = (await once(parent.stdout, 'data')) as [Buffer];
      const zombie = Number(line.toString().trim());
      await expect.poll(() => isAlive(zombie), { timeout: 5000, interval: 20 }).toBe(false);
      expect(() => process.kill(zombie, 0)).not.toThrow();
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
