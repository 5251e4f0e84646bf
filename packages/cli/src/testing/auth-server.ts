import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The auth service's entry, run from its sources as a process (the CLI never imports a service). */
const AUTH_MAIN = fileURLToPath(new URL('../../../../services/auth/src/main.ts', import.meta.url));

/** An auth server process for CLI tests, with its own stack state directory. */
export interface TestAuthServer {
  url: string;
  /** The stack state directory to pass as `--state-dir`; the server's state is its `auth/`. */
  stateDir: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `services/auth` on a free port with the default clients.yaml (unless `env` says another) and a fresh state directory. */
export async function startTestAuthServer(env: Record<string, string> = {}): Promise<TestAuthServer> {
  const stateDir = await mkdtemp(join(tmpdir(), 'junction-cli-auth-'));
  const child = spawn(process.execPath, ['--conditions=junction-source', '--no-warnings', AUTH_MAIN], {
    env: {
      ...process.env,
      JUNCTION_AUTH_PORT: '0',
      JUNCTION_AUTH_STATE_DIR: join(stateDir, 'auth'),
      OTEL_SDK_DISABLED: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    await rm(stateDir, { recursive: true, force: true });
  };
  // Port 0: the server picks one and says it on its `listening` line.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const line = output.split('\n').find((l) => l.includes('"message":"listening"'));
    if (line) return { url: (JSON.parse(line) as { url: string }).url, stateDir, child, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the auth server did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
