import { Command } from "commander";
import { z } from "zod";
import { getAddress } from "ethers";
import {
  decodeProposalPayload, describeProposal, encodeProposalPayload, proposalKindName, translateChainError,
  type ProposalArgsInput, type ProposalKind, type ProposalLookup,
} from "../node/chain/index.ts";
import { RiskshareError } from "../node/errors.ts";
import { peerIdText } from "../node/p2p/index.ts";
import { idArg, isoOf } from "./parse.ts";
import { chainFlagsSchema, send, withChainFlags, withSession, type ChainSession } from "./chain.ts";
import { contextOf, type CliContext } from "./context.ts";
import { parseOptions } from "./errors.ts";
import type { CliIo } from "./output.ts";

/** A proposal as `proposal list|show` print it: its decoded payload for people, its state and who voted. */
export interface ProposalView {
  id: bigint;
  kind: string;
  /** One sentence: what executing it does (category names, durations, the quorum as a fraction). */
  summary: string;
  /** The decoded payload: category names beside ids, durations, checksummed addresses. */
  args: Record<string, unknown>;
  /** The raw ABI-encoded payload, as on chain. */
  payload: string;
  proposer: string;
  createdAt: number;
  expiresAt: number;
  votes: number;
  quorum: number;
  executed: boolean;
  state: "open" | "passable" | "executed" | "expired";
  voters: string[];
}

/** A registry category as the governance commands need it. */
export interface RegistryCategory {
  id: number;
  name: string;
  active: boolean;
}

/** Every category the registry knows, retired ones included, by id. */
export async function readCategories(session: ChainSession): Promise<RegistryCategory[]> {
  const { registry } = session.contracts;
  try {
    const count = Number(await registry.categoryCount());
    const categories: RegistryCategory[] = [];
    for (let id = 1; id <= count; id++) {
      const c = await registry.category(id);
      categories.push({ id, name: c.name, active: c.active });
    }
    return categories;
  } catch (err) {
    throw translateChainError(err, "read the registry's categories");
  }
}

/** The active category named `name`; E_CATEGORY_UNKNOWN naming the active ones otherwise (before any transaction). */
export function activeCategoryNamed(categories: readonly RegistryCategory[], name: string, argument: string): RegistryCategory {
  const found = categories.find((c) => c.name === name);
  const active = categories.filter((c) => c.active).map((c) => c.name);
  if (found === undefined || !found.active) {
    throw new RiskshareError(
      "E_CATEGORY_UNKNOWN",
      `${argument}: ${found === undefined ? "no category" : "the retired category"} "${name.slice(0, 64)}"${found === undefined ? " in the registry" : ""}; active: ${active.join(", ") || "(none)"}`,
      { argument, active },
    );
  }
  return found;
}

/** How descriptions name categories and PeerIds, from the registry's categories. */
export function lookupOf(categories: readonly RegistryCategory[]): ProposalLookup {
  return { categoryName: (id) => categories.find((c) => c.id === id)?.name, peerIdText };
}

/** What a new proposal's command prints. */
export interface ProposalCreated {
  proposalId: bigint;
  txHash: string;
  kind: string;
  summary: string;
  args: Record<string, unknown>;
}

/** Creates a proposal (the proposer's vote counts at once) and returns its id with what it proposes. */
export async function propose<K extends ProposalKind>(session: ChainSession, kind: K, args: ProposalArgsInput<K>, lookup: ProposalLookup): Promise<ProposalCreated> {
  const payload = encodeProposalPayload(kind, args);
  const described = describeProposal(kind, decodeProposalPayload(kind, payload), lookup);
  const { registry } = session.contracts;
  const receipt = await send(`propose to ${described.summary}`, () => registry.propose(kind, payload));
  const created = receipt.logs.map((log) => registry.interface.parseLog(log)).find((parsed) => parsed?.name === "ProposalCreated");
  if (!created) throw new RiskshareError("E_INTERNAL", "the registry did not announce the proposal");
  return { proposalId: created.args[0] as bigint, txHash: receipt.txHash, kind: proposalKindName(kind), summary: described.summary, args: described.details };
}

/** Prints a new proposal the same way for every kind. */
export function printCreated<T extends ProposalCreated>(ctx: CliContext, result: T): void {
  ctx.out.result(result, (r) => `proposal ${r.proposalId} created: ${r.summary}; your vote is counted.\nOther members vote with: riskshare proposal vote ${r.proposalId}`);
}

/** Reads one proposal, decoding its payload for people and listing its voters from the Voted events. */
export async function readProposal(session: ChainSession, id: bigint, nowSec: number, lookup: ProposalLookup): Promise<ProposalView> {
  const { registry } = session.contracts;
  let p: Awaited<ReturnType<typeof registry.proposal>>;
  let voters: string[];
  let counted: bigint;
  try {
    p = await registry.proposal(id);
    // Only the votes of members still entitled count (one suspended by vote or removed loses its votes).
    counted = await registry.countedVotes(id);
    const votedLogs = await registry.queryFilter(registry.filters.Voted(id));
    voters = votedLogs.map((log) => getAddress(registry.interface.parseLog(log)?.args[1] as string));
  } catch (err) {
    throw translateChainError(err, `read proposal ${id}`);
  }
  const kind = Number(p.kind) as ProposalKind;
  const executed = p.executed;
  const expiresAt = Number(p.expiresAt);
  const votes = Number(counted);
  const quorum = Number(p.quorum);
  let summary: string;
  let args: Record<string, unknown>;
  try {
    ({ summary, details: args } = describeProposal(kind, decodeProposalPayload(kind, p.payload), lookup));
  } catch {
    // The registry refuses malformed payloads at propose; this only guards a registry from another version.
    summary = "payload not decodable by this riskshare version";
    args = {};
  }
  return {
    id, kind: proposalKindName(kind), summary, args, payload: p.payload, proposer: p.proposer, createdAt: Number(p.createdAt), expiresAt, votes, quorum, executed,
    state: executed ? "executed" : nowSec >= expiresAt ? "expired" : votes >= quorum ? "passable" : "open",
    voters,
  };
}

/** The text `proposal show` prints for one proposal. */
export function renderProposal(p: ProposalView): string {
  const rows: Array<[string, unknown]> = [
    ...Object.entries(p.args),
    ["state", `${p.state} (${p.votes}/${p.quorum} votes)`],
    ["proposer", p.proposer],
    ["created", isoOf(p.createdAt)],
    ["expires", isoOf(p.expiresAt)],
    ["voters", p.voters.join(", ")],
  ];
  const width = Math.max(...rows.map(([key]) => key.length));
  return [`proposal ${p.id}: ${p.kind} — ${p.summary}`, ...rows.map(([key, value]) => `  ${key.padEnd(width)}  ${String(value)}`)].join("\n");
}

/** What `vote` and `execute` print. */
export interface BallotResult {
  proposalId: bigint;
  txHash: string;
  kind: string;
  summary: string;
  votes: number;
  quorum: number;
  executed: boolean;
}

/** Votes for, or executes, proposal `proposalId` from the session's signer, then reads its new state. */
export async function castBallot(session: ChainSession, action: "vote" | "execute", proposalId: bigint, lookup: ProposalLookup): Promise<BallotResult> {
  const { registry } = session.contracts;
  const receipt = await send(`${action} proposal ${proposalId}`, () => (action === "vote" ? registry.vote(proposalId) : registry.execute(proposalId)));
  const view = await readProposal(session, proposalId, 0, lookup);
  return { proposalId, txHash: receipt.txHash, kind: view.kind, summary: view.summary, votes: view.votes, quorum: view.quorum, executed: view.executed };
}

/** Prints a vote or an execution the same way for every kind. */
export function printBallot(ctx: CliContext, action: "vote" | "execute", result: BallotResult): void {
  ctx.out.result(result, (r) => action === "vote"
    ? `voted on proposal ${r.proposalId} (${r.summary}): ${r.votes}/${r.quorum} votes${r.votes >= r.quorum ? ` — it can be executed now: riskshare proposal execute ${r.proposalId}` : ""}`
    : `proposal ${r.proposalId} executed: ${r.summary}`);
}

/**
 * `vote` and `execute` for a proposal of any kind, as `riskshare proposal vote|execute` and, the
 * same commands, `riskshare member vote|execute`.
 */
export function ballotCommands(io: CliIo, group: "member" | "proposal"): Command[] {
  return (["vote", "execute"] as const).map((name) => withChainFlags(new Command(name))
    .argument("<proposalId>", "the proposal's number")
    .description(`${name === "vote" ? "vote for" : "execute"} a proposal of any kind${name === "execute" ? " once it has enough votes (anyone may)" : " (the members entitled when it was made)"}${group === "member" ? `; the same as \`riskshare proposal ${name}\`` : ""}`)
    .addHelpText("after", `\nExample:\n  riskshare ${group} ${name} 3   # the proposal number from \`riskshare proposal list\``)
    .action(async (id: string, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      const proposalId = parseOptions(z.object({ proposalId: idArg }), { proposalId: id }).proposalId;
      await withSession(ctx, flags, true, async (session) => {
        printBallot(ctx, name, await castBallot(session, name, proposalId, lookupOf(await readCategories(session))));
      });
    }));
}
