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

  it('stays closed after a successful probe, past the open time, and tells each change once with the one before', () => {
    const changes: string[] = [];
    const circuit = createCircuit({
      failureThreshold: 1,
      openMs: 1_000,
      onStateChange: (next, previous) => changes.push(`${previous}→${next}`),
    });
    circuit.admit()?.failed();
    vi.advanceTimersByTime(1_000);
    circuit.admit()?.succeeded();
    vi.advanceTimersByTime(5_000);
    expect(circuit.state()).toBe('closed');
    expect(changes).toEqual(['closed→open', 'open→half-open', 'half-open→closed']);
    expect(circuit.admit()).toBeDefined();
  });

  it('opens again for a whole open time when a probe fails, and says how long is left', () => {
    const circuit = createCircuit({ failureThreshold: 1, openMs: 1_000 });
    expect(circuit.retryAfterMs()).toBe(0);
    circuit.admit()?.failed();
    expect(circuit.retryAfterMs()).toBe(1_000);
    vi.advanceTimersByTime(400);
    expect(circuit.retryAfterMs()).toBe(600);
    vi.advanceTimersByTime(600);
    expect(circuit.state()).toBe('half-open');
    expect(circuit.retryAfterMs()).toBe(0);
    circuit.admit()?.failed();
    expect(circuit.state()).toBe('open');
    expect(circuit.retryAfterMs()).toBe(1_000);
    vi.advanceTimersByTime(999);
    expect(circuit.state()).toBe('open');
    vi.advanceTimersByTime(1);
    expect(circuit.state()).toBe('half-open');
  });

  it('counts consecutive failures: a success in between starts the count again', () => {
    const circuit = createCircuit({ failureThreshold: 2, openMs: 1_000 });
    circuit.admit()?.failed();
    circuit.admit()?.succeeded();
    circuit.admit()?.failed();
    expect(circuit.state()).toBe('closed');
    circuit.admit()?.failed();
    expect(circuit.state()).toBe('open');
  });

  it('with a window, counts failures inside it whatever succeeded between, and forgets older ones', () => {
    const circuit = createCircuit({ failureThreshold: 3, windowMs: 1_000, openMs: 500 });
    circuit.admit()?.failed();
    vi.advanceTimersByTime(600);
    circuit.admit()?.failed();
    circuit.admit()?.succeeded();
    vi.advanceTimersByTime(500); // the first failure is now 1,100 ms old
    circuit.admit()?.failed();
    expect(circuit.state()).toBe('closed');
    circuit.admit()?.failed(); // three within the last second
    expect(circuit.state()).toBe('open');
  });

  it('lets halfOpenProbes through at once and closes only when every one succeeded', () => {
    const circuit = createCircuit({ failureThreshold: 1, openMs: 100, halfOpenProbes: 2 });
    circuit.admit()?.failed();
    vi.advanceTimersByTime(100);
    const first = circuit.admit();
    const second = circuit.admit();
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(circuit.admit()).toBeUndefined();
    first?.succeeded();
    first?.succeeded(); // settled once: still one success
    expect(circuit.state()).toBe('half-open');
    second?.succeeded();
    expect(circuit.state()).toBe('closed');
  });

  it('stays as it is once disposed', () => {
    const circuit = createCircuit({ failureThreshold: 1, openMs: 100 });
    circuit.admit()?.failed();
    circuit.dispose();
    vi.advanceTimersByTime(1_000);
    expect(circuit.state()).toBe('open');
  });

  it('refuses each invalid option on its own, naming it', () => {
    expect(() => createCircuit({ failureThreshold: 1.5, openMs: 1 })).toThrow('circuit: failureThreshold must be ≥ 1');
    expect(() => createCircuit({ failureThreshold: 1, openMs: 1, windowMs: 0 })).toThrow('circuit: windowMs must be positive');
    expect(() => createCircuit({ failureThreshold: 1, openMs: 1, halfOpenProbes: 1.5 })).toThrow('circuit: halfOpenProbes must be ≥ 1');
    expect(() => createCircuit({ failureThreshold: 1, openMs: -1 })).toThrow('circuit: openMs must be positive');
    expect(() => createCircuit({ failureThreshold: 1, openMs: 1, windowMs: 1, halfOpenProbes: 1 })).not.toThrow();
  });

  it('starts a closed period from no failures after a probe closed it', () => {
    const circuit = createCircuit({ failureThreshold: 2, openMs: 100 });
    circuit.admit()?.failed();
    circuit.admit()?.failed();
    vi.advanceTimersByTime(100);
    circuit.admit()?.succeeded();
    circuit.admit()?.failed();
    expect(circuit.state()).toBe('closed');
  });

  it('opens again at the first failed probe, whatever the threshold', () => {
    const circuit = createCircuit({ failureThreshold: 3, openMs: 100 });
    for (let i = 0; i < 3; i += 1) circuit.admit()?.failed();
    vi.advanceTimersByTime(100);
    circuit.admit()?.failed();
    expect(circuit.state()).toBe('open');
  });

  it('ignores the failure of a call let through before the circuit went half-open', () => {
    const circuit = createCircuit({ failureThreshold: 2, openMs: 100 });
    const slow = circuit.admit();
    circuit.admit()?.failed();
    circuit.admit()?.failed();
    vi.advanceTimersByTime(100);
    slow?.failed();
    expect(circuit.state()).toBe('half-open');
  });

  it('counts a failure exactly windowMs old as outside the window', () => {
    const circuit = createCircuit({ failureThreshold: 2, windowMs: 1_000, openMs: 100 });
    circuit.admit()?.failed();
    vi.advanceTimersByTime(1_000);
    circuit.admit()?.failed();
    expect(circuit.state()).toBe('closed');
    vi.advanceTimersByTime(999);
    circuit.admit()?.failed();
    expect(circuit.state()).toBe('open');
  });

  it('joins the problems of its options with "; "', () => {
    expect(() => createCircuit({ failureThreshold: 0, openMs: 0 }, 'x')).toThrow(
      /^x: failureThreshold must be ≥ 1; openMs must be positive$/,
    );
  });
});
