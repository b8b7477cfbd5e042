import { z } from "zod";
import { CONFIG_DEFAULTS } from "../config/index.ts";
import {
  checkRequestSchema, checkResponseSchema, errorResponseSchema, feedbackListResponseSchema, feedbackRequestSchema, feedbackResponseSchema, healthResponseSchema, hitChangesQuerySchema,
  receivedFeedbackQuerySchema, receivedFeedbackResponseSchema, hitChangesResponseSchema, importQuerySchema, importSummarySchema, importsResponseSchema, ownCheckRequestSchema,
  ownCheckResponseSchema, peersResponseSchema, publishRequestSchema, publishResponseSchema, removeRequestSchema, removeResponseSchema, statsResponseSchema,
} from "./schemas.ts";
import { IMPORT_CONTENT_TYPES } from "./options.ts";

/** Where the document says the API is: the node's own port when it serves the document. */
export interface OpenApiServerOptions {
  /** The port the API listens on; default the config's (`api.port`). */
  port?: number;
}

/**
 * The OpenAPI 3.1 document of the local API, generated from the same zod schemas that validate requests.
 * Each operation lists the statuses the server (server.ts) really answers on it (the 404 of an unknown route
 * and the HEAD twin fastify adds to each GET are not operations of their own).
 */
export function openApiDocument(version: string, opts: OpenApiServerOptions = {}): Record<string, unknown> {
  const json = (schema: z.ZodType) => z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", unrepresentable: "any" });
  const body = (schema: Record<string, unknown>) => ({ "application/json": { schema } });
  const error = (description: string) => ({ description, content: body(json(errorResponseSchema)) });
  const unauthorized = error("missing or wrong bearer token (E_API_TOKEN)");
  const forbidden = (scope: string) => error(`this token's scope does not allow the call: it needs the ${scope} token (E_API_SCOPE)`);
  const internal = error("the request failed inside the node (E_INTERNAL)");
  const badBody = error("the body does not match the schema (E_API_BODY), or names an unknown identifier type (E_IDENTIFIER_TYPE) or an identifier of the wrong form (E_IDENTIFIER_INVALID)");
  const noKey = error("the node holds no OPRF key of its key epoch on chain, so it cannot key list entries (E_OPRF_KEY_MISSING)");
  const queryParameters = Object.entries((json(importQuerySchema) as { properties: Record<string, Record<string, unknown>> }).properties).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: "query", required: false, ...(description === undefined ? {} : { description }), schema: rest };
  });
  return {
    openapi: "3.1.0",
    info: {
      title: "riskshare node API",
      version,
      description: "Local API of a riskshare node, for the institution's own systems. Binds to 127.0.0.1; every call but this document needs the node's bearer token.",
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    servers: [{
      url: "http://127.0.0.1:{port}",
      description: "The node itself: the API listens on 127.0.0.1 only",
      variables: {
        port: {
          default: String(opts.port ?? CONFIG_DEFAULTS.api.port),
          description: "The API port (`api.port` in the node's config.json; 0 there means a free port chosen at start, which the node logs and writes into the document it serves)",
        },
      },
    }],
    components: {
      securitySchemes: {
        bearer: {
          type: "http", scheme: "bearer",
          description: "One token per scope, each allowing what the ones before it allow: read (keys/api-read.token: health, peers, sent queries, held answers, hit changes, feedback lists, import progress, list stats), check (keys/api-check.token: identifier checks, feedback reports), admin (keys/api.token: list updates, export, publish)",
        },
      },
    },
    security: [{ bearer: [] }],
    paths: {
      "/v1/check": {
        post: {
          operationId: "checkIdentifiers",
          summary: "Check identifiers against this node's lists and its peers' (fan-out), with one merged verdict",
          requestBody: { required: true, content: body(json(checkRequestSchema)) },
          responses: {
            "200": { description: "merged verdict", content: body(json(checkResponseSchema)) },
            "400": error("the body is not JSON or does not match the schema (E_API_BODY), or names a category that is not active (E_CATEGORY_UNKNOWN)"),
            "401": unauthorized,
            "403": forbidden("check"),
            "413": error("the body is larger than the node's limit (E_API_BODY)"),
            "500": internal,
            "503": error("the node refuses lookups now: starting, ledger backlog full, chain unreachable, OPRF key missing, not a member (see /v1/health)"),
          },
        },
      },
      "/v1/health": {
        get: {
          operationId: "getHealth",
          summary: "Node health: chain sync, ledger backlog, peers",
          responses: {
            "200": { description: "ok or degraded", content: body(json(healthResponseSchema)) },
            "401": unauthorized,
            "500": internal,
            "503": { description: "refusing lookups", content: body(json(healthResponseSchema)) },
          },
        },
      },
      "/v1/peers": {
        get: {
          operationId: "listPeers",
          summary: "Consortium members and whether this node is connected to them",
          responses: {
            "200": { description: "members", content: body(json(peersResponseSchema)) },
            "401": unauthorized,
            "500": internal,
          },
        },
      },
      "/v1/queries/{queryId}": {
        get: {
          operationId: "getQueryJournal",
          summary: "The journal of a query this node sent: its request, with the identifiers and blinds that open its on-chain commitment sealed under the member's journal key",
          parameters: [{ name: "queryId", in: "path", required: true, schema: { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" } }],
          responses: {
            "200": { description: "journal entry", content: body({ type: "object" }) },
            "400": error("queryId is not a 0x-prefixed 32-byte hex id (E_API_BODY)"),
            "401": unauthorized,
            "404": error("no such query sent by this node (E_NOT_FOUND)"),
            "500": internal,
          },
        },
      },
      "/v1/answers": {
        get: {
          operationId: "listHeldAnswers",
          summary: "The answers this node's providers signed and sent it, kept in its query journal (for as long as the query is): what `riskshare audit verify` holds against the providers' ledger records",
          responses: {
            "200": {
              description: "held answers",
              content: body({
                type: "object", required: ["answers"],
                properties: { answers: { type: "array", items: { type: "object", required: ["answer", "answerSignature"], properties: { answer: { type: "object" }, answerSignature: { type: "string" } } } } },
              }),
            },
            "401": unauthorized,
            "500": internal,
          },
        },
      },
      "/v1/entries": {
        post: {
          operationId: "importEntries",
          summary: "Import a list into this member's own lists while the node serves: streamed, one atomic write per batch, resumable under the same importId; bad rows are reported by line and skipped (admin)",
          parameters: queryParameters,
          requestBody: {
            required: true,
            description: "The list: CSV with a header (type,value,category,level,reason,reported_at,expires_at,ref) or JSON Lines, one object per line with those fields",
            content: Object.fromEntries(Object.keys(IMPORT_CONTENT_TYPES).map((type) => [type, { schema: { type: "string" } }])),
          },
          responses: {
            "200": { description: "the import's summary", content: body(json(importSummarySchema)) },
            "400": error("a bad query parameter, a content type that is no list, an unknown category (E_CATEGORY_UNKNOWN) or identifier type (E_IDENTIFIER_TYPE), or a header without a required column (E_API_BODY, E_IMPORT_FORMAT)"),
            "401": unauthorized,
            "403": forbidden("admin"),
            "409": error("another import is running (E_IMPORT_BUSY)"),
            "415": error("the content type is not one of the list types (E_API_BODY)"),
            "500": internal,
            "503": error("the node is stopping (E_ABORTED: whole batches are committed; send the same list again to resume) or holds no OPRF key (E_OPRF_KEY_MISSING)"),
          },
        },
      },
      "/v1/hits/changes": {
        get: {
          operationId: "listHitChanges",
          summary: "Delistings (appeal upheld, expired, false positive…) of hits this node's lookups found, learnt from the providers' filter deltas without asking again; kept for lookup.journalRetentionDays (read)",
          parameters: Object.entries((json(hitChangesQuerySchema) as { properties: Record<string, Record<string, unknown>> }).properties).map(([name, schema]) => {
            const { description, ...rest } = schema;
            return { name, in: "query", required: false, ...(description === undefined ? {} : { description }), schema: rest };
          }),
          responses: {
            "200": { description: "changes seen, oldest first", content: body(json(hitChangesResponseSchema)) },
            "400": error("`since` is not an ISO 8601 time or unix seconds, or an unknown parameter was given (E_API_BODY)"),
            "401": unauthorized,
            "500": internal,
          },
        },
      },
      "/v1/feedback": {
        post: {
          operationId: "reportFeedback",
          summary: "Report on a hit this node keeps (confirmed, false positive, outdated): queued, then sent to its provider in a shuffled batch (check)",
          requestBody: { required: true, content: body(json(feedbackRequestSchema)) },
          responses: {
            "200": { description: "the report, queued", content: body(json(feedbackResponseSchema)) },
            "400": error("the body does not match the schema (E_API_BODY)"),
            "401": unauthorized,
            "403": forbidden("check"),
            "404": error("this node keeps no reportable hit with that id (E_FEEDBACK_UNKNOWN_HIT)"),
            "409": error("the hit already has a report (E_FEEDBACK_DUPLICATE)"),
            "500": internal,
          },
        },
        get: {
          operationId: "listFeedbackReports",
          summary: "This node's feedback reports, queued and sent, with each provider's answer (read)",
          responses: { "200": { description: "reports, oldest first", content: body(json(feedbackListResponseSchema)) }, "401": unauthorized, "500": internal },
        },
      },
      "/v1/feedback/received": {
        get: {
          operationId: "listReceivedFeedback",
          summary: "Feedback reports other members sent about this member's entries: kind, category, tag prefix and date, never who sent which (read)",
          parameters: Object.entries((json(receivedFeedbackQuerySchema) as { properties: Record<string, Record<string, unknown>> }).properties).map(([name, schema]) => {
            const { description, ...rest } = schema;
            return { name, in: "query", required: false, ...(description === undefined ? {} : { description }), schema: rest };
          }),
          responses: {
            "200": { description: "reports received, oldest first", content: body(json(receivedFeedbackResponseSchema)) },
            "400": error("`since` is not an ISO 8601 time or unix seconds, or an unknown parameter was given (E_API_BODY)"),
            "401": unauthorized,
            "500": internal,
          },
        },
      },
      "/v1/imports": {
        get: {
          operationId: "getImportProgress",
          summary: "The import in flight and where it is (read)",
          responses: { "200": { description: "the import in flight, or null", content: body(json(importsResponseSchema)) }, "401": unauthorized, "500": internal },
        },
      },
      "/v1/entries/check": {
        post: {
          operationId: "checkOwnEntries",
          summary: "Check identifiers against this member's own lists only: nothing is asked of a peer or written to the ledger (check)",
          requestBody: { required: true, content: body(json(ownCheckRequestSchema)) },
          responses: {
            "200": { description: "per item, in order", content: body(json(ownCheckResponseSchema)) },
            "400": badBody, "401": unauthorized, "403": forbidden("check"), "500": internal, "503": noKey,
          },
        },
      },
      "/v1/entries/remove": {
        post: {
          operationId: "removeEntries",
          summary: "Delist identifiers (an appeal upheld, an error corrected), each removal kept with its reason code in the store's audit trail; peers see it with the next filter delta (admin)",
          requestBody: { required: true, content: body(json(removeRequestSchema)) },
          responses: {
            "200": { description: "per item, in order", content: body(json(removeResponseSchema)) },
            "400": badBody, "401": unauthorized, "403": forbidden("admin"), "500": internal, "503": noKey,
          },
        },
      },
      "/v1/entries/stats": {
        get: {
          operationId: "getListStats",
          summary: "Entries per category, expired ones awaiting a sweep, the key epoch (read)",
          responses: { "200": { description: "figures", content: body(json(statsResponseSchema)) }, "401": unauthorized, "500": internal },
        },
      },
      "/v1/entries/export": {
        get: {
          operationId: "exportEntries",
          summary: "Export the lists, streamed: tags and metadata, never raw identifiers (admin)",
          parameters: [{ name: "format", in: "query", required: false, schema: { type: "string", enum: ["csv", "jsonl"], default: "csv" } }],
          responses: {
            "200": { description: "the export", content: { "text/csv": { schema: { type: "string" } }, "application/x-ndjson": { schema: { type: "string" } } } },
            "400": error("format is not csv or jsonl (E_API_BODY)"), "401": unauthorized, "403": forbidden("admin"), "500": internal,
          },
        },
      },
      "/v1/publish": {
        post: {
          operationId: "publishSnapshots",
          summary: "Publish the contribution snapshot (live count and filter commitment) of each category named, or of every active one, to the ContributionRegistry (admin)",
          requestBody: { required: false, content: body(json(publishRequestSchema)) },
          responses: {
            "200": { description: "the snapshots published and their transactions", content: body(json(publishResponseSchema)) },
            "400": error("the body does not match the schema (E_API_BODY) or names a category that is not active (E_CATEGORY_UNKNOWN)"),
            "401": unauthorized, "403": forbidden("admin"), "500": internal,
            "503": error("the chain did not take the transaction (E_CHAIN_UNREACHABLE, E_NOT_MEMBER)"),
          },
        },
      },
      "/v1/openapi.json": {
        get: {
          operationId: "getOpenApiDocument",
          summary: "This document",
          security: [],
          responses: {
            "200": { description: "OpenAPI 3.1", content: body({ type: "object" }) },
            "401": error("only the bare URL is served without a token: with a query string it needs the bearer token like every other route (E_API_TOKEN)"),
          },
        },
      },
    },
  };
}
