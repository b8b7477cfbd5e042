import { timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import { exchangeSignal } from "../deadline.ts";
import { RiskshareError, isRiskshareError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { API_DEFAULTS } from "./options.ts";
import { openApiDocument } from "./openapi.ts";
import {
  checkRequestSchema, type CheckRequest, type CheckResponse, type HealthResponse, type PeersResponse,
} from "./schemas.ts";

/** Options of {@link ApiServer}. */
export interface ApiServerOptions {
  host: string;
  port: number;
  token: string;
  version: string;
  bodyLimitBytes?: number;
  requestTimeoutMs?: number;
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
  logger: Logger;
}

/** Error codes that are the client's fault, with their HTTP status. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  E_API_TOKEN: 401,
  E_API_BODY: 400,
  E_BAD_INPUT: 400,
  E_NOT_FOUND: 404,
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
  private readonly tokenBytes: Buffer;
  private readonly controller = new AbortController();
  private readonly registered: { method: string; url: string }[] = [];

  constructor(opts: ApiServerOptions, modules: ApiServerModules) {
    if (opts.host !== "127.0.0.1") throw new RiskshareError("E_CONFIG", "the API binds to 127.0.0.1 only", { host: opts.host });
    this.opts = { bodyLimitBytes: API_DEFAULTS.bodyLimitBytes, requestTimeoutMs: API_DEFAULTS.requestTimeoutMs, ...opts };
    this.modules = modules;
    this.tokenBytes = Buffer.from(opts.token);
    this.app = Fastify({ logger: false, bodyLimit: this.opts.bodyLimitBytes, requestTimeout: this.opts.requestTimeoutMs });
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
      const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "");
      if (given.length !== this.tokenBytes.length || !timingSafeEqual(given, this.tokenBytes)) {
        throw new RiskshareError("E_API_TOKEN", "missing or wrong bearer token");
      }
    });
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
    app.post("/v1/check", async (request) => {
      const parsed = checkRequestSchema.safeParse(request.body);
      if (!parsed.success) {
        const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`);
        throw new RiskshareError("E_API_BODY", `invalid body: ${problems.slice(0, 10).join("; ")}`, { problems: problems.length });
      }
      // A plain signal per request, not AbortSignal.any(): on Node 24 a composite signal that is handed
      // on to another AbortSignal.any() is never collected once its timeout fires, so every check leaked one.
      const deadline = exchangeSignal(this.opts.requestTimeoutMs, [this.controller.signal], "the check took too long");
      try {
        return await this.modules.check(parsed.data, deadline.signal);
      } finally {
        deadline.dispose();
      }
    });
  }

  private sendError(reply: FastifyReply, err: RiskshareError, status = STATUS_BY_CODE[err.code] ?? 500): FastifyReply {
    return reply.code(status).send({ error: { code: err.code, message: err.message, hint: err.hint } });
  }
}
