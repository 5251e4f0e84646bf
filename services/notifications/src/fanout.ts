import { type Catalog, type EventContext, maskEventPii, type Queryable, type Subscription } from '@junction/service';
import { cloudEventJson } from './delivery/cloudevent.ts';

/** The service whose topics' subscribers lists say which events webhooks may carry. */
export const NOTIFICATIONS = 'notifications';

/** The event types webhooks may carry: those of the topics that list notifications as a subscriber. */
export function webhookEventTypes(catalog: Catalog): string[] {
  const topics = new Set(catalog.topics.filter((t) => t.subscribers.includes(NOTIFICATIONS)).map((t) => t.name));
  return catalog.events.filter((e) => topics.has(e.topic)).map((e) => e.type);
}

/** Subscriptions whose patterns match `$1`, the event's type: exact, `namespace.*`, or `*`. */
const MATCHING = `SELECT subscription_id FROM subscriptions
  WHERE EXISTS (SELECT 1 FROM unnest(event_types) AS p
                 WHERE p = $1 OR p = '*' OR (right(p, 2) = '.*' AND starts_with($1, left(p, -1))))`;

/**
 * Turns every event webhooks may carry into a delivery per matching subscription. Needs no inbox:
 * the event and its deliveries are stored by one statement whose unique keys absorb a
 * redelivery, so an event fans out once however often Kafka hands it over. The event is stored
 * once, as CloudEvents JSON whole and with personal fields masked, and only when a subscription
 * matches it; disabled subscriptions get their deliveries too, sent when enabled again. `wake`
 * tells the dispatcher which subscriptions got deliveries, once they are stored.
 */
export function fanOutSubscription(db: Queryable, catalog: Catalog, wake: (subscriptions: string[]) => void): Subscription {
  const fanOut = async (ctx: EventContext) => {
    const event = ctx.event;
    if (!event) return;
    const { rows } = await db.query(MATCHING, [event.type]);
    if (rows.length === 0) return;
    const contract = catalog.events.find((e) => e.type === event.type);
    const reader = contract?.versions.at(-1)?.schema;
    const body = cloudEventJson(ctx.record, event, event.data);
    const masked = reader ? cloudEventJson(ctx.record, event, maskEventPii(reader, event.data)) : body;
    const key = ctx.record.key ?? event.id;
    const { rows: stored } = await db.query(
      `WITH stored AS (
         INSERT INTO webhook_events (event_id, event_type, key, body, masked_body) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (event_id) DO NOTHING)
       INSERT INTO deliveries (delivery_id, subscription_id, event_id, key)
       SELECT gen_random_uuid(), s.subscription_id, $1, $3 FROM (${MATCHING.replaceAll('$1', '$2')}) s
       ON CONFLICT (subscription_id, event_id) DO NOTHING
       RETURNING subscription_id`,
      [event.id, event.type, key, body, masked],
    );
    wake((stored as Array<{ subscription_id: string }>).map((r) => r.subscription_id));
  };
  return {
    handlers: Object.fromEntries(webhookEventTypes(catalog).map((type) => [type, fanOut])),
    inbox: false,
    concurrency: 8,
  };
}
