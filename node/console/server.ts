/**
 * The console's HTTP server (fastify): read-only pages over the ledger index, the registry view and
 * governance, each behind the read-only token, with a strict CSP and every asset served from here.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { Readable } from "node:stream";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { getAddress, isAddress } from "ethers";
import { z } from "zod";
import {
  AUDIT_COLUMNS, auditRowOf, creditsOf, formatShare, lookupKindName, QueryOutcome, readLedger, recordSignatureCheck, UNSIGNED_OUTCOMES, type AuditModules,
} from "../chain/index.ts";
import { RiskshareError, isRiskshareError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { csvCell } from "../store/index.ts";
import { ledgerData, memberData, overviewData, type ConsoleConsortium, type DayRange, type DayTotals } from "./data.ts";
import { escapeHtml, filterForm, layout, tableCsv, tableHtml, urlOf, type Cell, type Table } from "./html.ts";
import type { IndexFilter, IndexStatus, LedgerIndex } from "./ledger-index.ts";
import type { LedgerVerifier } from "./verify.ts";

/** A governance proposal as the console shows it (cli/governance.ts readProposal gives these). */
export interface ConsoleProposal {
  id: bigint;
  kind: string;
  summary: string;
  args: Record<string, unknown>;
  proposer: string;
  createdAt: number;
  expiresAt: number;
  votes: number;
  quorum: number;
  state: string;
  timelocked: boolean;
  eta: number | null;
  lapsesAt: number | null;
  voters: string[];
}

/** What the console's registry view offers (a ConsortiumView fits). */
export interface ConsoleView extends ConsoleConsortium {
  member(address: string): { name: string } | undefined;
  categoryIdByName(name: string): number | undefined;
  category(id: number): { name: string } | undefined;
}

/** Options of {@link ConsoleServer}. */
export interface ConsoleServerOptions {
  host: string;
  port: number;
  /** The read-only token every request must present. */
  token: string;
  pageSize: number;
  cookieName: string;
  requestTimeoutMs: number;
}

/** Dependencies of {@link ConsoleServer}. */
export interface ConsoleServerModules {
  index: LedgerIndex;
  view: ConsoleView;
  audit: AuditModules;
  ledgerAddress: string;
  verifier: LedgerVerifier;
  /** Every proposal, oldest first. */
  proposals(): Promise<ConsoleProposal[]>;
  /** The index's progress: its status, the chain head it last saw, and its last error. */
  indexStatus(): IndexStatus & { headBlock: number; lastError?: string };
  signal: AbortSignal;
  logger: Logger;
}

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const require = createRequire(import.meta.url);
/** The assets, each from the file the package installs (uPlot from node_modules, ours beside this file). */
const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  "uPlot.iife.min.js": { file: require.resolve("uplot/dist/uPlot.iife.min.js"), type: "text/javascript; charset=utf-8" },
  "uPlot.min.css": { file: require.resolve("uplot/dist/uPlot.min.css"), type: "text/css; charset=utf-8" },
  "console.js": { file: new URL("./assets/console.js", import.meta.url).pathname, type: "text/javascript; charset=utf-8" },
  "console.css": { file: new URL("./assets/console.css", import.meta.url).pathname, type: "text/css; charset=utf-8" },
};

const STATUS_BY_CODE: Readonly<Record<string, number>> = { E_CONSOLE_TOKEN: 401, E_BAD_INPUT: 400, E_CATEGORY_UNKNOWN: 400, E_NOT_FOUND: 404, E_CHAIN_UNREACHABLE: 503 };

/** zod: an ISO 8601 date or date-time as unix seconds (as `audit --from/--to` read it); empty is absent. */
const isoTime = z.string().transform((value, ctx) => {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: "custom", message: "must be an ISO 8601 date such as 2026-11-23 or 2026-11-23T10:00:00Z" });
    return z.NEVER;
  }
  return Math.floor(ms / 1000);
});
const address = z.string().refine((v) => isAddress(v), "must be a 0x-prefixed 20-byte address").transform((v) => getAddress(v));
const blankIsAbsent = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === "" ? undefined : v), schema.optional());
const ledgerQuerySchema = z.object({
  from: blankIsAbsent(isoTime), to: blankIsAbsent(isoTime), querier: blankIsAbsent(address), provider: blankIsAbsent(address),
  category: blankIsAbsent(z.string().max(128)), outcome: blankIsAbsent(z.enum(Object.keys(QueryOutcome) as [string, ...string[]])),
  page: blankIsAbsent(z.coerce.number().int().positive().max(1_000_000)), csv: blankIsAbsent(z.string().max(32)),
});
const rangeQuerySchema = z.object({ from: blankIsAbsent(isoTime), to: blankIsAbsent(isoTime), csv: blankIsAbsent(z.string().max(32)) });

function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  const parsed = schema.safeParse(query);
  if (parsed.success) return parsed.data;
  throw new RiskshareError("E_BAD_INPUT", parsed.error.issues.map((i) => `${i.path.join(".") || "query"}: ${i.message}`).join("; "));
}

function isoOf(seconds: number | bigint | null): string {
  const value = Number(seconds ?? 0);
  return value === 0 ? "" : new Date(value * 1000).toISOString();
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** The console's web server. */
export class ConsoleServer {
  private readonly opts: ConsoleServerOptions;
  private readonly modules: ConsoleServerModules;
  private readonly app: FastifyInstance;
  private readonly tokenDigest: Buffer;

  constructor(opts: ConsoleServerOptions, modules: ConsoleServerModules) {
    this.opts = opts;
    this.modules = modules;
    this.tokenDigest = sha256(opts.token);
    this.app = Fastify({ logger: false, requestTimeout: opts.requestTimeoutMs, bodyLimit: 1_024 });
    this.app.addHook("onRequest", async (request, reply) => this.authenticate(request, reply));
    this.app.addHook("onSend", async (_request, reply, payload) => {
      reply.header("Content-Security-Policy", CSP);
      reply.header("X-Content-Type-Options", "nosniff");
      reply.header("Referrer-Policy", "no-referrer");
      reply.header("Cache-Control", "no-store");
      return payload;
    });
    this.app.setErrorHandler((err, request, reply) => this.sendError(err, request, reply));
    this.routes();
  }

  /** Listens; returns the URL. */
  async start(): Promise<string> {
    await this.app.listen({ host: this.opts.host, port: this.opts.port });
    const bound = this.app.server.address();
    const port = typeof bound === "object" && bound !== null ? bound.port : this.opts.port;
    return `http://${this.opts.host.includes(":") ? `[${this.opts.host}]` : this.opts.host}:${port}`;
  }

  /** Stops listening (idempotent). */
  async stop(): Promise<void> {
    await this.app.close();
  }

  /** Token from `Authorization: Bearer`, the session cookie, or a first page load's `?token=` (which sets the cookie and drops it from the URL). */
  private async authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const url = new URL(request.url, "http://console");
    const fromQuery = url.searchParams.get("token");
    if (fromQuery !== null && request.method === "GET" && this.matches(fromQuery)) {
      url.searchParams.delete("token");
      reply.header("Set-Cookie", `${this.opts.cookieName}=${fromQuery}; Path=/; HttpOnly; SameSite=Strict`);
      await reply.redirect(`${url.pathname}${url.search}`, 303);
      return;
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
    const cookie = (request.headers.cookie ?? "").split(";").map((c) => c.trim().split("=")).find(([name]) => name === this.opts.cookieName)?.[1];
    const presented = bearer ?? cookie;
    if (presented === undefined || !this.matches(presented)) {
      throw new RiskshareError("E_CONSOLE_TOKEN", presented === undefined ? "no console token presented" : "the console token presented is not this console's");
    }
  }

  private matches(presented: string): boolean {
    return timingSafeEqual(sha256(presented), this.tokenDigest);
  }

  private sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const known = isRiskshareError(err) ? err : (err as { statusCode?: number }).statusCode === 404 ? new RiskshareError("E_NOT_FOUND", "no such page") : undefined;
    if (known === undefined) this.modules.logger.error({ err }, "console request failed");
    const error = known ?? new RiskshareError("E_INTERNAL", "the console failed to answer");
    const status = STATUS_BY_CODE[error.code] ?? 500;
    const body = { error: error.toJSON() };
    if ((request.headers.accept ?? "").includes("text/html")) {
      return reply.code(status).type("text/html; charset=utf-8").send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(error.code)}</title></head><body><h1>${escapeHtml(error.code)}</h1><p>${escapeHtml(error.message)}.</p><p>${escapeHtml(error.hint)}</p></body></html>`);
    }
    return reply.code(status).type("application/json").send(body);
  }

  private html(reply: FastifyReply, title: string, path: string, body: string, scripts = false): FastifyReply {
    const s = this.modules.indexStatus();
    const status = `index: block ${s.indexedBlock} of ${s.headBlock}, ${s.records.toLocaleString("en")} records${s.lastError ? ` (last poll failed: ${s.lastError})` : ""}`;
    return reply.type("text/html; charset=utf-8").send(layout({ title, path, body, status, scripts }));
  }

  /** Sends table `csv` of `tables` as CSV when asked (`?csv=<id>`); true when it did. */
  private csvOf(reply: FastifyReply, tables: readonly Table[], csv: string | undefined, name: string): boolean {
    if (csv === undefined) return false;
    const table = tables.find((t) => t.id === csv);
    if (table === undefined) throw new RiskshareError("E_NOT_FOUND", `this page has no table ${csv}`);
    void reply.type("text/csv; charset=utf-8").header("Content-Disposition", `attachment; filename="${name}-${table.id}.csv"`).send(tableCsv(table));
    return true;
  }

  private memberName(address: string): string {
    return this.modules.view.member(address)?.name ?? address;
  }

  private memberCell(address: string): Cell {
    return { text: this.memberName(address), href: `/member/${address}`, title: address };
  }

  private routes(): void {
    const app = this.app;
    app.get("/assets/:name", async (request, reply) => {
      const asset = ASSETS[(request.params as { name: string }).name];
      if (asset === undefined) throw new RiskshareError("E_NOT_FOUND", "no such asset");
      return reply.type(asset.type).send(await readFile(asset.file));
    });
    // Browsers ask for it on every page: no icon, and no 404 in their console.
    app.get("/favicon.ico", async (_request, reply) => reply.code(204).send());
    app.get("/api/status", async () => ({ ...this.modules.indexStatus() }));
    app.get("/", async (request, reply) => this.overview(request, reply));
    app.get("/ledger", async (request, reply) => this.ledger(request, reply));
    app.get("/ledger.csv", async (request, reply) => this.ledgerCsv(request, reply));
    app.get("/ledger/record/:block/:logIndex", async (request, reply) => this.record(request, reply));
    app.get("/member/:address", async (request, reply) => this.member(request, reply));
    app.get("/governance", async (request, reply) => this.governance(request, reply));
    app.get("/verify", async (request, reply) => this.verify(request, reply));
    app.get("/api/verify", async () => this.modules.verifier.status());
    // Starting a verification changes nothing on chain or on disk; POST keeps it out of prefetches and history.
    app.post("/api/verify", async () => this.modules.verifier.start(this.modules.signal));
  }

  private dayRange(query: { from?: number; to?: number }): DayRange {
    return {
      ...(query.from === undefined ? {} : { fromDay: Math.floor(query.from / 86_400) }),
      ...(query.to === undefined ? {} : { toDay: Math.floor(query.to / 86_400) }),
    };
  }

  private dayTable(id: string, caption: string, days: readonly DayTotals[], csvHref: string): Table {
    return {
      id, caption, csvHref, columns: ["day", "requests made", "answered", "refused", "items evaluated"], keys: days.map((d) => d.day),
      rows: days.map((d) => [d.day, d.made, d.answered, d.refused, d.itemsEvaluated]), empty: "no records in this range",
    };
  }

  private async overview(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const raw = request.query as Record<string, string>;
    const query = parseQuery(rangeQuerySchema, raw);
    const data = overviewData(this.modules.index, this.modules.view, this.dayRange(query));
    const here = (csv: string) => urlOf("/", { from: raw.from, to: raw.to, csv });
    const tables: Table[] = [
      {
        id: "members", caption: "Members: requests made, answered, refused and served", csvHref: here("members"),
        columns: ["member", "address", "status", "queries made", "answered", "denied", "served", "items evaluated", "fetches"], keys: data.members.map((m) => m.address),
        rows: data.members.map((m) => [this.memberCell(m.address), m.address, m.status, m.queriesMade, m.answered, m.denied, m.served, m.itemsEvaluated, m.fetches]),
      },
      {
        id: "contributions", caption: "Contributions: live entries per category (registry, now)", csvHref: here("contributions"),
        columns: ["member", ...data.categories], keys: data.members.map((m) => m.address),
        rows: data.members.map((m) => [this.memberCell(m.address), ...data.categories.map((c) => m.contributions[c] ?? 0)]),
      },
      this.dayTable("days", "Per day: requests made, answered, refused; items evaluated", data.days, here("days")),
      {
        id: "outliers", caption: "Outliers: querier days far above the querier's own history", csvHref: here("outliers"),
        columns: ["day", "querier", "items", "trailing median", "history days"], empty: "no querier's daily items jumped",
        rows: data.itemJumps.map((j) => [j.day, this.memberCell(j.querier), j.items, j.baselineMedian, j.historyDays]),
      },
      {
        id: "fp-outliers", caption: "Outliers: providers whose false-positive share lies wholly above the consortium's (95 % intervals)", csvHref: here("fp-outliers"),
        columns: ["provider", "false-positive share", "confirmed", "false positives"], empty: "no provider's false-positive share stands out",
        rows: data.feedback.providers.filter((p) => p.flag === "high_false_positives").map((p) => [this.memberCell(p.address), formatShare(p.falsePositiveShare), p.confirmed, p.falsePositive]),
      },
      {
        id: "credits", caption: "Credits now: balance (decay applied), overdraft, what each may still ask (QueryLedger)", csvHref: here("credits"),
        columns: ["member", "address", "balance", "overdraft", "can ask (items)"], keys: data.members.map((m) => m.address),
        rows: await Promise.all(data.members.map(async (m) => {
          const c = await creditsOf(this.modules.audit.ledger, m.address);
          return [this.memberCell(m.address), m.address, c.balance.toString(), c.overdraft.toString(), (c.available > 0n ? c.available : 0n).toString()];
        })),
      },
      {
        id: "credit-flows", caption: "Credit flows: credits moved from querier to provider (one per evaluated item) by the records landed in this range", csvHref: here("credit-flows"),
        columns: ["querier", "provider", "credits"], empty: "no credits moved in this range",
        rows: data.creditFlows.map((f) => [this.memberCell(f.querier), this.memberCell(f.provider), f.items]),
      },
      {
        id: "feedback-reporters", caption: `Feedback by reporter: confirm share against everyone else's (the consortium: ${formatShare(data.feedback.consortiumConfirmShare)})`, csvHref: here("feedback-reporters"),
        columns: ["reporter", "confirmed", "false positives", "outdated", "confirm share", "others' share", "flag"], empty: "no feedback reported on chain in this range",
        rows: data.feedback.reporters.map((r) => [this.memberCell(r.address), r.confirmed, r.falsePositive, r.outdated, formatShare(r.confirmShare), formatShare(r.othersConfirmShare), r.flag ?? ""]),
      },
      {
        id: "feedback-providers", caption: "Feedback by provider: false-positive share, confirmations per 1,000 items served, bonus paid and credits burned", csvHref: here("feedback-providers"),
        columns: ["provider", "items served", "confirmed", "false positives", "outdated", "false-positive share", "confirmed / 1000 items", "bonus", "burned", "flag"],
        empty: "no provider served or got feedback in this range",
        rows: data.feedback.providers.map((p) => [
          this.memberCell(p.address), p.itemsServed, p.confirmed, p.falsePositive, p.outdated, formatShare(p.falsePositiveShare),
          p.confirmedPerThousandItems === null ? "–" : p.confirmedPerThousandItems.toFixed(2), p.bonus ?? 0, p.burned ?? 0, p.flag ?? "",
        ]),
      },
    ];
    if (this.csvOf(reply, tables, query.csv, "overview")) return reply;
    const chart = JSON.stringify({ days: data.days.map((d) => Date.parse(d.day) / 1000), made: data.days.map((d) => d.made), answered: data.days.map((d) => d.answered), refused: data.days.map((d) => d.refused), items: data.days.map((d) => d.itemsEvaluated) });
    const body = [
      filterForm("/", [{ name: "from", label: "from", value: raw.from, placeholder: "2026-11-01" }, { name: "to", label: "to", value: raw.to, placeholder: "2026-11-30" }]),
      '<p class="note" id="no-hits">No hit figures: lookups are private, so whether a query found anything stays with the querier and never reaches the chain. These figures count requests and items, not findings.</p>',
      tableHtml(tables[0]!),
      tableHtml(tables[1]!),
      `<h2>Requests and items per day</h2><div id="daily-chart" class="chart"></div><script type="application/json" id="daily-data">${chart.replace(/</g, "\\u003c")}</script>`,
      tableHtml(tables[2]!),
      tableHtml(tables[3]!),
      tableHtml(tables[4]!),
      '<h2 id="credits-feedback">Credits and feedback</h2><p class="note">From the QueryLedger: credits move one per evaluated item; feedback is what members reported on chain, in weekly counts that name no query.</p>',
      ...tables.slice(5).map((t) => tableHtml(t)),
    ].join("\n");
    return this.html(reply, "Overview", "/", body, true);
  }

  private ledgerFilter(query: z.output<typeof ledgerQuerySchema>): IndexFilter {
    let categoryId: number | undefined;
    if (query.category !== undefined) {
      categoryId = this.modules.view.categoryIdByName(query.category);
      if (categoryId === undefined) throw new RiskshareError("E_CATEGORY_UNKNOWN", `no category named ${query.category.slice(0, 64)} on chain`);
    }
    return {
      ...(query.from === undefined ? {} : { fromTime: query.from }),
      ...(query.to === undefined ? {} : { toTime: query.to }),
      ...(query.querier === undefined ? {} : { querier: query.querier }),
      ...(query.provider === undefined ? {} : { provider: query.provider }),
      ...(categoryId === undefined ? {} : { categoryId }),
      ...(query.outcome === undefined ? {} : { outcome: QueryOutcome[query.outcome as keyof typeof QueryOutcome] }),
    };
  }

  private categoryName = (id: number): string => this.modules.view.category(id)?.name ?? `#${id}`;

  private async ledger(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const raw = request.query as Record<string, string>;
    const query = parseQuery(ledgerQuerySchema, raw);
    const filter = this.ledgerFilter(query);
    const data = ledgerData(this.modules.index, filter, query.page ?? 1, this.opts.pageSize);
    const params = { from: raw.from, to: raw.to, querier: raw.querier, provider: raw.provider, category: raw.category, outcome: raw.outcome };
    const members = this.modules.view.allMembers().map((m) => [m.address, m.name] as const);
    const table: Table = {
      id: "records", caption: `Records ${data.total === 0 ? 0 : (data.page - 1) * data.pageSize + 1}–${Math.min(data.total, data.page * data.pageSize)} of ${data.total}, newest first`,
      csvHref: urlOf("/ledger.csv", params), empty: "no records match",
      columns: ["time", "block", "querier", "provider", "categories", "kind", "items", "key epoch", "outcome", "count", "record"], keys: data.records.map((r) => String(r.id)),
      rows: data.records.map((r) => [
        isoOf(r.timestamp), r.blockNumber, this.memberCell(r.querier), this.memberCell(r.provider), r.categoryIds.map(this.categoryName).join(", "), lookupKindName(r.kind), r.itemCount, r.keyEpoch, r.outcomeName, r.count,
        { text: `${r.blockNumber}/${r.logIndex}`, href: `/ledger/record/${r.blockNumber}/${r.logIndex}` },
      ]),
    };
    const pager = [
      data.page > 1 ? `<a rel="prev" href="${escapeHtml(urlOf("/ledger", { ...params, page: data.page - 1 }))}">← newer</a>` : "",
      `<span id="page-of">page ${data.page} of ${data.pages}</span>`,
      data.page < data.pages ? `<a rel="next" href="${escapeHtml(urlOf("/ledger", { ...params, page: data.page + 1 }))}">older →</a>` : "",
    ].join(" ");
    const body = [
      filterForm("/ledger", [
        { name: "from", label: "from", value: raw.from, placeholder: "2026-11-01" }, { name: "to", label: "to", value: raw.to, placeholder: "2026-11-30T23:59:59Z" },
        { name: "querier", label: "querier", value: raw.querier, options: members }, { name: "provider", label: "provider", value: raw.provider, options: members },
        { name: "category", label: "category", value: raw.category, options: this.modules.view.categories().map((c) => [c.name, c.name] as const) },
        { name: "outcome", label: "outcome", value: raw.outcome, options: Object.keys(QueryOutcome).map((o) => [o, o] as const) },
      ]),
      tableHtml(table),
      `<nav class="pager">${pager}</nav>`,
      '<p class="note">The CSV holds every matching record, oldest first, in the columns of <code>riskshare audit queries --format csv</code>.</p>',
    ].join("\n");
    return this.html(reply, "Ledger", "/ledger", body);
  }

  /** Every matching record as `audit queries --format csv` prints it (same columns, same order). */
  private async ledgerCsv(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const filter = this.ledgerFilter(parseQuery(ledgerQuerySchema, request.query));
    const index = this.modules.index;
    const categoryName = this.categoryName;
    function* lines(): Generator<string> {
      yield `${AUDIT_COLUMNS.join(",")}\n`;
      let chunk = "";
      for (const r of index.records(filter)) {
        chunk += `${auditRowOf(r, categoryName).map((cell) => csvCell(String(cell ?? ""))).join(",")}\n`;
        if (chunk.length > 64_000) {
          yield chunk;
          chunk = "";
        }
      }
      if (chunk !== "") yield chunk;
    }
    return reply.type("text/csv; charset=utf-8").header("Content-Disposition", 'attachment; filename="ledger.csv"').send(Readable.from(lines()));
  }

  /** One record, by where it is on chain (block and log index: the same URL in every console), read from its block: its batch, its transaction and the audit's signature check. */
  private async record(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const { block, logIndex } = parseQuery(z.object({ block: z.coerce.number().int().nonnegative(), logIndex: z.coerce.number().int().nonnegative() }), request.params);
    const { records, batches } = await readLedger(this.modules.audit, { fromBlock: block, toBlock: block });
    const record = records.find((r) => r.logIndex === logIndex);
    if (record === undefined) throw new RiskshareError("E_NOT_FOUND", `no query record at block ${block}, log index ${logIndex}`);
    const batch = batches.find((b) => b.txHash === record.txHash && b.provider === record.provider);
    const check = recordSignatureCheck(this.modules.audit.chainId, this.modules.ledgerAddress, record);
    const signatureText = UNSIGNED_OUTCOMES.has(record.outcome)
      ? `unsigned refusal (${record.outcomeName}): the provider refused before checking a signature, so verification holds the querier to membership instead`
      : !check.signed ? "NO SIGNATURE: verification reports forged_querier"
        : check.matches ? `signature recovers the querier ${record.querier}` : `SIGNATURE DOES NOT RECOVER THE QUERIER (recovers ${check.recovered ?? "nothing"}): verification reports forged_querier`;
    const rows: Array<[string, Cell]> = [
      ["query id", record.queryId], ["time", isoOf(record.timestamp)], ["block", record.blockNumber], ["transaction", record.txHash], ["log index", record.logIndex],
      ["querier", this.memberCell(record.querier)], ["provider", this.memberCell(record.provider)], ["categories", record.categoryIds.map(this.categoryName).join(", ")],
      ["kind", lookupKindName(record.kind)], ["items", record.itemCount], ["key epoch", record.keyEpoch], ["outcome", record.outcomeName], ["count", record.count],
      ["deadline", isoOf(record.deadline)], ["nonce", record.nonce], ["items commitment", record.itemsCommitment], ["answer digest", record.answerDigest],
      ["signature", record.signature === "" ? "(none)" : record.signature], ["signature check", signatureText],
      ["batch", batch === undefined ? "(no BatchRecorded in its transaction)" : `seq ${batch.seq} of ${this.memberName(batch.provider)}: ${batch.recordCount} records, block ${batch.blockNumber}, transaction ${batch.txHash}`],
    ];
    const name = `${block}/${logIndex}`;
    const table: Table = { id: "record", caption: `Record ${name}`, csvHref: `/ledger/record/${name}?csv=record`, columns: ["field", "value"], keys: rows.map(([k]) => k), rows };
    if (this.csvOf(reply, [table], (request.query as { csv?: string }).csv, `record-${block}-${logIndex}`)) return reply;
    return this.html(reply, `Record ${name} (block / log index)`, "/ledger", tableHtml(table));
  }

  private async member(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const { address: member } = parseQuery(z.object({ address }), request.params);
    const raw = request.query as Record<string, string>;
    const query = parseQuery(rangeQuerySchema, raw);
    const data = memberData(this.modules.index, this.modules.view, member, this.dayRange(query));
    const here = (csv: string) => urlOf(`/member/${member}`, { from: raw.from, to: raw.to, csv });
    const r = data.report;
    const tables: Table[] = [
      {
        id: "summary", caption: "In this range", csvHref: here("summary"), columns: ["queries made", "answered", "denied", "served", "items evaluated", "fetches"],
        rows: r === undefined ? [] : [[r.queriesMade, r.answered, r.denied, r.served, r.itemsEvaluated, r.fetches]], empty: "not a member the registry knows",
      },
      this.dayTable("as-querier", "As querier, per day", data.asQuerier, here("as-querier")),
      this.dayTable("as-provider", "As provider, per day (requests it answered or refused)", data.asProvider, here("as-provider")),
    ];
    if (this.csvOf(reply, tables, query.csv, `member-${member}`)) return reply;
    const body = [
      `<p><strong id="member-name">${escapeHtml(data.name)}</strong> <code>${escapeHtml(member)}</code> · status <span id="member-status">${escapeHtml(data.status)}</span> · records <a href="${escapeHtml(urlOf("/ledger", { querier: member }))}">as querier</a>, <a href="${escapeHtml(urlOf("/ledger", { provider: member }))}">as provider</a></p>`,
      filterForm(`/member/${member}`, [{ name: "from", label: "from", value: raw.from, placeholder: "2026-11-01" }, { name: "to", label: "to", value: raw.to, placeholder: "2026-11-30" }]),
      ...tables.map(tableHtml),
    ].join("\n");
    return this.html(reply, `Member ${data.name}`, "", body);
  }

  private async governance(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const query = parseQuery(z.object({ csv: blankIsAbsent(z.string().max(32)) }), request.query);
    const proposals = await this.modules.proposals();
    const pending = new Set(["open", "passable", "queued", "enactable"]);
    const details = (args: Record<string, unknown>) => Object.entries(args).map(([k, v]) => `${k}=${typeof v === "bigint" ? v.toString() : typeof v === "object" ? JSON.stringify(v) : String(v)}`).join("; ");
    const tableOf = (id: string, caption: string, list: ConsoleProposal[]): Table => ({
      id, caption, csvHref: urlOf("/governance", { csv: id }), empty: "none",
      columns: ["id", "kind", "state", "votes", "quorum", "what", "decoded payload", "proposer", "created", "expires", "eta", "voters"], keys: list.map((p) => String(p.id)),
      rows: list.map((p) => [Number(p.id), p.kind, p.state, p.votes, p.quorum, p.summary, details(p.args), this.memberName(p.proposer), isoOf(p.createdAt), isoOf(p.expiresAt), isoOf(p.eta), p.voters.map((v) => this.memberName(v)).join(", ")]),
    });
    const tables = [
      tableOf("open", "Open and queued proposals", proposals.filter((p) => pending.has(p.state)).reverse()),
      tableOf("past", "Past proposals", proposals.filter((p) => !pending.has(p.state)).reverse()),
    ];
    if (this.csvOf(reply, tables, query.csv, "governance")) return reply;
    return this.html(reply, "Governance", "/governance", [
      '<p class="note">Votes count only members still entitled to vote; the quorum is fixed when a proposal is made. A time-locked kind takes effect when enacted, after its eta.</p>',
      ...tables.map(tableHtml),
    ].join("\n"));
  }

  private async verify(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const query = parseQuery(z.object({ csv: blankIsAbsent(z.string().max(32)) }), request.query);
    const state = this.modules.verifier.status();
    const failures = state.failures ?? [];
    const tables: Table[] = [
      {
        id: "by-kind", caption: "Failures by kind", csvHref: urlOf("/verify", { csv: "by-kind" }), columns: ["kind", "failures"], empty: state.state === "done" ? "none: the ledger verifies" : "no verification finished yet",
        rows: Object.entries(state.byKind ?? {}).map(([kind, n]) => [kind, n]), keys: Object.keys(state.byKind ?? {}),
      },
      {
        id: "failures", caption: "Failures", csvHref: urlOf("/verify", { csv: "failures" }), columns: ["kind", "query id", "provider", "detail"], empty: "none",
        rows: failures.map((f) => [f.kind, f.queryId ?? "", f.provider === undefined ? "" : this.memberName(f.provider), f.detail]),
      },
    ];
    if (this.csvOf(reply, tables, query.csv, "verify")) return reply;
    return this.html(reply, "Verify", "/verify", [
      '<p>Re-checks every record on chain as <code>riskshare audit verify</code> does: the querier\'s signature (or, for an unsigned refusal, its membership), both parties Active, no query id recorded twice, each refusal bound to its error code, batch sequences without gaps. It reads the chain itself, not this console\'s index.</p>',
      '<p class="note">Answers are not compared with their records here: only a querier\'s own node keeps the answers its providers signed; run <code>riskshare audit verify</code> on a member\'s data directory for that.</p>',
      '<p><button type="button" id="verify-run">Run verification</button> <progress id="verify-progress" max="1" value="0"></progress> <span id="verify-state">' + escapeHtml(describeVerify(state)) + "</span></p>",
      `<div id="verify-tables">${tables.map(tableHtml).join("\n")}</div>`,
    ].join("\n"));
  }
}

/** One line about a verification's state (the page's script updates it from /api/verify). */
export function describeVerify(state: ReturnType<LedgerVerifier["status"]>): string {
  switch (state.state) {
    case "idle": return "not run since the console started";
    case "reading": return `reading the ledger: block ${state.blocksRead ?? 0} of ${(state.headBlock ?? 0) + 1}, ${state.records ?? 0} records`;
    case "checking": return `checking ${state.records ?? 0} records in ${state.batches ?? 0} batches`;
    case "done": return (state.failures?.length ?? 0) === 0
      ? `ledger verified: ${state.records} records in ${state.batches} batches`
      : `ledger verification FAILED: ${state.failures!.length} problem(s) in ${state.records} records`;
    case "failed": return `verification stopped: ${state.error?.code} ${state.error?.message}`;
  }
}
