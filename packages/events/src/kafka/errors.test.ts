import { Kafka, KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSRequestTimeoutError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { brokerDenied, groupDenied, kafkaError, kafkaFailureReason } from './errors.ts';

// kafkajs's own error classes, wrapped as its retrier wraps them (the last failure in `cause`).
// (Its typings omit the second argument, which the class reads.)
const RetriesExceeded = KafkaJSNumberOfRetriesExceeded as unknown as new (error: Error, options: object) => Error;
const exhausted = (error: Error) => new RetriesExceeded(error, { retryCount: 5, retryTime: 800, cause: error });
const protocol = (type: string, message: string) => new KafkaJSProtocolError({ type, message, code: 0, retriable: true } as never);

describe('kafkaError', () => {
  it('classifies by the failure inside the retries, not by the wrapper', () => {
    expect(kafkaError(exhausted(new KafkaJSRequestTimeoutError('Request Produce timed out', {} as never)), 'sending', {})).toMatchObject({
      code: 'timeout',
      retriable: true,
    });
    expect(kafkaError(exhausted(protocol('MESSAGE_TOO_LARGE', 'too large')), 'sending', {})).toMatchObject({
      code: 'event.invalid',
      retriable: false,
    });
    expect(kafkaError(exhausted(protocol('UNKNOWN_TOPIC_OR_PARTITION', 'no topic')), 'sending', { topic: 'orders.order' })).toMatchObject({
      code: 'topic.unknown',
      message: expect.stringContaining('topic orders.order does not exist'),
    });
    expect(kafkaError(exhausted(new KafkaJSConnectionError('Connection closed')), 'sending', {})).toMatchObject({
      code: 'broker.unavailable',
      retriable: true,
    });
  });

  it('names the innermost failure for messages', () => {
    expect(kafkaFailureReason(exhausted(protocol('NOT_ENOUGH_REPLICAS', 'fewer in-sync replicas than required')))).toBe(
      'NOT_ENOUGH_REPLICAS: fewer in-sync replicas than required',
    );
    expect(kafkaFailureReason(exhausted(new KafkaJSConnectionError('Connection closed')))).toBe(
      'KafkaJSConnectionError: Connection closed',
    );
  });
});

describe('brokerDenied', () => {
  const protocolError = (type: string) => Object.assign(new Error(`Not authorized (${type})`), { name: 'KafkaJSProtocolError', type });

  it('maps a topic authorization failure inside kafkajs retries to a non-retriable broker.denied naming user, topic and the fix', () => {
    const wrapped = Object.assign(new Error('retries exceeded'), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      originalError: protocolError('TOPIC_AUTHORIZATION_FAILED'),
    });
    const denied = brokerDenied(wrapped, 'publishing', { user: 'inventory', topics: ['orders.order'] });
    expect(denied?.code).toBe('broker.denied');
    expect(denied?.retriable).toBe(false);
    expect(denied?.message).toContain('user inventory');
    expect(denied?.message).toContain('topic orders.order');
    expect(denied?.message).toContain('schemas/topics.yaml (owner/writers/subscribers)');
  });

  it('names the group for a group authorization failure and the credentials for a SASL failure', () => {
    expect(brokerDenied(protocolError('GROUP_AUTHORIZATION_FAILED'), 'joining', { user: 'billing', group: 'billing' })?.message).toContain(
      'consumer group billing',
    );
    const sasl = Object.assign(new Error('SASL SCRAM SHA512 authentication failed: bad'), { name: 'KafkaJSSASLAuthenticationError' });
    const denied = brokerDenied({ name: 'KafkaJSNonRetriableError', originalError: sasl }, 'connecting', { user: 'orders' });
    expect(denied?.code).toBe('broker.denied');
    expect(denied?.message).toContain('refused the credentials of user orders');
  });

  it("does not read kafkajs's missing group coordinator as a denial unless the brokers confirm it: unconfirmed, it is retriable", async () => {
    const notFound = Object.assign(new Error('Failed to find group coordinator'), { name: 'KafkaJSGroupCoordinatorNotFound' });
    const crashed = { name: 'KafkaJSNumberOfRetriesExceeded', originalError: notFound };
    const context = { user: 'inventory', group: 'inventory' };
    expect(brokerDenied(notFound, 'joining', context)).toBeUndefined();
    // Nobody answers here: a new cluster still making __consumer_offsets, or a failover, looks the same.
    const unreachable = { brokers: ['127.0.0.1:1'], sasl: { mechanism: 'scram-sha-512' as const, username: 'inventory', password: 'p' } };
    const started = Date.now();
    const unavailable = await groupDenied(crashed, 'joining', context, unreachable, 500);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(unavailable?.code).toBe('broker.unavailable');
    expect(unavailable?.retriable).toBe(true);
    expect(unavailable?.message).toContain('no broker named a coordinator for consumer group inventory');
    // A kafkajs client of the caller's own cannot be asked in its user's name.
    expect((await groupDenied(notFound, 'joining', context, new Kafka({ brokers: ['127.0.0.1:1'] })))?.code).toBe('broker.unavailable');
    // Denials kafkajs does report need no question.
    const denied = await groupDenied(protocolError('GROUP_AUTHORIZATION_FAILED'), 'joining', context, unreachable, 500);
    expect(denied?.code).toBe('broker.denied');
    expect(await groupDenied(new Error('ECONNREFUSED'), 'joining', context, unreachable, 500)).toBeUndefined();
  });

  it('leaves other failures alone', () => {
    expect(brokerDenied(protocolError('NOT_LEADER_FOR_PARTITION'), 'x', {})).toBeUndefined();
    expect(brokerDenied(new Error('ECONNREFUSED'), 'x', {})).toBeUndefined();
  });
});
