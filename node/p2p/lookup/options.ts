/**
 * Options of the lookup service and their defaults: the one place defaults live.
 */
import {
  CLIENT_TIMEOUT_MS, COVER_FETCH_RATE, MAX_DEADLINE_AHEAD_SECONDS, MAX_FRAME_BYTES, MAX_INBOUND_STREAMS, MAX_OUTBOUND_STREAMS, PEER_BURST_ITEMS, PEER_ITEMS_PER_SECOND,
  REFUSAL_FOLD_SECONDS, REQUEST_TTL_SECONDS, TIMEOUT_MS,
} from "./constants.ts";

/** Options of {@link LookupService} (the Init of the `lookup()` factory). */
export interface LookupInit {
  /** Chain id of the EIP-712 domain. */
  chainId: bigint;
  /** QueryLedger address: the EIP-712 verifying contract. */
  queryLedgerAddress: string;
  /** Provider side: budget of a whole exchange, in ms. */
  timeoutMs?: number;
  /** Querier side: default per-provider timeout, in ms. */
  clientTimeoutMs?: number;
  /** Frame size cap, in bytes (tests may lower it; peers must agree, so keep the default). */
  maxFrameBytes?: number;
  maxInboundStreams?: number;
  maxOutboundStreams?: number;
  /** Lifetime of the requests this node signs, in seconds. */
  requestTtlSeconds?: number;
  /** Furthest ahead a received deadline may lie, in seconds. */
  maxDeadlineAheadSeconds?: number;
  /** Probability of a cover Fetch after a lookup without any filter hit (0..1). */
  coverFetchRate?: number;
  /** Provider side: items a peer's bucket refills per second; a request beyond it gets E_RATE_LIMITED, unrecorded. */
  peerItemsPerSecond?: number;
  /** Provider side: items a peer's bucket holds (its burst). */
  peerBurstItems?: number;
  /** Provider side: refusals of one outcome from one peer within this many seconds are one ledger record (0: one record each). */
  refusalFoldSeconds?: number;
}

/** {@link LookupInit} with every default filled in. */
export type LookupOptions = Required<LookupInit>;

/** Defaults of the optional {@link LookupInit} fields. */
export const LOOKUP_DEFAULTS = {
  timeoutMs: TIMEOUT_MS,
  clientTimeoutMs: CLIENT_TIMEOUT_MS,
  maxFrameBytes: MAX_FRAME_BYTES,
  maxInboundStreams: MAX_INBOUND_STREAMS,
  maxOutboundStreams: MAX_OUTBOUND_STREAMS,
  requestTtlSeconds: REQUEST_TTL_SECONDS,
  maxDeadlineAheadSeconds: MAX_DEADLINE_AHEAD_SECONDS,
  coverFetchRate: COVER_FETCH_RATE,
  peerItemsPerSecond: PEER_ITEMS_PER_SECOND,
  peerBurstItems: PEER_BURST_ITEMS,
  refusalFoldSeconds: REFUSAL_FOLD_SECONDS,
} as const satisfies Omit<LookupOptions, "chainId" | "queryLedgerAddress">;

/** Fills the defaults in. */
export function lookupOptions(init: LookupInit): LookupOptions {
  return { ...LOOKUP_DEFAULTS, ...definedOnly(init) } as LookupOptions;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
