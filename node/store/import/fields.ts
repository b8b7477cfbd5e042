/**
 * Pure parsers of import cells (CSV text or JSON values) into entry fields, each returning the
 * value or a reason code. Shared by the CSV and JSON Lines readers.
 */
import type { EntryRejectReason } from "../errors.ts";
import { ENTRY_LIMITS } from "../options.ts";
import type { RiskLevel } from "../entry.ts";

/** A cell as a reader hands it over: CSV gives strings, JSON Lines also numbers and null. */
export type Cell = string | number | boolean | null | undefined;

/** A parsed field, or why it was refused. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: EntryRejectReason };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(reason: EntryRejectReason): Parsed<T> => ({ ok: false, reason });

/** True for an absent cell: undefined, null or blank text. */
export function isBlank(cell: Cell): boolean {
  return cell === undefined || cell === null || (typeof cell === "string" && cell.trim().length === 0);
}

/** A cell as trimmed text (numbers in decimal), or undefined when blank. */
export function cellText(cell: Cell): string | undefined {
  if (isBlank(cell)) return undefined;
  return typeof cell === "string" ? cell.trim() : String(cell);
}

/**
 * Unix seconds from "1714521600" / 1714521600, or ISO 8601: "2024-05-01" (midnight UTC),
 * "2024-05-01T08:30:00Z", "2024-05-01T16:30:00+08:00", "2024-05-01 08:30" (no offset: UTC).
 * Fractions of a second are dropped. Numbers of 12 or more digits look like milliseconds and are
 * refused rather than guessed (reason "bad_date").
 */
export function parseTimestampSec(cell: Cell): Parsed<number> {
  if (isBlank(cell)) return fail("missing");
  if (typeof cell === "number") return unixSeconds(cell);
  if (typeof cell !== "string") return fail("bad_date");
  const text = cell.trim();
  if (/^[0-9]+$/.test(text)) return unixSeconds(Number(text));
  const match = ISO_8601.exec(text);
  if (match === null) return fail("bad_date");
  const [, y, mo, d, h = "0", mi = "0", s = "0", , zone] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return fail("bad_date");
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(ms);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return fail("bad_date");
  let offsetMin = 0;
  if (zone !== undefined && zone !== "Z" && zone !== "z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2, 4));
    if (oh > 14 || om > 59) return fail("bad_date");
    offsetMin = sign * (oh * 60 + om);
  }
  return unixSeconds(Math.floor(ms / 1000) - offsetMin * 60);
}

/** YYYY-MM-DD, optionally T or space, hh:mm[:ss[.fraction]], optionally Z or ±hh[:]mm. */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|z|[+-]\d{2}:?\d{2})?)?$/;
/** Below 10^11 seconds (year 5138): larger values are almost surely milliseconds. */
const MAX_PLAUSIBLE_SEC = 99_999_999_999;

function unixSeconds(n: number): Parsed<number> {
  if (!Number.isInteger(n)) return fail("not_integer");
  if (n < 0 || n > MAX_PLAUSIBLE_SEC) return fail("bad_date");
  return ok(n);
}

/** A risk level 1..5 from "3" or 3. */
export function parseLevel(cell: Cell): Parsed<RiskLevel> {
  if (isBlank(cell)) return fail("missing");
  if (typeof cell !== "string" && typeof cell !== "number") return fail("wrong_type");
  const n = typeof cell === "number" ? cell : /^[0-9]+$/.test(cell.trim()) ? Number(cell.trim()) : Number.NaN;
  if (!Number.isInteger(n)) return fail("not_integer");
  if (n < ENTRY_LIMITS.minLevel || n > ENTRY_LIMITS.maxLevel) return fail("out_of_range");
  return ok(n as RiskLevel);
}

/** An optional text field: undefined when blank, refused when not text or number. */
export function parseOptionalText(cell: Cell): Parsed<string | undefined> {
  if (isBlank(cell)) return ok(undefined);
  if (typeof cell !== "string" && typeof cell !== "number") return fail("wrong_type");
  return ok(cellText(cell));
}
