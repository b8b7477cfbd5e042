/**
 * Chinese resident identity numbers (GB 11643-1999): 6-digit region code, 8-digit birth date,
 * 3-digit sequence, and a check character (0-9 or X) over the first 17 digits, mod 11.
 */
import { accept, reject, type NormaliseResult } from "../errors.ts";
import type { NormaliseOptions } from "../options.ts";

/** ISO 7064 MOD 11-2 weights for the 17 leading digits: 2^(17-i) mod 11. */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
/** Check character for (weighted sum mod 11). */
const CHECK_CHARS = "10X98765432";
/**
 * Province-level codes (first two digits) in use: mainland provinces, plus 71/81/82/83, which
 * residence permits for Taiwan, Hong Kong and Macao residents carry.
 */
const PROVINCE_CODES = new Set([
  11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54,
  61, 62, 63, 64, 65, 71, 81, 82, 83,
]);
const ID_SHAPE = /^[0-9]{17}[0-9X]$/;
const EARLIEST_BIRTH_YEAR = 1900;

/** The GB 11643 check character of the first 17 digits of `digits`. */
export function nationalIdCheckChar(digits: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (digits.charCodeAt(i) - 48) * WEIGHTS[i]!;
  return CHECK_CHARS[sum % 11]!;
}

/** Normalises an 18-character Chinese resident ID: upper-case X, check character, region and birth date checked. */
export function normaliseNationalId(raw: string, opts: NormaliseOptions): NormaliseResult {
  const text = raw.normalize("NFKC").trim().toUpperCase();
  if (text.length === 0) return reject("empty");
  if (text.length !== 18) return /^[0-9X]+$/.test(text) ? reject("length") : reject("characters");
  if (!ID_SHAPE.test(text)) return reject("characters");
  if (!PROVINCE_CODES.has(Number(text.slice(0, 2)))) return reject("region_code");
  if (!plausibleBirthDate(text.slice(6, 14), opts.nowMs ?? Date.now())) return reject("birth_date");
  if (nationalIdCheckChar(text) !== text[17]) return reject("check_digit");
  return accept(text);
}

/** True when `yyyymmdd` is a real calendar date from 1900 up to `nowMs` (UTC). */
function plausibleBirthDate(yyyymmdd: string, nowMs: number): boolean {
  const year = Number(yyyymmdd.slice(0, 4));
  const month = Number(yyyymmdd.slice(4, 6));
  const day = Number(yyyymmdd.slice(6, 8));
  if (year < EARLIEST_BIRTH_YEAR || month < 1 || month > 12 || day < 1) return false;
  const ms = Date.UTC(year, month - 1, day);
  const date = new Date(ms);
  // Date.UTC rolls 31 April over to 1 May: a round trip catches every impossible day.
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return false;
  return ms <= nowMs;
}
