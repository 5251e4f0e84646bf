/** The answer a request got, kept so that a retry with the same key gets it again. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

/** What claiming an idempotency key found. */
export type Claim =
  /** The key is this request's to serve, publishing under `eventId` (the first try's, when one failed). */
  | { kind: 'claimed'; eventId: string }
  /** An earlier request with the same key and body succeeded: answer what it answered. */
  | { kind: 'replay'; response: StoredResponse }
  /** An earlier request with the same key is still being served. */
  | { kind: 'in-progress' }
  /** The key was used for a different request. */
  | { kind: 'conflict' };

/**
 * Idempotency keys of one client, shared by the gateway's replicas. A key is claimed while its
 * request is served (a lease, so a crashed replica does not hold it for ever), completed with the
 * answer on success, and released on a retriable failure, keeping its event id: a retry after a
 * failure that may have reached Kafka publishes under the same `ce_id`, which consumers deduplicate.
 * A failure that reached nothing and that the same request would meet again (an invalid event) forgets
 * the key, so the client may fix its request and send it under the same key.
 */
export interface IdempotencyStore {
  /** Claims `key` for a request whose content hashes to `fingerprint`; `eventId` is used unless an earlier try left one. */
  claim(key: string, fingerprint: string, eventId: string): Promise<Claim>;
  /** Keeps the answer of a served request for the retention time. */
  complete(key: string, response: StoredResponse): Promise<void>;
  /** Gives a key back after its request failed, keeping its event id for the retry. */
  release(key: string): Promise<void>;
  /** Drops a key altogether, fingerprint and event id too, after its request failed without publishing. */
  forget(key: string): Promise<void>;
  close(): Promise<void>;
}

/** How long keys live: how long a retry gets the first answer, and how long a claim may be held. */
export interface IdempotencyTimes {
  /** Default 24 h. */
  retentionMs?: number;
  /** Default 30 s: longer than a publish may take (the publisher's send timeout). */
  leaseMs?: number;
}

/** A key's record, as both stores keep it. */
export interface KeyRecord {
  fingerprint: string;
  eventId: string;
  state: 'pending' | 'released' | 'done';
  /** For `pending`: when the lease ends. */
  leaseUntil?: number;
  response?: StoredResponse;
}

/** The decision of `claim` for the record found (or none), and the record to keep; shared by both stores. */
export function decideClaim(
  found: KeyRecord | undefined,
  fingerprint: string,
  eventId: string,
  now: number,
  leaseMs: number,
): { claim: Claim; keep?: KeyRecord } {
  if (!found) return { claim: { kind: 'claimed', eventId }, keep: { fingerprint, eventId, state: 'pending', leaseUntil: now + leaseMs } };
  if (found.fingerprint !== fingerprint) return { claim: { kind: 'conflict' } };
  if (found.state === 'done' && found.response) return { claim: { kind: 'replay', response: found.response } };
  if (found.state === 'pending' && (found.leaseUntil ?? 0) > now) return { claim: { kind: 'in-progress' } };
  return {
    claim: { kind: 'claimed', eventId: found.eventId },
    keep: { ...found, state: 'pending', leaseUntil: now + leaseMs },
  };
}
