/**
 * The node's local HTTP API: POST /v1/check, GET /v1/health, GET /v1/peers, GET /v1/openapi.json.
 *
 * @example
 *   const api = new ApiServer({ host: "127.0.0.1", port: 0, token, version }, { check, health, peers, logger });
 *   const port = await api.start();   // …  await api.stop();
 */
export { API_DEFAULTS } from "./options.ts";
export { ApiServer, type ApiServerModules, type ApiServerOptions } from "./server.ts";
export { openApiDocument } from "./openapi.ts";
export {
  checkRequestSchema, checkResponseSchema, healthResponseSchema, peersResponseSchema,
  type CheckRequest, type CheckResponse, type HealthResponse, type PeersResponse,
} from "./schemas.ts";
export { CheckService, mergeCheck, type CheckItem, type CheckServiceModules, type ItemResult, type ProviderOutcome } from "./check.ts";
export { NodeHealth, type HealthReason, type ImportStatus, type NodeHealthModules, type NodeHealthOptions } from "./health.ts";
