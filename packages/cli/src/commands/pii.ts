import { existsSync } from 'node:fs';
import { generatePiiKey, piiKeyringFromEnv } from '@junction/events';
import { Command } from 'commander';
import { style, table } from '../internal/output.ts';
import { stateDir } from '../internal/paths.ts';
import { envHasPiiKeys, localPiiKeysPath } from '../internal/pii.ts';

const ROTATION = `Rotation: add the new key to every consumer's keys first, then make it active for publishers
(JUNCTION_PII_ACTIVE_KEY, or "active" in the key file). Keep the old key listed, for reading only, until every
record it wrote has expired from the topics (their retention) or been re-written.`;

function keygen(flags: { kid?: string }): void {
  const { kid, line } = generatePiiKey(flags.kid);
  // Only the key line goes to stdout, so `./junction pii keygen >> keys.txt` captures nothing else.
  console.log(line);
  process.stderr.write(
    `${style('dim', `A new AES-256 key ${kid}. Add it to JUNCTION_PII_KEYS (kid:base64key, comma-separated) or to "keys" in the`)}\n` +
      `${style('dim', 'file JUNCTION_PII_KEYS_FILE names (mode 0600); the last listed key encrypts unless JUNCTION_PII_ACTIVE_KEY says otherwise.')}\n` +
      `${style('dim', 'Keep it secret: store it in your secret manager, never in the repository.')}\n`,
  );
}

function keys(flags: { stateDir?: string }): void {
  const local = localPiiKeysPath(stateDir(flags.stateDir));
  let source: string;
  let env: NodeJS.ProcessEnv = process.env;
  if (envHasPiiKeys())
    source = process.env.JUNCTION_PII_KEYS?.trim() ? 'JUNCTION_PII_KEYS' : `JUNCTION_PII_KEYS_FILE (${process.env.JUNCTION_PII_KEYS_FILE})`;
  else if (existsSync(local)) {
    source = `the local stack's key file ${local}`;
    env = { ...process.env, JUNCTION_PII_KEYS_FILE: local };
  } else {
    console.log('No PII keys are configured: publishing events with personal fields fails until there are.');
    console.log('Make one with `./junction pii keygen` and set JUNCTION_PII_KEYS, or run `./junction up` (it makes a local key file).');
    return;
  }
  const ring = piiKeyringFromEnv(env);
  if (!ring) return;
  console.log(`PII keys from ${source}:`);
  console.log(
    table(
      ['KEY ID', 'USE'],
      ring.keyIds.map((kid) => [kid, kid === ring.activeKeyId ? style('green', 'active: encrypts and decrypts') : 'decrypts only']),
    ),
  );
}

/** `junction pii keygen|keys`: make PII encryption keys and show which are configured (ids only, never the keys). */
export function piiCommand(): Command {
  const command = new Command('pii')
    .description('keys that encrypt personal fields ("junction.pii" in the schemas) before they reach Kafka')
    .addHelpText(
      'after',
      `
Fields marked "junction.pii" are encrypted (AES-256-GCM) by publishers and the outbox, and decrypted by
subscribers that hold the key; the topics never hold them in clear. Keys come from the environment:
  JUNCTION_PII_KEYS         kid:base64key[,kid:base64key…]   (32-byte keys; the last listed encrypts)
  JUNCTION_PII_ACTIVE_KEY   the key id that encrypts, when not the last
  JUNCTION_PII_KEYS_FILE    a JSON or YAML file { active, keys: { kid: base64key } }, mode 0600
Locally, ./junction up makes .junction/secrets/pii-keys.json and uses it when the environment gives none.

${ROTATION}`,
    );
  command
    .command('keygen')
    .description('print a new random key line (kid:base64key) for JUNCTION_PII_KEYS')
    .option('--kid <id>', 'the key id (default k<yyyymmdd>-<4 hex>); letters, digits, . _ -')
    .addHelpText('after', `\nExample: export JUNCTION_PII_KEYS="$JUNCTION_PII_KEYS,$(./junction pii keygen --kid k2)"\n\n${ROTATION}`)
    .action(keygen);
  command
    .command('keys')
    .description('show the configured key ids and which one encrypts (never the keys themselves)')
    .option('--state-dir <dir>', "the local stack's state directory, for its key file (default .junction)")
    .action(keys);
  return command;
}
