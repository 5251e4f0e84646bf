import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../bin.ts', import.meta.url));

/**
 * Runs the CLI with its stdout a pipe whose reading end is closed before the CLI starts, so its
 * first write meets a closed pipe (as `| head` does once it has read enough), every time.
 */
function runIntoClosedPipe(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--conditions=junction-source', CLI, ...args], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

describe('a closed output pipe', () => {
  it('ends a command quietly: no EPIPE crash, no stack trace, exit 0', { timeout: 60_000 }, async () => {
    const result = await runIntoClosedPipe(['schemas', 'check']);
    expect(result.stderr).not.toMatch(/EPIPE|Unhandled|at .*\.js:\d+/);
    expect(result.code).toBe(0);
  });
});
