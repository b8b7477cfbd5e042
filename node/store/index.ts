/**
 * The node's list store (LevelDB via `level`): entries keyed by the ids the provider's own OPRF key
 * derives (never a raw identifier), with tag, metadata key and version; a tag index per category for
 * fetch buckets; a delta log and a base tag filter per category; counts, a local audit trail, import
 * and export, contribution snapshots. Sealed metadata (metadata.ts) and the tag filter (filter.ts)
 * are pure and shared with the querier.
 *
 * @example
 *   const context = { chainId, providerAddress, keyEpoch: 1 };
 *   const store = new Store({ location: join(dataDir, "db"), categories: new Map([["fraud_confirmed", 1]]), binding: context }, { logger });
 *   await store.open();
 *   const evaluator = await EntryKeyEvaluator.create({ secretKey, context });
 *   const summary = await importList({ path: "risk.csv" }, { defaultCategory: "fraud_confirmed", onProgress: bar.update }, { store, evaluator, logger });
 *   const { liveCount, filterHash, keyEpoch } = await store.snapshot(1, nowSec);       // builds the base filter
 *   const [bucket] = await store.fetchBuckets(1, [{ bits: 4, value: 0xan }], nowSec); // { tag, version, sealed }[]
 *   const { adds, removes } = (await store.deltasSince(1, store.filterState(1).baseSeq))!;
 *   await store.close();
 *
 * Times are unix seconds (`…Sec`) throughout.
 */
export { Bucket, RETIRED_BUCKETS } from "./buckets.ts";
export {
  decodeEntryValue,
  encodeEntryKey,
  encodeEntryValue,
  ENTRY_KEY_BYTES,
  type EntryValueFields,
} from "./codec.ts";
export { buildTagFilter, filterContains, FILTER_TAG_BYTES, TagFilter, tagFilterCount, type BuiltFilter } from "./filter.ts";
export {
  decodeMetadata,
  encodeMetadata,
  MAX_CONFIRMATIONS,
  METADATA_FORMAT,
  METADATA_PLAINTEXT_BYTES,
  METADATA_SEALED_BYTES,
  metadataAssociatedData,
  AssociatedData,
  createMetadataCipher,
  MetadataCipher,
  METADATA_NONCE_BYTES,
  type EntryMetadata,
} from "./metadata.ts";
export { KeptHits, type AppliedRemovals, type HitChange, type KeptHit, type QueuedReport } from "./hits.ts";
export {
  DELISTING_LABEL,
  DELISTING_SEALED_BYTES,
  delistingAssociatedData,
  openDelisting,
  sealDelisting,
  type DelistingNotice,
} from "./delisting.ts";
export {
  entryProblem,
  isExpired,
  type EntryFields,
  type EntryInput,
  type EntryKey,
  type EntrySecrets,
  type FieldProblem,
  type RiskLevel,
  type StoredEntry,
} from "./entry.ts";
export { ENTRY_REJECT_REASONS, type EntryRejectReason, type RowRejectReason } from "./errors.ts";
export { EXPORT_COLUMNS, csvCell, exportEntries } from "./export.ts";
export { parseLevel, parseTimestampSec, type Cell, type Parsed } from "./import/fields.ts";
export { formatFromName, importList, type ImportModules, type ImportSource, type ImportSummary } from "./import/importer.ts";
export { IMPORT_COLUMNS, type ImportColumn } from "./import/sources.ts";
export {
  BULK_IMPORT_TUNING,
  ENTRY_LIMITS,
  IMPORT_DEFAULTS,
  PEPPER_SCHEMA_VERSION,
  SCHEMA_VERSION,
  STORE_DEFAULTS,
  type ExportOptions,
  type ImportFormat,
  type ImportOptions,
  type ImportProgress,
  type StoreOptions,
  type StoreTuning,
} from "./options.ts";
export { createProgressReporter, type ProgressReporter, type ProgressReporterOptions } from "./progress.ts";
export { publishSnapshots, type ContributionPublisher, type PublishedSnapshot } from "./publish.ts";
export type { AuditRecord, DelistAuditRecord, ImportAuditRecord, ImportCheckpoint, ImportCounts, ImportRowError, SweepAuditRecord } from "./records.ts";
export {
  Store,
  readHeldAnswers,
  readSentQuery,
  type BaseFilter,
  type CheckResult,
  type ConsistencyReport,
  type ContributionSnapshot,
  type FetchedEntry,
  type FilterState,
  type RemoveResult,
  type ReceivedFeedbackRecord,
  type ReceivedReport,
  type ReportOutcome,
  type StoreModules,
  type StoreStats,
  type SweepResult,
  type TagDeltas,
  type TagPrefix,
  type UpsertOptions,
  type UpsertOutcome,
  type UpsertResult,
} from "./store.ts";
export { Outbox, type OutboxLevel, type OutboxOptions } from "./outbox.ts";
export { JOURNAL_KEY_BYTES, openSecrets, QueryJournal, sealSecrets, type JournalAnswer, type JournalEntry, type JournalLevel, type JournalRequest, type JournalSecrets } from "./journal.ts";
export { NONCE_BLOCK_SIZE, NonceCounters, NonceWindows, type NonceCountersModules, type NonceCountersOptions, type NonceLevel, type StoredNonceWindow } from "./nonces.ts";
export { Housekeeping, HOUSEKEEPING_INTERVAL_MS, type Chore, type HousekeepingModules, type HousekeepingOptions } from "./housekeeping.ts";
export { OwnLists, type OwnResult } from "./own.ts";
export { categoriesDue, importSummaryView, ListService, type ImportStatus, type ListOverview, type ListServiceModules, type OwnCheck, type PublishedRow, type PublishedSnapshotInfo, type RemoveOutcome } from "./lists.ts";
