import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { JunctionError } from '@junction/observability';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from './config.ts';
import { describeKeys, type KeyFile, keyFilePath, readKeyFile, retireKeyFile, rotateKeyFile } from './keys.ts';

/**
 * `keys-command.ts <list|rotate|retire> --state-dir <dir> [--alg ES256|RS256]`: the signing-key
 * file edited by this service's own code, for `./junction auth`, which may not import a service
 * and runs this as a process instead. Prints one JSON document on stdout: `{ file, keys }` (plus
 * `kid` of a new key, or `retired` kids) with no private key material; a `next` key carries
 * `activatesAt`, when it starts signing; on failure
 * `{ error: { code, message } }` and exit code 1.
 */

const USAGE = 'usage: keys-command <list|rotate|retire> --state-dir <dir> [--alg ES256|RS256]';
const ACTIONS = ['list', 'rotate', 'retire'] as const;

/** The public facts of each key; the private JWK never leaves the file. */
function publicKeys(file: KeyFile) {
  return describeKeys(file).map(({ kid, alg, createdAt, state, activatesAt, supersededAt }) => ({
    kid,
    alg,
    createdAt,
    state,
    ...(activatesAt ? { activatesAt } : {}),
    ...(supersededAt ? { supersededAt } : {}),
  }));
}

/** The key file, or an error saying how it comes to exist. */
async function existingFile(path: string): Promise<KeyFile> {
  const file = await readKeyFile(path);
  if (file) return file;
  throw new JunctionError(
    'config.invalid',
    `no signing keys at ${path}: the auth server makes them on its first start → run ./junction up (or point --state-dir at the stack it runs in)`,
  );
}

/** The action and its flags; every problem reported together. */
function parseArguments(argv: string[]): { action: (typeof ACTIONS)[number]; stateDir: string; alg?: SigningAlgorithm } {
  let parsed: { values: { 'state-dir'?: string; alg?: string }; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: { 'state-dir': { type: 'string' }, alg: { type: 'string' } }, allowPositionals: true });
  } catch (error) {
    throw new JunctionError('request.invalid', `${(error as Error).message}; ${USAGE}`);
  }
  const [action, ...extra] = parsed.positionals;
  const { 'state-dir': stateDir, alg } = parsed.values;
  const problems: string[] = [];
  const known = ACTIONS.find((name) => name === action);
  if (!known || extra.length > 0) problems.push(`expected one action of ${ACTIONS.join(', ')}`);
  if (!stateDir) problems.push('--state-dir <dir> is required');
  const algorithm = SIGNING_ALGORITHMS.find((name) => name === alg);
  if (alg !== undefined && !algorithm) problems.push(`--alg: expected ${SIGNING_ALGORITHMS.join(' or ')}`);
  if (alg !== undefined && known !== 'rotate') problems.push('--alg applies to rotate only');
  if (problems.length > 0 || !known || !stateDir) throw new JunctionError('request.invalid', `${problems.join('; ')}; ${USAGE}`);
  return { action: known, stateDir, ...(algorithm ? { alg: algorithm } : {}) };
}

/** Runs the action; returns the document to print. */
async function main(argv: string[]): Promise<Record<string, unknown>> {
  const { action, stateDir, alg } = parseArguments(argv);
  const path = keyFilePath(resolve(stateDir));
  const current = await existingFile(path);
  if (action === 'rotate') {
    const file = await rotateKeyFile(path, alg ? { alg } : {});
    return { file: path, kid: file.keys.at(-1)?.kid, keys: publicKeys(file) };
  }
  if (action === 'retire') {
    const retired = await retireKeyFile(path);
    return { file: path, retired, keys: publicKeys(await existingFile(path)) };
  }
  return { file: path, keys: publicKeys(current) };
}

try {
  process.stdout.write(`${JSON.stringify(await main(process.argv.slice(2)))}\n`);
} catch (error) {
  const failure = JunctionError.from(error, 'internal');
  process.stdout.write(`${JSON.stringify({ error: { code: failure.code, message: failure.message } })}\n`);
  process.exitCode = 1;
}
