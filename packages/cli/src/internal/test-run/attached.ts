import { spawn } from 'node:child_process';

/** Options of {@link runAttached}. */
export interface AttachedOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Past this the tool gets SIGTERM, and SIGKILL 10 s later: no step of a test run hangs forever. */
  timeoutMs: number;
  /** `inherit` (the default) shows the tool's output on the terminal; `ignore` drops it. */
  output?: 'inherit' | 'ignore';
}

/** How a tool ended: its exit code (null when killed or not started) and whether time ran out. */
export interface AttachedEnding {
  code: number | null;
  timedOut: boolean;
}

/** Runs a tool of the test run with the terminal attached and resolves when it exits. */
export function runAttached(command: string, args: string[], options: AttachedOptions): Promise<AttachedEnding> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: options.output ?? 'inherit' });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.stderr.write(`\njunction: ${args[0] ?? command} ran past ${Math.round(options.timeoutMs / 60_000)} minutes; stopping it\n`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, options.timeoutMs);
    child.once('error', () => {
      clearTimeout(timer);
      resolve({ code: null, timedOut });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, timedOut });
    });
  });
}
