/**
 * Reason codes for refused entries and import rows, and the store's error constructors. Like the
 * identity reasons, none ever carries a raw value: a report says which line, which field, and why.
 */
import { RiskshareError } from "../errors.ts";
import type { IdentifierRejectReason } from "../identity/index.ts";

/** Why an entry field (or an import row) was refused, besides the identity reasons for `value`. */
export const ENTRY_REJECT_REASONS = [
  "missing", // required field absent or empty
  "wrong_type", // JSON Lines: a field of the wrong JSON type (e.g. an object where a string belongs)
  "unknown_type", // not a registered identifier type
  "unknown_category", // not an active category
  "not_integer", // a number field that is not a whole number
  "out_of_range", // level outside 1..5, timestamp outside the encodable range…
  "bad_date", // neither ISO 8601 nor unix seconds (milliseconds are refused as ambiguous)
  "future", // reported-at lies further in the future than the allowed clock skew
  "expired", // expires-at is already past: the entry would never answer
  "before_reported", // expires-at is not after reported-at
  "too_long", // longer than the field allows
  "characters", // a character the field does not allow
  "bad_key", // an entry id, tag or metadata key of the wrong length
  "unknown_field", // JSON Lines: a field that is not part of the format
  "columns", // CSV: a record with a different number of cells than the header
  "csv_syntax", // CSV: a record the parser could not read (quotes, size)
  "json", // JSON Lines: a line that is not JSON
  "not_object", // JSON Lines: a line that is JSON but not an object
  "warninglisted", // the identifier is on a warninglist (a test card number, a documentation domain…): never listed
] as const;

/** A reason from {@link ENTRY_REJECT_REASONS}. */
export type EntryRejectReason = (typeof ENTRY_REJECT_REASONS)[number];

/** Any reason an import row can be rejected for. */
export type RowRejectReason = EntryRejectReason | IdentifierRejectReason;

/** E_ENTRY_INVALID for a refused entry field. */
export function entryInvalid(field: string, reason: EntryRejectReason, index?: number): RiskshareError<"E_ENTRY_INVALID"> {
  const where = index === undefined ? "" : ` (entry ${index})`;
  return new RiskshareError("E_ENTRY_INVALID", `entry field ${field} refused: ${reason}${where}`, { field, reason, index });
}

/** E_CATEGORY_UNKNOWN for a category id or name that is not active; names the active ones. */
export function categoryUnknown(active: readonly string[], index?: number): RiskshareError<"E_CATEGORY_UNKNOWN"> {
  return new RiskshareError("E_CATEGORY_UNKNOWN", `not an active category; active: ${active.join(", ") || "(none)"}`, { active, index });
}

/** E_STORE_CLOSED for an operation on a store that is not open. */
export function storeClosed(operation: string): RiskshareError<"E_STORE_CLOSED"> {
  return new RiskshareError("E_STORE_CLOSED", `the store is not open (${operation})`, { operation });
}

/** E_IMPORT_FORMAT for a file whose structure (not a single row) is wrong. */
export function importFormat(message: string, meta: Record<string, string | number> = {}): RiskshareError<"E_IMPORT_FORMAT"> {
  return new RiskshareError("E_IMPORT_FORMAT", message, meta);
}
