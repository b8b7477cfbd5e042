/**
 * `/riskshare/lookup/2`: private lookups between members. The querier sends blinded elements
 * (RFC 9497 VOPRF) padded to a fixed shape, the provider evaluates them under its current key with
 * one batch proof; the querier tests the resulting tags against its copy of the provider's filter
 * and fetches a bucket (a tag prefix) only after a filter hit. Every request is signed, recorded
 * in the provider's ledger outbox before the answer leaves, and carries no hit count.
 *
 * @example
 *   const service = lookup({ chainId, queryLedgerAddress })({
 *     registrar: host.libp2p, dialer: host.libp2p, membership, signer, voprf: await createVoprf(),
 *     outbox, nonceGuard, reciprocity, oprfKeys, store, snapshots,          // provider side
 *     nonceSource, providerKeys, filters: filterSync, metadata, journal, logger, // querier side
 *   });
 *   await service.start();
 *   const outcomes = await service.fanOut(providers, { items: [{ type: "phone", value: "+8613800138000" }], categoryIds: [1] });
 *   await service.stop();
 */
export * from "./constants.ts";
export { LOOKUP_DEFAULTS, lookupOptions, type LookupInit, type LookupOptions } from "./options.ts";
export type {
  BucketStore, ConsortiumPause, Credits, EntryMetadata, JournalSecrets, LookupComponents, MetadataOpener, NonceGuard, NonceSource, OprfKeys, Outbox, OutboxRecord, ProviderKeys, QueryItem,
  HitKeeper, QueryJournal, Reciprocity, SealedEntry, SnapshotView, TagFilters,
} from "./components.ts";
export {
  categoriesOfMask, errorFrame, evaluateAnswerFrame, fetchAnswerFrame, fromWirePrefix, fromWireRequest, lookupAnswer, lookupRequestFrame, lookupResponseFrame,
  maskOfCategories, decodeBucket, encodeBucket, wireBucket, toWirePrefix, toWireRequest, wireLookupRequest, wirePrefix,
  type ErrorFrame, type EvaluateAnswerFrame, type FetchAnswerFrame, type LookupAnswerWire, type LookupRequestFrame, type LookupResponseFrame,
  type WireBucket, type WireLookupRequest, type WirePrefix,
} from "./messages.ts";
export { bucketBits, evaluateShape, isCanonicalPrefix, isEvaluateShape, prefixOfTag, tagHasPrefix, tagValue } from "./shapes.ts";
export {
  checkQuery, LookupClient, type AnsweredLookup, type FailedLookup, type HitResult, type LookupCallOptions, type LookupOutcome, type LookupQuery,
  type LookupResult, type MissResult,
} from "./client.ts";
export { LookupProvider } from "./handler.ts";
export { PeerItemBuckets, RefusalFolder, type PeerItemBucketOptions, type RefusalFolderOptions } from "./flood.ts";
export { fanOut, type FanOutOptions, type FanOutTarget, type LookupCall } from "./fanout.ts";
export { lookup, LookupService } from "./service.ts";
export { storeBuckets } from "./buckets.ts";
export { QuerierFanOut, type ProviderInfo, type QuerierFanOutModules, type QuerierOutcome } from "./querier.ts";
