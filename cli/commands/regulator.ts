import { Command } from "commander";
import { z } from "zod";
import { getAddress } from "ethers";
import { revertError, translateChainError } from "../../node/chain/index.ts";
import { RiskshareError } from "../../node/errors.ts";
import { contextOf } from "../context.ts";
import { parseOptions } from "../errors.ts";
import { isoOf, parseDuration } from "../parse.ts";
import type { CliIo } from "../output.ts";
import { chainFlagsSchema, send, withChainFlags, withSession } from "../chain.ts";

/** `--until`: an ISO 8601 time or unix seconds; E_USAGE otherwise. */
function parseTime(text: string, argument: string): bigint {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return BigInt(trimmed);
  const ms = Date.parse(trimmed);
  if (Number.isNaN(ms)) throw new RiskshareError("E_USAGE", `${argument} must be an ISO 8601 time such as 2026-12-07T12:00:00Z, or unix seconds (got "${trimmed.slice(0, 40)}")`, { argument });
  return BigInt(Math.floor(ms / 1000));
}

/**
 * `riskshare regulator …`: what a regulator does without a vote. `pause` stops every lookup of the
 * consortium for at most the registry's longest pause (72 hours by default), once per pause
 * cooldown (30 days by default) for all regulators together; the members lift it earlier with
 * `riskshare proposal unpause`. (A regulator suspends one member with `riskshare member suspend`.)
 */
export function regulatorCommand(io: CliIo): Command {
  const regulator = new Command("regulator").description("a regulator's own actions: pause every lookup of the consortium for a while");

  regulator.addCommand(withChainFlags(new Command("pause"))
    .option("--for <duration>", "how long, from now: e.g. 24h, 3d, 90m (at most the registry's longest pause, 72h by default)")
    .option("--until <time>", "when the pause ends: an ISO 8601 time or unix seconds")
    .description("pause every lookup of the consortium (regulator key): nodes refuse and send none until the end, or until the members vote Unpause")
    .addHelpText("after", "\nExamples:\n  riskshare --data-dir ./regulator regulator pause --for 24h\n  riskshare --data-dir ./regulator regulator pause --until 2026-12-08T09:00:00Z --json")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema.extend({ for: z.string().optional(), until: z.string().optional() }), raw);
      if ((opts.for === undefined) === (opts.until === undefined)) {
        throw new RiskshareError("E_USAGE", "give exactly one of --for (a duration) and --until (a time)", { argument: "--for" });
      }
      const duration = opts.for === undefined ? undefined : parseDuration(opts.for, "--for");
      const fixedEnd = opts.until === undefined ? undefined : parseTime(opts.until, "--until");
      await withSession(ctx, opts, true, async (session) => {
        const { registry } = session.contracts;
        const action = "pause every lookup of the consortium";
        const self = getAddress(await session.signer!.getAddress());
        // Foresee the registry's refusals before paying for a transaction: the role from its view, then
        // the bounds and the cooldown by simulating the call (the revert names the latest end or the earliest time).
        if (!(await registry.isRegulator(self).catch((err: unknown) => { throw translateChainError(err, `read whether ${self} is a regulator`); }))) {
          throw revertError(action, "ConsortiumRegistryNotRegulator", [self], { detail: "run this with a regulator's data directory" });
        }
        const latest = await session.connection.provider.getBlock("latest").catch((err: unknown) => { throw translateChainError(err, "read the latest block"); });
        if (!latest) throw new RiskshareError("E_CHAIN_UNREACHABLE", "the chain did not return its latest block");
        const until = fixedEnd ?? BigInt(latest.timestamp) + duration!;
        await registry.regulatorPause.staticCall(until).catch((err: unknown) => { throw translateChainError(err, action); });
        const receipt = await send(action, () => registry.regulatorPause(until));
        ctx.out.result(
          { paused: true, by: self, until: Number(until), txHash: receipt.txHash },
          (r) => `every lookup of the consortium is paused until ${isoOf(r.until)} (tx ${r.txHash}); nodes refuse them with E_CONSORTIUM_PAUSED. The members may lift it earlier: riskshare proposal unpause`,
        );
      });
    }));
  return regulator;
}
