/**
 * What `/riskshare/filter/1` needs from the node, each as the smallest interface that does.
 */
import type { DialTarget } from "@libp2p/interface";
import type { Logger } from "../../logger.ts";
import type { ReciprocityDecision } from "../../policy/index.ts";
import type { Clock, DigestSigner, MembershipView, PeerDialer, StreamRegistrar } from "../components.ts";
import type { FilterDelta } from "./state.ts";

/** A category's current filter as the provider's store holds it (node/store's `filterState`). */
export interface SourceFilterState {
  /** The key epoch the tags are under. */
  epoch: number;
  /** keccak256 of the base filter bytes (0x-hex, lower case): the hash published on chain. */
  baseHash: string;
  /** Tags in the base. */
  baseCount: number;
  /** The latest delta's sequence number (0 = none since the base). */
  seq: number;
}

/** The provider's own filters (node/store: `filterState`, the base bytes, `deltasSince`). */
export interface FilterSource {
  /** The category's current state, or undefined when no base is built. */
  filterState(categoryId: number): Promise<SourceFilterState | undefined>;
  /** The bytes of the category's current base filter. */
  baseFilter(categoryId: number): Promise<Uint8Array>;
  /** The deltas after `seq`, in order; undefined when the log no longer reaches back that far. */
  deltasSince(categoryId: number, seq: number): Promise<FilterDelta[] | undefined>;
}

/** The reciprocity rule without the quota: may `querier` ask for this category at all? (node/policy's eligibility). */
export interface FilterReciprocity {
  eligible(querier: string, categoryId: number, nowSec: number): Promise<ReciprocityDecision> | ReciprocityDecision;
}

/** Everything {@link FilterService} (the provider side) uses. */
export interface FilterComponents {
  registrar: StreamRegistrar;
  membership: MembershipView;
  /** Signs filter states with the member key (digestSignerFromEvmKey). */
  signer: DigestSigner;
  source: FilterSource;
  reciprocity: FilterReciprocity;
  logger: Logger;
  clock?: Clock;
}

/** A provider whose filters this node keeps, and the categories it may ask it for. */
export interface FilterTarget {
  providerAddress: string;
  peer: DialTarget;
  categoryIds: number[];
}

/** The chain view as FilterSync reads it. */
export interface FilterDirectory {
  /** Every Active member but this node, with the categories this node may ask each for. */
  targets(): FilterTarget[];
  /** The provider's latest on-chain snapshot of the category, or undefined. */
  snapshot(providerAddress: string, categoryId: number): { keyEpoch: number; filterHash: string; liveCount: bigint } | undefined;
}

/** A provider's filter as the querier keeps it. */
export interface HeldFilter {
  epoch: number;
  baseHash: string;
  baseCount: number;
  seq: number;
  base: Uint8Array;
  /** Net additions since the base (lower-case 0x-hex tags). */
  adds: string[];
  removes: string[];
}

/** Where FilterSync keeps filters across restarts (LevelDB or files). */
export interface FilterCache {
  get(providerAddress: string, categoryId: number): Promise<HeldFilter | undefined>;
  put(providerAddress: string, categoryId: number, filter: HeldFilter): Promise<void>;
}

/** Membership of a tag in base filter bytes (node/store's `filterContains`). */
export type FilterContains = (base: Uint8Array, tag: Uint8Array) => boolean;

/** How many keys base filter bytes hold, from the filter itself (node/store's `tagFilterCount`); throws when the bytes are not a filter. */
export type FilterCount = (base: Uint8Array) => number;

/** A provider whose on-chain live count disagrees with the filter it committed to: its filter is not used. */
export interface ImplausibleSnapshot {
  providerAddress: string;
  categoryId: number;
  /** The live count on chain, decimal. */
  liveCount: string;
  /** The keys its filter holds. */
  filterCount: number;
}

/** The removals of one applied filter state, with the sealed delisting notices it carried. */
export interface FilterRemovals {
  providerAddress: string;
  categoryId: number;
  keyEpoch: number;
  /** Removed tags, lower-case 0x-hex. */
  removes: readonly string[];
  /** Sealed notices (node/store/delisting.ts) by tag. */
  notices: ReadonlyMap<string, Uint8Array>;
}

/** Told of every state FilterSync takes (node/store's KeptHits matches the removals against the hits it keeps). */
export interface FilterRemovalListener {
  applyRemovals(removals: FilterRemovals, seenAtMs: number): Promise<unknown>;
}

/** Everything {@link FilterSync} (the querier side) uses. */
export interface FilterSyncModules {
  dialer: PeerDialer;
  directory: FilterDirectory;
  cache: FilterCache;
  filterContains: FilterContains;
  filterCount: FilterCount;
  logger: Logger;
  /** Told of each state's removals once it is taken; none when absent. */
  removals?: FilterRemovalListener | undefined;
}
