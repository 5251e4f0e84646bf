import { hostname } from 'node:os';
import { Command, Option } from 'commander';
import { style } from '../internal/output.ts';
import { eventPatterns, gatewayUrl, listenPort } from '../internal/webhooks/args.ts';
import { formatDelivery, formatTally } from '../internal/webhooks/format.ts';
import { type Listener, startListener } from '../internal/webhooks/listen.ts';
import type { ApiAccess } from '../internal/webhooks/subscriptions.ts';
import { fetchToken } from './token.ts';

/** Where `./junction up` runs the gateway. */
export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8080';
/** The client of services/auth/clients.yaml that holds notifications:read and notifications:write. */
const DEFAULT_CLIENT = 'downstream';
/** Tokens are renewed this long before they expire, so no call goes out with one about to lapse. */
const RENEW_BEFORE_S = 60;
const TOKEN_TIMEOUT_S = 10;

/** Flags of `junction webhooks listen`. */
export interface ListenFlags {
  events: string[];
  port: number;
  client: string;
  gateway: string;
  ordered?: boolean;
  stateDir?: string;
  authUrl?: string;
}

/** The flags that reach the same auth server and secrets as `./junction token` would, for messages. */
const tokenFlags = (flags: ListenFlags): string =>
  [
    `--client ${flags.client}`,
    ...(flags.authUrl ? [`--auth-url ${flags.authUrl}`] : []),
    ...(flags.stateDir ? [`--state-dir ${flags.stateDir}`] : []),
  ].join(' ');

/**
 * The gateway's subscriptions API with the client's bearer token, fetched as `./junction token`
 * does and renewed shortly before it expires: a session may outlast a token, and its subscription
 * must still be deleted at the end.
 */
export function gatewayAccess(flags: Pick<ListenFlags, 'gateway' | 'client' | 'authUrl' | 'stateDir'>): ApiAccess {
  let current: { token: string; renewAt: number } | undefined;
  return {
    baseUrl: `${flags.gateway}/v1`,
    caller: `client ${flags.client}`,
    startHint: `start it with ./junction up (or pass --gateway)`,
    headers: async () => {
      if (!current || Date.now() >= current.renewAt) {
        const answer = await fetchToken({
          client: flags.client,
          timeout: TOKEN_TIMEOUT_S,
          ...(flags.authUrl ? { authUrl: flags.authUrl } : {}),
          ...(flags.stateDir ? { stateDir: flags.stateDir } : {}),
        });
        current = { token: answer.token, renewAt: Date.now() + Math.max(0, (answer.expiresIn ?? RENEW_BEFORE_S) - RENEW_BEFORE_S) * 1000 };
      }
      return { authorization: `Bearer ${current.token}` };
    },
  };
}

/** Resolves with the first SIGINT or SIGTERM; a second one while closing quits at once, saying what is left behind. */
function firstSignal(leftBehind: () => string): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const quit = () => {
        process.stderr.write(`${style('red', 'stopped before the subscription was deleted.')} ${leftBehind()}\n`);
        process.exit(130);
      };
      process.once('SIGINT', quit);
      process.once('SIGTERM', quit);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** Receives webhooks locally until Ctrl-C, then deletes the temporary subscription. */
async function listen(flags: ListenFlags): Promise<void> {
  const api = gatewayAccess(flags);
  // The token first: without one there is nothing to subscribe with, and no port to open.
  await api.headers();
  let listener: Listener | undefined;
  const deleteByHand = (id: string) =>
    `Delete subscription ${id} by hand: curl -X DELETE -H "Authorization: Bearer $(./junction token ${tokenFlags(flags)})" ${flags.gateway}/v1/notifications/subscriptions/${id}`;
  // Listened for before subscribing: a Ctrl-C while the subscription is being made still deletes it.
  const stopped = firstSignal(() => (listener ? deleteByHand(listener.subscriptionId) : 'It may not have been made.'));
  listener = await startListener({
    api,
    eventTypes: flags.events,
    ordered: flags.ordered === true,
    port: flags.port,
    description: `junction webhooks listen (pid ${process.pid}, ${hostname()})`,
    onDelivery: (delivery) => {
      process.stdout.write(`${formatDelivery(delivery, style)}\n${delivery.kind === 'event' ? '\n' : ''}`);
    },
  });
  process.stderr.write(
    `${style('green', 'Listening')} on ${style('bold', listener.url)} for ${flags.events.join(', ')}${flags.ordered ? ' (ordered per key)' : ''}\n` +
      `${style('dim', `subscription ${listener.subscriptionId} of client ${flags.client} through ${flags.gateway}; Ctrl-C stops and deletes it`)}\n\n`,
  );
  await stopped;
  process.stderr.write(`${style('dim', `deleting subscription ${listener.subscriptionId}…`)}\n`);
  const outcome = await listener.close();
  process.stderr.write(`${formatTally(outcome.tally)}\n`);
  if (!outcome.deleted) {
    process.stderr.write(
      `${style('red', `the subscription was not deleted: ${outcome.error.message}`)}\n${deleteByHand(listener.subscriptionId)}\n`,
    );
    process.exitCode = 1;
  }
}

const LISTEN_HELP = `
What it does:
  1. gets an access token for --client (as ./junction token does: the secret from the state
     directory's auth/, the token from the auth server);
  2. listens on 127.0.0.1:--port (0: any free port);
  3. subscribes http://127.0.0.1:<port>/ through the gateway (POST /v1/notifications/subscriptions)
     to the --events types; the answer's signing secret stays in memory only;
  4. verifies each delivery's Standard Webhooks signature (webhook-id, webhook-timestamp,
     webhook-signature): 204 and the event printed (time, type, subject, id, data) when it holds,
     401 and a red line when not; a webhook-id seen before is answered 204 and printed "(again)";
  5. on Ctrl-C (or SIGTERM) deletes the subscription, stops, and says how many events came.
     If the delete fails it prints the command that deletes it by hand, and exits 1.

Events print on stdout; the rest goes to stderr.

Examples:
  ./junction webhooks listen
  ./junction webhooks listen --events 'com.junction.orders.*,com.junction.billing.PaymentFailed' --ordered
  ./junction webhooks listen --port 9999 --gateway http://127.0.0.1:8080 --state-dir .junction`;

/** `junction webhooks`: webhook tools for downstream teams. */
export function webhooksCommand(): Command {
  const webhooks = new Command('webhooks')
    .description("receive Junction's webhooks (services/notifications) locally, as a downstream team would")
    .addHelpText(
      'after',
      "\nExample (with ./junction up running, in another terminal):\n  ./junction webhooks listen --events 'com.junction.orders.*'",
    );
  webhooks
    .command('listen')
    .description(
      'a local webhook receiver: subscribes itself for a while through the gateway, verifies and prints each event, deletes the subscription on Ctrl-C',
    )
    .addOption(
      new Option('--events <patterns>', 'event types, comma-separated: com.junction.orders.OrderPlaced, com.junction.orders.* or *')
        .argParser(eventPatterns)
        .default(['*'], '*, every event'),
    )
    .option('--port <n>', 'the port to listen on, on 127.0.0.1 (0: any free one)', listenPort, 0)
    .option(
      '--client <id>',
      'the client whose token subscribes (services/auth/clients.yaml); it needs notifications:read and notifications:write',
      DEFAULT_CLIENT,
    )
    .option('--gateway <url>', 'the API gateway', gatewayUrl, DEFAULT_GATEWAY_URL)
    .option('--ordered', "ask for a key's events in order (a later one waits for the earlier)")
    .option('--state-dir <dir>', "the stack's state directory; the client secrets are in its auth/ (default .junction)")
    .option('--auth-url <url>', 'the auth server (default JUNCTION_AUTH_URL or http://127.0.0.1:8090)')
    .addHelpText('after', LISTEN_HELP)
    .action(listen);
  return webhooks;
}
