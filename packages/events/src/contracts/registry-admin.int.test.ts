import { randomBytes } from 'node:crypto';
import { stackFromEnv } from '@junction/stack';
import { afterAll, describe, expect, it } from 'vitest';
import { createRegistryAdmin } from './registry-admin.ts';

// What the real registry (Apicurio through its Confluent-compatible API) answers.

const suffix = randomBytes(4).toString('hex');
const subject = `registry-admin.test-${suffix}-com.junction.test.Parcel`;
const v1 = { type: 'record', name: 'Parcel', namespace: 'com.junction.test', fields: [{ name: 'id', type: 'string' }] };
const v2 = { ...v1, fields: [...v1.fields, { name: 'note', type: ['null', 'string'], default: null }] };
const breaking = { ...v1, fields: [...v1.fields, { name: 'weight', type: 'int' }] };

describe('registry admin against the real registry', () => {
  const { schemaRegistryUrl } = stackFromEnv();
  const admin = createRegistryAdmin({ registryUrl: schemaRegistryUrl });

  afterAll(async () => {
    const url = `${schemaRegistryUrl}/subjects/${encodeURIComponent(subject)}`;
    await fetch(url, { method: 'DELETE', signal: AbortSignal.timeout(5000) }).catch(() => {});
    await fetch(`${url}?permanent=true`, { method: 'DELETE', signal: AbortSignal.timeout(5000) }).catch(() => {});
  });

  it('tests, registers idempotently, lists and reads versions', async () => {
    expect(await admin.testCompatibility(subject, v1)).toEqual({ compatible: true, messages: [] });
    await expect(admin.versions(subject)).rejects.toMatchObject({ code: 'schema.unknown' });
    const id1 = await admin.register(subject, v1);
    expect(await admin.register(subject, v1)).toBe(id1);
    await admin.setCompatibility(subject, 'FULL_TRANSITIVE');
    expect(await admin.compatibility(subject)).toBe('FULL_TRANSITIVE');
    const id2 = await admin.register(subject, v2);
    expect(id2).not.toBe(id1);
    expect(await admin.versions(subject)).toEqual([1, 2]);
    const latest = await admin.schemaOf(subject, 'latest');
    expect(latest).toMatchObject({ id: id2, version: 2 });
    expect(latest.schema).toMatchObject({ name: 'Parcel', fields: [{ name: 'id' }, { name: 'note' }] });
  });

  it('says why a breaking schema is incompatible, and refuses to register it', async () => {
    const verdict = await admin.testCompatibility(subject, breaking);
    expect(verdict.compatible).toBe(false);
    await expect(admin.register(subject, breaking)).rejects.toMatchObject({ code: 'schema.incompatible' });
  });
});
