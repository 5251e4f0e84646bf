import { type EventContract, eventVersion, invalidEvent, JunctionError, type Publisher, uuidv7, validate } from '@junction/events';
import { checkScope, idempotencyKeyOf, jsonBody, refuseOtherMethods, SAFE_ID } from '@junction/http';
import { type Request, type Router, Router as router } from 'express';
import { requestFingerprint, scopedIdempotencyKey } from '../idempotency/key.ts';
import type { IdempotencyStore, StoredResponse } from '../idempotency/store.ts';
import { writeScope } from './catalog.ts';

/** Options of {@link eventRoutes}. */
export interface EventRoutesOptions {
  /** Record fullname → contract: the types HTTP callers may publish (`publishableEvents`). */
  events: Map<string, EventContract>;
  publisher: Publisher;
  idempotency: IdempotencyStore;
  /** Largest event body accepted, in bytes. */
  maxBodyBytes: number;
  /** Told when an answer could not be kept for its Idempotency-Key. */
  logger?: { warn(message: string, fields?: Record<string, unknown>): void };
}

/** What a 202 says: where Kafka wrote the event. */
export interface Accepted {
  id: string;
  type: string;
  topic: string;
  partition: number;
  offset: string;
}

function versionOf(req: Request, contract: EventContract): number | undefined {
  const given = req.query.version;
  if (given === undefined) return undefined;
  const version = Number(given);
  const known = contract.versions.map((v) => v.version);
  if (typeof given !== 'string' || !Number.isInteger(version) || !known.includes(version)) {
    throw new JunctionError('request.invalid', `version must be one of ${known.join(', ')} for ${contract.type}`, {
      context: { fields: [{ path: '(query).version', reason: `expected one of ${known.join(', ')}, got ${JSON.stringify(given)}` }] },
    });
  }
  return version;
}

/** The caller's `X-Correlation-Id`, which goes into a Kafka header and consumers' logs: plain, like a request id. */
function correlationIdOf(req: Request): string | undefined {
  const id = req.headers['x-correlation-id'];
  if (id === undefined) return undefined;
  if (typeof id !== 'string' || !SAFE_ID.test(id)) {
    throw new JunctionError('request.invalid', 'X-Correlation-Id must be 1 to 128 letters, digits or . _ : -', {
      context: { fields: [{ path: '(header).X-Correlation-Id', reason: 'expected 1 to 128 of A-Z a-z 0-9 . _ : -' }] },
    });
  }
  return id;
}

/**
 * `POST /events/:type`: validates the JSON body against the event's Avro schema (every failing
 * field path in a 400), publishes it with acks=all and answers 202 with the event id only once
 * Kafka has acknowledged it. The publisher's backpressure is a 503 with Retry-After. With an
 * `Idempotency-Key`, a retry gets the first answer and publishes nothing again.
 */
export function eventRoutes(options: EventRoutesOptions): Router {
  const routes = router();
  routes.post('/events/:type', jsonBody({ limitBytes: options.maxBodyBytes }), async (req, res) => {
    const type = String(req.params.type);
    const contract = options.events.get(type);
    if (!contract) {
      throw new JunctionError('route.unknown', `no event type ${type} is published through the gateway; GET /v1/event-types lists them`);
    }
    checkScope(req, writeScope(contract.topic));
    const version = versionOf(req, contract);
    const key = idempotencyKeyOf(req);
    const correlationId = correlationIdOf(req);
    if (req.body === undefined || req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
      throw new JunctionError('request.invalid', `the body must be a JSON object: the ${type} event`, {
        context: { fields: [{ path: '(event)', reason: 'expected an object' }] },
      });
    }
    // Validated before the key is claimed: a body the schema refuses never binds a key, so the
    // client can fix it and retry under the same key. (The publisher validates again; a valid
    // value costs avsc's one compiled check.)
    const resolved = eventVersion(contract, version);
    const problems = validate(resolved.schema, req.body);
    if (problems.length) throw invalidEvent(resolved.ceType, problems, { type, version: resolved.version });
    const clientId = req.auth?.clientId ?? 'anonymous';
    const scopedKey = key && scopedIdempotencyKey(clientId, key);
    let eventId = uuidv7();
    if (scopedKey) {
      const claim = await options.idempotency.claim(scopedKey, requestFingerprint(type, resolved.version, req.body), eventId);
      if (claim.kind === 'replay') {
        res.setHeader('idempotent-replayed', 'true');
        res.status(claim.response.status).json(claim.response.body);
        return;
      }
      if (claim.kind === 'in-progress') {
        throw new JunctionError('idempotency.in-progress', `a request with Idempotency-Key ${key} is still being served; retry shortly`, {
          context: { retryAfterMs: 1000 },
        });
      }
      if (claim.kind === 'conflict') {
        throw new JunctionError(
          'idempotency.conflict',
          `Idempotency-Key ${key} was used for a different request; use a new key for a new event`,
        );
      }
      eventId = claim.eventId;
    }
    let accepted: Accepted;
    try {
      const result = await options.publisher.publish(type, req.body as Record<string, unknown>, {
        version: resolved.version,
        id: eventId,
        headers: { 'junction.client-id': clientId },
        ...(correlationId ? { correlationId } : {}),
      });
      accepted = { id: result.id, type: result.type, topic: result.topic, partition: result.partition, offset: result.offset };
    } catch (error) {
      if (scopedKey) {
        // A retriable failure may have reached Kafka: the key keeps its event id for the retry. One
        // that is not (an event the publisher refused) published nothing and would fail again, so
        // the key is forgotten and the fixed request may use it.
        const retriable = !(error instanceof JunctionError) || error.retriable;
        await (retriable ? options.idempotency.release(scopedKey) : options.idempotency.forget(scopedKey)).catch((storeError: unknown) => {
          options.logger?.warn('an Idempotency-Key could not be given back after its request failed', { err: storeError, key });
        });
      }
      throw error;
    }
    const response: StoredResponse = { status: 202, body: accepted };
    // The event is out: a store that fails now must not turn that into an error. A retry then
    // waits out the lease and publishes again under the same event id, which consumers drop.
    if (scopedKey) {
      await options.idempotency.complete(scopedKey, response).catch((storeError: unknown) => {
        options.logger?.warn(
          "a published event's answer could not be kept for its Idempotency-Key; a retry publishes it again under the same id",
          {
            err: storeError,
            key,
            eventId: accepted.id,
          },
        );
      });
    }
    res.status(202).json(accepted);
  });
  routes.get('/event-types', (req, res) => {
    res.json({
      eventTypes: [...options.events.values()].map((contract) => ({
        type: contract.type,
        topic: contract.topic,
        scope: writeScope(contract.topic),
        versions: contract.versions.map((v) => v.version),
        allowed: req.auth?.scopes.has(writeScope(contract.topic)) ?? false,
      })),
    });
  });
  refuseOtherMethods(routes, '/events/:type', ['POST']);
  refuseOtherMethods(routes, '/event-types', ['GET']);
  return routes;
}
