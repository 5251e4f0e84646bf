import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JunctionError } from '@junction/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaConnectionFromEnv, kafkaSecurityConfig } from './kafka-connection.ts';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'junction-kafka-env-'));
  await writeFile(join(dir, 'ca.pem'), CA);
  await writeFile(join(dir, 'orders.password'), 's3cret-from-file\n');
  await writeFile(join(dir, 'empty.password'), '\n');
  await writeFile(join(dir, 'not-a-cert.pem'), 'hello');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
  try {
    kafkaConnectionFromEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(JunctionError);
    expect((error as JunctionError).code).toBe('config.invalid');
    return (error as JunctionError).context.problems as string[];
  }
  throw new Error('expected the environment to be refused');
};

describe('kafkaConnectionFromEnv', () => {
  it('reads plaintext brokers alone', () => {
    expect(kafkaConnectionFromEnv({ JUNCTION_KAFKA_BROKERS: ' 127.0.0.1:9092, 127.0.0.1:9094 ' })).toEqual({
      brokers: ['127.0.0.1:9092', '127.0.0.1:9094'],
    });
  });

  it('reads SCRAM credentials with the password from a file, and the CA', () => {
    const connection = kafkaConnectionFromEnv({
      JUNCTION_KAFKA_BROKERS: '127.0.0.1:9092',
      JUNCTION_KAFKA_SASL_USERNAME: 'orders',
      JUNCTION_KAFKA_SASL_PASSWORD_FILE: join(dir, 'orders.password'),
      JUNCTION_KAFKA_CA_FILE: join(dir, 'ca.pem'),
    });
    expect(connection).toEqual({
      brokers: ['127.0.0.1:9092'],
      ssl: { ca: CA },
      sasl: { mechanism: 'scram-sha-512', username: 'orders', password: 's3cret-from-file' },
    });
    expect(kafkaSecurityConfig(connection)).toEqual({
      ssl: { ca: [CA] },
      sasl: { mechanism: 'scram-sha-512', username: 'orders', password: 's3cret-from-file' },
    });
  });

  it('turns TLS on with SASL even without a CA file (the system CAs)', () => {
    const connection = kafkaConnectionFromEnv({
      JUNCTION_KAFKA_BROKERS: 'kafka.example.com:9093',
      JUNCTION_KAFKA_SASL_USERNAME: 'orders',
      JUNCTION_KAFKA_SASL_PASSWORD: 'inline',
    });
    expect(connection.ssl).toEqual({});
    expect(kafkaSecurityConfig(connection).ssl).toBe(true);
    expect(kafkaSecurityConfig({ brokers: ['a:1'] })).toEqual({});
    expect(kafkaSecurityConfig({ brokers: ['a:1'], ssl: { ca: CA } })).toEqual({ ssl: { ca: [CA] } });
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({
      JUNCTION_KAFKA_BROKERS: '127.0.0.1,nohost:',
      JUNCTION_KAFKA_SASL_USERNAME: 'orders',
      JUNCTION_KAFKA_SASL_PASSWORD: 'inline',
      JUNCTION_KAFKA_SASL_PASSWORD_FILE: join(dir, 'missing.password'),
      JUNCTION_KAFKA_CA_FILE: join(dir, 'not-a-cert.pem'),
    });
    expect(problems.some((p) => p.startsWith('JUNCTION_KAFKA_BROKERS') && p.includes('host:port'))).toBe(true);
    expect(problems.some((p) => p.startsWith('JUNCTION_KAFKA_SASL_PASSWORD_FILE') && p.includes('not both'))).toBe(true);
    expect(problems.some((p) => p.startsWith('JUNCTION_KAFKA_SASL_PASSWORD_FILE') && p.includes('ENOENT'))).toBe(true);
    expect(problems.some((p) => p.startsWith('JUNCTION_KAFKA_CA_FILE') && p.includes('no PEM certificate'))).toBe(true);
    // Both bad brokers, each by its index, beside the three other problems.
    expect(problems.filter((p) => p.startsWith('JUNCTION_KAFKA_BROKERS'))).toHaveLength(2);
    expect(problems).toHaveLength(5);
  });

  it('refuses a missing broker list, a user without password, a password without user, an empty password file', () => {
    expect(problemsOf({})).toEqual([expect.stringMatching(/^JUNCTION_KAFKA_BROKERS: not set/)]);
    expect(problemsOf({ JUNCTION_KAFKA_BROKERS: 'a:1', JUNCTION_KAFKA_SASL_USERNAME: 'orders' })).toEqual([
      expect.stringMatching(/^JUNCTION_KAFKA_SASL_PASSWORD_FILE: not set .* but a user name is/),
    ]);
    expect(problemsOf({ JUNCTION_KAFKA_BROKERS: 'a:1', JUNCTION_KAFKA_SASL_PASSWORD: 'x' })).toEqual([
      expect.stringMatching(/^JUNCTION_KAFKA_SASL_USERNAME: not set, but a password is/),
    ]);
    expect(
      problemsOf({
        JUNCTION_KAFKA_BROKERS: 'a:1',
        JUNCTION_KAFKA_SASL_USERNAME: 'orders',
        JUNCTION_KAFKA_SASL_PASSWORD_FILE: join(dir, 'empty.password'),
      }),
    ).toEqual([expect.stringMatching(/^JUNCTION_KAFKA_SASL_PASSWORD_FILE: .* is empty/)]);
  });

  it('never puts the password into the error', () => {
    try {
      kafkaConnectionFromEnv({
        JUNCTION_KAFKA_BROKERS: 'bad',
        JUNCTION_KAFKA_SASL_USERNAME: 'orders',
        JUNCTION_KAFKA_SASL_PASSWORD: 'hunter2-secret',
      });
      expect.unreachable();
    } catch (error) {
      expect(JSON.stringify({ message: (error as Error).message, context: (error as JunctionError).context })).not.toContain('hunter2');
    }
  });
});
