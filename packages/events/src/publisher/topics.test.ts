import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSRequestTimeoutError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaError, kafkaFailureReason } from './topics.ts';

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
