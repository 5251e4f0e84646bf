import { spawn } from 'node:child_process';
import { JunctionError, type JunctionErrorCode } from '@junction/observability';
import { Command, InvalidArgumentError } from 'commander';
import { authStateDir } from '../internal/auth/files.ts';
import { style, table } from '../internal/output.ts';
import { entry } from '../internal/services.ts';

/** Algorithms the auth server signs with (services/auth/src/config.ts owns the list). */
const KEY_ALGORITHMS = ['ES256', 'RS256'] as const;
type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

const algorithm = (value: string): KeyAlgorithm => {
  if (!(KEY_ALGORITHMS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected ${KEY_ALGORITHMS.join(' or ')}`);
  return value as KeyAlgorithm;
};

const PICKUP = 'the running auth server takes it up within a few seconds (or at once on SIGHUP)';
const TIMEOUT_MS = 20_000;
/** The answer is a few hundred bytes per key; anything past this is not the keys command talking. */
const MAX_OUTPUT = 1_000_000;

/** One key as services/auth/src/keys-command.ts prints it: no private key material. */
interface KeyInfo {
  kid: string;
  alg: KeyAlgorithm;
  createdAt: string;
  state: 'next' | 'signing' | 'published' | 'retirable';
  /** When a `next` key starts signing. */
  activatesAt?: string;
  supersededAt?: string;
}

/** What the keys command prints on success. */
interface KeysAnswer {
  file: string;
  keys: KeyInfo[];
  kid?: string;
  retired?: string[];
}

/**
 * Runs services/auth's own key-file code (`keys-command`) as a process, since the CLI may not
 * import a service; its error comes back as a JunctionError with the same code and message.
 */
function runKeysCommand(action: 'list' | 'rotate' | 'retire', stateDir?: string, alg?: KeyAlgorithm): Promise<KeysAnswer> {
  const args = [...entry('auth', 'keys-command'), action, '--state-dir', authStateDir(stateDir), ...(alg ? ['--alg', alg] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const collect = (append: (text: string) => void) => (chunk: Buffer) => {
      if (stdout.length + stderr.length > MAX_OUTPUT) child.kill('SIGKILL');
      else append(chunk.toString());
    };
    child.stdout.on(
      'data',
      collect((text) => {
        stdout += text;
      }),
    );
    child.stderr.on(
      'data',
      collect((text) => {
        stderr += text;
      }),
    );
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new JunctionError('internal', `cannot run the auth keys command (${args.join(' ')}): ${error.message}`, { cause: error }));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new JunctionError('timeout', `the auth keys command did not finish within ${TIMEOUT_MS / 1000} s (${args.join(' ')})`));
        return;
      }
      let answer: (KeysAnswer & { error?: undefined }) | { error: { code: JunctionErrorCode; message: string } };
      try {
        answer = JSON.parse(stdout);
      } catch {
        const output = `${stdout}${stderr}`.trim().split('\n').slice(-8).join('\n');
        reject(
          new JunctionError('internal', `the auth keys command (${args.join(' ')}) exited with code ${code} and no answer:\n${output}`),
        );
        return;
      }
      if (answer.error) reject(new JunctionError(answer.error.code, answer.error.message));
      else resolve(answer);
    });
  });
}

/** Lists the signing keys: kid, algorithm, creation time, state. */
async function keys(flags: { stateDir?: string; json?: boolean }): Promise<void> {
  const { file, keys: listed } = await runKeysCommand('list', flags.stateDir);
  const described = listed.reverse();
  if (flags.json) {
    // The fields `auth keys --json` has always printed, and when a `next` key starts signing.
    console.log(
      JSON.stringify(
        described.map(({ kid, alg, createdAt, state, activatesAt }) => ({
          kid,
          alg,
          createdAt,
          state,
          ...(activatesAt ? { activatesAt } : {}),
        })),
        null,
        2,
      ),
    );
    return;
  }
  const paint = (key: KeyInfo) => {
    if (key.state === 'signing') return style('green', key.state);
    if (key.state === 'retirable') return style('yellow', key.state);
    if (key.state === 'next') return `next (signs from ${key.activatesAt ?? '?'})`;
    return key.state;
  };
  console.log(
    table(
      ['KID', 'ALG', 'CREATED', 'STATE'],
      described.map((k) => [k.kid, k.alg, k.createdAt, paint(k)]),
    ),
  );
  console.log(style('dim', `\n${file}`));
}

/** `junction auth`: the local auth server's signing keys. */
export function authCommand(): Command {
  const auth = new Command('auth').description("the local auth server's signing keys (rotation without restart)");
  auth
    .command('keys')
    .description(
      'list the signing keys: the next one (published, signing after its activation delay), the one that signs, those still published for tokens they signed, those past retiring',
    )
    .option('--state-dir <dir>', "the stack's state directory; keys are in its auth/ (default .junction)")
    .option('--json', 'print JSON (without private key material)')
    .action(keys);
  auth
    .command('rotate-keys')
    .description(
      'add a new key: published at once, signing after the activation delay (keyActivationDelay); older keys stay published until retired',
    )
    .option('--state-dir <dir>', "the stack's state directory; keys are in its auth/ (default .junction)")
    .option('--alg <alg>', `the new key's algorithm, ${KEY_ALGORITHMS.join(' or ')} (default: the current key's)`, algorithm)
    .action(async (flags: { stateDir?: string; alg?: KeyAlgorithm }) => {
      const { keys: after, kid } = await runKeysCommand('rotate', flags.stateDir, flags.alg);
      const key = after.find((k) => k.kid === kid);
      // Published first, so verifiers that cache the JWKS know the key before a token carries its kid.
      const when = key?.state === 'next' ? `signs from ${key.activatesAt ?? '?'}` : 'signs at once';
      console.log(`New key ${style('bold', key?.kid ?? '?')} (${key?.alg ?? '?'}): published now, ${when}; ${PICKUP}.`);
      console.log('Older keys stay published until the tokens they signed expired; then ./junction auth retire-keys removes them.');
    });
  auth
    .command('retire-keys')
    .description('remove keys that signed nothing still valid (superseded longer ago than the token TTL plus clock skew)')
    .option('--state-dir <dir>', "the stack's state directory; keys are in its auth/ (default .junction)")
    .action(async (flags: { stateDir?: string }) => {
      const { retired = [] } = await runKeysCommand('retire', flags.stateDir);
      console.log(retired.length ? `Retired ${retired.join(', ')}; ${PICKUP}.` : 'No key to retire yet.');
    });
  return auth;
}
