import { type Circuit, type CircuitPass, createCircuit } from '@junction/service';

/** Settings of {@link createEndpointGate}. */
export interface EndpointGateOptions {
  /** Requests in flight to one endpoint at once. */
  concurrency: number;
  /** Requests started per second, per endpoint (a token bucket of one second's worth). */
  ratePerSecond: number;
  /** Consecutive failures that open an endpoint's breaker. */
  breakerFailures: number;
  /** How long an open breaker stays open before one request probes the endpoint. */
  breakerOpenMs: number;
  /** Called when an endpoint's breaker lets a probe through again: work may be waiting for it. */
  onProbe?: () => void;
  now?: () => number;
}

interface Endpoint {
  inFlight: number;
  tokens: number;
  refilledAt: number;
  circuit: Circuit;
  /** Passes of the requests in flight, settled first in, first out (which is which does not matter to the count). */
  passes: CircuitPass[];
  /** Whether its last request failed: its breaker counts failures in a row. */
  failing: boolean;
}

/**
 * What each endpoint may be sent now, so that one slow or dead endpoint never takes another's
 * turn: a bound on requests in flight, a rate, and a breaker (the platform's circuit) that stops
 * calling an endpoint after repeated failures and lets one probe through once it has waited.
 */
export interface EndpointGate {
  /** How many deliveries `endpoint` may start now (0 while its breaker is open or it is at its bounds). */
  slots(endpoint: string): number;
  /** A request to `endpoint` starts: takes a slot, a token and a pass of its breaker; false when refused after all. */
  start(endpoint: string): boolean;
  /** It ended: answered with a 2xx (closes the breaker) or failed (counts toward opening it). */
  finished(endpoint: string, ok: boolean): void;
  /** A started request was not sent after all: its slot and pass go back, its token does not. */
  cancel(endpoint: string): void;
  /** Forgets an endpoint's failures (enabled again by its owner: a fresh start). */
  reset(endpoint: string): void;
  /**
   * The endpoints that may start nothing now: at their bounds, out of tokens, or their breaker
   * open. Asked every round, it also lets go of endpoints with nothing to remember (idle, a full
   * bucket, a closed breaker and no failure since the last success), so the gate holds only
   * those in use, however many endpoints come and go.
   */
  blocked(): string[];
  /** Endpoints the gate holds state for. */
  held(): number;
  /** Requests in flight, all endpoints. */
  inFlight(): number;
  /** Stops the breakers' timers. */
  close(): void;
}

/** A gate over every endpoint of this process. */
export function createEndpointGate(options: EndpointGateOptions): EndpointGate {
  const now = options.now ?? Date.now;
  const endpoints = new Map<string, Endpoint>();
  let total = 0;
  const of = (id: string): Endpoint => {
    let e = endpoints.get(id);
    if (!e) {
      const circuit = createCircuit(
        {
          failureThreshold: options.breakerFailures,
          openMs: options.breakerOpenMs,
          now,
          onStateChange: (state) => {
            if (state === 'half-open') options.onProbe?.();
          },
        },
        `webhook endpoint ${id}`,
      );
      e = { inFlight: 0, tokens: options.ratePerSecond, refilledAt: now(), circuit, passes: [], failing: false };
      endpoints.set(id, e);
    }
    return e;
  };
  const refill = (e: Endpoint) => {
    const t = now();
    e.tokens = Math.min(options.ratePerSecond, e.tokens + ((t - e.refilledAt) / 1000) * options.ratePerSecond);
    e.refilledAt = t;
  };
  const slots = (e: Endpoint) => {
    refill(e);
    const state = e.circuit.state();
    if (state === 'open') return 0;
    const room = state === 'half-open' ? (e.inFlight === 0 ? 1 : 0) : options.concurrency - e.inFlight;
    return Math.max(0, Math.min(room, Math.floor(e.tokens)));
  };
  return {
    slots: (id) => slots(of(id)),
    blocked() {
      const blocked: string[] = [];
      for (const [id, e] of endpoints) {
        if (slots(e) === 0) blocked.push(id);
        // As good as new: a fresh entry is made when it is asked for again.
        else if (e.inFlight === 0 && !e.failing && e.circuit.state() === 'closed' && e.tokens >= options.ratePerSecond) {
          e.circuit.dispose();
          endpoints.delete(id);
        }
      }
      return blocked;
    },
    held: () => endpoints.size,
    start(id) {
      const e = of(id);
      refill(e);
      if (e.tokens < 1 || e.inFlight >= options.concurrency) return false;
      const pass = e.circuit.admit();
      if (!pass) return false;
      e.passes.push(pass);
      e.inFlight += 1;
      e.tokens -= 1;
      total += 1;
      return true;
    },
    finished(id, ok) {
      const e = endpoints.get(id);
      const pass = e?.passes.shift();
      if (!e || !pass) return;
      e.inFlight -= 1;
      total -= 1;
      e.failing = !ok;
      if (ok) pass.succeeded();
      else pass.failed();
    },
    cancel(id) {
      const e = endpoints.get(id);
      const pass = e?.passes.pop();
      if (!e || !pass) return;
      e.inFlight -= 1;
      total -= 1;
      pass.released();
    },
    reset(id) {
      const e = endpoints.get(id);
      if (!e || e.inFlight > 0) return;
      e.circuit.dispose();
      endpoints.delete(id);
    },
    inFlight: () => total,
    close() {
      for (const e of endpoints.values()) e.circuit.dispose();
    },
  };
}
