/**
 * Credits on the QueryLedger (docs/PROTOCOL.md "Credits, metering and the bonus pool"): typed
 * readers of a member's balance, a (querier, provider) pair's nonce window and counts, the week and
 * the deployment's credit parameters, and of the credit events over a block range; and the two
 * senders, weekly feedback counts and a week's bonus settlement. What the chain answers is checked
 * against a schema before it is trusted (a node may talk to any JSON-RPC endpoint).
 *
 * @example
 *   const { balance, overdraft } = await creditsOf(contracts.ledger, memberAddress);
 *   const { week } = await reportFeedback(contracts.ledger, [{ provider, confirmed: 3, falsePositive: 0, outdated: 1 }]);
 *   const events = await creditEvents(contracts.ledger, { fromBlock, toBlock });
 */
import { getAddress, isAddress, type JsonRpcProvider, type Log } from "ethers";
import { z } from "zod";
import { RiskshareError, assertArgument } from "../errors.ts";
import type { IQueryLedger } from "../../types/ethers-contracts/index.ts";
import { firstBlockAtOrAfter } from "./audit.ts";
import { translateChainError } from "./errors.ts";
import { CHAIN_DEFAULTS, type CreditParams } from "./options.ts";

/** Largest value of a uint32 (feedback counts, weeks). */
const MAX_UINT32 = 0xffff_ffff;

const uint = (bits: number) => z.bigint().min(0n).max((1n << BigInt(bits)) - 1n);
const int256 = z.bigint().min(-(1n << 255n)).max((1n << 255n) - 1n);
const address = z.string().refine((value) => isAddress(value), "not an address").transform((value) => getAddress(value));

const creditsSchema = z.tuple([int256, uint(256)]);
const pairSchema = z.tuple([uint(64), uint(256), uint(64), uint(64)]);
const paramsSchema = z.tuple([uint(256), uint(256), uint(16), uint(16), uint(256)]);
const weekSchema = uint(32);
const weekStateSchema = z.tuple([uint(64), uint(64), uint(64), z.boolean()]);

/** A member's credits now. */
export interface CreditBalance {
  /** Balance with decay applied up to the latest block; may be negative. */
  balance: bigint;
  /** How far below zero it may go: 0 in its first 90 days, then min(L, credits earned in 13 weeks). */
  overdraft: bigint;
  /** balance + overdraft: the items it may still ask for before its peers' credit gates refuse it. */
  available: bigint;
}

/** A (querier, provider) pair on the ledger. */
export interface PairState {
  /** The highest request nonce metered (0 before any). */
  highestNonce: bigint;
  /** Bit i set = nonce highestNonce - i was metered. */
  window: bigint;
  /** Evaluated items metered, ever: the most the querier may report feedback on. */
  evaluatedItems: bigint;
  /** Items the querier reported feedback on (confirmed + false positive + outdated). */
  reportedItems: bigint;
}

/** A week's totals, and one provider's part of them. */
export interface WeekState {
  meteredItems: bigint;
  confirmed: bigint;
  providerConfirmed: bigint;
  settled: boolean;
}

/** The ledger handle the readers need (a read-only contract is enough). */
export type CreditsReader = Pick<IQueryLedger, "creditsOf" | "pairState" | "currentWeek" | "creditParams" | "weekState">;

/** Reads `member`'s balance and overdraft. */
export async function creditsOf(ledger: Pick<IQueryLedger, "creditsOf">, member: string): Promise<CreditBalance> {
  assertArgument(isAddress(member), "must be an address", "member");
  const [balance, overdraft] = checked(creditsSchema, await call("read a member's credits", () => ledger.creditsOf(member)), "creditsOf");
  return { balance, overdraft, available: balance + overdraft };
}

/** Reads the nonce window and the metered and reported items of `querier` at `provider`. */
export async function pairState(ledger: Pick<IQueryLedger, "pairState">, querier: string, provider: string): Promise<PairState> {
  assertArgument(isAddress(querier), "must be an address", "querier");
  assertArgument(isAddress(provider), "must be an address", "provider");
  const [highestNonce, window, evaluatedItems, reportedItems] = checked(pairSchema, await call("read a pair's credit state", () => ledger.pairState(querier, provider)), "pairState");
  return { highestNonce, window, evaluatedItems, reportedItems };
}

/** The ledger's current week (block.timestamp / 1 weeks of the latest block). */
export async function currentWeek(ledger: Pick<IQueryLedger, "currentWeek">): Promise<number> {
  return Number(checked(weekSchema, await call("read the ledger's week", () => ledger.currentWeek()), "currentWeek"));
}

/** The credit parameters the ledger was deployed with. */
export async function creditParams(ledger: Pick<IQueryLedger, "creditParams">): Promise<CreditParams> {
  const [startingCredits, overdraftLimit, poolPercent, providerCapPercent, falsePositiveBurn] = checked(
    paramsSchema, await call("read the credit parameters", () => ledger.creditParams()), "creditParams",
  );
  return { startingCredits, overdraftLimit, poolPercent: Number(poolPercent), providerCapPercent: Number(providerCapPercent), falsePositiveBurn };
}

/** Items metered and confirmations reported in `week`, with `provider`'s confirmations and whether its bonus was settled. */
export async function weekState(ledger: Pick<IQueryLedger, "weekState">, week: number, provider: string): Promise<WeekState> {
  assertArgument(Number.isInteger(week) && week >= 0 && week <= MAX_UINT32, "must be a week number", "week");
  assertArgument(isAddress(provider), "must be an address", "provider");
  const [meteredItems, confirmed, providerConfirmed, settled] = checked(weekStateSchema, await call("read a week's credit totals", () => ledger.weekState(week, provider)), "weekState");
  return { meteredItems, confirmed, providerConfirmed, settled };
}

/** One provider's counts in a weekly feedback report. */
export interface FeedbackCounts {
  provider: string;
  confirmed: number;
  falsePositive: number;
  outdated: number;
}

/** What a sent report or settlement left on chain. */
export interface CreditsTx {
  week: number;
  txHash: string;
  blockNumber: number;
}

/**
 * Sends this member's feedback counts for the current week (one entry per provider, each at most
 * once) and waits for the transaction. A provider's reports ever may count at most the items this
 * member was metered for there: E_FEEDBACK_EXCEEDS_EVALUATED; a reporter that is not Active:
 * E_CHAIN_REVERTED (QueryLedgerNotMember).
 */
export async function reportFeedback(ledger: Pick<IQueryLedger, "reportFeedback" | "interface">, counts: readonly FeedbackCounts[]): Promise<CreditsTx> {
  assertArgument(counts.length > 0, "name at least one provider", "counts");
  const seen = new Set<string>();
  for (const [index, entry] of counts.entries()) {
    assertArgument(isAddress(entry.provider), "must be an address", `counts[${index}].provider`);
    const key = entry.provider.toLowerCase();
    assertArgument(!seen.has(key), "names a provider twice", `counts[${index}].provider`);
    seen.add(key);
    for (const field of ["confirmed", "falsePositive", "outdated"] as const) {
      const n = entry[field];
      assertArgument(Number.isInteger(n) && n >= 0 && n <= MAX_UINT32, "must be a whole number from 0 to 2^32 - 1", `counts[${index}].${field}`);
    }
  }
  try {
    const receipt = await (await ledger.reportFeedback(
      counts.map((c) => getAddress(c.provider)), counts.map((c) => c.confirmed), counts.map((c) => c.falsePositive), counts.map((c) => c.outdated),
    )).wait();
    if (receipt === null) throw new Error("no receipt for the feedback report");
    const reported = receipt.logs.map((log) => ledger.interface.parseLog(log)).find((parsed) => parsed?.name === "FeedbackReported");
    // Every count zero: nothing was reported, so no event names the week.
    const week = reported === undefined || reported === null ? -1 : Number(reported.args[0]);
    return { week, txHash: receipt.hash, blockNumber: receipt.blockNumber };
  } catch (err) {
    throw translateChainError(err, "report feedback counts");
  }
}

/**
 * Settles `provider`'s bonus from the pool of `week` (anyone may) and waits for the transaction;
 * `reporters` are every member that confirmed it in the week (the FeedbackReported events of
 * {@link creditEvents} name them), sorted here. A week not over, settled already or older than 13
 * weeks: E_BONUS_NOT_SETTLEABLE.
 */
export async function settleBonus(
  ledger: Pick<IQueryLedger, "settleBonus" | "interface">,
  week: number,
  provider: string,
  reporters: readonly string[],
): Promise<CreditsTx & { amount: bigint }> {
  assertArgument(Number.isInteger(week) && week >= 0 && week <= MAX_UINT32, "must be a week number", "week");
  assertArgument(isAddress(provider), "must be an address", "provider");
  for (const [index, reporter] of reporters.entries()) assertArgument(isAddress(reporter), "must be an address", `reporters[${index}]`);
  const sorted = [...new Set(reporters.map((r) => getAddress(r)))].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  try {
    const receipt = await (await ledger.settleBonus(week, getAddress(provider), sorted)).wait();
    if (receipt === null) throw new Error("no receipt for the bonus settlement");
    const paid = receipt.logs.map((log) => ledger.interface.parseLog(log)).find((parsed) => parsed?.name === "BonusPaid");
    if (paid === undefined || paid === null) throw new Error("BonusPaid event missing");
    return { week, amount: paid.args[2] as bigint, txHash: receipt.hash, blockNumber: receipt.blockNumber };
  } catch (err) {
    throw translateChainError(err, `settle the bonus of week ${week}`);
  }
}

/** Where an event was found. */
interface EventAt {
  blockNumber: number;
  txHash: string;
}

/** The ledger's credit events, as {@link creditEvents} returns them. */
export type CreditEvent =
  | (EventAt & { name: "CreditsMoved"; querier: string; provider: string; items: bigint })
  | (EventAt & { name: "CreditsSkipped"; queryId: string; reason: "bad-signature" | "stale-nonce" })
  | (EventAt & { name: "FeedbackReported"; week: number; reporter: string; provider: string; confirmed: number; falsePositive: number; outdated: number })
  | (EventAt & { name: "CreditsBurned"; provider: string; week: number; amount: bigint })
  | (EventAt & { name: "BonusPaid"; week: number; provider: string; amount: bigint });

/** The names {@link creditEvents} reads. */
export const CREDIT_EVENT_NAMES = ["CreditsMoved", "CreditsSkipped", "FeedbackReported", "CreditsBurned", "BonusPaid"] as const;

const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/);
const eventSchemas = {
  CreditsMoved: z.tuple([address, address, uint(64)]),
  CreditsSkipped: z.tuple([bytes32, uint(8).refine((r) => r === 1n || r === 2n, "unknown reason")]),
  FeedbackReported: z.tuple([uint(32), address, address, uint(32), uint(32), uint(32)]),
  CreditsBurned: z.tuple([address, uint(32), uint(256)]),
  BonusPaid: z.tuple([uint(32), address, uint(256)]),
} as const;

/** The ledger handle {@link creditEvents} needs, and the provider's log reads. */
export type CreditEventsReader = Pick<IQueryLedger, "getAddress" | "interface"> & { runner: IQueryLedger["runner"] };

/**
 * The ledger's credit events in [fromBlock, toBlock] (inclusive), oldest first; `names` narrows
 * them (all five by default), `week` keeps only FeedbackReported, CreditsBurned and BonusPaid of
 * that week. Read in chunks of `logChunkBlocks` blocks (clients cap eth_getLogs ranges).
 */
export async function creditEvents(
  ledger: CreditEventsReader,
  query: { fromBlock: number; toBlock: number; names?: readonly CreditEvent["name"][]; week?: number; logChunkBlocks?: number },
): Promise<CreditEvent[]> {
  assertArgument(Number.isInteger(query.fromBlock) && query.fromBlock >= 0, "must be a block number", "fromBlock");
  assertArgument(Number.isInteger(query.toBlock) && query.toBlock >= 0, "must be a block number", "toBlock");
  const provider = ledger.runner?.provider;
  if (!provider) throw new RiskshareError("E_INTERNAL", "the ledger handle has no provider to read logs with");
  const names = query.names ?? CREDIT_EVENT_NAMES;
  const topics = names.map((name) => ledger.interface.getEvent(name).topicHash);
  const chunk = query.logChunkBlocks ?? CHAIN_DEFAULTS.logChunkBlocks;
  const out: CreditEvent[] = [];
  try {
    const address = await ledger.getAddress();
    for (let from = query.fromBlock; from <= query.toBlock; from += chunk) {
      const logs: Log[] = await provider.getLogs({ address, topics: [topics], fromBlock: from, toBlock: Math.min(query.toBlock, from + chunk - 1) });
      for (const log of logs) {
        const event = decodeCreditEvent(ledger, log);
        if (event === undefined) continue;
        if (query.week !== undefined && (!("week" in event) || event.week !== query.week)) continue;
        out.push(event);
      }
    }
  } catch (err) {
    throw translateChainError(err, "read the ledger's credit events");
  }
  return out.sort((a, b) => a.blockNumber - b.blockNumber);
}

function decodeCreditEvent(ledger: Pick<IQueryLedger, "interface">, log: Log): CreditEvent | undefined {
  const parsed = ledger.interface.parseLog(log);
  if (parsed === null) return undefined;
  const at = { blockNumber: log.blockNumber, txHash: log.transactionHash };
  const args = [...parsed.args];
  switch (parsed.name) {
    case "CreditsMoved": {
      const [querier, provider, items] = checked(eventSchemas.CreditsMoved, args, parsed.name);
      return { ...at, name: "CreditsMoved", querier, provider, items };
    }
    case "CreditsSkipped": {
      const [queryId, reason] = checked(eventSchemas.CreditsSkipped, args, parsed.name);
      return { ...at, name: "CreditsSkipped", queryId, reason: reason === 1n ? "bad-signature" : "stale-nonce" };
    }
    case "FeedbackReported": {
      const [week, reporter, provider, confirmed, falsePositive, outdated] = checked(eventSchemas.FeedbackReported, args, parsed.name);
      return { ...at, name: "FeedbackReported", week: Number(week), reporter, provider, confirmed: Number(confirmed), falsePositive: Number(falsePositive), outdated: Number(outdated) };
    }
    case "CreditsBurned": {
      const [provider, week, amount] = checked(eventSchemas.CreditsBurned, args, parsed.name);
      return { ...at, name: "CreditsBurned", provider, week: Number(week), amount };
    }
    case "BonusPaid": {
      const [week, provider, amount] = checked(eventSchemas.BonusPaid, args, parsed.name);
      return { ...at, name: "BonusPaid", week: Number(week), provider, amount };
    }
    default:
      return undefined;
  }
}

/** Runs a view call, translating a chain failure. */
async function call<T>(action: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw translateChainError(err, action);
  }
}

/** Parses what the chain answered against `schema`; a mismatch is an endpoint that is not the ledger. */
function checked<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(Array.isArray(value) ? [...value] : value);
  if (!result.success) {
    throw new RiskshareError("E_CHAIN_UNREACHABLE", `the chain's answer to ${what} does not have the ledger's shape: is the configured QueryLedger address right?`, { what });
  }
  return result.data;
}

/** Weeks of history the ledger keeps: a week's bonus can be settled while it is one of the last 13 ended ones. */
export const BONUS_SETTLEMENT_WEEKS = 13;

/** A week whose bonus `provider` can claim now, with the reporters that confirmed its entries in it. */
export interface DueBonus {
  week: number;
  reporters: string[];
}

/**
 * The ended weeks still in the settlement window in which `provider` got confirmations and whose
 * bonus is not settled, each with the reporters to name (sorted), from the FeedbackReported events
 * in [fromBlock, toBlock] — a range that should cover the window (a week's reports land in it).
 */
export async function dueBonuses(
  ledger: CreditEventsReader & Pick<IQueryLedger, "currentWeek" | "weekState">,
  provider: string,
  range: { fromBlock: number; toBlock: number; logChunkBlocks?: number },
): Promise<DueBonus[]> {
  assertArgument(isAddress(provider), "must be an address", "provider");
  const me = getAddress(provider);
  const now = await currentWeek(ledger);
  const oldest = Math.max(0, now - BONUS_SETTLEMENT_WEEKS);
  const byWeek = new Map<number, Set<string>>();
  for (const e of await creditEvents(ledger, { ...range, names: ["FeedbackReported"] })) {
    if (e.name !== "FeedbackReported" || e.provider !== me || e.confirmed === 0 || e.week >= now || e.week < oldest) continue;
    const reporters = byWeek.get(e.week) ?? new Set<string>();
    reporters.add(e.reporter);
    byWeek.set(e.week, reporters);
  }
  const due: DueBonus[] = [];
  for (const [week, reporters] of [...byWeek].sort(([a], [b]) => a - b)) {
    if ((await weekState(ledger, week, me)).settled) continue;
    due.push({ week, reporters: [...reporters].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)) });
  }
  return due;
}

/** Settles every {@link dueBonuses} week of `provider` (anyone may); returns what each paid. */
export async function settleDueBonuses(
  ledger: CreditEventsReader & Pick<IQueryLedger, "currentWeek" | "weekState" | "settleBonus">,
  provider: string,
  range: { fromBlock: number; toBlock: number; logChunkBlocks?: number },
): Promise<Array<CreditsTx & { amount: bigint }>> {
  const paid: Array<CreditsTx & { amount: bigint }> = [];
  for (const { week, reporters } of await dueBonuses(ledger, provider, range)) paid.push(await settleBonus(ledger, week, provider, reporters));
  return paid;
}

/** The blocks whose FeedbackReported events {@link dueBonuses} needs: those of the settlement window's weeks (and one more), to the head. */
export async function bonusEventRange(provider: Pick<JsonRpcProvider, "getBlock" | "getBlockNumber">): Promise<{ fromBlock: number; toBlock: number }> {
  try {
    const head = await provider.getBlockNumber();
    const latest = await provider.getBlock(head);
    if (latest === null) throw new RiskshareError("E_CHAIN_UNREACHABLE", "the chain did not return its head block", { blockNumber: head });
    const fromBlock = await firstBlockAtOrAfter(provider, latest.timestamp - (BONUS_SETTLEMENT_WEEKS + 1) * 604_800, head);
    return { fromBlock: Math.min(fromBlock, head), toBlock: head };
  } catch (err) {
    throw translateChainError(err, "find the blocks of the bonus settlement window");
  }
}
