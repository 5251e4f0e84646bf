import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A package of the machine's own that Junction needs (see system-packages.txt). */
export interface SystemPackage {
  /** Its Debian (and Ubuntu) name. */
  name: string;
  /** What provides it: commands, absolute paths, `java>=N`; any one is enough. */
  provides: string[];
  /** What Junction needs it for, in a few words. */
  why: string;
}

/**
 * The list the ./junction wrapper installs from and .ci/run goes through: one file, so the
 * wrapper, CI and the hints of this package cannot name different packages.
 */
export const SYSTEM_PACKAGES_FILE = fileURLToPath(new URL('../../system-packages.txt', import.meta.url));

let cached: SystemPackage[] | undefined;

/** Parses the list: `package provides why…` a line, `#` comments and blank lines skipped. */
export function parseSystemPackages(text: string): SystemPackage[] {
  return text.split('\n').flatMap((line) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return [];
    const [name, provides, ...why] = trimmed.split(/\s+/);
    if (!name || !provides) throw new Error(`${SYSTEM_PACKAGES_FILE}: a line needs a package and what provides it: "${trimmed}"`);
    return [{ name, provides: provides.split('|'), why: why.join(' ') }];
  });
}

/** Every package of the list. */
export function systemPackages(): SystemPackage[] {
  cached ??= parseSystemPackages(readFileSync(SYSTEM_PACKAGES_FILE, 'utf8'));
  return cached;
}

/** The package of the list that provides `command` (a name or an absolute path, as listed). */
export function packageProviding(command: string): SystemPackage {
  const found = systemPackages().find((pkg) => pkg.provides.includes(command));
  if (!found) throw new Error(`${SYSTEM_PACKAGES_FILE} lists no package that provides ${command}`);
  return found;
}

/** The one command that installs `packages` here: as root `apt-get install -y …`, else through sudo. */
export function installCommand(packages: string[], uid = process.getuid?.()): string {
  return `${uid === 0 ? '' : 'sudo '}apt-get install -y ${packages.join(' ')}`;
}
