/** The suffix of every dead-letter topic, `<group>.<topic>.dlq` (see `deadLetterTopic` in @junction/events). */
export const DLQ_SUFFIX = '.dlq';

/** Where a dead-letter topic's records came from, read off its name. */
export interface DlqTopicName {
  /** The consumer group that gave up on the records. */
  group: string;
  /** The topic the group consumed them from. */
  topic: string;
}

/** True for `<group>.<topic>.dlq`: a group, at least one dot, a topic and the suffix. */
export function isDlqTopic(name: string): boolean {
  return parseDlqTopic(name) !== undefined;
}

/**
 * Splits `<group>.<topic>.dlq` into group and topic. Topic names hold dots (`orders.order`) and
 * group names may too, so the name alone is ambiguous: the split that names a topic in `known`
 * wins, and without one the group ends at the first dot (the ACL prefix `<group>.` is meant to
 * name one group, so groups rarely have dots).
 */
export function parseDlqTopic(name: string, known: ReadonlySet<string> = new Set()): DlqTopicName | undefined {
  if (!name.endsWith(DLQ_SUFFIX)) return undefined;
  const middle = name.slice(0, -DLQ_SUFFIX.length);
  const splits: DlqTopicName[] = [];
  for (let dot = middle.indexOf('.'); dot > 0 && dot < middle.length - 1; dot = middle.indexOf('.', dot + 1)) {
    splits.push({ group: middle.slice(0, dot), topic: middle.slice(dot + 1) });
  }
  return splits.find((split) => known.has(split.topic)) ?? splits[0];
}
