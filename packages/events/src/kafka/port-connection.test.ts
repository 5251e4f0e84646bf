import { logLevel } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';

// What a port made from a connection gives kafkajs: the connection's brokers, TLS and SASL, and
// the port's client settings. kafkajs's Kafka is wrapped to record its configuration (nothing
// connects).
const configs: Record<string, unknown>[] = [];
vi.mock('kafkajs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('kafkajs')>();
  class RecordingKafka extends actual.Kafka {
    constructor(config: ConstructorParameters<typeof actual.Kafka>[0]) {
      super(config);
      configs.push(config as unknown as Record<string, unknown>);
    }
  }
  return { ...actual, Kafka: RecordingKafka };
});

const { kafkaPort } = await import('./port.ts');

describe('kafkaPort from a connection', () => {
  it('makes a quiet client of the brokers with the port defaults', () => {
    kafkaPort({ brokers: ['127.0.0.1:9092', '127.0.0.1:9093'] }, { clientId: 'junction-orders' });
    expect(configs.at(-1)).toEqual({
      clientId: 'junction-orders',
      brokers: ['127.0.0.1:9092', '127.0.0.1:9093'],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      requestTimeout: 30_000,
    });
  });

  it('carries TLS, SASL, timeouts and retries as kafkajs names them', () => {
    const port = kafkaPort(
      {
        brokers: ['kafka:9094'],
        ssl: { ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' },
        sasl: { mechanism: 'scram-sha-512', username: 'billing', password: 'p' },
      },
      { clientId: 'c', connectionTimeoutMs: 500, requestTimeoutMs: 4000, retry: { retries: 2, initialMs: 100, maxMs: 500 } },
    );
    expect(port.user).toBe('billing');
    expect(configs.at(-1)).toMatchObject({
      clientId: 'c',
      brokers: ['kafka:9094'],
      ssl: { ca: ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'] },
      sasl: { mechanism: 'scram-sha-512', username: 'billing', password: 'p' },
      connectionTimeout: 500,
      requestTimeout: 4000,
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 },
    });
  });

  it('hands every log entry, down to debug, to onLog when asked', () => {
    const seen: string[] = [];
    kafkaPort({ brokers: ['a:1'] }, { clientId: 'diagnosis', onLog: (entry) => seen.push(entry.message) });
    const config = configs.at(-1) as { logLevel: number; logCreator: () => (entry: { log: { message: string } }) => void };
    expect(config.logLevel).toBe(logLevel.DEBUG);
    config.logCreator()({ log: { message: 'FindCoordinator failed' } });
    expect(seen).toEqual(['FindCoordinator failed']);
  });

  it('makes no client of its own for a kafkajs client it is given', async () => {
    const { Kafka } = await import('kafkajs');
    const client = new Kafka({ brokers: ['a:1'] });
    const made = configs.length;
    kafkaPort(client, { clientId: 'ignored', requestTimeoutMs: 1 });
    expect(configs.length).toBe(made);
  });
});
