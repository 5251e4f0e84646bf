import { mkdir, mkdtemp, readdir, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * A PATH on which the commands `hidden` are not found and everything else is, as on a machine
 * that lacks those packages (nothing is uninstalled): one directory of links to every command
 * of the current PATH but those, the first of each name winning as on PATH itself.
 */
export async function pathWithout(hidden: readonly string[], path = process.env.PATH ?? ''): Promise<string> {
  const bin = join(await mkdtemp(join(tmpdir(), 'junction-path-')), 'bin');
  await mkdir(bin);
  const linked = new Set(hidden);
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const entries = await readdir(dir).catch(() => []);
    for (const name of entries) {
      if (linked.has(name)) continue;
      linked.add(name);
      await symlink(join(dir, name), join(bin, name));
    }
  }
  return bin;
}
