import { timingSafeEqual } from "node:crypto";
import { Readable } from "node:stream";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { z } from "zod";
import { API_SCOPES, type ApiScope } from "../config/index.ts";
import { exchangeSignal } from "../deadline.ts";
import { RiskshareError, isRiskshareError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { API_DEFAULTS, IMPORT_CONTENT_TYPES } from "./options.ts";
import { openApiDocument } from "./openapi.ts";
import {
  checkRequestSchema, feedbackRequestSchema, hitChangesQuerySchema, importQuerySchema, receivedFeedbackQuerySchema, ownCheckRequestSchema, publishRequestSchema, removeRequestSchema,
  type CheckRequest, type CheckResponse, type HealthResponse, type ImportStatusResponse, type ImportSummaryResponse, type OwnCheckResponse, type PeersResponse,
  type FeedbackReportView, type HitChangesResponse, type PublishResponse, type ReceivedFeedbackResponse, type RemoveResponse, type StatsResponse,
} from "./schemas.ts";

/** The API's tokens by scope, read again at most once a second (a rotated token takes over without a restart). */
export type ApiTokenSource = Partial<Record<ApiScope, string>> | (() => Promise<Partial<Record<ApiScope, string>>>);


/** The member's own lists behind the /v1/entries routes and /v1/publish (node/store/lists.ts). */
export interface ApiListModules {
  import(source: { stream: Readable; name: string; sizeBytes: number | undefined; importId: string | undefined }, opts: {
    format: "csv" | "jsonl"; defaultType: string | undefined; defaultCategory: string | undefined; resume: boolean; signal: AbortSignal;
  }): Promise<ImportSummaryResponse>;
  importStatus(): ImportStatusResponse | undefined;
  check(items: readonly { type: string; value: string }[]): Promise<OwnCheckResponse>;
  remove(items: readonly { type: string; value: string }[], reason: string): Promise<RemoveResponse>;
  stats(): Promise<StatsResponse>;
  export(format: "csv" | "jsonl"): AsyncIterable<string>;
  publish(categories: readonly string[] | undefined): Promise<PublishResponse>;
}

/** Feedback on hits behind the /v1/feedback routes (node/store's KeptHits and Store); without them those routes answer E_NOT_FOUND. */
export interface ApiFeedbackModules {
  /** Queues a report about a kept hit (E_FEEDBACK_UNKNOWN_HIT, E_FEEDBACK_DUPLICATE). */
  report(hitId: string, kind: "confirmed" | "false_positive" | "outdated"): Promise<FeedbackReportView>;
  /** This node's reports, queued and sent, oldest first. */
  list(): Promise<FeedbackReportView[]>;
  /** Reports about this member's entries received at or after `sinceMs`, oldest first. */
  received(sinceMs: number): Promise<ReceivedFeedbackResponse["received"]>;
}

/** Options of {@link ApiServer}. */
export interface ApiServerOptions {
  host: string;
  port: number;
  /** The bearer tokens of each scope: read ⊂ check ⊂ admin (a scope's token may do what the ones before it may). */
  tokens: ApiTokenSource;
  version: string;
  bodyLimitBytes?: number;
  requestTimeoutMs?: number;
  /** How long tokens read from a function source are used before it is asked again (default 1 s). */
  tokenCacheMs?: number;
}

/** Dependencies of {@link ApiServer}: what answers each route. */
export interface ApiServerModules {
  check(request: CheckRequest, signal: AbortSignal): Promise<CheckResponse>;
  health(): Promise<HealthResponse>;
  peers(): Promise<PeersResponse>;
  /** The querier's journal entry of a query this node sent (its identifiers and blinds sealed under the journal key), if any. */
  journal?(queryId: string): Promise<unknown>;
  /** The provider-signed answers the querier's journal keeps (one per answered query still retained), for `audit verify`. */
  answers?(): Promise<unknown[]>;
  /** Delistings of hits this node's lookups found, seen at or after `sinceMs` (unix ms), oldest first; none when absent. */
  hitChanges?(sinceMs: number): Promise<HitChangesResponse["changes"]>;
  /** The member's own lists; without them the list routes answer E_NOT_FOUND. */
  lists?: ApiListModules;
  /** Feedback on hits; without it the feedback routes answer E_NOT_FOUND. */
  feedback?: ApiFeedbackModules;
  logger: Logger;
}

/** The scope each route needs (by method and fastify's route URL); a route not listed needs admin. */
const ROUTE_SCOPES: Readonly<Record<string, ApiScope>> = {
  "GET /v1/health": "read", "HEAD /v1/health": "read",
  "GET /v1/peers": "read", "HEAD /v1/peers": "read",
  "GET /v1/queries/:queryId": "read", "HEAD /v1/queries/:queryId": "read",
  "GET /v1/answers": "read", "HEAD /v1/answers": "read",
  "GET /v1/hits/changes": "read", "HEAD /v1/hits/changes": "read",
  "GET /v1/imports": "read", "HEAD /v1/imports": "read",
  "GET /v1/entries/stats": "read", "HEAD /v1/entries/stats": "read",
  "GET /v1/feedback": "read", "HEAD /v1/feedback": "read",
  "GET /v1/feedback/received": "read", "HEAD /v1/feedback/received": "read",
  "POST /v1/check": "check",
  // A report is what a checking system knows to make: the check token may, the read token may not.
  "POST /v1/feedback": "check",
  "POST /v1/entries/check": "check",
  "POST /v1/entries": "admin",
  "POST /v1/entries/remove": "admin",
  "GET /v1/entries/export": "admin", "HEAD /v1/entries/export": "admin",
  "POST /v1/publish": "admin",
};

/** The scope a route needs (admin for any route not listed). */
export function routeScope(method: string, url: string): ApiScope {
  return ROUTE_SCOPES[`${method} ${url}`] ?? "admin";
}

/** How long the tokens read from their source are used before they are read again. */
const TOKEN_CACHE_MS = 1_000;

/** Error codes that are the client's fault, with their HTTP status. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  E_API_TOKEN: 401,
  E_API_SCOPE: 403,
  E_IMPORT_BUSY: 409,
  E_ABORTED: 503,
  E_IDENTIFIER_INVALID: 400,
  E_ENTRY_INVALID: 400,
  E_IMPORT_FORMAT: 400,
  E_API_BODY: 400,
  E_BAD_INPUT: 400,
  E_NOT_FOUND: 404,
  E_FEEDBACK_UNKNOWN_HIT: 404,
  E_FEEDBACK_DUPLICATE: 409,
  E_IDENTIFIER_TYPE: 400,
  E_CATEGORY_UNKNOWN: 400,
  E_BACKLOG: 503,
  E_LEDGER_OTHER_WRITER: 503,
  E_NOT_MEMBER: 503,
  E_NODE_NOT_READY: 503,
  E_CHAIN_UNREACHABLE: 503,
  E_OPRF_KEY_MISSING: 503,
};

/**
 * The node's local HTTP API for the institution's own systems: 127.0.0.1 only, bearer token on
 * every route but the OpenAPI document, bodies validated by the zod schemas the document is
 * generated from. Raw identifiers in a body are never logged (request logging is off; errors
 * carry field paths, not values).
 */
export class ApiServer {
  private readonly opts: Required<ApiServerOptions>;
  private readonly modules: ApiServerModules;
  private readonly app: FastifyInstance;
  private tokenCache: { atMs: number; tokens: Promise<{ scope: ApiScope; bytes: Buffer }[]> } | undefined;
  private readonly controller = new AbortController();
  private readonly registered: { method: string; url: string }[] = [];

  constructor(opts: ApiServerOptions, modules: ApiServerModules) {
    if (opts.host !== "127.0.0.1") throw new RiskshareError("E_CONFIG", "the API binds to 127.0.0.1 only", { host: opts.host });
    this.opts = { bodyLimitBytes: API_DEFAULTS.bodyLimitBytes, requestTimeoutMs: API_DEFAULTS.requestTimeoutMs, tokenCacheMs: TOKEN_CACHE_MS, ...opts };
    this.modules = modules;
    // No server-wide request timeout: a list import streams for as long as the list is long. Checks
    // have their own deadline (requestTimeoutMs); the API listens on 127.0.0.1 behind a token.
    this.app = Fastify({ logger: false, bodyLimit: this.opts.bodyLimitBytes, requestTimeout: 0 });
    this.app.addHook("onRoute", (route) => {
      for (const method of [route.method].flat()) this.registered.push({ method, url: route.url });
    });
    this.routes();
  }

  /** Every route the server answers, as fastify registered it (with the HEAD twin of each GET): what the OpenAPI document must describe. */
  get registeredRoutes(): readonly { method: string; url: string }[] {
    return this.registered;
  }

  /** Starts listening; returns the bound port. */
  async start(): Promise<number> {
    await this.app.listen({ host: this.opts.host, port: this.opts.port });
    const port = this.port();
    this.modules.logger.child({ module: "api" }).info({ host: this.opts.host, port }, "api listening");
    return port;
  }

  /** The port listened on (the configured one until {@link start} binds, which matters when it is 0). */
  private port(): number {
    const address = this.app.server.address();
    return typeof address === "object" && address !== null ? address.port : this.opts.port;
  }

  /** Stops accepting requests and aborts the ones in flight (idempotent). */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.app.close();
  }

  private routes(): void {
    const app = this.app;
    app.setErrorHandler((err, _request, reply) => {
      const fastifyError = err as { statusCode?: number; code?: string; message?: string };
      if (isRiskshareError(err)) return this.sendError(reply, err);
      if (fastifyError.statusCode === 415) {
        return this.sendError(reply, new RiskshareError("E_API_BODY", `unsupported content type; send JSON, or a list as ${Object.keys(IMPORT_CONTENT_TYPES).join(", ")}`), 415);
      }
      if (fastifyError.statusCode === 413) return this.sendError(reply, new RiskshareError("E_API_BODY", `the body is larger than ${this.opts.bodyLimitBytes} bytes`), 413);
      if (fastifyError.statusCode !== undefined && fastifyError.statusCode < 500) {
        return this.sendError(reply, new RiskshareError("E_API_BODY", `the body is not valid JSON (${fastifyError.code ?? "parse error"})`));
      }
      this.modules.logger.child({ module: "api" }).error({ err: fastifyError.message }, "api request failed");
      return this.sendError(reply, new RiskshareError("E_INTERNAL", "the request failed inside the node"));
    });
    app.setNotFoundHandler((request, reply) => {
      reply.code(404).send({ error: { code: "E_NOT_FOUND", message: `no route ${request.method} ${request.url.split("?")[0]}`, hint: "The routes are listed at /v1/openapi.json." } });
    });
    app.addHook("onRequest", async (request) => {
      if (request.url === "/v1/openapi.json") return;
      const header = request.headers.authorization ?? "";
      const scope = await this.scopeOf(header.startsWith("Bearer ") ? header.slice(7) : "");
      if (scope === undefined) throw new RiskshareError("E_API_TOKEN", "missing or wrong bearer token");
      const route = request.routeOptions.url;
      if (route === undefined) return; // no such route: the 404 handler answers
      const needed = routeScope(request.method, route);
      if (API_SCOPES.indexOf(scope) < API_SCOPES.indexOf(needed)) {
        throw new RiskshareError("E_API_SCOPE", `this ${scope} token may not call ${request.method} ${route}: it needs the ${needed} token`);
      }
    });
    // A list is streamed in as it is sent, never buffered whole (so bodyLimit does not apply to it).
    app.addContentTypeParser(Object.keys(IMPORT_CONTENT_TYPES), (_request, payload, done) => done(null, payload));
    app.get("/v1/openapi.json", async () => openApiDocument(this.opts.version, { port: this.port() }));
    app.get("/v1/health", async (_request, reply) => {
      const health = await this.modules.health();
      return reply.code(health.status === "refusing" ? 503 : 200).send(health);
    });
    app.get("/v1/peers", async () => this.modules.peers());
    app.get<{ Params: { queryId: string } }>("/v1/queries/:queryId", async (request) => {
      const { queryId } = request.params;
      if (!/^0x[0-9a-fA-F]{64}$/.test(queryId)) throw new RiskshareError("E_API_BODY", "queryId must be a 0x-prefixed 32-byte hex id");
      const entry = await this.modules.journal?.(queryId);
      if (entry === undefined) throw new RiskshareError("E_NOT_FOUND", "this node sent no query with that id");
      return entry;
    });
    app.get("/v1/answers", async () => ({ answers: (await this.modules.answers?.()) ?? [] }));
    app.get("/v1/hits/changes", async (request) => {
      const { since } = parsed(hitChangesQuerySchema, request.query, "query");
      return { changes: (await this.modules.hitChanges?.(since === undefined ? 0 : sinceMs(since))) ?? [] };
    });
    app.post("/v1/check", async (request) => {
      const body = parsed(checkRequestSchema, request.body, "body");
      // A plain signal per request, not AbortSignal.any(): on Node 24 a composite signal that is handed
      // on to another AbortSignal.any() is never collected once its timeout fires, so every check leaked one.
      const deadline = exchangeSignal(this.opts.requestTimeoutMs, [this.controller.signal], "the check took too long");
      try {
        return await this.modules.check(body, deadline.signal);
      } finally {
        deadline.dispose();
      }
    });
    this.listRoutes();
    this.feedbackRoutes();
  }

  /** Feedback on hits: report one (opt-in, per hit), list this node's reports, list the ones received about its entries. */
  private feedbackRoutes(): void {
    const app = this.app;
    const feedback = (): ApiFeedbackModules => {
      if (this.modules.feedback === undefined) throw new RiskshareError("E_NOT_FOUND", "this node serves no feedback routes");
      return this.modules.feedback;
    };
    app.post("/v1/feedback", async (request) => {
      const body = parsed(feedbackRequestSchema, request.body, "body");
      return { report: await feedback().report(body.hitId, body.kind) };
    });
    app.get("/v1/feedback", async () => ({ reports: await feedback().list() }));
    app.get("/v1/feedback/received", async (request) => {
      const { since } = parsed(receivedFeedbackQuerySchema, request.query, "query");
      return { received: await feedback().received(since === undefined ? 0 : sinceMs(since)) };
    });
  }

  /** The member's own lists: import (streamed), progress, check, remove, stats, export, publish. */
  private listRoutes(): void {
    const app = this.app;
    const lists = (): ApiListModules => {
      if (this.modules.lists === undefined) throw new RiskshareError("E_NOT_FOUND", "this node serves no list routes");
      return this.modules.lists;
    };
    app.post("/v1/entries", async (request) => {
      const query = parsed(importQuerySchema, request.query, "query");
      const contentType = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
      const format = IMPORT_CONTENT_TYPES[contentType];
      if (format === undefined) throw new RiskshareError("E_API_BODY", `send the list as ${Object.keys(IMPORT_CONTENT_TYPES).join(", ")}`);
      const length = Number(request.headers["content-length"]);
      // Ends the import at its next batch when the client goes away or the node stops; whole batches stay committed.
      const controller = new AbortController();
      const onClose = (): void => { if (!request.raw.complete) controller.abort(); };
      request.raw.once("close", onClose);
      const onStop = (): void => controller.abort();
      this.controller.signal.addEventListener("abort", onStop, { once: true });
      try {
        return await lists().import(
          { stream: request.body as Readable, name: query.name ?? `upload.${format}`, sizeBytes: Number.isSafeInteger(length) && length >= 0 ? length : undefined, importId: query.importId },
          { format, defaultType: query.type, defaultCategory: query.category, resume: query.resume !== "false", signal: controller.signal },
        );
      } finally {
        request.raw.off("close", onClose);
        this.controller.signal.removeEventListener("abort", onStop);
      }
    });
    app.get("/v1/imports", async () => ({ current: lists().importStatus() ?? null }));
    app.post("/v1/entries/check", async (request) => lists().check(parsed(ownCheckRequestSchema, request.body, "body").items));
    app.post("/v1/entries/remove", async (request) => {
      const body = parsed(removeRequestSchema, request.body, "body");
      return lists().remove(body.items, body.reason);
    });
    app.get("/v1/entries/stats", async () => lists().stats());
    app.get<{ Querystring: { format?: string } }>("/v1/entries/export", async (request, reply) => {
      const format = request.query.format ?? "csv";
      if (format !== "csv" && format !== "jsonl") throw new RiskshareError("E_API_BODY", "format must be csv or jsonl");
      // The first line is read before the reply starts, so a failure to open the export gets a status of its own.
      const lines = lists().export(format)[Symbol.asyncIterator]();
      const first = await lines.next();
      reply.type(format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson");
      return reply.send(Readable.from((async function* () {
        if (first.done) return;
        yield first.value;
        for (let next = await lines.next(); !next.done; next = await lines.next()) yield next.value;
      })()));
    });
    app.post("/v1/publish", async (request) => lists().publish(parsed(publishRequestSchema, request.body ?? {}, "body").categories));
  }

  /** The scope of a presented token, comparing in constant time; undefined when it is none of them. */
  private async scopeOf(presented: string): Promise<ApiScope | undefined> {
    const given = Buffer.from(presented);
    let found: ApiScope | undefined;
    for (const { scope, bytes } of await this.tokens()) {
      if (given.length === bytes.length && timingSafeEqual(given, bytes) && found === undefined) found = scope;
    }
    return found;
  }

  private tokens(): Promise<{ scope: ApiScope; bytes: Buffer }[]> {
    const nowMs = Date.now();
    if (this.tokenCache === undefined || nowMs - this.tokenCache.atMs >= this.opts.tokenCacheMs) {
      const source = this.opts.tokens;
      const read = (async () => {
        const tokens = typeof source === "function" ? await source() : source;
        // An empty token is no token: it would let an empty Authorization header in.
        return API_SCOPES.flatMap((scope) => (tokens[scope] ? [{ scope, bytes: Buffer.from(tokens[scope]) }] : []));
      })();
      const previous = this.tokenCache;
      this.tokenCache = { atMs: nowMs, tokens: read };
      // A failed read (a token file being replaced) keeps the tokens read before, if any.
      read.catch(() => { this.tokenCache = previous; });
    }
    return this.tokenCache.tokens;
  }

  private sendError(reply: FastifyReply, err: RiskshareError, status = STATUS_BY_CODE[err.code] ?? 500): FastifyReply {
    return reply.code(status).send({ error: { code: err.code, message: err.message, hint: err.hint } });
  }
}

/** `input` as `schema` parses it; E_API_BODY naming each field at fault (never its value). */
/** Unix ms of a `since` parameter (ISO 8601 or unix seconds); E_API_BODY when it is no time. */
function sinceMs(since: string): number {
  const ms = /^[0-9]+$/.test(since) ? Number(since) * 1000 : Date.parse(since);
  if (!Number.isFinite(ms)) throw new RiskshareError("E_API_BODY", "invalid query: since: must be an ISO 8601 time or unix seconds");
  return ms;
}

function parsed<T extends z.ZodType>(schema: T, input: unknown, what: "body" | "query"): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join(".") || what}: ${issue.message}`);
  throw new RiskshareError("E_API_BODY", `invalid ${what}: ${problems.slice(0, 10).join("; ")}`, { problems: problems.length });
}
