import { describe, expect, it } from 'vitest';
import { createAvroCodec, frame } from './codec.ts';

describe('decode', () => {
  it('rejects bytes without Confluent framing before asking the registry', async () => {
    const codec = createAvroCodec({ registryUrl: 'http://127.0.0.1:1/apis/ccompat/v7', retries: 0 });
    await expect(codec.decode(Buffer.from('{"json":true}'))).rejects.toMatchObject({ code: 'event.undecodable', retriable: false });
    await expect(codec.decode(Buffer.from([0, 0, 1]))).rejects.toMatchObject({ code: 'event.undecodable' });
  });
});

describe('frame', () => {
  it('puts magic byte 0 and the big-endian schema id before the body', () => {
    expect([...frame(258, Buffer.from([7, 8]))]).toEqual([0, 0, 0, 1, 2, 7, 8]);
  });
});
