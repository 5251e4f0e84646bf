import { randomUUID } from 'node:crypto';
import {
  callerOf,
  JunctionError,
  parseInput,
  type Request,
  type Router,
  requireCaller,
  type ServiceContext,
  scopesOf,
} from '@junction/service';
import { z } from 'zod';
import { attemptsQuery, replayBody } from './api.ts';
import type { NotificationsConfig } from './config.ts';
import { newSecret } from './delivery/signing.ts';
import { createBody, unknownPatterns, updateBody, urlProblem } from './domain/subscription.ts';
import {
  countOwned,
  deleteOwned,
  insertSubscription,
  listAttempts,
  listOwned,
  readOwned,
  replay,
  rotateSecret,
  updateOwned,
} from './store.ts';

/** What the routes need besides the kit's context: the types webhooks may carry, and a way to wake the dispatcher. */
export interface RouteDeps {
  /** Every event type a subscription may name (the catalog's, on the topics this service reads). */
  eventTypes: readonly string[];
  /** Deliveries became due (a replay, a subscription enabled again). */
  wake: () => void;
  /** Its owner enabled a subscription again: its breaker starts afresh. */
  reset: (subscriptionId: string) => void;
}

/**
 * The scope that lets a client's subscriptions carry personal fields (`junction.pii`) in clear;
 * without it they read `[redacted]`. Taken from the token that creates or updates a subscription.
 */
export const PII_SCOPE = 'notifications:pii';

/** A 422 naming every field that cannot be, as the kit's problems do. */
function unprocessable(fields: Array<{ path: string; reason: string }>): JunctionError {
  return new JunctionError('request.unprocessable', fields.map((f) => `${f.path}: ${f.reason}`).join('; '), { context: { fields } });
}

/**
 * `/notifications/subscriptions…`: a client's webhook subscriptions, each seen and changed by the
 * client that made it only (another's reads as none: 404, never 403, so ids cannot be probed).
 */
export function subscriptionRoutes(router: Router, service: ServiceContext<NotificationsConfig>, deps: RouteDeps): void {
  const own = service.own;
  const caller = (req: Request): string => callerOf(req) ?? '';
  const idOf = (req: Request): string => {
    const id = String(req.params.id);
    if (!z.uuid().safeParse(id).success) throw new JunctionError('route.unknown', `no subscription ${id}`);
    return id;
  };
  const missing = (id: string) => new JunctionError('route.unknown', `no subscription ${id}`);

  /** Business rules a schema cannot state: a URL that can be an endpoint, patterns that match something. */
  const check = (body: { url?: string | undefined; eventTypes?: string[] | undefined }) => {
    const fields: Array<{ path: string; reason: string }> = [];
    const problem = body.url === undefined ? undefined : urlProblem(body.url, own.JUNCTION_NOTIFICATIONS_ALLOW_HTTP);
    if (problem) fields.push({ path: 'url', reason: problem });
    for (const pattern of unknownPatterns(body.eventTypes ?? [], deps.eventTypes)) {
      const at = body.eventTypes?.indexOf(pattern) ?? 0;
      fields.push({ path: `eventTypes.${at}`, reason: `${pattern} matches no event; known: ${deps.eventTypes.join(', ')}` });
    }
    if (fields.length > 0) throw unprocessable(fields);
  };

  router.use('/notifications', requireCaller());

  router.post('/notifications/subscriptions', async (req, res) => {
    const body = parseInput(createBody, req.body);
    check(body);
    const owner = caller(req);
    const secret = newSecret();
    const created = await service.transaction(async (tx) => {
      // Serialises one owner's creations, so the bound holds under concurrent requests.
      await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`notifications/${owner}`]);
      if ((await countOwned(tx, owner)) >= own.JUNCTION_NOTIFICATIONS_MAX_SUBSCRIPTIONS) {
        throw new JunctionError(
          'state.conflict',
          `you hold ${own.JUNCTION_NOTIFICATIONS_MAX_SUBSCRIPTIONS} subscriptions, as many as allowed; delete one first`,
        );
      }
      return insertSubscription(tx, { id: randomUUID(), owner, ...body, pii: scopesOf(req).has(PII_SCOPE), secret });
    });
    res
      .status(201)
      .location(`/v1/notifications/subscriptions/${created.id}`)
      .json({ ...created, secret });
  });

  router.get('/notifications/subscriptions', async (req, res) => {
    res.json({ subscriptions: await listOwned(service.db, caller(req)) });
  });

  router.get('/notifications/subscriptions/:id', async (req, res) => {
    const id = idOf(req);
    const found = await readOwned(service.db, caller(req), id);
    if (!found) throw missing(id);
    res.json(found);
  });

  router.patch('/notifications/subscriptions/:id', async (req, res) => {
    if (req.body === undefined)
      throw new JunctionError('request.invalid', 'no body: send a JSON object of the fields to change ({} changes nothing)', {
        context: { fields: [{ path: '(body)', reason: 'required' }] },
      });
    const change = parseInput(updateBody, req.body);
    const id = idOf(req);
    check(change);
    // The token of the latest change decides: a client that lost the PII scope stops receiving personal data.
    const updated = await service.transaction((tx) => updateOwned(tx, caller(req), id, { ...change, pii: scopesOf(req).has(PII_SCOPE) }));
    if (!updated) throw missing(id);
    if (change.enabled) {
      deps.reset(id);
      deps.wake();
    }
    res.json(updated);
  });

  router.delete('/notifications/subscriptions/:id', async (req, res) => {
    const id = idOf(req);
    if (!(await deleteOwned(service.db, caller(req), id))) throw missing(id);
    res.status(204).end();
  });

  router.post('/notifications/subscriptions/:id/rotate-secret', async (req, res) => {
    const id = idOf(req);
    const secret = newSecret();
    const previousSecretExpiresAt = await service.transaction(async (tx) => {
      if (!(await readOwned(tx, caller(req), id, true))) throw missing(id);
      return rotateSecret(tx, id, secret, own.JUNCTION_NOTIFICATIONS_SECRET_OVERLAP_MS);
    });
    res.json({ secret, previousSecretExpiresAt });
  });

  router.get('/notifications/subscriptions/:id/attempts', async (req, res) => {
    const { limit } = parseInput(attemptsQuery, req.query, 'query');
    const id = idOf(req);
    if (!(await readOwned(service.db, caller(req), id))) throw missing(id);
    res.json({ attempts: await listAttempts(service.db, id, limit) });
  });

  router.post('/notifications/subscriptions/:id/replay', async (req, res) => {
    const body = parseInput(replayBody, req.body);
    const id = idOf(req);
    if ('since' in body && Date.parse(body.since) >= Date.parse(body.until))
      throw unprocessable([{ path: 'until', reason: `must be after since (${body.since})` }]);
    const replayed = await service.transaction(async (tx) => {
      if (!(await readOwned(tx, caller(req), id, true))) throw missing(id);
      return replay(tx, id, 'eventId' in body ? body : { since: new Date(body.since), until: new Date(body.until) });
    });
    if (replayed > 0) deps.wake();
    res.status(202).json({ replayed });
  });
}
