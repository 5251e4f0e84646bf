import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCircuit } from './circuit.ts';

// The state machine's transitions are tested through its two users as well: the subscriber's
// breaker (events/src/subscriber/circuit-breaker.test.ts) and the outbound HTTP client's.
describe('createCircuit', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('opens at the threshold, refuses while open, and a timer lets one probe through', () => {
    const circuit = createCircuit({ failureThreshold: 2, openMs: 1_000 });
    circuit.admit()?.failed();
    expect(circuit.state()).toBe('closed');
    circuit.admit()?.failed();
    expect(circuit.state()).toBe('open');
    expect(circuit.admit()).toBeUndefined();
    vi.advanceTimersByTime(1_000);
    const probe = circuit.admit();
    expect(probe).toBeDefined();
    expect(circuit.admit()).toBeUndefined();
    probe?.succeeded();
    expect(circuit.state()).toBe('closed');
  });

  it('counts a pass once, and not at all when the state changed since it was admitted', () => {
    const circuit = createCircuit({ failureThreshold: 2, openMs: 1_000 });
    const slow = circuit.admit();
    const pass = circuit.admit();
    pass?.failed();
    pass?.failed();
    expect(circuit.state()).toBe('closed');
    circuit.admit()?.failed();
    expect(circuit.state()).toBe('open');
    vi.advanceTimersByTime(1_000);
    // admitted while closed: its success says nothing of the half-open period
    slow?.succeeded();
    expect(circuit.state()).toBe('half-open');
  });

  it('a released probe frees its place without a verdict', () => {
    const circuit = createCircuit({ failureThreshold: 1, openMs: 100 });
    circuit.admit()?.failed();
    vi.advanceTimersByTime(100);
    circuit.admit()?.released();
    expect(circuit.state()).toBe('half-open');
    expect(circuit.admit()).toBeDefined();
  });

  it('names every invalid option at once', () => {
    expect(() => createCircuit({ failureThreshold: 0, openMs: 0, halfOpenProbes: 0 }, 'upstream breaker')).toThrow(
      /upstream breaker: failureThreshold.*openMs.*halfOpenProbes/,
    );
  });
});
