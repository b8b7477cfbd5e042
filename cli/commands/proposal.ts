import { Command } from "commander";
import { z } from "zod";
import { getAddress } from "ethers";
import { decodeProposalPayload, proposalKindName, translateChainError, type ProposalKind } from "../../node/chain/index.ts";
import { contextOf } from "../context.ts";
import { parseOptions } from "../errors.ts";
import { idArg, isoOf } from "../parse.ts";
import { table, type CliIo } from "../output.ts";
import { chainFlagsSchema, openChain, withChainFlags, type ChainSession } from "../chain.ts";

/** A proposal with its decoded arguments and who voted. */
export interface ProposalView {
  id: bigint;
  kind: string;
  args: Record<string, unknown>;
  proposer: string;
  createdAt: number;
  expiresAt: number;
  votes: number;
  quorum: number;
  executed: boolean;
  state: "open" | "passable" | "executed" | "expired";
  voters: string[];
}

/** Reads one proposal, decoding its payload and listing its voters from the Voted events. */
export async function readProposal(session: ChainSession, id: bigint, nowSec: number): Promise<ProposalView> {
  const { registry } = session.contracts;
  try {
    const p = await registry.proposal(id);
    const kind = Number(p.kind) as ProposalKind;
    const votedLogs = await registry.queryFilter(registry.filters.Voted(id));
    const voters = votedLogs.map((log) => getAddress(registry.interface.parseLog(log)?.args[1] as string));
    const executed = p.executed;
    const expiresAt = Number(p.expiresAt);
    const votes = Number(p.votes);
    const quorum = Number(p.quorum);
    let args: Record<string, unknown>;
    try {
      args = decodeProposalPayload(kind, p.payload) as Record<string, unknown>;
    } catch {
      args = { payload: p.payload };
    }
    return {
      id, kind: proposalKindName(kind), args, proposer: p.proposer, createdAt: Number(p.createdAt), expiresAt, votes, quorum, executed,
      state: executed ? "executed" : nowSec >= expiresAt ? "expired" : votes >= quorum ? "passable" : "open",
      voters,
    };
  } catch (err) {
    throw translateChainError(err, `read proposal ${id}`);
  }
}

const flagsSchema = chainFlagsSchema.extend({ all: z.boolean().optional() });

function describeArgs(args: Record<string, unknown>): string {
  return Object.entries(args).map(([key, value]) => `${key}=${typeof value === "object" && value !== null ? JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) : String(value)}`).join(" ");
}

/** `riskshare proposal list|show`. */
export function proposalCommand(io: CliIo): Command {
  const proposal = new Command("proposal").description("governance proposals and who voted for them");

  proposal.addCommand(withChainFlags(new Command("list"))
    .option("--all", "include executed and expired proposals")
    .description("open proposals (or all with --all)")
    .addHelpText("after", "\nExamples:\n  riskshare proposal list\n  riskshare proposal list --all --json")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(flagsSchema, raw);
      const session = await openChain(ctx, flags, false);
      try {
        const count = await session.contracts.registry.proposalCount();
        const now = (await session.connection.provider.getBlock("latest"))?.timestamp ?? Math.floor(Date.now() / 1000);
        const proposals: ProposalView[] = [];
        for (let id = 1n; id <= count; id++) proposals.push(await readProposal(session, id, now));
        const shown = flags.all ? proposals : proposals.filter((p) => p.state === "open" || p.state === "passable");
        ctx.out.result({ proposals: shown }, () => shown.length === 0 ? "no open proposals" : table(
          ["ID", "KIND", "STATE", "VOTES", "EXPIRES", "ARGS"],
          shown.map((p) => [p.id, p.kind, p.state, `${p.votes}/${p.quorum}`, isoOf(p.expiresAt), describeArgs(p.args)]),
        ));
      } finally {
        session.close();
      }
    }));

  proposal.addCommand(withChainFlags(new Command("show"))
    .argument("<proposalId>", "the proposal's number")
    .description("one proposal: what it does, its state, and who voted")
    .addHelpText("after", "\nExample:\n  riskshare proposal show 3")
    .action(async (id: string, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(flagsSchema, raw);
      const proposalId = parseOptions(z.object({ proposalId: idArg }), { proposalId: id }).proposalId;
      const session = await openChain(ctx, flags, false);
      try {
        const now = (await session.connection.provider.getBlock("latest"))?.timestamp ?? Math.floor(Date.now() / 1000);
        const p = await readProposal(session, proposalId, now);
        ctx.out.result(p, (r) => [
          `proposal ${r.id}: ${r.kind} ${describeArgs(r.args)}`,
          `  state     ${r.state} (${r.votes}/${r.quorum} votes)`,
          `  proposer  ${r.proposer}`,
          `  created   ${isoOf(r.createdAt)}`,
          `  expires   ${isoOf(r.expiresAt)}`,
          `  voters    ${r.voters.join(", ")}`,
        ].join("\n"));
      } finally {
        session.close();
      }
    }));
  return proposal;
}
