import { afterAll, beforeAll, expect } from 'vitest';
import { countRecords, readRecords } from '../../packages/events/src/testing/contracts.ts';
import { type GatewayWorld, gatewayWorld } from './gateway.fixture.ts';
import { OpenApiCheck } from './openapi-check.ts';

/** The record fullname the gateway tests publish. */
export const ORDER = 'com.junction.orders.OrderPlaced';

/** A problem body as the tests read it. */
export interface ProblemBody {
  code: string;
  status: number;
  detail: string;
  errors?: Array<{ path: string; message: string }>;
}

/**
 * Calls to a gateway of a {@link GatewayWorld}, every answer the tests read checked against the
 * gateway's own `/v1/openapi.json` as well.
 */
export class GatewayCalls {
  private readonly methods = new WeakMap<Response, string>();

  private readonly world: GatewayWorld;
  readonly openapi: OpenApiCheck;
  /** The `demo` client's token, the default of {@link publish}. */
  readonly demo: string;

  private constructor(world: GatewayWorld, openapi: OpenApiCheck, demo: string) {
    this.world = world;
    this.openapi = openapi;
    this.demo = demo;
  }

  /** Reads the OpenAPI document and a `demo` token. */
  static async open(world: GatewayWorld): Promise<GatewayCalls> {
    const document = await fetch(`${world.gateway.url}/v1/openapi.json`);
    expect(document.status).toBe(200);
    return new GatewayCalls(world, new OpenApiCheck((await document.json()) as Record<string, unknown>), await world.token('demo'));
  }

  /** The JSON of an answer, after checking it against the document. */
  async documentedJson(response: Response): Promise<unknown> {
    const body = await response.json();
    const method = this.methods.get(response) ?? 'GET';
    const problems = this.openapi.problems(method, response.url, response.status, response.headers.get('content-type'), body);
    expect(problems, `the answer to ${response.url} differs from /v1/openapi.json`).toEqual([]);
    return body;
  }

  /** Marks an answer as one to a POST, for the document check. */
  posted(response: Response): Response {
    this.methods.set(response, 'POST');
    return response;
  }

  async post(
    path: string,
    init: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const response = await fetch(`${this.world.gateway.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...init.headers,
      },
      body: init.raw ?? JSON.stringify(init.body ?? {}),
      signal: AbortSignal.timeout(15_000),
    });
    return this.posted(response);
  }

  /** Publishes an order event; `token` undefined sends none. */
  publish(body: unknown, token: string | undefined = this.demo, headers: Record<string, string> = {}): Promise<Response> {
    return this.post(`/v1/events/${ORDER}`, { ...(token ? { token } : {}), body, headers });
  }

  /** Every record of the private orders topic so far. */
  async ordersRecords() {
    const { contracts, ordersTopic } = this.world;
    return readRecords(contracts.kafka, [ordersTopic], await countRecords(contracts.admin, [ordersTopic]));
  }

  /** How many records the private orders topic holds. */
  ordersCount(): Promise<number> {
    return countRecords(this.world.contracts.admin, [this.world.ordersTopic]);
  }

  /** Expects a problem+json answer of `status` and `code` (checked against the document when `inTheApi`). */
  async expectProblem(response: Response, status: number, code: string, inTheApi = true): Promise<ProblemBody> {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const body = (await (inTheApi ? this.documentedJson(response) : response.json())) as ProblemBody;
    expect(body).toMatchObject({ status, code });
    return body;
  }

  /** The statuses whose answers were checked against the document. */
  checkedStatuses(): string[] {
    return [...new Set([...this.openapi.checked].map((entry) => entry.split(' ').at(-1) as string))].sort();
  }
}

/**
 * A gateway world for the test file that calls this: started before its tests, closed after.
 * The getters are for inside tests and hooks.
 */
export function gatewaySuite(): { world: () => GatewayWorld; calls: () => GatewayCalls } {
  let world: GatewayWorld | undefined;
  let calls: GatewayCalls | undefined;
  beforeAll(async () => {
    world = await gatewayWorld();
    calls = await GatewayCalls.open(world);
  });
  afterAll(async () => {
    await world?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the gateway world is not started yet: use it inside a test or hook');
    return value;
  };
  return { world: () => started(world), calls: () => started(calls) };
}
