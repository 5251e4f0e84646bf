import { createHook } from 'node:async_hooks';
import { stackFromEnv } from '@junction/stack';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';

const { brokers } = stackFromEnv();

/** Timers created in this process while `ms` pass. */
async function timersCreatedIn(ms: number): Promise<number> {
  let created = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'Timeout') created += 1;
    },
  }).enable();
  await new Promise((resolve) => setTimeout(resolve, ms));
  hook.disable();
  return created;
}

// kafkajs 2.2.4 re-armed a 1 ms timer after every look at a connection's queue of waiting
// requests, waiting ones or not: each connection woke its process a thousand times a second,
// idle or busy (about 3 % of a core for each service, idle). patches/kafkajs@2.2.4.patch arms it
// only while requests wait.
describe('kafkajs as patched, against the real broker', () => {
  const kafka = new Kafka({ clientId: 'junction-idle-test', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();

  afterAll(async () => {
    await admin.disconnect();
  });

  it('sets no timer every millisecond for a connection with nothing to send', async () => {
    await admin.connect();
    // Requests done: every connection's queue has been looked at, and is empty.
    expect((await admin.listTopics()).length).toBeGreaterThanOrEqual(0);
    await admin.describeCluster();
    // Unpatched, about 500 in half a second (one per millisecond per connection).
    expect(await timersCreatedIn(500)).toBeLessThan(25);
  });
});
