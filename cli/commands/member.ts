import { Command } from "commander";
import { z } from "zod";
import { memberStatusName, ProposalKind, revertError, translateChainError, type MemberInfo } from "../../node/chain/index.ts";
import { RiskshareError } from "../../node/errors.ts";
import { contextOf } from "../context.ts";
import { parseOptions } from "../errors.ts";
import { addressArg, isoOf, oprfKeyArg, peerIdToRegistryBytes } from "../parse.ts";
import { table, type CliIo } from "../output.ts";
import { chainFlagsSchema, loadView, send, withChainFlags, withSession } from "../chain.ts";
import { ballotCommands, lookupOf, printCreated, propose } from "../governance.ts";
import { peerIdText } from "../../node/p2p/index.ts";

/** A member's status for people: a dormant member (no vote until it acts; it still looks up) says so. */
function statusText(m: MemberInfo, dormant: boolean): string {
  return dormant ? `${memberStatusName(m.status)} (dormant)` : memberStatusName(m.status);
}

function memberRow(m: MemberInfo, dormant: boolean): unknown[] {
  return [m.address, m.name, statusText(m, dormant), isoOf(m.joinedAt), peerIdText(m.peerId)];
}

function memberJson(m: MemberInfo, dormant: boolean): { address: string; name: string; status: string; dormant: boolean; joinedAt: number; peerId: string } {
  return { address: m.address, name: m.name, status: memberStatusName(m.status), dormant, joinedAt: m.joinedAt, peerId: peerIdText(m.peerId) };
}

/** `riskshare member …`: membership and its governance. */
export function memberCommand(io: CliIo): Command {
  const member = new Command("member").description("consortium members: list, show, and the votes that change them");

  member.addCommand(withChainFlags(new Command("list"))
    .description("every member the registry knows, with status")
    .addHelpText("after", "\nExamples:\n  riskshare member list\n  riskshare member list --rpc http://127.0.0.1:8545 --registry 0xREGISTRY --json")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      await withSession(ctx, flags, false, async (session) => {
        const view = await loadView(session, ctx);
        const members = view.allMembers();
        const dormant = (m: MemberInfo) => view.isDormant(m.address);
        ctx.out.result({ members: members.map((m) => memberJson(m, dormant(m))) }, () => table(["ADDRESS", "NAME", "STATUS", "JOINED", "PEER ID"], members.map((m) => memberRow(m, dormant(m)))));
      });
    }));

  member.addCommand(withChainFlags(new Command("show"))
    .argument("<address>", "the member's EVM address")
    .description("one member, with its latest contribution per category")
    .addHelpText("after", "\nExample:\n  riskshare member show 0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    .action(async (address: string, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      const account = parseOptions(z.object({ address: addressArg }), { address }).address;
      await withSession(ctx, flags, false, async (session) => {
        const view = await loadView(session, ctx);
        const m = view.member(account);
        if (!m) throw new RiskshareError("E_NOT_FOUND", `no member ${account} in the registry`);
        const contributions = view.categories().map((c) => ({ category: c.name, ...view.contribution(account, c.id) }));
        const dormant = view.isDormant(account);
        ctx.out.result({ ...memberJson(m, dormant), contributions }, (r) => [
          `${r.name} (${r.address})`, `  status   ${statusText(m, dormant)}${dormant ? ": no vote until its next on-chain action; it still looks up" : ""}`, `  joined   ${isoOf(m.joinedAt)}`, `  peerId   ${r.peerId}`, "  contributions:",
          ...contributions.map((c) => `    ${c.category.padEnd(24)} ${c.liveCount === undefined ? "none" : `${c.liveCount} entries, published ${isoOf(c.publishedAt ?? 0)}`}`),
        ].join("\n"));
      });
    }));

  member.addCommand(withChainFlags(new Command("propose"))
    .argument("<address>", "EVM address of the institution to admit")
    .requiredOption("--name <name>", "its display name")
    .requiredOption("--peer-id <peerId>", "its node's PeerId (printed by its `riskshare init`)")
    .requiredOption("--oprf-key <hex>", "its OPRF public key of key epoch 1 (printed by its `riskshare init` as oprfKey)")
    .description("propose to admit a new member (your vote counts at once)")
    .addHelpText("after", "\nExample:\n  riskshare member propose 0xNEWMEMBER --name \"Bank D\" --peer-id 16Uiu2HAm… --oprf-key 0x5e2f…   # its `riskshare init` printed all three")
    .action(async (address: string, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema.extend({ name: z.string().trim().min(1).max(100), peerId: z.string().min(1), oprfKey: oprfKeyArg }), raw);
      const account = parseOptions(z.object({ address: addressArg }), { address }).address;
      const peerId = peerIdToRegistryBytes(opts.peerId);
      await withSession(ctx, opts, true, async (session) => {
        const result = await propose(session, ProposalKind.Admit, { account, name: opts.name, peerId, oprfKey: opts.oprfKey }, lookupOf([]));
        printCreated(ctx, result);
      });
    }));

  for (const ballot of ballotCommands(io, "member")) member.addCommand(ballot);

  const lifecycle = [
    ["suspend", ProposalKind.Suspend, "suspend a member (a regulator suspends at once; a member proposes)"],
    ["reinstate", ProposalKind.Reinstate, "propose to reinstate a suspended member"],
    ["remove", ProposalKind.Remove, "propose to remove a member for good"],
  ] as const;
  for (const [name, kind, description] of lifecycle) {
    const lifecycleCommand = withChainFlags(new Command(name));
    if (kind === ProposalKind.Suspend) {
      lifecycleCommand.option("--days <days>", "a regulator's suspension: how many days it lasts (default and most: the registry's limit, 14 days at deployment)");
    }
    member.addCommand(lifecycleCommand
      .argument("<address>", "the member's EVM address")
      .description(description)
      .addHelpText("after", `\nExample:\n  riskshare member ${name} 0x90F79bf6EB2c4f870365E785982E1f101E93b906`)
      .action(async (address: string, raw: unknown, command: Command) => {
        const ctx = contextOf(command, io);
        const flags = parseOptions(chainFlagsSchema, raw);
        const { days } = parseOptions(z.object({ days: z.coerce.number().positive().optional() }), raw);
        const account = parseOptions(z.object({ address: addressArg }), { address }).address;
        await withSession(ctx, flags, true, async (session) => {
          const { registry } = session.contracts;
          const self = await session.signer!.getAddress();
          if (kind === ProposalKind.Suspend && (await registry.isRegulator(self))) {
            // A regulator's suspension stops the member's lookups until a time (it keeps its vote).
            const [maxSeconds] = await registry.governanceLimits();
            const latest = await session.connection.provider.getBlock("latest");
            if (!latest) throw new RiskshareError("E_CHAIN_UNREACHABLE", "the chain did not return its latest block");
            const until = BigInt(latest.timestamp) + (days === undefined ? maxSeconds : BigInt(Math.round(days * 86_400)));
            const receipt = await send(`suspend ${account}`, () => registry.regulatorSuspend(account, until));
            ctx.out.result(
              { account, suspended: true, by: "regulator", until: Number(until), txHash: receipt.txHash },
              (r) => `${account} suspended by regulator ${self} until ${isoOf(r.until)} (its vote stays; after that anyone ends it on chain with endSuspension)`,
            );
            return;
          }
          const created = await propose(session, kind, { account }, lookupOf([]));
          if (await registry.hasVoted(created.proposalId, self)) printCreated(ctx, { account, ...created });
          else ctx.out.result({ account, ...created }, (r) => `proposal ${r.proposalId} created: ${r.summary}; a regulator does not vote: the members decide.\nMembers vote with: riskshare proposal vote ${r.proposalId}`);
        });
      }));
  }
  member.addCommand(withChainFlags(new Command("end-suspension"))
    .argument("<address>", "the member a regulator suspended")
    .description("end a regulator's suspension once its time is over: the member is Active again (anyone may, the member itself typically)")
    .addHelpText("after", "\nExample:\n  riskshare member end-suspension 0x90F79bf6EB2c4f870365E785982E1f101E93b906   # `member suspend` printed when it ends")
    .action(async (address: string, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      const account = parseOptions(z.object({ address: addressArg }), { address }).address;
      await withSession(ctx, flags, true, async (session) => {
        const { registry } = session.contracts;
        const action = `end the suspension of ${account}`;
        // Foresee the contract's refusals from its own view, and say when the suspension ends, before paying for a transaction.
        const [until] = await registry.regulatorSuspension(account);
        if (until === 0n) throw revertError(action, "ConsortiumRegistryNotRegulatorSuspended", [account]);
        const latest = await session.connection.provider.getBlock("latest");
        if (!latest) throw new RiskshareError("E_CHAIN_UNREACHABLE", "the chain did not return its latest block");
        if (BigInt(latest.timestamp) < until) {
          throw revertError(action, "ConsortiumRegistrySuspensionNotOver", [account, until], { detail: `it ends at ${isoOf(Number(until))} (chain time now ${isoOf(latest.timestamp)}); run this again from then` });
        }
        const receipt = await send(action, () => registry.endSuspension(account));
        ctx.out.result(
          { account, reinstated: true, suspendedUntil: Number(until), txHash: receipt.txHash },
          (r) => `${account} is Active again: the regulator's suspension ended ${isoOf(r.suspendedUntil)} (tx ${r.txHash})`,
        );
      });
    }));
  member.addCommand(withChainFlags(new Command("mark-dormant"))
    .argument("<address>", "a voting member that took no on-chain action for the dormancy period (180 days by default)")
    .description("mark a long-silent member dormant: it leaves the electorate of new proposals until its next on-chain action (anyone may; never below 2 voting members)")
    .addHelpText("after", "\nExample:\n  riskshare member mark-dormant 0x90F79bf6EB2c4f870365E785982E1f101E93b906   # `member list` then says (dormant)")
    .action(async (address: string, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      const account = parseOptions(z.object({ address: addressArg }), { address }).address;
      await withSession(ctx, flags, true, async (session) => {
        const { registry } = session.contracts;
        const action = `mark ${account} dormant`;
        // Foresee the registry's refusals (no vote, too early with the time it may be marked from, the floor) by simulating the call.
        await registry.markDormant.staticCall(account).catch((err: unknown) => { throw translateChainError(err, action); });
        const receipt = await send(action, () => registry.markDormant(account));
        ctx.out.result(
          { account, dormant: true, txHash: receipt.txHash },
          (r) => `${account} is dormant: it has no vote on proposals made from now on until its next on-chain action (tx ${r.txHash})`,
        );
      });
    }));
  return member;
}
