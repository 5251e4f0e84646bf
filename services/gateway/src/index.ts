/** Junction's API gateway: events over HTTP and the route table, behind OAuth 2.0. */

export { CALLER_HEADER as CLIENT_HEADER } from '@junction/http';
export { createGatewayApp, type GatewayParts, type MountedProxy } from './app.ts';
export { type GatewayConfig, readGatewayConfig } from './config.ts';
export { GATEWAY, publishableEvents, writeScope } from './events/catalog.ts';
export type { Accepted } from './events/route.ts';
export { type MemoryIdempotencyOptions, memoryIdempotencyStore } from './idempotency/memory.ts';
export { type RedisIdempotencyOptions, redisIdempotencyStore } from './idempotency/redis.ts';
export type { Claim, IdempotencyStore, StoredResponse } from './idempotency/store.ts';
export { openApiDocument } from './openapi/document.ts';
export { avroToJsonSchema, type JsonSchema } from './openapi/json-schema.ts';
export { proxyHandler } from './proxy/handler.ts';
export { type MountedRouteTable, type MountRouteTableOptions, mountRouteTable } from './proxy/mount.ts';
export { clientOptionsOf, loadRouteTable, type Route, type RouteTable, routeScope } from './proxy/route-table.ts';
export { type RunningGateway, type StartGatewayOptions, startGateway } from './server.ts';
