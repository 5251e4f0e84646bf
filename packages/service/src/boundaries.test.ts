import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SERVICES = fileURLToPath(new URL('../../../services', import.meta.url));
/** The domain services: their folders hold business logic, the kit does the plumbing. */
const DOMAIN = ['orders', 'inventory', 'billing', 'notifications'];
/** What only the platform's packages may use. */
const PLATFORM_ONLY = ['kafkajs', 'express', 'prom-client'];

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name));
}

describe('domain services stay on the kit', () => {
  it('import neither kafkajs, express nor prom-client, in code or as a dependency', async () => {
    const present = DOMAIN.filter((name) => existsSync(join(SERVICES, name, 'package.json')));
    expect(present).toContain('orders');
    const offences: string[] = [];
    for (const name of present) {
      const manifest = JSON.parse(await readFile(join(SERVICES, name, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
      for (const dep of PLATFORM_ONLY) {
        if (manifest.dependencies?.[dep] || manifest.devDependencies?.[dep])
          offences.push(`services/${name}/package.json depends on ${dep}`);
      }
      for (const file of await sources(join(SERVICES, name, 'src'))) {
        const text = await readFile(file, 'utf8');
        for (const dep of PLATFORM_ONLY) {
          if (new RegExp(`from '${dep}(/[^']*)?'|import\\('${dep}`).test(text))
            offences.push(`${file.slice(SERVICES.length + 1)} imports ${dep}`);
        }
      }
    }
    expect(offences).toEqual([]);
  });
});
