import { Command } from "commander";
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { z } from "zod";
import { hexlify } from "ethers";
import { RiskshareError } from "../../node/errors.ts";
import { assertPhoneRegion } from "../../node/identity/index.ts";
import {
  BULK_IMPORT_TUNING, createProgressReporter, exportEntries, importList, publishSnapshots, type ImportSummary,
} from "../../node/store/index.ts";
import { contextOf } from "../context.ts";
import { parseOptions } from "../errors.ts";
import { isoOf } from "../parse.ts";
import { table, type CliIo } from "../output.ts";
import { chainFlagsSchema, openChain, send, withChainFlags } from "../chain.ts";
import { keysOf, openStore } from "../store.ts";

/** `riskshare list …`: this member's own risk lists. The node must be stopped (the store has one writer). */
export function listCommand(io: CliIo): Command {
  const list = new Command("list").description("this member's risk lists: import, check, remove, stats, export, publish (stop the node first: the store has one writer)");

  list.addCommand(withChainFlags(new Command("import"))
    .argument("<file>", "CSV (header: type,value,category,level,reason,reported_at,expires_at,ref) or JSON Lines (.jsonl)")
    .option("--type <type>", "identifier type for rows without a type column")
    .option("--category <name>", "category for rows without a category column")
    .option("--format <format>", "csv | jsonl (default: from the file name)")
    .option("--no-resume", "start over instead of continuing an interrupted import of the same file")
    .description("import a list: streaming, batched, resumable; bad rows are reported by line and skipped")
    .addHelpText("after", "\nExamples:\n  riskshare list import risk.csv\n  riskshare list import phones.csv --type phone --category fraud_confirmed\n  riskshare --json list import risk.jsonl > summary.json")
    .action(async (file: string, raw: Record<string, unknown>, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema.extend({ type: z.string().optional(), category: z.string().optional(), format: z.enum(["csv", "jsonl"]).optional(), resume: z.boolean().default(true) }), raw);
      const { store, evaluator, region, close } = await openStore(ctx, opts, true, BULK_IMPORT_TUNING);
      const progress = createProgressReporter({ tty: io.isTTY, json: ctx.json, ci: Boolean(io.env.CI) });
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once("SIGINT", onSignal);
      try {
        assertPhoneRegion(region);
        const summary = await importList({ path: file }, {
          format: opts.format, defaultType: opts.type, defaultCategory: opts.category, normalise: { defaultRegion: region }, resume: opts.resume,
          onProgress: (p) => progress.update(p), signal: controller.signal,
        }, { store, evaluator: evaluator!, logger: ctx.logger });
        progress.stop();
        ctx.out.result(summary, renderSummary);
      } finally {
        process.off("SIGINT", onSignal);
        progress.stop();
        await close();
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
      const { store, evaluator, region, close } = await openStore(ctx, opts, true);
      try {
        const result = await store.checkOne({ type: opts.type, entryId: keysOf(evaluator!, opts.type, opts.value, region).entryId });
        const data = result.hit
          ? { hit: true, category: store.categoryName(result.entry.categoryId), level: result.entry.level, reason: result.entry.reason, reportedAt: result.entry.reportedAtSec, expiresAt: result.entry.expiresAtSec ?? null, ref: result.entry.ownRef ?? null }
          : { hit: false };
        ctx.out.result(data, (r) => (r.hit ? `HIT ${"category" in r ? `${r.category} level ${r.level} reason ${r.reason} reported ${isoOf(r.reportedAt ?? 0)}` : ""}` : "miss"));
      } finally {
        await close();
      }
    }));

  list.addCommand(withChainFlags(new Command("remove"))
    .requiredOption("--type <type>", "identifier type")
    .requiredOption("--value <value>", "the identifier")
    .requiredOption("--reason <code>", "why it is delisted (kept in the local audit trail), e.g. appeal_upheld")
    .description("delist one identifier (an appeal upheld); the removal is audited")
    .addHelpText("after", "\nExample:\n  riskshare list remove --type phone --value \"138 0013 8000\" --reason appeal_upheld")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema.extend({ type: z.string(), value: z.string(), reason: z.string().min(1).max(64) }), raw);
      const { store, evaluator, region, close } = await openStore(ctx, opts, true);
      try {
        const result = await store.remove({ type: opts.type, entryId: keysOf(evaluator!, opts.type, opts.value, region).entryId }, { reason: opts.reason });
        ctx.out.result(result, (r) => (r.removed ? `removed from ${store.categoryName(r.categoryId)}; audited with reason ${opts.reason}` : "not on the list; nothing removed"));
      } finally {
        await close();
      }
    }));

  list.addCommand(withChainFlags(new Command("stats"))
    .description("entries per category, expired entries awaiting a sweep, OPRF key epoch")
    .addHelpText("after", "\nExamples:\n  riskshare list stats\n  riskshare --json list stats")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema, raw);
      const { store, close } = await openStore(ctx, opts, false);
      try {
        const stats = await store.stats();
        ctx.out.result(stats, (s) => [
          `entries ${s.entries} (key epoch ${s.binding?.keyEpoch ?? "none yet"}; ${s.expiredAwaitingSweep} expired awaiting sweep)`,
          table(["CATEGORY", "ENTRIES"], s.perCategory.map((c) => [c.name ?? `#${c.categoryId}`, c.entries])),
        ].join("\n"));
      } finally {
        await close();
      }
    }));

  list.addCommand(withChainFlags(new Command("export"))
    .option("--format <format>", "csv | jsonl", "csv")
    .option("--out <file>", "write to a file instead of stdout")
    .description("export the list: tags and metadata only, never raw identifiers")
    .addHelpText("after", "\nExamples:\n  riskshare list export > list.csv\n  riskshare list export --format jsonl --out list.jsonl")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema.extend({ format: z.enum(["csv", "jsonl"]), out: z.string().optional() }), raw);
      const { store, close } = await openStore(ctx, opts, false);
      const sink = opts.out === undefined ? io.stdout : createWriteStream(opts.out, { mode: 0o600 });
      try {
        let lines = 0;
        for await (const line of exportEntries(store, { format: opts.format })) {
          if (!sink.write(`${line}\n`)) await once(sink, "drain");
          lines++;
        }
        if (opts.out !== undefined) {
          sink.end();
          await once(sink, "finish");
          ctx.out.result({ file: opts.out, lines }, (r) => `exported ${r.lines} lines to ${r.file}`);
        }
      } finally {
        await close();
      }
    }));

  list.addCommand(withChainFlags(new Command("publish"))
    .option("--category <name...>", "only these categories (default: every active category)")
    .description("publish this member's contribution snapshot (live count + digest) per category to the ContributionRegistry")
    .addHelpText("after", "\nExamples:\n  riskshare list publish\n  riskshare list publish --category fraud_confirmed stolen_card")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema.extend({ category: z.array(z.string()).optional() }), raw);
      const session = await openChain(ctx, opts, true);
      try {
        const { store, close } = await openStore(ctx, opts, false);
        try {
          const ids = opts.category === undefined ? [...store.activeCategories().values()] : opts.category.map((name) => {
            const id = store.categoryId(name);
            if (id === undefined) throw new RiskshareError("E_CATEGORY_UNKNOWN", `no active category named ${name}`);
            return id;
          });
          const { contributions } = session.contracts;
          const published = await publishSnapshots(store, {
            // Published under the key epoch the store is bound to: the chain refuses any other.
            publish: async (categoryId, keyEpoch, liveCount, filterHash) => (await send(`publish the ${store.categoryName(categoryId)} snapshot`, () => contributions.publish(categoryId, keyEpoch, liveCount, filterHash))).txHash,
          }, ids);
          const rows = published.map((p) => ({ category: store.categoryName(p.categoryId), keyEpoch: p.keyEpoch, liveCount: p.liveCount, filterHash: hexlify(p.filterHash), txHash: p.txHash }));
          ctx.out.result({ published: rows }, () => table(["CATEGORY", "KEY EPOCH", "LIVE ENTRIES", "FILTER HASH", "TX"], rows.map((r) => [r.category, r.keyEpoch, r.liveCount, r.filterHash, r.txHash])));
        } finally {
          await close();
        }
      } finally {
        session.close();
      }
    }));
  return list;
}

function renderSummary(s: ImportSummary): string {
  const lines = [
    `imported ${s.source}: ${s.rows} rows — ${s.imported} new, ${s.updated} updated, ${s.unchanged} unchanged/duplicates, ${s.rejected} rejected (${Math.round(s.rowsPerSec).toLocaleString("en")} rows/s)`,
  ];
  if (s.resumedAfterLine !== undefined) lines.push(`resumed after line ${s.resumedAfterLine} of an interrupted run`);
  for (const e of s.errors) lines.push(`  line ${e.line}: ${e.field}: ${e.reason}`);
  if (s.errorsTotal > s.errors.length) lines.push(`  … and ${s.errorsTotal - s.errors.length} more rejected rows`);
  return lines.join("\n");
}
