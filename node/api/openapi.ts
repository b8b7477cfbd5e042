import { z } from "zod";
import { CONFIG_DEFAULTS } from "../config/index.ts";
import { checkRequestSchema, checkResponseSchema, errorResponseSchema, healthResponseSchema, peersResponseSchema } from "./schemas.ts";

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
  const internal = error("the request failed inside the node (E_INTERNAL)");
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
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
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
