/**
 * Identifiers: strict normalisation per type, and salted hashing of the normal form.
 *
 * @example
 *   import { normalise, Hasher } from "../identity/index.ts";
 *   const phone = normalise("phone", "138 0013 8000", { defaultRegion: "CN" }); // "+8613800138000"
 *   const hasher = Hasher.fromPepper({ epoch: 1, pepper });                   // pepper: 32 secret bytes
 *   const hash = hasher.hash("phone", phone);                                  // 32 bytes, HMAC-SHA256
 *
 * Invalid input throws E_IDENTIFIER_INVALID with `meta.reason` (see IDENTIFIER_REJECT_REASONS);
 * `tryNormalise` returns the reason instead, for bulk paths. Neither ever carries the raw value.
 */
export {
  IDENTIFIER_REJECT_REASONS,
  identifierInvalid,
  type IdentifierRejectReason,
  type NormaliseResult,
} from "./errors.ts";
export { Hasher, staticPepperProvider, type HasherModules, type PepperProvider, type PepperSecret } from "./hasher.ts";
export { luhnValid } from "./normalisers/bankCard.ts";
export { nationalIdCheckChar } from "./normalisers/nationalId.ts";
export {
  DEFAULT_NORMALISE_OPTIONS,
  HASH_BYTES,
  MAX_RAW_CHARS,
  OPAQUE_MAX_CHARS,
  PEPPER_BYTES,
  type HasherOptions,
  type NormaliseOptions,
} from "./options.ts";
export {
  BUILTIN_IDENTIFIER_TYPES,
  IDENTIFIER_TYPES,
  IdentifierRegistry,
  assertPhoneRegion,
  defaultIdentifierRegistry,
  normalise,
  tryNormalise,
  type BuiltinIdentifierType,
  type IdentifierTypeSpec,
} from "./registry.ts";
export * from "./oprf/index.ts";
