import { Command } from "commander";
import { getAddress, ZeroAddress } from "ethers";
import { revertError } from "../../node/chain/index.ts";
import { contextOf } from "../context.ts";
import { parseOptions } from "../errors.ts";
import type { CliIo } from "../output.ts";
import { chainFlagsSchema, send, withChainFlags, withSession } from "../chain.ts";

/**
 * `riskshare admin show|renounce`: the registry's bootstrap admin (a `deploy --keep-admin` keeps
 * it for a staged set-up). While one holds the registry it can seed members, regulators,
 * categories and policy without a vote, and nodes report `degraded`; `renounce` ends that for good.
 */
export function adminCommand(io: CliIo): Command {
  const admin = new Command("admin").description("the registry's bootstrap admin: who holds it, and renouncing it once set-up is done");

  admin.addCommand(withChainFlags(new Command("show"))
    .description("print the bootstrap admin, or say that it was renounced")
    .addHelpText("after", "\nExample:\n  riskshare admin show --json")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      await withSession(ctx, flags, false, async (session) => {
        const current = getAddress(await session.contracts.registry.admin());
        const held = current !== ZeroAddress;
        ctx.out.result(
          { admin: held ? current : null, renounced: !held },
          (r) => (r.admin === null
            ? "the bootstrap admin was renounced: only a vote of the members changes the registry"
            : `the bootstrap admin is ${r.admin}: it can seed members, regulators, categories and policy without a vote; it should run \`riskshare admin renounce\` once set-up is done`),
        );
      });
    }));

  admin.addCommand(withChainFlags(new Command("renounce"))
    .description("renounce the bootstrap admin for good (run with the admin's data directory); from then on only votes change the registry")
    .addHelpText("after", "\nExample:\n  riskshare --data-dir ./bank-a admin renounce")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      await withSession(ctx, flags, true, async (session) => {
        const { registry } = session.contracts;
        const action = "renounce the bootstrap admin";
        // Foresee the registry's refusals before sending a transaction.
        const current = getAddress(await registry.admin());
        if (current === ZeroAddress) throw revertError(action, "ConsortiumRegistryAdminRenounced", []);
        const self = getAddress(await session.signer!.getAddress());
        if (self !== current) throw revertError(action, "ConsortiumRegistryNotAdmin", [self], { detail: `the admin is ${current}; run this with its data directory` });
        const receipt = await send(action, () => registry.renounceAdmin());
        ctx.out.result({ previousAdmin: current, renounced: true, txHash: receipt.txHash }, (r) => `the bootstrap admin ${r.previousAdmin} is renounced: only a vote of the members changes the registry now (tx ${r.txHash})`);
      });
    }));
  return admin;
}
