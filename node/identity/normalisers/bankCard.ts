/**
 * Payment card numbers (PANs): 12–19 digits with a valid Luhn check digit (ISO/IEC 7812).
 */
import { accept, reject, type NormaliseResult } from "../errors.ts";

/** Spaces and dashes people write between digit groups. */
const SEPARATORS = /[\s-]/g;
const MIN_DIGITS = 12;
const MAX_DIGITS = 19;

/** True when the digit string passes the Luhn (mod 10) check. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Normalises a card number to its digits: separators stripped, 12–19 digits, Luhn-checked. */
export function normaliseBankCard(raw: string): NormaliseResult {
  const text = raw.normalize("NFKC").trim();
  if (text.length === 0) return reject("empty");
  if (text.length > 64) return reject("too_long");
  const digits = text.replace(SEPARATORS, "");
  if (!/^[0-9]+$/.test(digits)) return reject("characters");
  if (digits.length < MIN_DIGITS || digits.length > MAX_DIGITS) return reject("length");
  if (!luhnValid(digits)) return reject("check_digit");
  return accept(digits);
}
