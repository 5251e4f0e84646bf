import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StackError } from './errors.ts';
import { schemathesisCommand } from './schemathesis.ts';
import { SCHEMATHESIS_VERSION } from './versions.ts';

const scratch: string[] = [];
afterEach(async () => {
  for (const dir of scratch.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A python3 whose venv works and whose pip cannot reach the index, as on a machine without network. */
async function offlinePython(): Promise<string> {
  const bin = await mkdtemp(join(tmpdir(), 'junction-python-'));
  scratch.push(bin);
  const python = join(bin, 'python3');
  await writeFile(
    python,
    `#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin"
  printf '#!/bin/sh\\necho "ERROR: Could not find a version that satisfies the requirement schemathesis==${SCHEMATHESIS_VERSION}" >&2\\nexit 1\\n' > "$3/bin/python"
  chmod +x "$3/bin/python"
  exit 0
fi
exit 2
`,
  );
  await chmod(python, 0o755);
  return bin;
}

describe('schemathesisCommand', () => {
  it("says plainly that PyPI could not be reached, with pip's reason, and leaves no install marked complete", async () => {
    const bin = await offlinePython();
    const cacheDir = await mkdtemp(join(tmpdir(), 'junction-cache-'));
    scratch.push(cacheDir);
    const progress: string[] = [];
    const attempt = schemathesisCommand({ cacheDir, env: { PATH: `${bin}:/usr/bin:/bin` }, progress: (line) => progress.push(line) });
    await expect(attempt).rejects.toBeInstanceOf(StackError);
    await expect(attempt).rejects.toMatchObject({
      code: 'download-failed',
      message: expect.stringMatching(/install of schemathesis .* from PyPI failed: ERROR: Could not find a version/),
      hint: expect.stringContaining('PyPI'),
    });
    expect(progress).toEqual([expect.stringContaining(`installing schemathesis ${SCHEMATHESIS_VERSION} from PyPI`)]);
    // Tried again, it installs again rather than trusting a half-made environment.
    const again: string[] = [];
    await expect(
      schemathesisCommand({ cacheDir, env: { PATH: `${bin}:/usr/bin:/bin` }, progress: (line) => again.push(line) }),
    ).rejects.toMatchObject({ code: 'download-failed' });
    expect(again).toHaveLength(1);
  });

  it('says python3 is missing when it is', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'junction-cache-'));
    scratch.push(cacheDir);
    await expect(schemathesisCommand({ cacheDir, env: { PATH: cacheDir } })).rejects.toMatchObject({
      code: 'download-failed',
      message: expect.stringContaining('python3 is missing'),
    });
  });
});
