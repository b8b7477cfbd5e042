import { Command } from "commander";
import { z } from "zod";
import { getAddress, ZeroAddress } from "ethers";
import { revertError, translateChainError } from "../../node/chain/index.ts";
import { contextOf } from "../context.ts";
import { parseOptions } from "../errors.ts";
import { addressArg, isoOf } from "../parse.ts";
import type { CliIo } from "../output.ts";
import { chainFlagsSchema, send, withChainFlags, withSession, type ChainSession } from "../chain.ts";
import { latestTimestamp } from "../governance.ts";

/** The registry's bootstrap admin as `admin show` prints it. */
interface AdminState {
  admin: string | null;
  renounced: boolean;
  /** The account nominated by `admin transfer`, until it accepts; null if none. */
  pendingAdmin: string | null;
  /** When seeding stops (unix seconds); null once a proposal has executed, which ended it for good. */
  seedingEndsAt: number | null;
  /** Whether the admin may still seed now. */
  seedingOpen: boolean;
}

async function readAdmin(session: ChainSession): Promise<AdminState> {
  const { registry } = session.contracts;
  try {
    const [current, pending, endsAt] = await Promise.all([registry.admin(), registry.pendingAdmin(), registry.seedingEndsAt()]);
    const admin = getAddress(current);
    const pendingAdmin = getAddress(pending);
    const seedingEndsAt = endsAt === 0n ? null : Number(endsAt);
    const now = await latestTimestamp(session);
    return {
      admin: admin === ZeroAddress ? null : admin,
      renounced: admin === ZeroAddress,
      pendingAdmin: pendingAdmin === ZeroAddress ? null : pendingAdmin,
      seedingEndsAt,
      seedingOpen: admin !== ZeroAddress && seedingEndsAt !== null && now < seedingEndsAt,
    };
  } catch (err) {
    throw translateChainError(err, "read the bootstrap admin");
  }
}

function renderAdmin(r: AdminState): string {
  if (r.admin === null) return "the bootstrap admin was renounced: only a vote of the members changes the registry";
  const seeding = r.seedingOpen
    ? `it can seed members, regulators, categories and policy without a vote until ${isoOf(r.seedingEndsAt!)} (or until a proposal executes)`
    : "its seeding is over (a proposal executed, or the seeding window passed), so it can no longer change members or policy";
  const pending = r.pendingAdmin === null ? "" : `\n${r.pendingAdmin} is nominated to take the role over: it runs \`riskshare admin accept\``;
  return `the bootstrap admin is ${r.admin}: ${seeding}; it should run \`riskshare admin renounce\` once set-up is done${pending}`;
}

/**
 * `riskshare admin show|transfer|accept|renounce`: the registry's bootstrap admin (a `deploy
 * --keep-admin` keeps it for a staged set-up). While one holds the registry it can seed members,
 * regulators, categories and policy without a vote, until the seeding window closes or a proposal
 * executes, and nodes report `degraded`; `renounce` ends that for good. A hand-over takes two steps:
 * the admin nominates (`transfer`), the nominee accepts (`accept`).
 */
export function adminCommand(io: CliIo): Command {
  const admin = new Command("admin").description("the registry's bootstrap admin: who holds it, handing it over in two steps, and renouncing it once set-up is done");

  admin.addCommand(withChainFlags(new Command("show"))
    .description("print the bootstrap admin (or that it was renounced), the account nominated to take it over, and until when it may seed")
    .addHelpText("after", "\nExample:\n  riskshare admin show --json")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      await withSession(ctx, flags, false, async (session) => {
        ctx.out.result(await readAdmin(session), renderAdmin);
      });
    }));

  admin.addCommand(withChainFlags(new Command("transfer"))
    .argument("<address>", "the account to nominate (the zero address withdraws a nomination)")
    .description("nominate an account for the bootstrap admin role (run with the admin's data directory); the role moves only when it runs `riskshare admin accept`")
    .addHelpText("after", "\nExample:\n  riskshare --data-dir ./bank-a admin transfer 0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    .action(async (address: string, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      const nominee = parseOptions(z.object({ address: addressArg }), { address }).address;
      await withSession(ctx, flags, true, async (session) => {
        const { registry } = session.contracts;
        const action = `nominate ${nominee} for the bootstrap admin`;
        const state = await readAdmin(session);
        await requireAdmin(session, state, action);
        const receipt = await send(action, () => registry.transferAdmin(nominee));
        const withdrawn = nominee === ZeroAddress;
        ctx.out.result(
          { admin: state.admin, pendingAdmin: withdrawn ? null : nominee, txHash: receipt.txHash },
          (r) => (withdrawn
            ? `the nomination is withdrawn: ${r.admin} stays the bootstrap admin (tx ${r.txHash})`
            : `${nominee} is nominated; ${r.admin} stays the bootstrap admin until ${nominee} runs \`riskshare admin accept\` (tx ${r.txHash})`),
        );
      });
    }));

  admin.addCommand(withChainFlags(new Command("accept"))
    .description("take the bootstrap admin role this data directory's account was nominated for")
    .addHelpText("after", "\nExample:\n  riskshare --data-dir ./bank-b admin accept")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      await withSession(ctx, flags, true, async (session) => {
        const action = "accept the bootstrap admin";
        const state = await readAdmin(session);
        const self = getAddress(await session.signer!.getAddress());
        if (state.pendingAdmin !== self) {
          throw revertError(action, "ConsortiumRegistryNotPendingAdmin", [self], { detail: state.pendingAdmin === null ? "nobody is nominated" : `the nominee is ${state.pendingAdmin}` });
        }
        const receipt = await send(action, () => session.contracts.registry.acceptAdmin());
        ctx.out.result({ previousAdmin: state.admin, admin: self, txHash: receipt.txHash }, (r) => `${r.admin} is the bootstrap admin now, in place of ${r.previousAdmin} (tx ${r.txHash})`);
      });
    }));

  admin.addCommand(withChainFlags(new Command("renounce"))
    .description("renounce the bootstrap admin for good (run with the admin's data directory); from then on only votes change the registry")
    .addHelpText("after", "\nExample:\n  riskshare --data-dir ./bank-a admin renounce")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      await withSession(ctx, flags, true, async (session) => {
        const action = "renounce the bootstrap admin";
        const state = await readAdmin(session);
        await requireAdmin(session, state, action);
        const receipt = await send(action, () => session.contracts.registry.renounceAdmin());
        ctx.out.result({ previousAdmin: state.admin, renounced: true, txHash: receipt.txHash }, (r) => `the bootstrap admin ${r.previousAdmin} is renounced: only a vote of the members changes the registry now (tx ${r.txHash})`);
      });
    }));
  return admin;
}

/** Foresees the registry's refusal of an admin-only call before sending: renounced, or another account. */
async function requireAdmin(session: ChainSession, state: AdminState, action: string): Promise<void> {
  if (state.admin === null) throw revertError(action, "ConsortiumRegistryAdminRenounced", []);
  const self = getAddress(await session.signer!.getAddress());
  if (self !== state.admin) throw revertError(action, "ConsortiumRegistryNotAdmin", [self], { detail: `the admin is ${state.admin}; run this with its data directory` });
}
