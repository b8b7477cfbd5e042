import { Command } from "commander";
import { z } from "zod";
import type { FeedbackListResponse, FeedbackResponse, ReceivedFeedbackResponse } from "../../node/api/index.ts";
import { contextOf } from "../context.ts";
import { parseOptions } from "../errors.ts";
import { table, type CliIo } from "../output.ts";
import { apiResult, callNodeApi, readRuntime } from "../runtime.ts";

const KINDS = { confirmed: "confirmed", "false-positive": "false_positive", outdated: "outdated" } as const;

const reportSchema = z.object({
  hitId: z.string().regex(/^[0-9a-f]{16}$/, "must be the 16 hex digits of a hit id (shown by `riskshare query`)"),
  kind: z.enum(["confirmed", "false-positive", "outdated"], "must be confirmed, false-positive or outdated"),
});

const receivedSchema = z.object({
  since: z.string().regex(/^([0-9]{1,12}|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+(Z|[+-][0-9]{2}:?[0-9]{2})?)?)$/, "must be an ISO 8601 time (2026-11-23T10:00:00Z) or unix seconds").optional(),
});

/** `riskshare feedback …`: reports on hits (confirmed / false positive / outdated), sent to their providers in batches; reports received about this member's entries. */
export function feedbackCommand(io: CliIo): Command {
  const feedback = new Command("feedback").description("feedback on hits: report one to its provider (opt-in, per hit, sent in shuffled batches), list this node's reports and those received");

  feedback.addCommand(new Command("report")
    .argument("<hitId>", "the hit to report on: its id as `riskshare query` (or POST /v1/check) showed it")
    .requiredOption("--kind <kind>", "confirmed | false-positive | outdated")
    .description("queue a report about a hit this node keeps; it goes to the provider with its next batch (feedback.minBatch reports, or after feedback.maxWaitDays)")
    .addHelpText("after", "\nExamples:\n  riskshare feedback report 3f9a0c2be4d17a65 --kind confirmed\n  riskshare --json feedback report 3f9a0c2be4d17a65 --kind false-positive")
    .action(async (hitId: string, raw: Record<string, unknown>, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(reportSchema, { ...raw, hitId });
      const runtime = await readRuntime(ctx.dataDir);
      const result = await apiResult<FeedbackResponse>(await callNodeApi(ctx.dataDir, runtime, {
        method: "POST", path: "/v1/feedback", body: { hitId: opts.hitId, kind: KINDS[opts.kind] }, scope: "check", timeoutMs: 10_000,
      }), "queue the report");
      ctx.out.result(result, (r) => `report ${r.report.reportId} (${r.report.kind}) queued for ${r.report.providerName ?? r.report.provider}`);
    }));

  feedback.addCommand(new Command("list")
    .description("this node's reports, queued and sent, with each provider's answer")
    .addHelpText("after", "\nExamples:\n  riskshare feedback list\n  riskshare --json feedback list")
    .action(async (_raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const runtime = await readRuntime(ctx.dataDir);
      const result = await apiResult<FeedbackListResponse>(await callNodeApi(ctx.dataDir, runtime, { method: "GET", path: "/v1/feedback", scope: "read", timeoutMs: 10_000 }), "list the reports");
      ctx.out.result(result, (r) => (r.reports.length === 0
        ? "no feedback reports"
        : table(["QUEUED", "HIT", "PROVIDER", "CATEGORY", "KIND", "STATUS", "ANSWER"], r.reports.map((x) => [
          x.queuedAt, x.hitId, x.providerName ?? x.provider, x.categoryName ?? `#${x.category}`, x.kind, x.sentAt === undefined ? x.status : `sent ${x.sentAt}`, x.outcome ?? "",
        ]))));
    }));

  feedback.addCommand(new Command("received")
    .option("--since <time>", "only reports received at or after this time: ISO 8601 or unix seconds (default: all)")
    .description("reports other members sent about this member's entries: kind, category, tag prefix, own reference and date — never who sent which")
    .addHelpText("after", "\nExamples:\n  riskshare feedback received\n  riskshare --json feedback received --since 2026-11-01")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(receivedSchema, raw);
      const runtime = await readRuntime(ctx.dataDir);
      const path = `/v1/feedback/received${opts.since === undefined ? "" : `?since=${encodeURIComponent(opts.since)}`}`;
      const result = await apiResult<ReceivedFeedbackResponse>(await callNodeApi(ctx.dataDir, runtime, { method: "GET", path, scope: "read", timeoutMs: 10_000 }), "list the reports received");
      ctx.out.result(result, (r) => (r.received.length === 0
        ? "no feedback received"
        : table(["RECEIVED", "KIND", "CATEGORY", "TAG PREFIX", "OWN REF"], r.received.map((x) => [
          x.receivedAt.slice(0, 10), x.kind, x.categoryName ?? `#${x.category}`, x.tagPrefix, x.ownRef ?? "",
        ]))));
    }));

  return feedback;
}
