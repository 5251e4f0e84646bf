import { Command, InvalidArgumentError } from 'commander';
import { authStateDir } from '../internal/auth/files.ts';
import { KEY_ALGORITHMS, keyFilePath, keyStates, readKeyFile, retireKeys, rotateKeys, type StoredKey } from '../internal/auth/keys.ts';
import { style, table } from '../internal/output.ts';

const algorithm = (value: string): StoredKey['alg'] => {
  if (!(KEY_ALGORITHMS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected ${KEY_ALGORITHMS.join(' or ')}`);
  return value as StoredKey['alg'];
};

const PICKUP = 'the running auth server takes it up within a few seconds (or at once on SIGHUP)';

/** Lists the signing keys: kid, algorithm, creation time, state. */
async function keys(flags: { stateDir?: string; json?: boolean }): Promise<void> {
  const path = keyFilePath(authStateDir(flags.stateDir));
  const described = keyStates(await readKeyFile(path)).reverse();
  if (flags.json) {
    console.log(
      JSON.stringify(
        described.map(({ privateJwk: _private, ...key }) => key),
        null,
        2,
      ),
    );
    return;
  }
  const paint = (state: string) => (state === 'signing' ? style('green', state) : state === 'retirable' ? style('yellow', state) : state);
  console.log(
    table(
      ['KID', 'ALG', 'CREATED', 'STATE'],
      described.map((k) => [k.kid, k.alg, k.createdAt, paint(k.state)]),
    ),
  );
  console.log(style('dim', `\n${path}`));
}

/** `junction auth`: the local auth server's signing keys. */
export function authCommand(): Command {
  const auth = new Command('auth').description("the local auth server's signing keys (rotation without restart)");
  auth
    .command('keys')
    .description('list the signing keys: the one that signs, those still published for tokens they signed, those past retiring')
    .option('--state-dir <dir>', "the stack's state directory; keys are in its auth/ (default .junction)")
    .option('--json', 'print JSON (without private key material)')
    .action(keys);
  auth
    .command('rotate-keys')
    .description('add a new signing key that signs from now on; older keys stay published until retired')
    .option('--state-dir <dir>', "the stack's state directory; keys are in its auth/ (default .junction)")
    .option('--alg <alg>', `the new key's algorithm, ${KEY_ALGORITHMS.join(' or ')} (default: the current key's)`, algorithm)
    .action(async (flags: { stateDir?: string; alg?: StoredKey['alg'] }) => {
      const path = keyFilePath(authStateDir(flags.stateDir));
      const key = await rotateKeys(path, flags.alg);
      console.log(`New signing key ${style('bold', key.kid)} (${key.alg}); ${PICKUP}.`);
      console.log('Older keys stay published until the tokens they signed expired; then ./junction auth retire-keys removes them.');
    });
  auth
    .command('retire-keys')
    .description('remove keys that signed nothing still valid (superseded longer ago than the token TTL plus clock skew)')
    .option('--state-dir <dir>', "the stack's state directory; keys are in its auth/ (default .junction)")
    .action(async (flags: { stateDir?: string }) => {
      const retired = await retireKeys(keyFilePath(authStateDir(flags.stateDir)));
      console.log(retired.length ? `Retired ${retired.join(', ')}; ${PICKUP}.` : 'No key to retire yet.');
    });
  return auth;
}
