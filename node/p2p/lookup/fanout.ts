/**
 * Asking many providers at once and merging what they said. A provider that refused, failed or
 * timed out is reported as such: its silence is never taken for a miss.
 */
import type { DialTarget } from "@libp2p/interface";
import { toP2pError } from "../errors.ts";
import type { FailedLookup, LookupCallOptions, LookupOutcome, LookupQuery } from "./client.ts";
import type { HitResult, LookupItem } from "./messages.ts";

/** A provider to ask: where to reach it and its EVM address. */
export interface FanOutTarget {
  peer: DialTarget;
  providerAddress: string;
}

/** Options of a fan-out. */
export interface FanOutOptions {
  /** Each provider's own timeout (they run in parallel). */
  timeoutMsPerPeer?: number;
  signal?: AbortSignal;
}

/** One provider's call, as {@link fanOut} makes it. */
export type LookupCall = (peer: DialTarget, query: LookupQuery, opts: LookupCallOptions) => Promise<LookupOutcome>;

/** Asks every target in parallel; one outcome per target, in target order, whatever each does. */
export async function fanOut(
  lookupPeer: LookupCall,
  targets: readonly FanOutTarget[],
  query: Omit<LookupQuery, "providerAddress">,
  opts: FanOutOptions = {},
): Promise<LookupOutcome[]> {
  const callOptions: LookupCallOptions = {
    ...(opts.timeoutMsPerPeer === undefined ? {} : { timeoutMs: opts.timeoutMsPerPeer }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  };
  const settled = await Promise.allSettled(targets.map((target) => lookupPeer(target.peer, { ...query, providerAddress: target.providerAddress }, callOptions)));
  return settled.map((result, index): LookupOutcome => {
    if (result.status === "fulfilled") return result.value;
    const error = toP2pError(result.reason);
    return { status: "error", providerAddress: targets[index]!.providerAddress, code: error.code, message: error.message };
  });
}

/** A hit one provider reported for an item. */
export interface ProviderHit {
  providerAddress: string;
  result: HitResult;
}

/** One item and every hit reported for it. */
export interface MergedItem {
  item: LookupItem;
  /** Empty when every provider that answered missed it (see `unanswered` for the others). */
  hits: ProviderHit[];
}

/** The merged view of a fan-out. */
export interface MergedLookup {
  /** One entry per item, in request order. */
  items: MergedItem[];
  /** Providers that answered every item (hit or miss). */
  answered: string[];
  /** Providers that refused, failed or timed out: for them every item is unknown, not a miss. */
  unanswered: FailedLookup[];
  /** How many hits in all. */
  hitCount: number;
}

/** Merges a fan-out's outcomes: which providers hit which item, with what. */
export function mergeOutcomes(items: readonly LookupItem[], outcomes: readonly LookupOutcome[]): MergedLookup {
  const merged: MergedItem[] = items.map((item) => ({ item, hits: [] }));
  const answered: string[] = [];
  const unanswered: FailedLookup[] = [];
  let hitCount = 0;
  for (const outcome of outcomes) {
    if (outcome.status !== "answered") {
      unanswered.push(outcome);
      continue;
    }
    answered.push(outcome.providerAddress);
    outcome.results.forEach((result, index) => {
      if (!result.hit || merged[index] === undefined) return;
      merged[index].hits.push({ providerAddress: outcome.providerAddress, result });
      hitCount += 1;
    });
  }
  return { items: merged, answered, unanswered, hitCount };
}
