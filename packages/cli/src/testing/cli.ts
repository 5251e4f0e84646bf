import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isPortFree } from '@junction/stack';

/**
 * The CLI's entry, run from its TypeScript sources by Node 24 (which strips the types), so a
 * test always runs the code as it is now, never a stale build. The `junction-source` condition
 * points the workspace packages at their sources too.
 */
const CLI = fileURLToPath(new URL('../bin.ts', import.meta.url));
const NODE_ARGS = ['--conditions=junction-source', CLI];

/** What a finished CLI run printed. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `junction <args>` to completion, killing it past `timeoutMs`; `env` adds to the environment. */
export function runCli(args: string[], timeoutMs = 240_000, env: Record<string, string> = {}): Promise<CliResult> {
  return runCommand(process.execPath, [...NODE_ARGS, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, timeoutMs });
}

/** Runs any command to completion with exactly `env`, collecting what it prints; killed past `timeoutMs`. */
export function runCommand(command: string, args: string[], options: { env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running `junction <args>` whose output can be awaited line by line. */
export interface RunningCli {
  child: ChildProcess;
  output: () => string;
  /** Resolves once the output contains `text`; rejects if the CLI exits first or time runs out. */
  waitFor: (text: string, timeoutMs: number) => Promise<void>;
  exited: Promise<number | null>;
}

/** Starts `junction <args>` and keeps it running; `env` adds to the environment. */
export function startCli(args: string[], env: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], { env: { ...process.env, NO_COLOR: '1', ...env } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const waitFor = async (text: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    let gone = false;
    void exited.then(() => {
      gone = true;
    });
    while (!output.includes(text)) {
      if (gone) throw new Error(`the CLI exited before printing "${text}":\n${output}`);
      if (Date.now() > deadline) throw new Error(`no "${text}" within ${timeoutMs} ms:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  return { child, output: () => output, waitFor, exited };
}

/** Pairs handed out by this process: free ports are not reserved until bound, so a second call could pick one again. */
const handedOut = new Set<number>();

/**
 * A port `p` such that `p` and `p + 1` are both free (the stack uses pairs), and not handed out
 * before by this process. Chosen below Linux's ephemeral range (32768 and up), where the
 * system hands out ports for outgoing connections and could take ours between this check and
 * the component's bind.
 */
export async function freePortPair(): Promise<number> {
  for (let tries = 0; tries < 200; tries += 1) {
    const port = 20_000 + Math.floor(Math.random() * 6_000) * 2;
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if ((await isPortFree(port)) && (await isPortFree(port + 1))) return port;
  }
  throw new Error('found no two adjacent free ports');
}
