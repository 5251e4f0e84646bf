import { JunctionError } from '@junction/observability';
import { describe, expect, it } from 'vitest';
import { createAvroCodec, registryError } from './codec.ts';

describe('registryError', () => {
  it.each([
    [{ status: 409, message: 'incompatible' }, 'schema.incompatible', false],
    [{ status: 404, message: 'no such schema' }, 'schema.unknown', false],
    [{ status: 503, message: 'down' }, 'registry.unavailable', true],
    [new Error('connect ECONNREFUSED 127.0.0.1:1'), 'registry.unavailable', true],
    [{ name: 'ConfluentSchemaRegistryArgumentError', message: 'bad magic byte' }, 'event.undecodable', false],
  ])('maps %o to %s', (raw, code, retriable) => {
    const error = registryError(raw, { subject: 's' });
    expect(error.code).toBe(code);
    expect(error.retriable).toBe(retriable);
    expect(error.context.subject).toBe('s');
    expect(error.cause).toBe(raw);
  });

  it('lists each invalid field path of a validation failure', () => {
    const raw = { name: 'ConfluentSchemaRegistryValidationError', message: 'invalid', paths: [['amount'], ['customer', 'email']] };
    const error = registryError(raw, {});
    expect(error.code).toBe('event.invalid');
    expect(error.context.fields).toEqual(['amount', 'customer.email']);
    expect(error.message).toContain('amount, customer.email');
  });

  it('passes a JunctionError through', () => {
    const original = new JunctionError('timeout', 'slow');
    expect(registryError(original, {})).toBe(original);
  });
});

describe('decode', () => {
  it('rejects bytes without Confluent framing before asking the registry', async () => {
    const codec = createAvroCodec({ registryUrl: 'http://127.0.0.1:1/apis/ccompat/v7', retries: 0 });
    await expect(codec.decode(Buffer.from('{"json":true}'))).rejects.toMatchObject({ code: 'event.undecodable', retriable: false });
    await expect(codec.decode(Buffer.from([0, 0, 1]))).rejects.toMatchObject({ code: 'event.undecodable' });
  });
});
