/**
 * Asking many providers at once. A provider that refused, failed or timed out is reported as
 * such: its silence is never taken for a miss (the API's mergeCheck merges the outcomes).
 */
import type { DialTarget } from "@libp2p/interface";
import { toP2pError } from "../errors.ts";
import type { LookupCallOptions, LookupOutcome, LookupQuery } from "./client.ts";

/** A provider to ask: where to reach it, its EVM address and (when not the query's) the categories to ask it for. */
export interface FanOutTarget {
  peer: DialTarget;
  providerAddress: string;
  categoryIds?: number[];
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
  const settled = await Promise.allSettled(targets.map((target) => lookupPeer(target.peer, { ...query, ...(target.categoryIds === undefined ? {} : { categoryIds: target.categoryIds }), providerAddress: target.providerAddress }, callOptions)));
  return settled.map((result, index): LookupOutcome => {
    if (result.status === "fulfilled") return result.value;
    const error = toP2pError(result.reason);
    return { status: "error", providerAddress: targets[index]!.providerAddress, code: error.code, message: error.message };
  });
}
