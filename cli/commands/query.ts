import { Command } from "commander";
import { z } from "zod";
import { RiskshareError } from "../../node/errors.ts";
import type { CheckResponse } from "../../node/api/index.ts";
import { contextOf } from "../context.ts";
import { parseOptions } from "../errors.ts";
import { addressArg } from "../parse.ts";
import type { CliIo } from "../output.ts";
import { callNodeApi, readRuntime } from "../runtime.ts";
import { renderCheck } from "../check-output.ts";

const schema = z.object({
  type: z.string().min(1),
  value: z.string().min(1),
  category: z.array(z.string()).optional(),
  provider: z.array(addressArg).optional(),
  timeoutMs: z.coerce.number().int().min(10).max(60_000).optional(),
  noOwn: z.boolean().optional(),
  minScore: z.coerce.number().int().min(0).max(100).optional(),
});

/** `riskshare query`: one identifier through the running node's API, each provider's answer and the merged verdict. */
export function queryCommand(io: CliIo): Command {
  return new Command("query")
    .description("check one identifier against this node's lists and every peer's, through the running node")
    .requiredOption("--type <type>", "identifier type: phone, national_id, bank_card, email, device_id, ip, merchant_id, account")
    .requiredOption("--value <value>", "the identifier (normalised and hashed by the node; never sent raw)")
    .option("--category <name...>", "only these categories (default: all active)")
    .option("--provider <address...>", "only these providers (default: every Active member)")
    .option("--timeout-ms <ms>", "per-provider timeout")
    .option("--no-own", "skip this node's own lists")
    .option("--min-score <score>", "drop hits whose decay score (0-100: 20 x level, decaying with the report's age) is below this")
    .addHelpText("after", "\nExamples:\n  riskshare query --type phone --value \"138 0013 8000\" --category fraud_confirmed\n  riskshare query --type bank_card --value \"6222 0200 0000 0015\" --min-score 40")
    .action(async (raw: Record<string, unknown>, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(schema, { ...raw, noOwn: raw.own === false });
      const runtime = await readRuntime(ctx.dataDir);
      const response = await callNodeApi(ctx.dataDir, runtime, {
        method: "POST",
        path: "/v1/check",
        scope: "check",
        body: {
          items: [{ type: opts.type, value: opts.value }],
          ...(opts.category ? { categories: opts.category } : {}),
          ...(opts.provider ? { providers: opts.provider } : {}),
          ...(opts.timeoutMs ? { timeoutMsPerPeer: opts.timeoutMs } : {}),
          ...(opts.noOwn ? { includeOwn: false } : {}),
          ...(opts.minScore === undefined ? {} : { minScore: opts.minScore }),
        },
        timeoutMs: 60_000,
      });
      const body = (await response.json()) as CheckResponse | { error: { code: string; message: string } };
      if ("error" in body) {
        const code = body.error.code as never;
        throw new RiskshareError(code, body.error.message);
      }
      ctx.out.result(body, renderCheck);
    });
}
