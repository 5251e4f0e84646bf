import { describe, expect, it } from 'vitest';
import { memoryIdempotencyStore } from './memory.ts';

describe('memoryIdempotencyStore', () => {
  it('replays a completed key, refuses another fingerprint, and keeps the event id across a release', async () => {
    const store = memoryIdempotencyStore();
    expect(await store.claim('k', 'f1', 'e1')).toEqual({ kind: 'claimed', eventId: 'e1' });
    expect(await store.claim('k', 'f1', 'e2')).toEqual({ kind: 'in-progress' });
    await store.release('k');
    expect(await store.claim('k', 'f1', 'e3')).toEqual({ kind: 'claimed', eventId: 'e1' });
    await store.complete('k', { status: 202, body: { id: 'e1' } });
    expect(await store.claim('k', 'f1', 'e4')).toEqual({ kind: 'replay', response: { status: 202, body: { id: 'e1' } } });
    expect(await store.claim('k', 'f2', 'e5')).toEqual({ kind: 'conflict' });
  });

  it('forgets a key altogether: a request with another fingerprint may claim it afresh', async () => {
    const store = memoryIdempotencyStore();
    await store.claim('k', 'bad-body', 'e1');
    await store.release('k');
    // Released, the key still holds its fingerprint: a fixed body is a conflict.
    expect(await store.claim('k', 'fixed-body', 'e2')).toEqual({ kind: 'conflict' });
    await store.forget('k');
    expect(await store.claim('k', 'fixed-body', 'e3')).toEqual({ kind: 'claimed', eventId: 'e3' });
    await store.forget('never-claimed');
  });
});
