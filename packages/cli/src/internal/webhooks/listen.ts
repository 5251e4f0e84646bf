import { type Delivery, type Receiver, startReceiver, type Tally } from './receiver.ts';
import { type ApiAccess, createSubscription, deleteSubscription } from './subscriptions.ts';

/** What {@link startListener} needs. */
export interface ListenOptions {
  /** The subscriptions API and who calls it: the gateway with a bearer token, for the CLI. */
  api: ApiAccess;
  /** Event type patterns: `com.junction.orders.OrderPlaced`, `com.junction.orders.*` or `*`. */
  eventTypes: string[];
  /** Whether a key's later events wait for its earlier ones. */
  ordered: boolean;
  /** Where the receiver listens; port 0 takes any free one. */
  host?: string;
  port: number;
  /** The subscription's description, so someone listing subscriptions knows what made it. */
  description: string;
  /** Told of each request the receiver answered: an event, a repeat, a refused signature. */
  onDelivery: (delivery: Delivery) => void;
  /** Deadline of the create call; the delete at close has {@link DELETE_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/** How closing went: the subscription deleted, or why not (the receiver is closed either way). */
export type CloseOutcome = { deleted: true; tally: Tally } | { deleted: false; error: Error; tally: Tally };

/** A running listener: a receiver and the temporary subscription that feeds it. */
export interface Listener {
  /** The receiver's URL, as subscribed. */
  readonly url: string;
  readonly subscriptionId: string;
  /** What has come so far. */
  received(): Tally;
  /** Deletes the subscription, then stops the receiver; once, however often it is called. */
  close(): Promise<CloseOutcome>;
}

/** The delete at close: long enough for a busy gateway, short enough that Ctrl-C feels prompt. */
export const DELETE_TIMEOUT_MS = 5000;
const CREATE_TIMEOUT_MS = 10_000;

/**
 * Starts a receiver, then subscribes it, in that order: the service may deliver as soon as the
 * subscription exists, and an address nobody listens on would cost the first events a retry.
 */
export async function startListener(options: ListenOptions): Promise<Listener> {
  const receiver: Receiver = await startReceiver({ host: options.host ?? '127.0.0.1', port: options.port, onDelivery: options.onDelivery });
  let subscription: { id: string; secret: string };
  try {
    subscription = await createSubscription(
      options.api,
      { url: receiver.url, eventTypes: options.eventTypes, description: options.description, ordered: options.ordered },
      options.timeoutMs ?? CREATE_TIMEOUT_MS,
    );
  } catch (error) {
    await receiver.close();
    throw error;
  }
  receiver.setSecret(subscription.secret);

  let closing: Promise<CloseOutcome> | undefined;
  const close = async (): Promise<CloseOutcome> => {
    // Deleted first, so the service stops sending before nobody answers.
    let error: Error | undefined;
    try {
      await deleteSubscription(options.api, subscription.id, DELETE_TIMEOUT_MS);
    } catch (cause) {
      error = cause as Error;
    }
    await receiver.close();
    const tally = receiver.tally();
    return error ? { deleted: false, error, tally } : { deleted: true, tally };
  };

  return {
    url: receiver.url,
    subscriptionId: subscription.id,
    received: () => receiver.tally(),
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}
