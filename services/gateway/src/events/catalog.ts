import type { Catalog, EventContract } from '@junction/events';

/** The service name the gateway publishes as, and is named by in topics.yaml's `writers`. */
export const GATEWAY = 'gateway';

/** The scope that lets a client publish the events of `topic`: `events:<topic>:write`. */
export function writeScope(topic: string): string {
  return `events:${topic}:write`;
}

/**
 * The event types HTTP callers may publish: those on topics that name the gateway among their
 * writers in topics.yaml, the same list Kafka's ACLs grant it. Other types are not found here.
 */
export function publishableEvents(catalog: Catalog): Map<string, EventContract> {
  const topics = new Set(catalog.topics.filter((topic) => topic.writers?.includes(GATEWAY)).map((topic) => topic.name));
  return new Map(catalog.events.filter((event) => topics.has(event.topic)).map((event) => [event.type, event]));
}
