import { afterEach, describe, expect, it } from 'vitest';
import { createEndpointGate, type EndpointGate } from './endpoint-gate.ts';

describe('the endpoint gate', () => {
  let clock = 0;
  let gate: EndpointGate | undefined;
  const make = (over: Partial<Parameters<typeof createEndpointGate>[0]> = {}) => {
    clock = 1_000_000;
    gate = createEndpointGate({ concurrency: 2, ratePerSecond: 100, breakerFailures: 3, breakerOpenMs: 1000, now: () => clock, ...over });
    return gate;
  };
  afterEach(() => gate?.close());

  it('bounds requests in flight per endpoint, and one full endpoint leaves the others alone', () => {
    const g = make();
    expect(g.slots('a')).toBe(2);
    expect(g.start('a')).toBe(true);
    expect(g.start('a')).toBe(true);
    expect(g.slots('a')).toBe(0);
    expect(g.start('a')).toBe(false);
    expect(g.slots('b')).toBe(2);
    expect(g.inFlight()).toBe(2);
    g.finished('a', true);
    expect(g.slots('a')).toBe(1);
    g.cancel('a');
    expect(g.slots('a')).toBe(2);
    expect(g.inFlight()).toBe(0);
  });

  it('limits the rate per endpoint with a bucket of one second, refilled with time', () => {
    const g = make({ concurrency: 100, ratePerSecond: 3 });
    for (let i = 0; i < 3; i += 1) {
      expect(g.start('a')).toBe(true);
      g.finished('a', true);
    }
    expect(g.slots('a')).toBe(0);
    expect(g.start('a')).toBe(false);
    clock += 340;
    expect(g.slots('a')).toBe(1);
    clock += 1000;
    expect(g.slots('a')).toBe(3);
  });

  it('opens after failures in a row, lets one probe through after the open time, and closes on its success', () => {
    const g = make();
    for (let i = 0; i < 3; i += 1) {
      expect(g.start('a')).toBe(true);
      g.finished('a', false);
    }
    expect(g.slots('a')).toBe(0);
    expect(g.slots('b')).toBe(2);
    clock += 1001;
    // The circuit's own timer half-opens it; the test clock decides what it admits.
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        expect(g.slots('a')).toBe(1);
        expect(g.start('a')).toBe(true);
        expect(g.slots('a')).toBe(0);
        g.finished('a', true);
        expect(g.slots('a')).toBe(2);
        resolve();
      }, 1100),
    );
  });

  it('lists the endpoints that can take nothing now: full, out of tokens or broken, not those with room', () => {
    const g = make({ ratePerSecond: 3 });
    g.start('full');
    g.start('full');
    for (let i = 0; i < 3; i += 1) {
      g.start('tokens');
      g.finished('tokens', true);
    }
    g.start('room');
    // Two failures in a row, under the threshold of 3: still closed.
    for (let i = 0; i < 2; i += 1) {
      g.start('failing');
      g.finished('failing', false);
    }
    expect(g.blocked().sort()).toEqual(['full', 'tokens']);
    // A second later the buckets are full again; a third endpoint's breaker opens.
    clock += 1000;
    for (let i = 0; i < 3; i += 1) {
      g.start('broken');
      g.finished('broken', false);
    }
    expect(g.blocked().sort()).toEqual(['broken', 'full']);
    g.finished('full', true);
    expect(g.blocked()).toEqual(['broken']);
  });

  it('forgets an endpoint’s failures when it is reset', () => {
    const g = make();
    for (let i = 0; i < 3; i += 1) {
      g.start('a');
      g.finished('a', false);
    }
    expect(g.slots('a')).toBe(0);
    g.reset('a');
    expect(g.slots('a')).toBe(2);
  });

  it('lets go of endpoints with nothing to remember, and keeps those with failures, work or spent tokens', () => {
    const g = make({ concurrency: 5, ratePerSecond: 5 });
    for (let i = 0; i < 100; i += 1) {
      expect(g.start(`gone-${i}`)).toBe(true);
      g.finished(`gone-${i}`, true);
    }
    g.start('busy');
    g.start('failing');
    g.finished('failing', false);
    g.start('failing');
    g.finished('failing', false);
    expect(g.held()).toBe(102);
    // Their buckets are not full yet: everything is kept.
    expect(g.blocked()).toEqual([]);
    expect(g.held()).toBe(102);
    clock += 1000;
    expect(g.blocked()).toEqual([]);
    // Only the one in flight and the one failing since its last success are left.
    expect(g.held()).toBe(2);
    // The failures in a row were kept: one more opens its breaker.
    g.start('failing');
    g.finished('failing', false);
    expect(g.blocked()).toEqual(['failing']);
    // An endpoint let go of starts afresh.
    expect(g.slots('gone-7')).toBe(5);
    g.finished('busy', true);
    clock += 1000;
    expect(g.blocked()).toEqual(['failing']);
    expect(g.held()).toBe(1);
  });
});
