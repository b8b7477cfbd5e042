/**
 * `/riskshare/lookup/1`: signed, committed lookups between members, answered under reciprocity
 * and recorded in the ledger outbox before the answer leaves.
 *
 * @example
 *   const service = lookup({ chainId, queryLedgerAddress })({
 *     registrar: host.libp2p, dialer: host.libp2p, membership, signer: wallet,
 *     outbox, nonceGuard, reciprocity, entries, journal, logger,
 *   });
 *   await service.start();
 *   const outcomes = await service.fanOut(providers, { items, categoryIds: [1] }, { timeoutMsPerPeer: 5_000 });
 *   await service.stop();
 */
export * from "./constants.ts";
export { LOOKUP_DEFAULTS, lookupOptions, type LookupInit, type LookupOptions } from "./options.ts";
export type { EntryLookup, LookupComponents, NonceGuard, Outbox, OutboxRecord, QueryJournal, Reciprocity } from "./components.ts";
export {
  answerFrame, categoriesOfMask, errorFrame, fromWireRequest, signedAnswerOf, hitResult, lookupAnswer, lookupItem, lookupRequestFrame, lookupResponseFrame, lookupResult,
  maskOfCategories, missResult, toWireRequest, wireLookupRequest,
  type AnswerFrame, type ErrorFrame, type HitResult, type LookupAnswerWire, type LookupItem, type LookupRequestFrame, type LookupResponseFrame,
  type LookupResult, type MissResult, type WireLookupRequest,
} from "./messages.ts";
export { countHits, encodeResults, itemsCommitment, resultsDigest } from "./results.ts";
export { checkQuery, LookupClient, type AnsweredLookup, type FailedLookup, type LookupCallOptions, type LookupOutcome, type LookupQuery } from "./client.ts";
export { LookupProvider } from "./handler.ts";
export { fanOut, type FanOutOptions, type FanOutTarget, type LookupCall } from "./fanout.ts";
export { lookup, LookupService } from "./service.ts";
export { OwnEntries, ownLookupResult, type OwnCheckResult, type OwnEntry, type OwnEntrySource } from "./entries.ts";
