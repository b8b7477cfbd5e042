/**
 * Options of the store and of imports, with their defaults (the one place defaults live).
 */
import type { EntryKeyContext, NormaliseOptions } from "../identity/index.ts";

/**
 * On-disk format version of the database; a store refuses to open any other (E_STORE_SCHEMA), and a
 * pepper-era store (version 1, or a pepper epoch in meta) with E_STORE_FORMAT.
 * 2: entries keyed by OPRF-derived entry ids, with tag, metadata key and version; tag index, delta log, base filters.
 */
export const SCHEMA_VERSION = 2;
/** The last schema version written by the pepper (HMAC hash) riskshare. */
export const PEPPER_SCHEMA_VERSION = 1;

/** Bounds on entry fields. */
export const ENTRY_LIMITS = {
  /** Risk levels run 1 (lowest) to 5 (highest). */
  minLevel: 1,
  maxLevel: 5,
  /** Category ids are 1..63 (bit positions of the on-chain category mask). */
  minCategoryId: 1,
  maxCategoryId: 63,
  /** Reason codes are short institution codes ("R01", "chargeback"): ASCII letters, digits, `_ . : -`. */
  maxReasonChars: 32,
  /** The owner's own reference (a case or ticket number): printable, at most this many UTF-8 bytes (the sealed metadata's room). */
  maxOwnRefBytes: 128,
  /** Largest timestamp the store encodes (48-bit seconds: year ~8.9 million). */
  maxTimestampSec: 2 ** 48 - 1,
} as const;

/** Options of a {@link Store}. */
export interface StoreOptions {
  /** Directory of the LevelDB database (a node keeps it at `<dataDir>/db`); created when missing. */
  readonly location: string;
  /** Active categories, name → id (1..63), as the chain defines them. */
  readonly categories: ReadonlyMap<string, number>;
  /**
   * The (chain, provider, OPRF key epoch) whose entry keys this store holds. Recorded on first use;
   * opening a store recorded under another fails with E_STORE_EPOCH. Omit for read-only uses (stats, export).
   */
  readonly binding?: EntryKeyContext | undefined;
  /** Entries deleted per atomic write when sweeping expired entries. */
  readonly sweepBatchSize?: number;
  /** How far in the future a reported-at time may lie before the entry is refused, in seconds. */
  readonly maxClockSkewSec?: number;
  /** LevelDB sizing; the defaults suit a node ({@link BULK_IMPORT_TUNING} suits a bulk import). */
  readonly tuning?: StoreTuning | undefined;
}

/** LevelDB sizing of a store. */
export interface StoreTuning {
  /**
   * Table files kept open. LevelDB maps every open table into memory, and each page it touches
   * counts in the process's resident size: at 10M entries (~500 tables) that was ~430 MiB.
   */
  readonly maxOpenFiles?: number;
  /** Memtable size: larger means fewer level-0 files and compactions, and two of them in memory. */
  readonly writeBufferBytes?: number;
  /**
   * Snappy-compress the tables this process writes (LevelDB's default: true). Entry keys are HMAC
   * outputs, which do not compress, while compactions re-compress every table several times over:
   * ~3 µs of CPU per imported row at 10M rows. Tables written either way stay readable.
   */
  readonly compression?: boolean;
}

/**
 * LevelDB sizing of `riskshare list import`: a short-lived process writing millions of rows,
 * whose peak memory matters more than random reads of old tables (measured at 10M rows: peak RSS
 * 1,563 → 1,075 MiB, rows/s unchanged), and whose CPU goes to rows rather than to compressing
 * hashes (no compression: 22.7 → 19.4 µs of CPU a row at 10M). A node keeps LevelDB's defaults.
 */
export const BULK_IMPORT_TUNING: StoreTuning = { maxOpenFiles: 64, writeBufferBytes: 16 * 1024 * 1024, compression: false };

/** Defaults of the optional {@link StoreOptions}. */
export const STORE_DEFAULTS = {
  sweepBatchSize: 10_000,
  maxClockSkewSec: 86_400,
} as const;

/** File formats an import reads. */
export type ImportFormat = "csv" | "jsonl";

/** Options of one import. */
export interface ImportOptions {
  /** File format; from the file name when omitted (.jsonl/.ndjson → jsonl, anything else → csv). */
  readonly format?: ImportFormat | undefined;
  /** Identifier type for rows without one (the `type` column may then be left out). */
  readonly defaultType?: string | undefined;
  /** Category name (or id) for rows without one (the `category` column may then be left out). */
  readonly defaultCategory?: string | undefined;
  /** How raw identifiers are read (default phone region…). */
  readonly normalise?: NormaliseOptions | undefined;
  /** Rows per atomic write: entries, counts and the checkpoint go to disk together. */
  readonly batchSize?: number | undefined;
  /** Rejected rows listed in the summary (all are counted). */
  readonly maxErrorsListed?: number | undefined;
  /** Continue an interrupted import of the same content from its checkpoint (true), or start over (false). */
  readonly resume?: boolean | undefined;
  /**
   * With `resume`: an import of the same content and options that already finished is not run again;
   * its summary is read from its checkpoint (a key rotation's `--prepare` run again after an
   * interruption skips the files it had finished). By default a finished import runs again.
   */
  readonly skipDone?: boolean | undefined;
  /** The import's clock, unix seconds (expiry checks and added-at); the wall clock when omitted. */
  readonly nowSec?: number | undefined;
  /** Called after each committed batch (and once at the end). */
  readonly onProgress?: ((progress: ImportProgress) => void) | undefined;
  /**
   * Evaluating worker threads. n ≥ 1: one worker thread reads, checks and normalises the rows, n
   * others evaluate the OPRF and derive the entry keys, and this thread writes; 0: all in this
   * thread. Default: `os.availableParallelism()` for sources of known size at least
   * `IMPORT_DEFAULTS.workerThresholdBytes`, else 0.
   */
  readonly workers?: number | undefined;
  /**
   * Keep an in-memory filter of the stored keys during the import (see `Store.trackPresence`), so
   * new rows cost no LevelDB read. Default: for sources of at least `presenceFilterMinBytes` whose
   * estimated rows are at least a quarter of the stored entries (building it reads every key once).
   */
  readonly presenceFilter?: boolean | undefined;
  /** Stops the import between batches; committed batches stay (E_ABORTED). */
  readonly signal?: AbortSignal | undefined;
}

/** Defaults of the optional {@link ImportOptions}. */
export const IMPORT_DEFAULTS = {
  /**
   * Rows per write. Batches wait in memory while others are converted and written; at 5,000 rows
   * they die young in V8's heaps instead of being promoted (peak RSS at 1M rows 680 → 530 MiB).
   */
  batchSize: 5_000,
  /**
   * A batch also ends once its rows span this many bytes of the source, so that a file of long
   * rows cannot swell a batch (and a worker thread's heap, which is capped) to 5,000 × 64 KiB.
   */
  maxBatchBytes: 8 * 1024 * 1024,
  /**
   * Old-generation heap cap of the import worker, in MiB: without it V8 lets the heap grow for
   * hundreds of MiB before collecting. At most two converted batches wait in the worker, and
   * batches end at maxBatchBytes of source.
   */
  workerHeapMb: 128,
  /**
   * Young-generation cap of each import worker (the reading one and the evaluating ones), in MiB.
   * V8's default lets it grow several times larger than what a worker keeps alive. Since the OPRF
   * evaluation sets the pace (~10k rows/s against ~100k the reading worker converts), a smaller
   * young generation costs no throughput: at 3M rows, 32 → 16 → 8 MiB gave peak RSS 798–813 →
   * 726 → 710 MiB at 9,030–9,250 → 9,360 → 9,386 rows/s; 16 keeps the evaluating threads'
   * collections rare. (When reading was the bottleneck, 16 MiB cost it ~25% of its time.)
   */
  workerYoungHeapMb: 16,
  maxErrorsListed: 100,
  resume: true,
  /** Longest CSV record or JSON line read, in bytes: bounds memory on a malformed file. */
  maxRecordBytes: 64 * 1024,
  /** Sources at least this large get a worker thread (starting one costs ~0.2 s). */
  workerThresholdBytes: 4 * 1024 * 1024,
  /** Sources at least this large get a presence filter by default (see `ImportOptions.presenceFilter`). */
  presenceFilterMinBytes: 4 * 1024 * 1024,
  /** Source bytes per row assumed when estimating a file's rows (real lists run 50–100; fewer only raises the filter's false positives). */
  estimatedRowBytes: 64,
} as const;

/** Where an import is, reported after each batch. */
export interface ImportProgress {
  /** Data rows read so far (header and blank lines excluded), including any skipped on resume. */
  readonly rows: number;
  /** Bytes of the source read so far. */
  readonly bytes: number;
  /** Size of the source in bytes, when known (for an ETA). */
  readonly totalBytes: number | undefined;
  /** Rows per second in this run. */
  readonly rowsPerSec: number;
  readonly elapsedMs: number;
  readonly imported: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly rejected: number;
}

/** Options of an export. */
export interface ExportOptions {
  readonly format: ImportFormat;
  /** Only this category's entries. */
  readonly categoryId?: number | undefined;
  /** Also entries past their expiry that no sweep has purged yet. */
  readonly includeExpired?: boolean | undefined;
  /** Clock for the expiry filter, unix seconds. */
  readonly nowSec?: number | undefined;
}
