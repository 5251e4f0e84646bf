import { JunctionError } from '@junction/observability';

/** How to reach the subscriptions API, and as whom. */
export interface ApiAccess {
  /**
   * Where `/notifications/subscriptions` lives: the gateway's `/v1` (what the CLI uses), or the
   * notifications service itself.
   */
  baseUrl: string;
  /**
   * The headers that say who calls (`authorization: Bearer …` through the gateway). Asked before
   * each call, so a session longer than a token's life still deletes its subscription.
   */
  headers: () => Promise<Record<string, string>>;
  /** Who calls, for messages: "client downstream". */
  caller: string;
  /** What to do when the API does not answer at all, for messages. */
  startHint: string;
}

/** `POST /notifications/subscriptions`, as the listener sends it. */
export interface SubscriptionRequest {
  url: string;
  eventTypes: string[];
  description: string;
  ordered: boolean;
}

/** What the service answered with: the id, and the secret it shows this once. */
export interface CreatedSubscription {
  id: string;
  secret: string;
}

/** An RFC 9457 problem as Junction's services and gateway send it. */
interface Problem {
  title?: string;
  detail?: string;
  errors?: Array<{ path?: string; message?: string }>;
}

/** Calls the API, turning "nobody answers" and "too slow" into what to do about it. */
async function call(access: ApiAccess, method: string, path: string, timeoutMs: number, body?: unknown): Promise<Response> {
  const url = `${access.baseUrl.replace(/\/+$/, '')}${path}`;
  const headers = {
    accept: 'application/json',
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(await access.headers()),
  };
  try {
    return await fetch(url, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (error) {
    const origin = new URL(url).origin;
    if ((error as Error).name === 'TimeoutError') {
      throw new JunctionError('timeout', `${origin} did not answer ${method} ${path} within ${timeoutMs / 1000} s`, { cause: error });
    }
    const code = ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    const reason =
      code === 'ECONNREFUSED' ? 'is not running (connection refused)' : `cannot be reached (${code ?? (error as Error).message})`;
    throw new JunctionError('upstream.unavailable', `the gateway at ${origin} ${reason} → ${access.startHint}`, { cause: error });
  }
}

async function problemOf(response: Response): Promise<Problem> {
  try {
    const parsed: unknown = await response.json();
    return parsed !== null && typeof parsed === 'object' ? (parsed as Problem) : {};
  } catch {
    return {};
  }
}

/** The error for an answer that is not what was hoped for: who may not, which fields are wrong, or what came back. */
async function refusal(access: ApiAccess, response: Response, doing: string): Promise<JunctionError> {
  const problem = await problemOf(response);
  const detail = problem.detail ?? problem.title ?? response.statusText;
  const status = response.status;
  const context = { status, ...(problem.errors ? { fields: problem.errors } : {}) };
  if (status === 401) {
    return new JunctionError(
      'auth.unauthenticated',
      `the gateway did not accept ${access.caller}'s token (401: ${detail}) → is the gateway using the same auth server as the token came from (--auth-url, --state-dir)?`,
      { context },
    );
  }
  if (status === 403) {
    // RFC 6750: the challenge names the scope the token lacks.
    const scope = /scope="([^"]+)"/.exec(response.headers.get('www-authenticate') ?? '')?.[1];
    return new JunctionError(
      'auth.forbidden',
      `${access.caller} may not ${doing}: its token lacks the scope ${scope ?? '(unnamed)'} (403: ${detail}) → use a client holding notifications:read and notifications:write, e.g. --client downstream (services/auth/clients.yaml)`,
      { context },
    );
  }
  if ((status === 400 || status === 422) && problem.errors?.length) {
    const lines = problem.errors.map((field) => `  ${field.path ?? '(body)'}: ${field.message ?? 'invalid'}`);
    return new JunctionError(
      status === 400 ? 'request.invalid' : 'request.unprocessable',
      `cannot ${doing} (${status}):\n${lines.join('\n')}`,
      {
        context,
      },
    );
  }
  if (status === 502 || status === 503 || status === 504) {
    return new JunctionError(
      'upstream.unavailable',
      `cannot ${doing}: the gateway answered ${status} (${detail}) → is the notifications service running? ./junction up starts it`,
      { context },
    );
  }
  const code =
    status === 404
      ? 'route.unknown'
      : status === 409
        ? 'state.conflict'
        : status === 429
          ? 'rate.limited'
          : status >= 500
            ? 'internal'
            : 'request.invalid';
  return new JunctionError(code, `cannot ${doing}: the gateway answered ${status} (${detail})`, { context });
}

/** Creates a subscription; the answer's secret is shown only now. */
export async function createSubscription(access: ApiAccess, request: SubscriptionRequest, timeoutMs: number): Promise<CreatedSubscription> {
  const response = await call(access, 'POST', '/notifications/subscriptions', timeoutMs, request);
  if (response.status !== 201) throw await refusal(access, response, 'create the subscription');
  const created = (await response.json()) as Partial<CreatedSubscription>;
  if (typeof created.id !== 'string' || typeof created.secret !== 'string') {
    throw new JunctionError(
      'internal',
      `the gateway answered 201 without a subscription id and secret: ${JSON.stringify(created).slice(0, 200)}`,
    );
  }
  return { id: created.id, secret: created.secret };
}

/** Deletes a subscription; one already gone (404) counts as deleted. */
export async function deleteSubscription(access: ApiAccess, id: string, timeoutMs: number): Promise<void> {
  const response = await call(access, 'DELETE', `/notifications/subscriptions/${encodeURIComponent(id)}`, timeoutMs);
  if (response.status === 204 || response.status === 404) {
    await response.body?.cancel();
    return;
  }
  throw await refusal(access, response, `delete subscription ${id}`);
}
