/**
 * One import row → one entry awaiting its keys: every field checked (cheap checks first), the
 * identifier normalised last. Pure. Its keys (entry id, tag, metadata key) come from the OPRF
 * evaluation, which runs per batch afterwards, on evaluating threads (keys.ts).
 */
import type { IdentifierRegistry, NormaliseOptions, Warninglists } from "../../identity/index.ts";
import type { EntryInput, FieldProblem } from "../entry.ts";
import { cellText, isBlank, parseLevel, parseOptionalText, parseTimestampSec, type Cell, type Parsed } from "./fields.ts";
import type { RawRow, RowProblem } from "./sources.ts";

/** An entry converted from a row, with its normalised identifier instead of its keys (never written or logged). */
export type UnkeyedEntry = Omit<EntryInput, "entryId" | "tag" | "metadataKey"> & { readonly normalised: string };

/** What converting a row needs: the identifier types, active categories, defaults and the clock. */
export interface RowContext {
  readonly identifiers: IdentifierRegistry;
  /** Category name or decimal id → id, for every active category. */
  readonly categoryIds: ReadonlyMap<string, number>;
  readonly defaultType: string | undefined;
  readonly defaultCategoryId: number | undefined;
  readonly normalise: NormaliseOptions;
  readonly nowSec: number;
  /** The store's own entry check (same rules as upsert, so a converted row is never refused there). */
  readonly entryProblem: (entry: EntryInput, nowSec: number) => FieldProblem | undefined;
  /** Identifiers that may never be listed: a row of one is refused (`warninglisted`); an `inform` entry is imported. */
  readonly warninglists?: Warninglists | undefined;
  /** Parsed timestamps by cell text: lists repeat the same few dates, and parsing ISO text is not free. */
  readonly timestampCache: Map<string, Parsed<number>>;
}

/** Distinct timestamp texts remembered per import before the cache starts over. */
const TIMESTAMP_CACHE_SIZE = 4096;

/** {@link parseTimestampSec} through the context's cache; plain unix seconds skip both (they rarely repeat). */
function timestamp(cell: Cell, ctx: RowContext): Parsed<number> {
  if (typeof cell !== "string") return parseTimestampSec(cell);
  if (isPlainSeconds(cell)) return { ok: true, value: Number(cell) };
  const known = ctx.timestampCache.get(cell);
  if (known !== undefined) return known;
  const parsed = parseTimestampSec(cell);
  if (ctx.timestampCache.size >= TIMESTAMP_CACHE_SIZE) ctx.timestampCache.clear();
  ctx.timestampCache.set(cell, parsed);
  return parsed;
}

/** 1–11 ASCII digits and nothing else: what parseTimestampSec reads as that many unix seconds. */
function isPlainSeconds(text: string): boolean {
  if (text.length === 0 || text.length > 11) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** A converted row, or the problem that rejects it. */
export type RowResult = { readonly ok: true; readonly entry: UnkeyedEntry } | { readonly ok: false; readonly problem: RowProblem };

/** Entry field → the column users see in their file. */
const COLUMN_OF_FIELD: Readonly<Record<string, string>> = {
  type: "type", entryId: "value", tag: "value", metadataKey: "value", categoryId: "category", level: "level", reason: "reason",
  reportedAtSec: "reported_at", expiresAtSec: "expires_at", ownRef: "ref",
};

const reject = (field: string, reason: RowProblem["reason"]): RowResult => ({ ok: false, problem: { field, reason } });

/** Converts a raw row into an entry, or says which field is wrong and why (never with the value). */
export function rowToEntry(row: RawRow, ctx: RowContext): RowResult {
  const type = cellText(row.type) ?? ctx.defaultType;
  if (type === undefined) return reject("type", "missing");
  if (!ctx.identifiers.has(type)) return reject("type", "unknown_type");

  if (isBlank(row.value)) return reject("value", "missing");
  if (typeof row.value !== "string") return reject("value", "wrong_type"); // JSON numbers lose leading zeros and digits

  const categoryText = cellText(row.category);
  const categoryId = categoryText === undefined ? ctx.defaultCategoryId : ctx.categoryIds.get(categoryText);
  if (categoryId === undefined) return reject("category", categoryText === undefined ? "missing" : "unknown_category");

  const level = parseLevel(row.level);
  if (!level.ok) return reject("level", level.reason);
  const reason = parseOptionalText(row.reason);
  if (!reason.ok) return reject("reason", reason.reason);
  if (reason.value === undefined) return reject("reason", "missing");
  const reportedAt = timestamp(row.reported_at, ctx);
  if (!reportedAt.ok) return reject("reported_at", reportedAt.reason);
  let expiresAtSec: number | undefined;
  if (!isBlank(row.expires_at)) {
    const expiresAt = timestamp(row.expires_at, ctx);
    if (!expiresAt.ok) return reject("expires_at", expiresAt.reason);
    expiresAtSec = expiresAt.value;
  }
  const ownRef = parseOptionalText(row.ref);
  if (!ownRef.ok) return reject("ref", ownRef.reason);

  const normal = ctx.identifiers.tryNormalise(type, row.value, ctx.normalise);
  if (!normal.ok) return reject("value", normal.reason);
  if (ctx.warninglists?.match(type, normal.value)?.action === "refuse") return reject("value", "warninglisted");

  const entry = {
    type, categoryId, level: level.value, reason: reason.value, reportedAtSec: reportedAt.value, expiresAtSec, ownRef: ownRef.value,
  };
  const problem = ctx.entryProblem({ ...entry, ...PLACEHOLDER_KEYS }, ctx.nowSec);
  if (problem) return reject(COLUMN_OF_FIELD[problem.field] ?? problem.field, problem.reason);
  return { ok: true, entry: { ...entry, normalised: normal.value } };
}

/** Keys of the right lengths while the fields are checked: the real ones come from the evaluation, after. */
const PLACEHOLDER_KEYS = { entryId: new Uint8Array(32), tag: new Uint8Array(8), metadataKey: new Uint8Array(32) } as const;
