/**
 * The OPRF input of an identifier: one unambiguous byte string per (type, normalised identifier).
 *
 *   oprfInput(type, id) = 0x01 (version) || I2OSP(len(type), 1) || type (ASCII) || UTF-8(id)
 *
 * Injective: the version byte is fixed, the length byte fixes where the type ends, and the rest is
 * the identifier; type names are `[a-z][a-z0-9_]{0,31}` (as the store requires) and the
 * identifier must be a well-formed, non-empty string (a lone surrogate would encode to U+FFFD and
 * collide with a real U+FFFD). So ("phone", "+86…") never meets ("phone_x", …) or ("ph", "one+86…").
 */
import { assertArgument } from "../../errors.ts";
import { OPRF_INPUT_MAX_IDENTIFIER_BYTES, OPRF_INPUT_VERSION } from "./constants.ts";

const TYPE_NAME = /^[a-z][a-z0-9_]{0,31}$/;
const encoder = new TextEncoder();

/** The OPRF input bytes of a normalised identifier of `type` (see the file comment for the layout). */
export function oprfInput(type: string, normalisedIdentifier: string): Uint8Array {
  assertArgument(TYPE_NAME.test(type), "must match [a-z][a-z0-9_]{0,31}", "type");
  assertArgument(normalisedIdentifier.length > 0, "must not be empty", "normalisedIdentifier");
  assertArgument(normalisedIdentifier.isWellFormed(), "must be well-formed UTF-16 (no lone surrogates)", "normalisedIdentifier");
  const identifier = encoder.encode(normalisedIdentifier);
  assertArgument(identifier.length <= OPRF_INPUT_MAX_IDENTIFIER_BYTES, `must be at most ${OPRF_INPUT_MAX_IDENTIFIER_BYTES} UTF-8 bytes`, "normalisedIdentifier");
  const out = new Uint8Array(2 + type.length + identifier.length);
  out[0] = OPRF_INPUT_VERSION;
  out[1] = type.length;
  encoder.encodeInto(type, out.subarray(2));
  out.set(identifier, 2 + type.length);
  return out;
}
