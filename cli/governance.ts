import { Command } from "commander";
import { z } from "zod";
import { getAddress } from "ethers";
import {
  decodeProposalPayload, describeProposal, encodeProposalPayload, isTimelocked, proposalKindName, ProposalStatus, revertError, translateChainError,
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
  /** True once `execute` ran: voting is over (the proposal was applied, or queued behind the timelock). */
  executed: boolean;
  /**
   * open / passable (enough votes) / expired, until executed; then executed (applied at once), or,
   * for a time-locked kind, queued (before its eta), enactable (eta passed), enacted, or lapsed
   * (not enacted within a voting period after its eta).
   */
  state: "open" | "passable" | "executed" | "expired" | "queued" | "enactable" | "enacted" | "lapsed";
  /** Whether executing this kind queues it behind the registry's timelock. */
  timelocked: boolean;
  /** When a queued proposal may be enacted (unix seconds); null unless it was queued. */
  eta: number | null;
  /** When a queued proposal lapses unless enacted (unix seconds); null unless it was queued. */
  lapsesAt: number | null;
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
  let votingPeriod: bigint;
  try {
    p = await registry.proposal(id);
    votingPeriod = await registry.votingPeriod();
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
  const status = Number(p.status);
  const queued = status === ProposalStatus.Queued || status === ProposalStatus.Enacted;
  const eta = queued ? Number(p.eta) : null;
  const lapsesAt = eta === null ? null : eta + Number(votingPeriod);
  return {
    id, kind: proposalKindName(kind), summary, args, payload: p.payload, proposer: p.proposer, createdAt: Number(p.createdAt), expiresAt, votes, quorum, executed,
    state: proposalState(status, { nowSec, expiresAt, votes, quorum, eta, lapsesAt }),
    timelocked: isTimelocked(kind), eta, lapsesAt,
    voters,
  };
}

/** A proposal's state from its on-chain status and the clock (expiry and lapse are not written on chain). */
export function proposalState(
  status: number,
  at: { nowSec: number; expiresAt: number; votes: number; quorum: number; eta: number | null; lapsesAt: number | null },
): ProposalView["state"] {
  switch (status) {
    case ProposalStatus.Executed:
      return "executed";
    case ProposalStatus.Enacted:
      return "enacted";
    case ProposalStatus.Queued:
      return at.nowSec >= (at.lapsesAt ?? 0) ? "lapsed" : at.nowSec >= (at.eta ?? 0) ? "enactable" : "queued";
    default:
      return at.nowSec >= at.expiresAt ? "expired" : at.votes >= at.quorum ? "passable" : "open";
  }
}

/** Whether a proposal in `state` is still pending: open for votes, or queued behind the timelock. */
export function isPending(state: ProposalView["state"]): boolean {
  return state === "open" || state === "passable" || state === "queued" || state === "enactable";
}

/** The text `proposal show` prints for one proposal. */
export function renderProposal(p: ProposalView): string {
  const rows: Array<[string, unknown]> = [
    ...Object.entries(p.args),
    ["state", `${p.state} (${p.votes}/${p.quorum} votes)`],
    ["proposer", p.proposer],
    ["created", isoOf(p.createdAt)],
    ["expires", isoOf(p.expiresAt)],
    ...(p.eta === null ? [] : [["eta", `${isoOf(p.eta)}${p.state === "queued" ? ` (enact from then: riskshare proposal enact ${p.id})` : ""}`], ["lapses", isoOf(p.lapsesAt!)]] as Array<[string, unknown]>),
    ...(p.timelocked && p.eta === null ? [["timelock", "takes effect only when enacted, the registry's timelock delay after it is executed"]] as Array<[string, unknown]> : []),
    ["voters", p.voters.join(", ")],
  ];
  const width = Math.max(...rows.map(([key]) => key.length));
  return [`proposal ${p.id}: ${p.kind} — ${p.summary}`, ...rows.map(([key, value]) => `  ${key.padEnd(width)}  ${String(value)}`)].join("\n");
}

/** What `vote`, `execute` and `enact` print. */
export interface BallotResult {
  proposalId: bigint;
  txHash: string;
  kind: string;
  summary: string;
  votes: number;
  quorum: number;
  executed: boolean;
  /** The proposal's state after the transaction: e.g. queued after executing a time-locked kind. */
  state: ProposalView["state"];
  /** When a queued proposal may be enacted (unix seconds); null unless it was queued. */
  eta: number | null;
}

/** The three transactions on an existing proposal. */
export type BallotAction = "vote" | "execute" | "enact";

/** Votes for, executes or enacts proposal `proposalId` from the session's signer, then reads its new state. */
export async function castBallot(session: ChainSession, action: BallotAction, proposalId: bigint, lookup: ProposalLookup): Promise<BallotResult> {
  const { registry } = session.contracts;
  if (action === "enact") await foreseeEnact(session, proposalId);
  const receipt = await send(`${action} proposal ${proposalId}`, () => (action === "vote" ? registry.vote(proposalId) : action === "execute" ? registry.execute(proposalId) : registry.enact(proposalId)));
  const view = await readProposal(session, proposalId, await latestTimestamp(session), lookup);
  return { proposalId, txHash: receipt.txHash, kind: view.kind, summary: view.summary, votes: view.votes, quorum: view.quorum, executed: view.executed, state: view.state, eta: view.eta };
}

/**
 * The time the registry will judge a transaction sent now by: the next block's. A chain that
 * produces blocks steadily has its latest block about now; one that mines on demand (a devnet) may
 * have none for a while, and its next block takes the wall-clock time. So: the later of the two.
 * A refusal foreseen from it is the one the contract would give (if the local clock runs ahead,
 * the transaction is sent and the contract's own refusal comes back instead).
 */
export async function nextBlockTime(session: ChainSession): Promise<number> {
  return Math.max(await latestTimestamp(session), Math.floor(Date.now() / 1000));
}

/** The latest block's time (unix seconds): the registry's clock. */
export async function latestTimestamp(session: ChainSession): Promise<number> {
  try {
    return (await session.connection.provider.getBlock("latest"))?.timestamp ?? Math.floor(Date.now() / 1000);
  } catch (err) {
    throw translateChainError(err, "read the latest block");
  }
}

/**
 * Refuses, before sending, an `enact` the registry would refuse: a proposal not queued, one whose
 * eta has not come (E_TIMELOCKED, with the eta), or one that lapsed. Its effect is checked by the
 * registry itself (e.g. the voting floor for a Remove).
 */
async function foreseeEnact(session: ChainSession, proposalId: bigint): Promise<void> {
  const action = `enact proposal ${proposalId}`;
  const { registry } = session.contracts;
  let status: number, eta: number, votingPeriod: number;
  try {
    const p = await registry.proposal(proposalId);
    [status, eta, votingPeriod] = [Number(p.status), Number(p.eta), Number(await registry.votingPeriod())];
  } catch (err) {
    throw translateChainError(err, action);
  }
  if (status !== ProposalStatus.Queued) throw revertError(action, "ConsortiumRegistryProposalNotQueued", [proposalId]);
  const now = await nextBlockTime(session);
  if (now < eta) throw revertError(action, "ConsortiumRegistryProposalTimelocked", [proposalId, eta], { detail: `its eta is ${isoOf(eta)}, in ${eta - now} s` });
  if (now >= eta + votingPeriod) throw revertError(action, "ConsortiumRegistryProposalLapsed", [proposalId, eta + votingPeriod], { detail: `it lapsed at ${isoOf(eta + votingPeriod)}` });
}

/** Prints a vote, an execution or an enactment the same way for every kind. */
export function printBallot(ctx: CliContext, action: BallotAction, result: BallotResult): void {
  ctx.out.result(result, (r) => {
    if (action === "vote") {
      return `voted on proposal ${r.proposalId} (${r.summary}): ${r.votes}/${r.quorum} votes${r.votes >= r.quorum ? ` — it can be executed now: riskshare proposal execute ${r.proposalId}` : ""}`;
    }
    if (action === "enact") return `proposal ${r.proposalId} enacted: ${r.summary}`;
    return r.eta === null
      ? `proposal ${r.proposalId} executed: ${r.summary}`
      : `proposal ${r.proposalId} passed and is queued behind the timelock: ${r.summary} takes effect when enacted, from ${isoOf(r.eta)} (anyone may: riskshare proposal enact ${r.proposalId})`;
  });
}

/** Each ballot command's description and example comment. */
const BALLOT_HELP: Record<BallotAction, string> = {
  vote: "vote for a proposal of any kind (the members entitled when it was made)",
  execute: "execute a proposal of any kind once it has enough votes (anyone may); a Remove, regulator, policy, category-retirement or quorum proposal is then queued for `enact`",
  enact: "apply a queued proposal once the registry's timelock delay after its execution is over (anyone may); refused before its eta",
};

/**
 * `vote`, `execute` and `enact` for a proposal of any kind, as `riskshare proposal vote|execute|enact`
 * and, the same commands, `riskshare member vote|execute|enact`.
 */
export function ballotCommands(io: CliIo, group: "member" | "proposal"): Command[] {
  return (["vote", "execute", "enact"] as const).map((name) => withChainFlags(new Command(name))
    .argument("<proposalId>", "the proposal's number")
    .description(`${BALLOT_HELP[name]}${group === "member" ? `; the same as \`riskshare proposal ${name}\`` : ""}`)
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
