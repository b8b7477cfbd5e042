/**
 * What the store holds per identifier, and the pure checks an entry passes before it is written.
 * Times are unix seconds throughout the store (`…Sec`), as on chain.
 */
import { ENTRY_ID_BYTES, ENTRY_METADATA_KEY_BYTES, ENTRY_TAG_BYTES } from "../identity/index.ts";
import { ENTRY_LIMITS } from "./options.ts";
import type { EntryRejectReason } from "./errors.ts";

/** A risk level, 1 (lowest) to 5 (highest). */
export type RiskLevel = 1 | 2 | 3 | 4 | 5;

/** Which identifier an entry is about: its type name and the provider's 32-byte entry id (never the identifier). */
export interface EntryKey {
  readonly type: string;
  readonly entryId: Uint8Array;
}

/** The keys of an entry the store keeps beside it (derived from the OPRF output with its id: oprf/expand.ts). */
export interface EntrySecrets {
  /** 8 bytes: in the category's filter and fetch buckets. */
  readonly tag: Uint8Array;
  /** 32 bytes: seals the entry's metadata in fetch answers. */
  readonly metadataKey: Uint8Array;
}

/** What the owner says about an identifier. */
export interface EntryFields {
  /** Category id, 1..63, active on chain. */
  readonly categoryId: number;
  readonly level: RiskLevel;
  /** The owner's short reason code, e.g. "R01" or "chargeback". */
  readonly reason: string;
  /** When the owner recorded the risk, unix seconds. */
  readonly reportedAtSec: number;
  /** When the entry stops answering, unix seconds; never when undefined. */
  readonly expiresAtSec?: number | undefined;
  /** The owner's own reference (case number…); not an identifier, and never sent unless the protocol says so. */
  readonly ownRef?: string | undefined;
}

/** An entry to add or update. */
export interface EntryInput extends EntryKey, EntrySecrets, EntryFields {}

/** An entry as stored. */
export interface StoredEntry extends EntryInput {
  /** When this node first stored the entry, unix seconds (kept on update). */
  readonly addedAtSec: number;
  /** 1 when added, +1 on every update that changes it (sealed metadata names it). */
  readonly version: number;
  /** Distinct members that confirmed it (feedback); undefined: none. */
  readonly confirmations?: number | undefined;
  /** When the last confirmation was received, unix seconds; undefined: none. */
  readonly lastConfirmedAtSec?: number | undefined;
}

/** A failed check: which field and why. */
export interface FieldProblem {
  readonly field: keyof EntryInput;
  readonly reason: EntryRejectReason;
}

const REASON_CODE = /^[A-Za-z0-9_.:-]+$/;
const NOT_PRINTABLE = /\p{C}/u;

/** The first problem of a reason code, if any. */
export function reasonCodeProblem(reason: string): EntryRejectReason | undefined {
  if (reason.length === 0) return "missing";
  if (reason.length > ENTRY_LIMITS.maxReasonChars) return "too_long";
  if (!REASON_CODE.test(reason)) return "characters";
  return undefined;
}

/** The first problem of an owner reference, if any. */
export function ownRefProblem(ownRef: string): EntryRejectReason | undefined {
  // Measured in UTF-8 bytes: the sealed metadata has room for exactly this many (metadata.ts).
  if (ownRef.length > ENTRY_LIMITS.maxOwnRefBytes || Buffer.byteLength(ownRef, "utf8") > ENTRY_LIMITS.maxOwnRefBytes) return "too_long";
  if (NOT_PRINTABLE.test(ownRef)) return "characters";
  return undefined;
}

/** True for a whole number of seconds the store can encode. */
export function isTimestampSec(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0 && value <= ENTRY_LIMITS.maxTimestampSec;
}

/**
 * The first problem of an entry, or undefined when it may be stored: known category, level 1..5,
 * reason code, plausible times (reported-at not beyond `nowSec + maxClockSkewSec`, expires-at after
 * reported-at and after now), bounded reference. The type is checked by the store (it owns the registry).
 */
export function entryProblem(entry: EntryInput, activeCategoryIds: ReadonlySet<number>, nowSec: number, maxClockSkewSec: number): FieldProblem | undefined {
  if (entry.entryId.length !== ENTRY_ID_BYTES) return { field: "entryId", reason: "bad_key" };
  if (entry.tag.length !== ENTRY_TAG_BYTES) return { field: "tag", reason: "bad_key" };
  if (entry.metadataKey.length !== ENTRY_METADATA_KEY_BYTES) return { field: "metadataKey", reason: "bad_key" };
  if (!activeCategoryIds.has(entry.categoryId)) return { field: "categoryId", reason: "unknown_category" };
  if (!Number.isInteger(entry.level)) return { field: "level", reason: "not_integer" };
  if (entry.level < ENTRY_LIMITS.minLevel || entry.level > ENTRY_LIMITS.maxLevel) return { field: "level", reason: "out_of_range" };
  const reasonProblem = reasonCodeProblem(entry.reason);
  if (reasonProblem) return { field: "reason", reason: reasonProblem };
  if (!isTimestampSec(entry.reportedAtSec)) return { field: "reportedAtSec", reason: "out_of_range" };
  if (entry.reportedAtSec > nowSec + maxClockSkewSec) return { field: "reportedAtSec", reason: "future" };
  if (entry.expiresAtSec !== undefined) {
    if (!isTimestampSec(entry.expiresAtSec)) return { field: "expiresAtSec", reason: "out_of_range" };
    if (entry.expiresAtSec <= entry.reportedAtSec) return { field: "expiresAtSec", reason: "before_reported" };
    if (entry.expiresAtSec <= nowSec) return { field: "expiresAtSec", reason: "expired" };
  }
  if (entry.ownRef !== undefined) {
    const refProblem = ownRefProblem(entry.ownRef);
    if (refProblem) return { field: "ownRef", reason: refProblem };
  }
  return undefined;
}

/** True when an entry has expired at `nowSec` (it expires at the second `expiresAtSec` begins). */
export function isExpired(entry: { readonly expiresAtSec?: number | undefined }, nowSec: number): boolean {
  return entry.expiresAtSec !== undefined && entry.expiresAtSec <= nowSec;
}
