import { Command } from "commander";
import { z } from "zod";
import type { HitChangesResponse } from "../../node/api/index.ts";
import { contextOf } from "../context.ts";
import { parseOptions } from "../errors.ts";
import { table, type CliIo } from "../output.ts";
import { apiResult, callNodeApi, readRuntime } from "../runtime.ts";

const changesSchema = z.object({
  since: z.string().regex(/^([0-9]{1,12}|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+(Z|[+-][0-9]{2}:?[0-9]{2})?)?)$/, "must be an ISO 8601 time (2026-11-23T10:00:00Z) or unix seconds").optional(),
});

/** `riskshare hits …`: what became of the hits this node's lookups found. */
export function hitsCommand(io: CliIo): Command {
  const hits = new Command("hits").description("hits this node's lookups found: delistings learnt from the providers' filter deltas, without asking again");

  hits.addCommand(new Command("changes")
    .option("--since <time>", "only changes seen at or after this time: ISO 8601 or unix seconds (default: all kept)")
    .description("delistings (appeal upheld, expired, false positive…) of hits found in the last lookup.journalRetentionDays, from the running node")
    .addHelpText("after", "\nExamples:\n  riskshare hits changes\n  riskshare hits changes --since 2026-11-23T00:00:00Z\n  riskshare --json hits changes --since 1795392000")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(changesSchema, raw);
      const runtime = await readRuntime(ctx.dataDir);
      const path = `/v1/hits/changes${opts.since === undefined ? "" : `?since=${encodeURIComponent(opts.since)}`}`;
      const result = await apiResult<HitChangesResponse>(await callNodeApi(ctx.dataDir, runtime, { method: "GET", path, scope: "read", timeoutMs: 10_000 }), "list the hit changes");
      ctx.out.result(result, (r) => (r.changes.length === 0
        ? "no changes to kept hits"
        : table(["SEEN", "PROVIDER", "CATEGORY", "DELISTED", "REASON", "QUERY"], r.changes.map((c) => [
          c.seenAt, c.providerName ?? c.provider, c.categoryName ?? `#${c.category}`, c.delistedAt, c.reason, c.queryId,
        ]))));
    }));

  return hits;
}
