/**
 * The node's list store (LevelDB via `level`): entries as salted hashes with their category and
 * expiry indexes, per-category counts, a local audit trail, import and export, contribution snapshots.
 *
 * @example
 *   const store = new Store({ location: join(dataDir, "db"), categories: new Map([["fraud_confirmed", 1]]), pepperEpoch: 1 }, { logger });
 *   await store.open();
 *   const hasher = Hasher.fromPepper({ epoch: 1, pepper });
 *   const summary = await importList({ path: "risk.csv" }, { defaultCategory: "fraud_confirmed", onProgress: bar.update }, { store, hasher, logger });
 *   const [answer] = await store.checkMany([{ type: "phone", hash: hasher.hash("phone", normalise("phone", "13800138000")) }]);
 *   const { liveCount, root } = await store.snapshot(1, nowSec);
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
export { CONTRIBUTION_DIGEST_TAG, ContributionDigest, contributionRoot } from "./digest.ts";
export {
  entryProblem,
  isExpired,
  type EntryFields,
  type EntryInput,
  type EntryKey,
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
  readSentQuery,
  type CheckResult,
  type ConsistencyReport,
  type ContributionSnapshot,
  type RemoveResult,
  type StoreModules,
  type StoreStats,
  type SweepResult,
  type UpsertOptions,
  type UpsertOutcome,
  type UpsertResult,
} from "./store.ts";
export { Outbox, type OutboxLevel, type OutboxOptions } from "./outbox.ts";
export { QueryJournal, type JournalEntry, type JournalLevel } from "./journal.ts";
export { NonceStore, type NonceLevel } from "./nonces.ts";
export { Housekeeping, HOUSEKEEPING_INTERVAL_MS, type Chore, type HousekeepingModules, type HousekeepingOptions } from "./housekeeping.ts";
