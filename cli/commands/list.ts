import { Command } from "commander";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { Readable } from "node:stream";
import { once } from "node:events";
import { z } from "zod";
import { hexlify } from "ethers";
import type { ImportStatusResponse, ImportSummaryResponse, OwnCheckResponse, PublishResponse, RemoveResponse, StatsResponse } from "../../node/api/index.ts";
import {
  BULK_IMPORT_TUNING, createProgressReporter, formatFromName, importSummaryView, ListService, type OwnCheck, type ProgressReporter,
} from "../../node/store/index.ts";
import { RiskshareError } from "../../node/errors.ts";
import { CONSORTIUM_WARNINGLISTS_DIR, loadWarninglists } from "../../node/identity/index.ts";
import { contextOf, type CliContext } from "../context.ts";
import { parseOptions } from "../errors.ts";
import { isoOf } from "../parse.ts";
import { table, type CliIo } from "../output.ts";
import { chainFlagsSchema, openChain, send, withChainFlags } from "../chain.ts";
import { apiResult, callNodeApi, runningNode, type NodeRuntime } from "../runtime.ts";
import { openStore } from "../store.ts";

/** How often the CLI asks a running node where its import is. */
const PROGRESS_POLL_MS = 250;

/**
 * `riskshare list …`: this member's own risk lists. With the member's node running, each command is
 * handed to it over its local API (it keeps answering lookups); with none, it works on the store.
 */
export function listCommand(io: CliIo): Command {
  const list = new Command("list").description("this member's risk lists: import, check, remove, stats, export, publish (handed to the running node if there is one, else on the store directly)");

  list.addCommand(withChainFlags(new Command("import"))
    .argument("<file>", "CSV (header: type,value,category,level,reason,reported_at,expires_at,ref) or JSON Lines (.jsonl)")
    .option("--type <type>", "identifier type for rows without a type column")
    .option("--category <name>", "category for rows without a category column")
    .option("--format <format>", "csv | jsonl (default: from the file name)")
    .option("--no-resume", "start over instead of continuing an interrupted import of the same file")
    .description("import a list: streaming, batched, resumable; bad rows are reported by line and skipped; a running node imports it while it keeps serving")
    .addHelpText("after", "\nExamples:\n  riskshare list import risk.csv\n  riskshare list import phones.csv --type phone --category fraud_confirmed\n  riskshare --json list import risk.jsonl > summary.json")
    .action(async (file: string, raw: Record<string, unknown>, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema.extend({ type: z.string().optional(), category: z.string().optional(), format: z.enum(["csv", "jsonl"]).optional(), resume: z.boolean().default(true) }), raw);
      const progress = createProgressReporter({ tty: io.isTTY, json: ctx.json, ci: Boolean(io.env.CI) });
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once("SIGINT", onSignal);
      try {
        const runtime = await runningNode(ctx.dataDir);
        let summary: ImportSummaryResponse;
        if (runtime !== undefined) {
          summary = await importThroughNode(ctx, runtime, file, { ...opts, format: opts.format ?? formatFromName(file) }, progress, controller.signal);
        } else {
          const { store, evaluator, region, close } = await openStore(ctx, opts, true, BULK_IMPORT_TUNING);
          try {
            summary = importSummaryView(await new ListService({ store, evaluator: () => evaluator, region, logger: ctx.logger, warninglists: loadWarninglists(ctx.dataDir) }).import({ path: file }, {
              format: opts.format, defaultType: opts.type, defaultCategory: opts.category, resume: opts.resume,
              onProgress: (p) => progress.update(p), signal: controller.signal,
            }));
          } finally {
            await close();
          }
        }
        progress.stop();
        ctx.out.result(summary, renderSummary);
      } finally {
        process.off("SIGINT", onSignal);
        progress.stop();
      }
    }));

  list.addCommand(withChainFlags(new Command("check"))
    .requiredOption("--type <type>", "identifier type")
    .requiredOption("--value <value>", "the identifier (hashed locally; never stored)")
    .description("check one identifier against this member's own list")
    .addHelpText("after", "\nExample:\n  riskshare list check --type bank_card --value \"6222 0000 0000 0000 012\"")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema.extend({ type: z.string(), value: z.string() }), raw);
      const data = await withLists(ctx, opts, true, {
        node: async (runtime) => (await nodeCall<OwnCheckResponse>(ctx, runtime, "check the identifier", { method: "POST", path: "/v1/entries/check", scope: "check", body: { items: [{ type: opts.type, value: opts.value }] } })).results[0] as OwnCheck,
        store: (lists) => lists.check(opts.type, opts.value),
      });
      ctx.out.result(data, (r) => (r.hit ? `HIT ${r.category} level ${r.level} reason ${r.reason} reported ${isoOf(r.reportedAt ?? 0)}` : "miss"));
    }));

  list.addCommand(withChainFlags(new Command("remove"))
    .requiredOption("--type <type>", "identifier type")
    .requiredOption("--value <value>", "the identifier")
    .requiredOption("--reason <code>", "why it is delisted (kept in the local audit trail), e.g. appeal_upheld")
    .description("delist one identifier (an appeal upheld); the removal is audited")
    .addHelpText("after", "\nExample:\n  riskshare list remove --type phone --value \"138 0013 8000\" --reason appeal_upheld")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema.extend({ type: z.string(), value: z.string(), reason: z.string().min(1).max(32) }), raw);
      const data = await withLists(ctx, opts, true, {
        node: async (runtime) => {
          const response = await nodeCall<RemoveResponse>(ctx, runtime, "remove the identifier", { method: "POST", path: "/v1/entries/remove", body: { items: [{ type: opts.type, value: opts.value }], reason: opts.reason } });
          const [result] = response.results;
          return result?.removed ? { removed: true as const, category: result.category, reason: opts.reason } : { removed: false as const };
        },
        store: (lists) => lists.remove(opts.type, opts.value, opts.reason),
      });
      ctx.out.result(data, (r) => (r.removed ? `removed from ${r.category}; audited with reason ${opts.reason}` : "not on the list; nothing removed"));
    }));

  list.addCommand(withChainFlags(new Command("stats"))
    .description("entries per category, expired entries awaiting a sweep, OPRF key epoch")
    .addHelpText("after", "\nExamples:\n  riskshare list stats\n  riskshare --json list stats")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema, raw);
      const stats = await withLists(ctx, opts, false, {
        node: (runtime) => nodeCall<StatsResponse>(ctx, runtime, "report its list stats", { method: "GET", path: "/v1/entries/stats", scope: "read" }),
        store: (lists) => lists.overview(),
      });
      ctx.out.result(stats, (s) => [
        `entries ${s.entries} (key epoch ${s.keyEpoch ?? "none yet"}; ${s.expiredAwaitingSweep} expired awaiting sweep)`,
        table(["CATEGORY", "ENTRIES"], s.perCategory.map((c) => [c.name ?? `#${c.categoryId}`, c.entries])),
      ].join("\n"));
    }));

  list.addCommand(withChainFlags(new Command("export"))
    .option("--format <format>", "csv | jsonl", "csv")
    .option("--out <file>", "write to a file instead of stdout")
    .description("export the list: tags and metadata only, never raw identifiers")
    .addHelpText("after", "\nExamples:\n  riskshare list export > list.csv\n  riskshare list export --format jsonl --out list.jsonl")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema.extend({ format: z.enum(["csv", "jsonl"]), out: z.string().optional() }), raw);
      const sink = opts.out === undefined ? io.stdout : createWriteStream(opts.out, { mode: 0o600 });
      const write = async (lines: AsyncIterable<string | Uint8Array>): Promise<number> => {
        let count = 0;
        for await (const chunk of lines) {
          if (!sink.write(chunk)) await once(sink, "drain");
          count += typeof chunk === "string" ? 1 : countNewlines(chunk);
        }
        return count;
      };
      const lines = await withLists(ctx, opts, false, {
        node: async (runtime) => {
          const response = await callNodeApi(ctx.dataDir, runtime, { method: "GET", path: `/v1/entries/export?format=${opts.format}`, timeoutMs: undefined });
          if (!response.ok || response.body === null) return apiResult<never>(response, "export the list");
          return write(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>));
        },
        store: (lists) => write((async function* () {
          for await (const line of lists.export(opts.format)) yield `${line}\n`;
        })()),
      });
      if (opts.out !== undefined) {
        sink.end();
        await once(sink, "finish");
        ctx.out.result({ file: opts.out, lines }, (r) => `exported ${r.lines} lines to ${r.file}`);
      }
    }));

  list.addCommand(withChainFlags(new Command("publish"))
    .option("--category <name...>", "only these categories (default: every active category)")
    .description("publish this member's contribution snapshot (live count + filter commitment) per category to the ContributionRegistry")
    .addHelpText("after", "\nExamples:\n  riskshare list publish\n  riskshare list publish --category fraud_confirmed stolen_card")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema.extend({ category: z.array(z.string()).optional() }), raw);
      const runtime = await runningNode(ctx.dataDir);
      let result: PublishResponse;
      if (runtime !== undefined) {
        result = await nodeCall<PublishResponse>(ctx, runtime, "publish the snapshots", { method: "POST", path: "/v1/publish", body: opts.category === undefined ? {} : { categories: opts.category }, timeoutMs: 300_000 });
      } else {
        const session = await openChain(ctx, opts, true);
        try {
          const { store, region, close } = await openStore(ctx, opts, false);
          try {
            const { contributions } = session.contracts;
            const lists = new ListService({
              store, evaluator: () => undefined, region, logger: ctx.logger,
              // Published under the key epoch the store is bound to: the chain refuses any other.
              publisher: { publish: async (categoryId, keyEpoch, liveCount, filterHash) => (await send(`publish the ${store.categoryName(categoryId)} snapshot`, () => contributions.publish(categoryId, keyEpoch, liveCount, filterHash))).txHash },
            });
            const published = await lists.publish(lists.categoryIds(opts.category));
            result = { published: published.map((p) => ({ ...p, category: p.category ?? null, filterHash: hexlify(p.filterHash) })) };
          } finally {
            await close();
          }
        } finally {
          session.close();
        }
      }
      ctx.out.result(result, (r) => table(["CATEGORY", "KEY EPOCH", "LIVE ENTRIES", "FILTER HASH", "TX"], r.published.map((p) => [p.category ?? "", p.keyEpoch, p.liveCount, p.filterHash, p.txHash])));
    }));
  list.addCommand(new Command("warninglists")
    .description(`the warninglists: those this version ships and the consortium's own (the data directory's ${CONSORTIUM_WARNINGLISTS_DIR}/ folder); identifiers never listed (refused at import, asked of nobody at a check), each entry with its public source — an added entry citing no document a shipped list of its type cites only informs`)
    .addHelpText("after", "\nExamples:\n  riskshare list warninglists\n  riskshare --json list warninglists   # every entry, its note and its source")
    .action(async (_raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const warninglists = loadWarninglists(ctx.dataDir);
      const lists = warninglists.lists.map((l) => ({ ...l, origin: warninglists.originOf(l.name)!, informOnly: warninglists.informCount(l.name) }));
      ctx.out.result({ hash: warninglists.hash, lists }, (r) => [
        table(["WARNINGLIST", "ORIGIN", "TYPE", "MATCH", "ENTRIES", "INFORM ONLY", "DESCRIPTION"], r.lists.map((l) => [l.name, l.origin, l.type, l.match, l.entries.length, l.informOnly, l.description])),
        `hash ${r.hash} (SHA-256 over the lists; --json lists every entry with its source)`,
      ].join("\n"));
    }));
  return list;
}

/** Runs a list command through the running node when there is one, else on the store (opened with the member's keys when `withKeys`). */
async function withLists<T>(ctx: CliContext, flags: z.output<typeof chainFlagsSchema>, withKeys: boolean, run: { node: (runtime: NodeRuntime) => Promise<T>; store: (lists: ListService) => Promise<T> }): Promise<T> {
  const runtime = await runningNode(ctx.dataDir);
  if (runtime !== undefined) return run.node(runtime);
  const { store, evaluator, region, close } = await openStore(ctx, flags, withKeys);
  try {
    return await run.store(new ListService({ store, evaluator: () => evaluator, region, logger: ctx.logger, warninglists: loadWarninglists(ctx.dataDir) }));
  } finally {
    await close();
  }
}

/** One JSON call to the running node; its error reply becomes the node's own error. */
async function nodeCall<T>(ctx: CliContext, runtime: NodeRuntime, action: string, request: { method: "GET" | "POST"; path: string; body?: unknown; scope?: "read" | "check" | "admin"; timeoutMs?: number }): Promise<T> {
  const response = await callNodeApi(ctx.dataDir, runtime, { ...request, timeoutMs: request.timeoutMs ?? 60_000 });
  return apiResult<T>(response, action);
}

/**
 * Streams the file to the running node (POST /v1/entries), under the SHA-256 of its content as the
 * import id so that a second run after an interruption (of the node or of this command) resumes
 * after the last batch the node committed; shows the node's progress (GET /v1/imports) meanwhile.
 */
async function importThroughNode(
  ctx: CliContext, runtime: NodeRuntime, file: string, opts: { type?: string | undefined; category?: string | undefined; format: "csv" | "jsonl"; resume: boolean },
  progress: ProgressReporter, signal: AbortSignal,
): Promise<ImportSummaryResponse> {
  const { size } = await stat(file);
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024, signal })) hash.update(chunk as Buffer);
  const name = basename(file);
  const query = new URLSearchParams({ name, importId: `sha256-${hash.digest("hex")}`, resume: String(opts.resume) });
  if (opts.type !== undefined) query.set("type", opts.type);
  if (opts.category !== undefined) query.set("category", opts.category);
  ctx.out.note(`handing the import to the running node (pid ${runtime.pid}); it keeps answering lookups meanwhile`);
  let polling = true;
  const poll = (async () => {
    while (polling) {
      await new Promise((resolve) => setTimeout(resolve, PROGRESS_POLL_MS));
      if (!polling) break;
      const response = await callNodeApi(ctx.dataDir, runtime, { method: "GET", path: "/v1/imports", scope: "read", timeoutMs: 5_000 }).catch(() => undefined);
      const body = response?.ok ? ((await response.json().catch(() => undefined)) as { current: ImportStatusResponse | null } | undefined) : undefined;
      if (polling && body?.current?.source === name) progress.update({ ...body.current, totalBytes: body.current.totalBytes });
    }
  })();
  try {
    const response = await callNodeApi(ctx.dataDir, runtime, {
      method: "POST", path: `/v1/entries?${query}`, timeoutMs: undefined, signal,
      stream: { body: createReadStream(file, { highWaterMark: 256 * 1024 }), contentType: opts.format === "csv" ? "text/csv" : "application/x-ndjson", length: size },
    }).catch((err: unknown) => {
      if (signal.aborted) throw err;
      throw new RiskshareError("E_NODE_NOT_READY", `the node stopped answering during the import of ${name}; once it runs again, run the same import: it resumes after the last batch the node committed`, {}, { cause: err });
    });
    return await apiResult<ImportSummaryResponse>(response, `import ${name}`);
  } finally {
    polling = false;
    await poll;
  }
}

function countNewlines(chunk: Uint8Array): number {
  let n = 0;
  for (const byte of chunk) if (byte === 0x0a) n++;
  return n;
}

function renderSummary(s: ImportSummaryResponse): string {
  const lines = [
    `imported ${s.source}: ${s.rows} rows — ${s.imported} new, ${s.updated} updated, ${s.unchanged} unchanged/duplicates, ${s.rejected} rejected (${Math.round(s.rowsPerSec).toLocaleString("en")} rows/s)`,
  ];
  if (s.resumedAfterLine !== undefined) lines.push(`resumed after line ${s.resumedAfterLine} of an interrupted run`);
  for (const e of s.errors) lines.push(`  line ${e.line}: ${e.field}: ${e.reason}`);
  if (s.errorsTotal > s.errors.length) lines.push(`  … and ${s.errorsTotal - s.errors.length} more rejected rows`);
  return lines.join("\n");
}
