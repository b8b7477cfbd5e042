/**
 * Private matching's cryptographic core: RFC 9497 VOPRF, suite ristretto255-SHA512 (verifiable
 * mode, fixed: the mode is in every hash-to-group tag), the OPRF input of an identifier, and the
 * per-entry keys expanded from an output.
 *
 * @example
 *   import { createVoprf, oprfInput, expandEntryKeys } from "../identity/oprf/index.ts";
 *   const voprf = await createVoprf();                            // libsodium, initialised once
 *   const { secretKey, publicKey } = voprf.deriveKeyPair(seed, info);
 *   // provider, at import: its own outputs, no blinding
 *   const [output] = voprf.evaluateBatch(secretKey, [oprfInput("phone", "+8613800138000")]);
 *   const { tag, metadataKey } = expandEntryKeys(output!, { chainId, providerAddress, keyEpoch });
 *   // or, for many identifiers: const evaluator = await EntryKeyEvaluator.create({ secretKey, context }); evaluator.keysOf("phone", normalised)
 *   // querier → provider → querier
 *   const input = oprfInput("phone", "+8613800138000");
 *   const { blind, blindedElement } = voprf.blind(input);
 *   const { evaluatedElements, proof } = voprf.blindEvaluateBatch(secretKey, publicKey, [blindedElement]);
 *   const [same] = voprf.finalizeBatch([input], [blind], evaluatedElements, [blindedElement], proof, publicKey);
 *   // same equals output; a wrong key or tampered answer throws E_OPRF_PROOF instead
 *
 * Errors: E_OPRF_PROOF (the batch proof fails: nothing is returned), E_OPRF_ELEMENT (a malformed
 * or identity element, `meta.argument`/`meta.index`), E_OPRF_KEY, E_BAD_INPUT. No error carries an
 * input, a blind or a key.
 */
export {
  ENTRY_FEEDBACK_KEY_BYTES,
  ENTRY_ID_BYTES,
  ENTRY_KEYS_LABEL,
  ENTRY_METADATA_KEY_BYTES,
  ENTRY_TAG_BYTES,
  OPRF_CONTEXT_STRING,
  OPRF_ELEMENT_BYTES,
  OPRF_INPUT_MAX_IDENTIFIER_BYTES,
  OPRF_INPUT_VERSION,
  OPRF_MAX_BATCH_ITEMS,
  OPRF_MAX_INPUT_BYTES,
  OPRF_MODE_VOPRF,
  OPRF_OUTPUT_BYTES,
  OPRF_PROOF_BYTES,
  OPRF_SCALAR_BYTES,
  OPRF_SEED_BYTES,
  OPRF_SUITE_ID,
} from "./constants.ts";
export {
  ENTRY_KEYS_BYTES,
  ENTRY_KEYS_LAYOUT,
  assertEntryKeyContext,
  entryKeyInfo,
  entryTag,
  expandEntryKeyBytes,
  expandEntryKeys,
  splitEntryKeys,
  type EntryKeyContext,
  type EntryKeys,
} from "./expand.ts";
export { INLINE_EVALUATE_MAX, OffThreadBatchEvaluator, type BatchEvaluator, type FinalizeJob, type OffThreadBatchEvaluatorOptions } from "./batch.ts";
export { EntryKeyEvaluator, type EntryKeyEvaluatorModules, type EntryKeySecret } from "./evaluator.ts";
export { DEFAULT_VOPRF_OPTIONS, createVoprf, readySodium, type VoprfOptions } from "./factory.ts";
export { oprfInput } from "./input.ts";
export { NobleVoprf } from "./noble.ts";
export { SodiumVoprf, expandXmdSha512, type Sodium, type SodiumVoprfModules } from "./sodium.ts";
export type { BlindEvaluation, BlindedInput, OprfKeyPair, RandomBytes, Voprf, VoprfBackend } from "./voprf.ts";
