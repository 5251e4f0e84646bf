import { describe, expect, it } from 'vitest';
import { postgresFromEnv, stackFromEnv } from './endpoints.ts';
import { StackError } from './errors.ts';

describe('stackFromEnv', () => {
  it('reads the brokers and the registry', () => {
    expect(
      stackFromEnv({ JUNCTION_KAFKA_BROKERS: '127.0.0.1:1, 127.0.0.1:2', JUNCTION_SCHEMA_REGISTRY_URL: 'http://r/apis/ccompat/v7' }),
    ).toEqual({
      brokers: ['127.0.0.1:1', '127.0.0.1:2'],
      schemaRegistryUrl: 'http://r/apis/ccompat/v7',
    });
  });

  it('fails loudly, naming what is missing, when no stack is named', () => {
    expect(() => stackFromEnv({ JUNCTION_KAFKA_BROKERS: '127.0.0.1:1' })).toThrow(StackError);
    expect(() => stackFromEnv({})).toThrow(/JUNCTION_KAFKA_BROKERS and JUNCTION_SCHEMA_REGISTRY_URL not set/);
  });
});

describe('postgresFromEnv', () => {
  it('reads the URL', () => {
    expect(postgresFromEnv({ JUNCTION_POSTGRES_URL: ' postgres://junction@127.0.0.1:5432/junction ' })).toBe(
      'postgres://junction@127.0.0.1:5432/junction',
    );
  });

  it('fails loudly when no PostgreSQL is named', () => {
    expect(() => postgresFromEnv({})).toThrow(StackError);
    expect(() => postgresFromEnv({ JUNCTION_POSTGRES_URL: '' })).toThrow(/JUNCTION_POSTGRES_URL not set/);
  });
});
