/**
 * `/riskshare/filter/1`: every member keeps a copy of every provider's per-category tag filter
 * (a base committed on chain plus signed deltas), so a lookup learns locally which tags are worth
 * a Fetch.
 *
 * @example
 *   const filters = filter()({ registrar: host.libp2p, membership, signer, source: store, reciprocity, logger });
 *   const sync = new FilterSync({ filterPollMs: 20_000 }, { dialer: host.libp2p, directory, cache, filterContains, logger });
 *   await filters.start(); await sync.start(abort.signal);
 *   sync.contains(provider, categoryId, keyEpoch, tag);   // the lookup service's `filters` component
 *   await sync.stop(); await filters.stop();
 */
export * from "./constants.ts";
export { FILTER_DEFAULTS, FILTER_SYNC_DEFAULTS, type FilterInit, type FilterSyncOptions } from "./options.ts";
export type {
  FilterCache, FilterComponents, FilterRemovalListener, FilterRemovals, FilterContains, FilterCount, FilterDirectory, ImplausibleSnapshot, FilterReciprocity, FilterSource, FilterSyncModules, FilterTarget, HeldFilter, SourceFilterState,
} from "./components.ts";
export {
  filterAnswerFrame, filterRequestFrame, filterResponseFrame, filterState,
  type FilterAnswerFrame, type FilterRequestFrame, type FilterResponseFrame, type FilterState,
} from "./messages.ts";
export { applyTag, baseFilterHash, encodeFilterState, filterStateDigest, netDeltas, tagHex, type FilterDelta } from "./state.ts";
export { filter, FilterService } from "./service.ts";
export { FilterSync, type FilterPollResult } from "./sync.ts";
export { storeFilterSource } from "./source.ts";
export { filterDirectory, type FilterDirectoryModules } from "./directory.ts";
