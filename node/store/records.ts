/**
 * Records the store keeps besides entries: audit trail records and import checkpoints. Both are
 * JSON on disk and hold tags, counts and reason codes only — never a raw identifier.
 */
import type { ImportFormat } from "./options.ts";
import type { RowRejectReason } from "./errors.ts";

/** An entry removed because an appeal was upheld (or the owner withdrew it). */
export interface DelistAuditRecord {
  readonly action: "delist";
  readonly atSec: number;
  readonly type: string;
  /** The entry's tag, hex. */
  readonly tag: string;
  readonly categoryId: number;
  /** Why, as a short reason code. */
  readonly reason: string;
}

/** Expired entries purged by one sweep write. */
export interface SweepAuditRecord {
  readonly action: "sweep";
  readonly atSec: number;
  readonly purged: number;
  /** Purged entries per category id. */
  readonly perCategory: Readonly<Record<string, number>>;
}

/** A finished import. */
export interface ImportAuditRecord {
  readonly action: "import";
  readonly atSec: number;
  readonly importId: string;
  readonly source: string;
  readonly imported: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly rejected: number;
}

/** One record of the local audit trail. */
export type AuditRecord = DelistAuditRecord | SweepAuditRecord | ImportAuditRecord;

/** A rejected import row: where and why, never what. */
export interface ImportRowError {
  /** 1-based line of the source file (for a CSV record spanning lines, its last line). */
  readonly line: number;
  /** The column or JSON field ("row" when the whole row is unreadable). */
  readonly field: string;
  readonly reason: RowRejectReason;
}

/** Counts of an import so far. */
export interface ImportCounts {
  /** Data rows read (header and blank lines excluded). */
  readonly rows: number;
  /** New entries. */
  readonly imported: number;
  /** Entries that existed and changed. */
  readonly updated: number;
  /** Rows already stored identically: a re-import, or a line repeated in the file. */
  readonly unchanged: number;
  readonly rejected: number;
}

/** Progress of one import, written atomically with each batch. */
export interface ImportCheckpoint extends ImportCounts {
  readonly importId: string;
  /** File name (not path) or stream name, for the audit trail. */
  readonly source: string;
  readonly format: ImportFormat;
  /** The import's clock (expiry checks, added-at), kept so a resumed import behaves as one run. */
  readonly nowSec: number;
  readonly startedAtSec: number;
  /** Every line up to and including this one is committed. */
  readonly lastLine: number;
  /** Bytes of the source consumed up to `lastLine` (approximate: parser read-ahead). */
  readonly bytes: number;
  readonly errors: readonly ImportRowError[];
  readonly errorsTotal: number;
  readonly done: boolean;
}
