/**
 * Why an identifier was rejected: a closed set of reason codes, carried in `meta.reason` of an
 * E_IDENTIFIER_INVALID error and in import error reports. Neither ever carries the raw value.
 */
import { RiskshareError } from "../errors.ts";

/** Every reason an identifier can be rejected for. */
export const IDENTIFIER_REJECT_REASONS = [
  "empty", // nothing left after trimming
  "too_long", // longer than the type allows
  "characters", // a character the type does not allow (control characters, letters in a number…)
  "format", // the overall shape is wrong (e.g. not a phone number at all, not dotted-quad)
  "length", // wrong number of digits or groups
  "check_digit", // GB 11643 check character or Luhn check digit does not match
  "region_code", // national ID: the first two digits are not a province-level code
  "birth_date", // national ID: birth date is not a real calendar date, before 1900 or in the future
  "extension", // phone: carries an extension, which E.164 cannot express
  "invalid_number", // phone: parses, but no number of that length and prefix exists in the region
  "leading_zero", // IPv4: an octet with a leading zero (octal ambiguity)
  "zone", // IPv6: a zone index (%eth0) names a local interface, not a host
  "at_sign", // email: not exactly one @
  "domain", // email: the domain is not a dotted host name
] as const;

/** A reason code from {@link IDENTIFIER_REJECT_REASONS}. */
export type IdentifierRejectReason = (typeof IDENTIFIER_REJECT_REASONS)[number];

/** The outcome of normalising one raw identifier. */
export type NormaliseResult = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: IdentifierRejectReason };

/** A successful normalisation. */
export function accept(value: string): NormaliseResult {
  return { ok: true, value };
}

/** A rejection for `reason`. */
export function reject(reason: IdentifierRejectReason): NormaliseResult {
  return { ok: false, reason };
}

/** The E_IDENTIFIER_INVALID error for a rejected identifier of `type`: names the type and the reason, never the value. */
export function identifierInvalid(type: string, reason: IdentifierRejectReason): RiskshareError<"E_IDENTIFIER_INVALID"> {
  return new RiskshareError("E_IDENTIFIER_INVALID", `${type} identifier rejected: ${reason}`, { type, reason });
}

/** The E_IDENTIFIER_TYPE error for a type name the registry does not know. */
export function identifierTypeUnknown(known: readonly string[]): RiskshareError<"E_IDENTIFIER_TYPE"> {
  return new RiskshareError("E_IDENTIFIER_TYPE", `unknown identifier type; known types: ${known.join(", ")}`, { known });
}
