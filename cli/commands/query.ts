import { Command } from "commander";
import { z } from "zod";
import { KeyStore } from "../../node/config/index.ts";
import { RiskshareError } from "../../node/errors.ts";
import type { CheckResponse } from "../../node/api/index.ts";
import { contextOf } from "../context.ts";
import { parseOptions } from "../errors.ts";
import { addressArg } from "../parse.ts";
import { table, type CliIo } from "../output.ts";
import { readRuntime } from "./node.ts";

const schema = z.object({
  type: z.string().min(1),
  value: z.string().min(1),
  category: z.array(z.string()).optional(),
  provider: z.array(addressArg).optional(),
  timeoutMs: z.coerce.number().int().min(10).max(60_000).optional(),
  noOwn: z.boolean().optional(),
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
    .addHelpText("after", "\nExample:\n  riskshare query --type phone --value \"138 0013 8000\" --category fraud_confirmed")
    .action(async (raw: Record<string, unknown>, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(schema, { ...raw, noOwn: raw.own === false });
      const runtime = await readRuntime(ctx.dataDir);
      const token = await new KeyStore({ dataDir: ctx.dataDir }).apiToken();
      let response: Response;
      try {
        response = await fetch(`${runtime.apiUrl}/v1/check`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({
            items: [{ type: opts.type, value: opts.value }],
            ...(opts.category ? { categories: opts.category } : {}),
            ...(opts.provider ? { providers: opts.provider } : {}),
            ...(opts.timeoutMs ? { timeoutMsPerPeer: opts.timeoutMs } : {}),
            ...(opts.noOwn ? { includeOwn: false } : {}),
          }),
          signal: AbortSignal.timeout(60_000),
        });
      } catch (err) {
        throw new RiskshareError("E_NODE_NOT_READY", `the node's API at ${runtime.apiUrl} does not answer`, {}, { cause: err });
      }
      const body = (await response.json()) as CheckResponse | { error: { code: string; message: string } };
      if ("error" in body) {
        const code = body.error.code as never;
        throw new RiskshareError(code, body.error.message);
      }
      ctx.out.result(body, renderCheck);
    });
}

/** The text form of a check's answer: the verdict, the own list's entry, each provider's answer. */
export function renderCheck(r: CheckResponse): string {
  const item = r.items[0];
  const lines = [`verdict: ${r.verdict.toUpperCase()}${item?.verdict === "invalid" ? ` (invalid identifier: ${item.invalidReason})` : ""}`];
  if (item?.own) lines.push(`own list: ${item.own.category} level ${item.own.level} (${item.own.reason})`);
  lines.push(table(["PROVIDER", "ADDRESS", "STATUS", "ANSWER"], r.providers.map((p) => {
    const hit = item?.hits.find((h) => h.provider === p.address);
    const answer = p.status !== "answered" ? p.code ?? "" : hit ? `HIT ${hit.category} level ${hit.level} reason ${hit.reason}` : "miss";
    return [p.name, p.address, p.status, answer];
  })));
  return lines.join("\n");
}
