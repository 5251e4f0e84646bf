import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from './internal/paths.ts';
import { type CliResult, runCommand } from './testing/cli.ts';
import { pathWithout } from './testing/path.ts';

/**
 * The ./junction wrapper at the repository root, on a machine that lacks redis-server and
 * prometheus (hidden from PATH, not uninstalled). apt-get is a stand-in: the system's package
 * manager is outside Junction's world, and the test must not install anything. It records how
 * it was called and whether the wrapper's policy-rc.d (no service starts) was in place.
 */
const POLICY = '/usr/sbin/policy-rc.d';
const isRoot = process.getuid?.() === 0;

async function standInAptGet(exitCode: number): Promise<{ dir: string; log: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'junction-apt-'));
  const log = join(dir, 'calls.log');
  await writeFile(
    join(dir, 'apt-get'),
    `#!/bin/sh
# A stand-in for Debian's apt-get: records its arguments, installs nothing.
policy=absent; [ -e ${POLICY} ] && policy=present
echo "$* (policy-rc.d $policy, DEBIAN_FRONTEND=\${DEBIAN_FRONTEND:-})" >>"${log}"
[ ${exitCode} = 0 ] || echo "E: Unable to locate package redis-server" >&2
exit ${exitCode}
`,
  );
  await chmod(join(dir, 'apt-get'), 0o755);
  return { dir, log };
}

function runWrapper(args: string[], env: Record<string, string>): Promise<CliResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'JUNCTION_QUIET'));
  return runCommand('sh', [join(repositoryRoot(), 'junction'), ...args], { env: { ...base, NO_COLOR: '1', ...env }, timeoutMs: 120_000 });
}

const lacking = () => pathWithout(['redis-server', 'prometheus', 'promtool', 'apt-get']);
const calls = async (log: string) => (existsSync(log) ? (await readFile(log, 'utf8')).trim().split('\n') : []);

describe('the ./junction wrapper on a machine that lacks packages', { timeout: 150_000 }, () => {
  it('as root, installs each missing package of system-packages.txt with apt-get, a line each saying why, with services kept from starting', async () => {
    const apt = await standInAptGet(0);
    const policyBefore = existsSync(POLICY);
    const result = await runWrapper(['stack', '--help'], { PATH: `${apt.dir}${delimiter}${await lacking()}` });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: junction stack');
    if (!isRoot) {
      // Only root may install: anyone else gets no apt-get call, and the CLI's notice instead.
      expect(await calls(apt.log)).toEqual([]);
      return;
    }
    expect(result.stderr).toContain(
      'junction: installing redis-server with apt-get (the machine lacks it): rate limits and Idempotency-Key claims shared by gateway replicas',
    );
    expect(result.stderr).toContain(
      'junction: installing prometheus with apt-get (the machine lacks it): the metrics server, and promtool for the alert-rule tests',
    );
    expect(result.stderr).toContain('junction: installed redis-server prometheus');
    expect(await calls(apt.log)).toEqual([
      'update -qq (policy-rc.d present, DEBIAN_FRONTEND=noninteractive)',
      'install -y -qq --no-install-recommends redis-server prometheus (policy-rc.d present, DEBIAN_FRONTEND=noninteractive)',
    ]);
    // Its own policy-rc.d is gone again; one the machine had stays.
    expect(existsSync(POLICY)).toBe(policyBefore);
  });

  it('as root, says what apt-get could not install and goes on', async () => {
    const apt = await standInAptGet(100);
    const result = await runWrapper(['stack', '--help'], { PATH: `${apt.dir}${delimiter}${await lacking()}` });
    expect(result.code).toBe(0);
    if (!isRoot) return expect(await calls(apt.log)).toEqual([]);
    expect(result.stderr).toMatch(
      /junction: apt-get could not install redis-server prometheus: E: Unable to locate package redis-server\n/,
    );
    expect(result.stdout).toContain('Usage: junction stack');
  });

  it('installs nothing with JUNCTION_NO_SYSTEM_INSTALL=1, nor for a command that starts no server', async () => {
    const apt = await standInAptGet(0);
    const PATH = `${apt.dir}${delimiter}${await lacking()}`;
    const refused = await runWrapper(['stack', '--help'], { PATH, JUNCTION_NO_SYSTEM_INSTALL: '1' });
    expect(refused.code).toBe(0);
    const help = await runWrapper(['--help'], { PATH });
    expect(help.code).toBe(0);
    expect(await calls(apt.log)).toEqual([]);
    expect(`${refused.stderr}${help.stderr}`).not.toContain('installing');
  });

  it('asks apt-get for nothing when the machine has every package', async () => {
    const apt = await standInAptGet(0);
    // Stand-ins for the two servers: present on PATH is all the wrapper checks.
    for (const name of ['redis-server', 'prometheus']) {
      await writeFile(join(apt.dir, name), '#!/bin/sh\nexit 0\n');
      await chmod(join(apt.dir, name), 0o755);
    }
    const result = await runWrapper(['stack', '--help'], { PATH: `${apt.dir}${delimiter}${await lacking()}` });
    expect(result.code).toBe(0);
    expect(await calls(apt.log)).toEqual([]);
  });
});
