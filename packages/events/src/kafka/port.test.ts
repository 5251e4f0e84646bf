import { Kafka } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import { isKafkaPort, kafkaPort, kafkaUser } from './port.ts';

// The port's settings are what Junction's guarantees rest on: every producer idempotent and
// never creating topics, every consumer heartbeating well within its session. Checked here on a
// kafkajs client that is never connected.
function spied() {
  const kafka = new Kafka({ brokers: ['127.0.0.1:1'] });
  const producer = vi.spyOn(kafka, 'producer');
  const consumer = vi.spyOn(kafka, 'consumer');
  const admin = vi.spyOn(kafka, 'admin');
  return { port: kafkaPort(kafka, { clientId: 'x' }), producer, consumer, admin };
}

describe('kafkaPort', () => {
  it('makes idempotent producers with one request in flight that never create topics', () => {
    const { port, producer } = spied();
    port.producer();
    expect(producer).toHaveBeenLastCalledWith({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    port.producer({ retry: { retries: 300, initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0.2 } });
    expect(producer).toHaveBeenLastCalledWith({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: 300, initialRetryTime: 100, maxRetryTime: 1000, multiplier: 2, factor: 0.2 },
    });
  });

  it('makes consumers that heartbeat every tenth of the session and never fetch-wait past a quarter of it', () => {
    const { port, consumer } = spied();
    port.consumer({ groupId: 'g' });
    expect(consumer).toHaveBeenLastCalledWith({
      groupId: 'g',
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
      maxWaitTimeInMs: 1000,
    });
    port.consumer({ groupId: 'g', sessionTimeoutMs: 2000 });
    expect(consumer).toHaveBeenLastCalledWith(
      expect.objectContaining({ sessionTimeout: 2000, heartbeatInterval: 500, maxWaitTimeInMs: 500 }),
    );
    port.consumer({ groupId: 'g', maxWaitMs: 250, retry: { retries: 8, initialMs: 300 } });
    expect(consumer).toHaveBeenLastCalledWith(
      expect.objectContaining({ maxWaitTimeInMs: 250, retry: { retries: 8, initialRetryTime: 300 } }),
    );
  });

  it('passes admin retries through, named as kafkajs names them', () => {
    const { port, admin } = spied();
    port.admin();
    expect(admin).toHaveBeenLastCalledWith({});
    port.admin({ retry: { retries: 0 } });
    expect(admin).toHaveBeenLastCalledWith({ retry: { retries: 0 } });
  });

  it('gives a kafkajs client that is not of this copy of kafkajs the same settings, never passing it off as a port', () => {
    // As a client made with another copy of kafkajs would be: not `instanceof` ours.
    const foreign = { producer: vi.fn(), consumer: vi.fn(), admin: vi.fn() } as unknown as Kafka;
    const port = kafkaPort(foreign, { clientId: 'x' });
    expect(isKafkaPort(foreign)).toBe(false);
    expect(isKafkaPort(port)).toBe(true);
    port.producer();
    expect(foreign.producer).toHaveBeenLastCalledWith({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    expect(port.user).toBeUndefined();
  });

  it('keeps a port it is given, and names the user of a connection', () => {
    const { port } = spied();
    expect(kafkaPort(port, { clientId: 'y' })).toBe(port);
    const connection = { brokers: ['a:1'], sasl: { mechanism: 'scram-sha-512' as const, username: 'billing', password: 'p' } };
    const made = kafkaPort(connection, { clientId: 'y' });
    expect(made.user).toBe('billing');
    expect(kafkaUser(made)).toBe('billing');
    expect(kafkaUser(connection)).toBe('billing');
    expect(kafkaUser(new Kafka({ brokers: ['a:1'] }))).toBeUndefined();
  });
});
