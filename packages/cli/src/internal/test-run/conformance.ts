/**
 * The transport's conformance set (issue 15): what Junction's guarantees ask of the Kafka client
 * behind its port, each property with the tests that show it against the real stack. A client
 * (or a new version of the patched one) goes in only when `./junction test --conformance` passes.
 * Paths are from the repository's root.
 */
export const CONFORMANCE: readonly { property: string; files: readonly string[] }[] = [
  {
    property:
      "a partition leader of a 3-broker cluster killed with SIGKILL under load, through Junction's publisher: no acknowledged event lost, none written twice, every key in order; a publish Kafka keeps refusing fails as outcome-unknown naming its events",
    files: ['packages/events/src/publisher/failover.int.test.ts'],
  },
  {
    property:
      'publisher backpressure: at most maxInFlightBytes held, the rest refused and recovered; nothing queued behind a failed request is sent',
    files: ['packages/events/src/publisher/backpressure.int.test.ts'],
  },
  {
    property:
      'retry topics with their delays, dead letters with their story, per-key order in key mode, pause while the breaker is open, commits on stop',
    files: ['packages/events/src/subscriber/subscriber.int.test.ts'],
  },
  {
    property: 'subscriber pause and resume: in-flight bound, memory flat before a backlog, a handler longer than the session timeout',
    files: ['packages/events/src/subscriber/backpressure.int.test.ts'],
  },
  {
    property: 'safe commits across rebalances: a member killed mid-handler or leaving mid-stream, every event done exactly once',
    files: ['packages/events/src/subscriber/exactly-once.int.test.ts'],
  },
  {
    property:
      "every compression Kafka has (gzip, snappy, lz4, zstd) read from batches Kafka's Java producer wrote; gzip and zstd written so that Kafka's Java consumer reads them",
    files: ['packages/events/src/kafka/compression.int.test.ts'],
  },
];

/** The files of the conformance set, for the test runner's filters. */
export const conformanceFiles = (): string[] => CONFORMANCE.flatMap((entry) => entry.files);
