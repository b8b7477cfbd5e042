import { z } from "zod";
import { checkRequestSchema, checkResponseSchema, errorResponseSchema, healthResponseSchema, peersResponseSchema } from "./schemas.ts";

/** The OpenAPI 3.1 document of the local API, generated from the same zod schemas that validate requests. */
export function openApiDocument(version: string): Record<string, unknown> {
  const json = (schema: z.ZodType) => z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", unrepresentable: "any" });
  const errors = {
    "400": { description: "invalid body", content: { "application/json": { schema: json(errorResponseSchema) } } },
    "401": { description: "missing or wrong bearer token", content: { "application/json": { schema: json(errorResponseSchema) } } },
  };
  return {
    openapi: "3.1.0",
    info: { title: "riskshare node API", version, description: "Local API of a riskshare node, for the institution's own systems. Binds to 127.0.0.1; every call needs the node's bearer token." },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    security: [{ bearer: [] }],
    paths: {
      "/v1/check": {
        post: {
          summary: "Check identifiers against this node's lists and its peers' (fan-out), with one merged verdict",
          requestBody: { required: true, content: { "application/json": { schema: json(checkRequestSchema) } } },
          responses: {
            "200": { description: "merged verdict", content: { "application/json": { schema: json(checkResponseSchema) } } },
            ...errors,
            "503": { description: "the node refuses lookups (see /v1/health)", content: { "application/json": { schema: json(errorResponseSchema) } } },
          },
        },
      },
      "/v1/health": {
        get: {
          summary: "Node health: chain sync, ledger backlog, peers",
          responses: {
            "200": { description: "ok or degraded", content: { "application/json": { schema: json(healthResponseSchema) } } },
            "503": { description: "refusing lookups", content: { "application/json": { schema: json(healthResponseSchema) } } },
            "401": errors["401"],
          },
        },
      },
      "/v1/peers": {
        get: {
          summary: "Consortium members and whether this node is connected to them",
          responses: { "200": { description: "members", content: { "application/json": { schema: json(peersResponseSchema) } } }, "401": errors["401"] },
        },
      },
      "/v1/queries/{queryId}": {
        get: {
          summary: "The journal of a query this node sent: its request, blinding and items (types and salted hashes), to open the on-chain commitment",
          parameters: [{ name: "queryId", in: "path", required: true, schema: { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" } }],
          responses: { "200": { description: "journal entry" }, "404": { description: "no such query sent by this node" }, "401": errors["401"] },
        },
      },
      "/v1/openapi.json": { get: { summary: "This document", security: [], responses: { "200": { description: "OpenAPI 3.1" } } } },
    },
  };
}
