/**
 * The node's local HTTP API: POST /v1/check, GET /v1/health, GET /v1/peers, the member's own lists
 * (POST /v1/entries streamed, /v1/entries/check, /v1/entries/remove, GET /v1/entries/stats,
 * /v1/entries/export, GET /v1/imports, POST /v1/publish), GET /v1/hits/changes, feedback (POST /v1/feedback, GET /v1/feedback,
 * GET /v1/feedback/received), GET /v1/openapi.json; a token per scope.
 *
 * @example
 *   const api = new ApiServer({ host: "127.0.0.1", port: 0, tokens: { read, check, admin }, version }, { check, health, peers, lists, logger });
 *   const port = await api.start();   // …  await api.stop();
 */
export { API_DEFAULTS, IMPORT_CONTENT_TYPES } from "./options.ts";
export { ApiServer, routeScope, type ApiFeedbackModules, type ApiListModules, type ApiServerModules, type ApiServerOptions, type ApiTokenSource } from "./server.ts";
export { openApiDocument } from "./openapi.ts";
export {
  checkRequestSchema, checkResponseSchema, healthResponseSchema, importSummarySchema, importsResponseSchema, ownCheckResponseSchema, peersResponseSchema,
  publishResponseSchema, removeResponseSchema, statsResponseSchema, hitChangesResponseSchema, feedbackResponseSchema, feedbackListResponseSchema, receivedFeedbackResponseSchema,
  type CheckRequest, type CheckResponse, type HealthResponse, type ImportStatusResponse, type ImportSummaryResponse, type OwnCheckResponse, type PeersResponse,
  type HitChangesResponse, type FeedbackListResponse, type FeedbackReportView, type FeedbackResponse, type ReceivedFeedbackResponse, type PublishResponse, type RemoveResponse, type StatsResponse,
} from "./schemas.ts";
export { CheckService, checkItemPreparer, mergeCheck, type CheckItem, type CheckServiceModules, type ItemResult, type ProviderOutcome } from "./check.ts";
export { NodeHealth, type HealthReason, type ImportStatus, type NodeHealthModules, type NodeHealthOptions, type PreparedRotationStatus } from "./health.ts";
