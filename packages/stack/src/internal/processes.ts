import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { StackError } from '../errors.ts';

/**
 * True while a process with this pid runs (ours to signal or not). A zombie (exited, not yet
 * reaped by its parent — for a server this process started, until Node's SIGCHLD handler
 * runs) answers signal 0 but runs no more, so it counts as gone.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

/** The command line of a running process, or undefined when there is none. */
export function commandLine(pid: number): string | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.length > 0 ? raw.split('\0').join(' ') : undefined;
  } catch {
    if (process.platform === 'linux') return undefined;
    const ps = spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8', timeout: 5000 });
    const out = ps.stdout?.trim();
    return out ? out : undefined;
  }
}

/**
 * Pids of every process (other than this one) whose command line mentions `text`, such as a
 * state directory: the stack marks each process it starts with its component's directory.
 */
export function processesMentioning(text: string): number[] {
  const pids =
    process.platform === 'linux'
      ? readdirSync('/proc')
          .filter((entry) => /^\d+$/.test(entry))
          .map(Number)
      : (spawnSync('ps', ['-A', '-o', 'pid='], { encoding: 'utf8', timeout: 5000 }).stdout ?? '')
          .split('\n')
          .map(Number)
          .filter((n) => n > 0);
  return pids.filter((pid) => pid !== process.pid && (commandLine(pid)?.includes(text) ?? false));
}

/**
 * A process the stack started, named by its pid and by a marker argument it was started
 * with. A pid alone is not proof: after a reboot or a long pause the number may belong to
 * someone else, and `down` must never signal a process it did not start.
 */
export interface OwnedProcess {
  pid: number;
  marker: string;
  /** The signal that asks it to shut down cleanly; default SIGTERM. */
  stopSignal?: NodeJS.Signals;
}

/** True when `pid` still runs and is the process that was started with `marker`. */
export function isOurs({ pid, marker }: OwnedProcess): boolean {
  return commandLine(pid)?.includes(marker) ?? false;
}

/** Options for {@link launch}. */
export interface LaunchOptions {
  command: string;
  args: string[];
  /** stdout and stderr are appended here. */
  logFile: string;
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts a long-running server in its own process group, detached from ours, so it outlives
 * the command that started it; output goes to its log file.
 */
export function launch(options: LaunchOptions): ChildProcess {
  const log = openSync(options.logFile, 'a');
  try {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    child.unref();
    return child;
  } finally {
    closeSync(log);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitGone(targets: OwnedProcess[], deadline: number): Promise<OwnedProcess[]> {
  let left = targets.filter(isOurs);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = left.filter(isOurs);
  }
  return left;
}

/**
 * Stops processes the stack started: their stop signal (a clean shutdown), then SIGKILL for
 * any still running after `graceMs`. Processes that are gone, or whose pid now names another
 * program, are left alone.
 */
export async function stopProcesses(targets: OwnedProcess[], graceMs: number): Promise<void> {
  const running = targets.filter(isOurs);
  for (const target of running) signal(target, target.stopSignal ?? 'SIGTERM');
  const stubborn = await waitGone(running, Date.now() + graceMs);
  for (const target of stubborn) signal(target, 'SIGKILL');
  const survivors = await waitGone(stubborn, Date.now() + 5000);
  if (survivors.length > 0) {
    throw new StackError('stop-failed', `process ${survivors.map((s) => s.pid).join(', ')} did not stop, even after SIGKILL`, {
      hint: 'look at it with `ps -p <pid>`; it may be stuck in the kernel (disk or NFS)',
    });
  }
}

/** Sends `sig` to a process the stack started; false when it no longer runs. */
export function signal(target: OwnedProcess, sig: NodeJS.Signals): boolean {
  if (!isOurs(target)) return false;
  try {
    process.kill(target.pid, sig);
    return true;
  } catch {
    return false;
  }
}
