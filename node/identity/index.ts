/**
 * Identifiers: strict normalisation per type, and the provider's entry keys of the normal form
 * (RFC 9497 OPRF under its own key, then one HKDF expansion: see oprf/).
 *
 * @example
 *   import { normalise, EntryKeyEvaluator } from "../identity/index.ts";
 *   const phone = normalise("phone", "138 0013 8000", { defaultRegion: "CN" });      // "+8613800138000"
 *   const evaluator = await EntryKeyEvaluator.create({ secretKey, context: { chainId, providerAddress, keyEpoch } });
 *   const { entryId, tag, metadataKey } = evaluator.keysOf("phone", phone);        // 32 B, 8 B, 32 B
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
export { luhnValid } from "./normalisers/bankCard.ts";
export { nationalIdCheckChar } from "./normalisers/nationalId.ts";
export {
  DEFAULT_NORMALISE_OPTIONS,
  MAX_RAW_CHARS,
  OPAQUE_MAX_CHARS,
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
export {
  citedDocument, CONSORTIUM_WARNINGLISTS_DIR, loadWarninglists, shippedWarninglists, Warninglists, warninglistSchema,
  type Warninglist, type WarninglistAction, type WarninglistMatch, type WarninglistOrigin,
} from "./warninglist.ts";
export { FEEDBACK_KINDS, FEEDBACK_LABEL, FEEDBACK_MAC_BYTES, feedbackKey, feedbackMac, verifyFeedbackMac, type FeedbackFields, type FeedbackKind } from "./feedback.ts";
