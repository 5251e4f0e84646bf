import {
  cloudEventHeaders,
  createAvroCodec,
  createTopicsReady,
  headersToStrings,
  type KafkaConnection,
  kafkaPort,
  subjectName,
  uuidv7,
} from '@junction/events';

/** The demo's topic: one aggregate, `demo.greeting`, keyed by greeting id. */
export const DEMO_TOPIC = 'demo.greeting';

/** The demo event's contract. */
export const GREETING_SCHEMA = {
  type: 'record',
  name: 'Greeting',
  namespace: 'com.junction.demo',
  doc: 'A greeting sent by `junction up` to prove the stack end to end.',
  fields: [
    { name: 'greetingId', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'message', type: 'string' },
    { name: 'sentAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
} as const;

/** The demo event as it came back from Kafka. */
export interface DemoResult {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  subject: string;
  schemaId: number;
  headers: Record<string, string>;
  value: unknown;
}

const CONSUME_TIMEOUT_MS = 30_000;

/**
 * Creates the demo topic, registers the Greeting schema, publishes one keyed Avro event with
 * CloudEvents headers (idempotent producer, acks=all) and consumes that very record back.
 */
export async function runDemo(connection: KafkaConnection, registryUrl: string): Promise<DemoResult> {
  const kafka = kafkaPort(connection, {
    clientId: 'junction-up',
    connectionTimeoutMs: 3000,
    requestTimeoutMs: 10_000,
    retry: { retries: 5, initialMs: 200 },
  });
  const codec = createAvroCodec({ registryUrl });
  const admin = kafka.admin();
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: 'junction.up-demo', sessionTimeoutMs: 10_000 });
  try {
    await admin.connect();
    // Created by the first run; later runs find it.
    if (!(await admin.listTopics()).includes(DEMO_TOPIC)) await createTopicsReady(admin, [{ topic: DEMO_TOPIC, numPartitions: 3 }]);

    const subject = subjectName(DEMO_TOPIC, `${GREETING_SCHEMA.namespace}.${GREETING_SCHEMA.name}`);
    const schemaId = await codec.register(subject, GREETING_SCHEMA);
    const greetingId = uuidv7();
    const value = await codec.encode(schemaId, { greetingId, message: 'Hello from Junction', sentAt: new Date() });
    const headers = cloudEventHeaders({ type: 'com.junction.demo.Greeting.v1', source: '/junction/cli', subject: greetingId });

    await producer.connect();
    const [sent] = await producer.send({ topic: DEMO_TOPIC, acks: -1, timeout: 10_000, messages: [{ key: greetingId, value, headers }] });
    if (!sent) throw new Error(`Kafka acknowledged nothing for ${DEMO_TOPIC}`);

    await consumer.connect();
    await consumer.subscribe({ topics: [DEMO_TOPIC] });
    const received = Promise.withResolvers<DemoResult>();
    // Seeking needs the group joined. On a fresh broker the first group waits for Kafka to make
    // its offsets topic, and kafkajs retries the join in the background after run() returns.
    const joined = new Promise<void>((resolve) => {
      const stop = consumer.on(consumer.events.GROUP_JOIN, () => {
        stop();
        resolve();
      });
    });
    const timer = setTimeout(
      () => received.reject(new Error(`the demo event did not come back within ${CONSUME_TIMEOUT_MS / 1000} s`)),
      CONSUME_TIMEOUT_MS,
    );
    try {
      await consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          const got = headersToStrings(message.headers);
          if (got.ce_id !== headers.ce_id || !message.value) return;
          const decoded = await codec.decode(message.value, GREETING_SCHEMA);
          received.resolve({
            topic,
            partition,
            offset: message.offset,
            key: message.key?.toString() ?? '',
            subject,
            schemaId: decoded.schemaId,
            headers: got,
            value: decoded.value,
          });
        },
      });
      await Promise.race([joined, received.promise]);
      // Straight to the record just sent, whatever the group committed before.
      consumer.seek({ topic: DEMO_TOPIC, partition: sent.partition, offset: sent.baseOffset ?? '0' });
      return await received.promise;
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
  }
}
