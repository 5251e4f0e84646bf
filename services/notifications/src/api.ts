import type { ServiceApi } from '@junction/service';
import { z } from 'zod';
import { createBody, updateBody } from './domain/subscription.ts';

const id = { id: { description: "The subscription's id", schema: z.uuid() } };

/** A subscription as the API shows it (never with its secret, but at creation and rotation). */
export const subscriptionSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    eventTypes: z.array(z.string()),
    description: z.string().nullable(),
    ordered: z.boolean().describe("A key's later events wait until its earlier ones are delivered or given up"),
    status: z.enum(['active', 'disabled']),
    disabledReason: z.string().nullable(),
    personalData: z.boolean().describe("Whether personal fields are sent in clear; they read '[redacted]' otherwise"),
    failingSince: z.string().nullable().describe('Since when every attempt has failed; null while the endpoint answers'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .strict();

const secret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/=]+$/)
  .describe('The signing secret (Standard Webhooks): shown this once');

/** `POST /notifications/subscriptions/:id/replay`: one event, or the events made in a time range. */
export const replayBody = z.union([
  z.object({ eventId: z.uuid() }).strict(),
  z.object({ since: z.iso.datetime({ offset: true }), until: z.iso.datetime({ offset: true }) }).strict(),
]);

/** `GET …/attempts?limit=`. */
export const attemptsQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }).strict();

const attempt = z
  .object({
    deliveryId: z.uuid(),
    eventId: z.uuid(),
    eventType: z.string(),
    attempt: z.number().int().min(1),
    startedAt: z.string(),
    durationMs: z.number().int().min(0),
    statusCode: z.number().int().nullable().describe('null when the endpoint did not answer'),
    error: z.string().nullable(),
    responseBody: z.string().nullable().describe("The endpoint's answer, its first 1 KiB"),
    deliveryStatus: z.enum(['pending', 'delivered', 'failed']),
  })
  .strict();

const notFound = { description: 'No subscription of yours with this id', body: 'problem' } as const;
const invalid = { description: 'A body of the wrong shape: `errors` names every failing field', body: 'problem' } as const;
const unprocessable = {
  description: 'A URL that cannot be an endpoint, or event types that match no event: `errors` says which and why',
  body: 'problem',
} as const;

/** The notifications service's routes, described: what `routes.ts` mounts, checked by the kit at start. */
export const notificationsApi: ServiceApi = {
  description:
    "Webhook subscriptions: Junction's events, signed (Standard Webhooks) and sent as CloudEvents JSON to your endpoint, retried with backoff, in order per key where asked.",
  operations: [
    {
      method: 'post',
      path: '/notifications/subscriptions',
      operationId: 'createSubscription',
      summary: 'Subscribe an endpoint to event types; the answer holds its signing secret, shown this once',
      body: {
        schema: createBody,
        required: true,
        example: { url: 'http://127.0.0.1:9999/hooks', eventTypes: ['com.junction.orders.*'], description: 'order updates', ordered: true },
      },
      responses: {
        201: {
          description: 'Subscribed',
          body: subscriptionSchema.extend({ secret }),
          headers: { Location: { description: 'The new subscription', schema: z.string(), required: true } },
        },
        400: invalid,
        409: { description: 'You hold as many subscriptions as allowed', body: 'problem' },
        422: unprocessable,
      },
    },
    {
      method: 'get',
      path: '/notifications/subscriptions',
      operationId: 'listSubscriptions',
      summary: 'Your subscriptions',
      responses: { 200: { description: 'Yours, oldest first', body: z.object({ subscriptions: z.array(subscriptionSchema) }).strict() } },
    },
    {
      method: 'get',
      path: '/notifications/subscriptions/:id',
      operationId: 'getSubscription',
      summary: 'One of your subscriptions',
      params: id,
      responses: { 200: { description: 'The subscription', body: subscriptionSchema }, 404: notFound },
    },
    {
      method: 'patch',
      path: '/notifications/subscriptions/:id',
      operationId: 'updateSubscription',
      summary: 'Change a subscription; `enabled: true` resumes a disabled one where it stopped',
      params: id,
      body: { schema: updateBody, required: true, example: { description: 'order updates, v2', enabled: true } },
      responses: {
        200: { description: 'The subscription, changed', body: subscriptionSchema },
        400: invalid,
        404: notFound,
        422: unprocessable,
      },
    },
    {
      method: 'delete',
      path: '/notifications/subscriptions/:id',
      operationId: 'deleteSubscription',
      summary: 'Unsubscribe: nothing more is sent, and its delivery log goes',
      params: id,
      responses: { 204: { description: 'Deleted' }, 404: notFound },
    },
    {
      method: 'post',
      path: '/notifications/subscriptions/:id/rotate-secret',
      operationId: 'rotateSubscriptionSecret',
      summary: 'A new signing secret; the previous one keeps signing beside it for the stated overlap',
      params: id,
      responses: {
        200: {
          description: 'The new secret, shown this once',
          body: z
            .object({
              secret,
              previousSecretExpiresAt: z.string().nullable().describe('Until then deliveries carry a signature with each secret'),
            })
            .strict(),
        },
        404: notFound,
      },
    },
    {
      method: 'get',
      path: '/notifications/subscriptions/:id/attempts',
      operationId: 'listDeliveryAttempts',
      summary: 'The latest delivery attempts to a subscription: status, latency, response code and body',
      params: id,
      query: { limit: { description: 'How many, newest first (1-500, default 50)', schema: z.coerce.number().int().min(1).max(500) } },
      responses: {
        200: { description: 'Attempts, newest first', body: z.object({ attempts: z.array(attempt) }).strict() },
        400: { description: 'A query of the wrong shape', body: 'problem' },
        404: notFound,
      },
    },
    {
      method: 'post',
      path: '/notifications/subscriptions/:id/replay',
      operationId: 'replayDeliveries',
      summary: 'Send one event again, or the events made in a time range, under their own webhook-id',
      params: id,
      body: { schema: replayBody, required: true, example: { since: '2026-01-01T00:00:00Z', until: '2026-01-02T00:00:00Z' } },
      responses: {
        202: { description: 'Due now', body: z.object({ replayed: z.number().int().min(0) }).strict() },
        400: invalid,
        404: notFound,
        422: { description: '`until` is not after `since`', body: 'problem' },
      },
    },
  ],
};
