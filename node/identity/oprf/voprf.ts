/**
 * What both VOPRF backends offer (RFC 9497, ristretto255-SHA512, verifiable mode), the checks they
 * share, and the scalar sampling they share, so that, given the same random bytes, both produce
 * the same blinds and the same proofs byte for byte.
 */
import { mapHashToField } from "@noble/curves/abstract/modular.js";
import { ristretto255 } from "@noble/curves/ed25519.js";
import { bytesToNumberLE } from "@noble/curves/utils.js";
import { randomBytes } from "node:crypto";
import { assertArgument } from "../../errors.ts";
import { OPRF_MAX_BATCH_ITEMS, OPRF_MAX_INPUT_BYTES, OPRF_SCALAR_BYTES } from "./constants.ts";
import { oprfKeyInvalid, oprfProofFailed } from "./errors.ts";

/** A provider's OPRF key pair: a scalar and its public element, both serialized (32 bytes each). */
export interface OprfKeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** The querier's side of one blinded input: the blind stays with the querier, the element is sent. */
export interface BlindedInput {
  /** 32-byte secret scalar; needed to finalize. */
  readonly blind: Uint8Array;
  /** 32-byte element sent to the provider. */
  readonly blindedElement: Uint8Array;
}

/** A provider's answer to a batch: one evaluated element per blinded element, one proof for all. */
export interface BlindEvaluation {
  readonly evaluatedElements: Uint8Array[];
  /** 64 bytes: the DLEQ proof (c || s) covering the whole batch. */
  readonly proof: Uint8Array;
}

/** A source of random bytes (tests pass a fixed one to reproduce the RFC vectors). */
export type RandomBytes = (length: number) => Uint8Array;

/** Which implementation computes the group operations. */
export type VoprfBackend = "noble" | "sodium";

/** RFC 9497 VOPRF (ristretto255-SHA512). Every method is synchronous and pure apart from `rng`. */
export interface Voprf {
  readonly backend: VoprfBackend;
  /** A fresh random key pair. */
  generateKeyPair(): OprfKeyPair;
  /** RFC 9497 DeriveKeyPair: the key pair of a 32-byte `seed` and an `info` string. */
  deriveKeyPair(seed: Uint8Array, info: Uint8Array): OprfKeyPair;
  /** The serialized public key of `secretKey` (skS·G). */
  publicKey(secretKey: Uint8Array): Uint8Array;
  /** Querier: blinds `input` under a fresh random blind. */
  blind(input: Uint8Array, rng?: RandomBytes): BlindedInput;
  /**
   * The blinded element of `input` under a known blind (blind·HashToGroup(input)): what `blind`
   * sent. An officer re-derives a query's blinded elements from the journal with it.
   */
  blindWith(input: Uint8Array, blind: Uint8Array): Uint8Array;
  /** Provider: evaluates every blinded element and proves all of them with one DLEQ proof. */
  blindEvaluateBatch(secretKey: Uint8Array, publicKey: Uint8Array, blindedElements: readonly Uint8Array[], rng?: RandomBytes): BlindEvaluation;
  /**
   * Querier: verifies the batch proof under `providerPublicKey` (E_OPRF_PROOF if it fails, and no
   * output at all), then unblinds and returns one 64-byte output per input, in order; with
   * `outputs`, only the first `outputs` (a request's padding is proven with the rest of the batch
   * but never unblinded: nobody reads its outputs).
   */
  finalizeBatch(
    inputs: readonly Uint8Array[],
    blinds: readonly Uint8Array[],
    evaluatedElements: readonly Uint8Array[],
    blindedElements: readonly Uint8Array[],
    proof: Uint8Array,
    providerPublicKey: Uint8Array,
    outputs?: number,
  ): Uint8Array[];
  /** Provider: RFC 9497 Evaluate, the 64-byte output of its own input under its own key. */
  evaluate(secretKey: Uint8Array, input: Uint8Array): Uint8Array;
  /** Provider: {@link evaluate} over many inputs (the import path), the key checked once. */
  evaluateBatch(secretKey: Uint8Array, inputs: readonly Uint8Array[]): Uint8Array[];
}

/** The order ℓ of the ristretto255 group. */
export const GROUP_ORDER: bigint = ristretto255.Point.Fn.ORDER;
/** Random bytes drawn per scalar: 48, enough to make the modulo bias negligible (noble's rule). */
const SCALAR_SAMPLE_BYTES = 48;

/** The default randomness: node's CSPRNG. */
export const defaultRandomBytes: RandomBytes = (length) => new Uint8Array(randomBytes(length));

/**
 * A uniformly random non-zero scalar from 48 bytes of `rng`, exactly as noble's OPRF samples its
 * blinds and proof nonces (mapHashToField: x mod (ℓ-1) + 1, little-endian), so both backends agree.
 */
export function randomScalar(rng: RandomBytes): Uint8Array {
  return mapHashToField(rng(SCALAR_SAMPLE_BYTES), GROUP_ORDER, true);
}

/** True when `bytes` is a canonical (fully reduced) 32-byte little-endian scalar. */
export function isCanonicalScalar(bytes: Uint8Array): boolean {
  return bytes.length === OPRF_SCALAR_BYTES && bytesToNumberLE(bytes) < GROUP_ORDER;
}

/** True when `bytes` encodes the scalar zero. */
export function isZeroScalar(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

/** Throws E_OPRF_KEY unless `secretKey` is a canonical non-zero scalar. */
export function assertSecretKey(secretKey: Uint8Array): void {
  if (secretKey.length !== OPRF_SCALAR_BYTES) throw oprfKeyInvalid("secretKey", "length");
  if (!isCanonicalScalar(secretKey)) throw oprfKeyInvalid("secretKey", "range");
  if (isZeroScalar(secretKey)) throw oprfKeyInvalid("secretKey", "zero");
}

/** Throws E_BAD_INPUT unless `input` fits RFC 9497's two-byte length prefix. */
export function assertInput(input: Uint8Array, name = "input"): void {
  assertArgument(input instanceof Uint8Array && input.length <= OPRF_MAX_INPUT_BYTES, `must be at most ${OPRF_MAX_INPUT_BYTES} bytes`, name);
}

/** Throws E_BAD_INPUT unless a batch has 1..65535 items. */
export function assertBatchSize(items: number, name: string): void {
  assertArgument(items >= 1 && items <= OPRF_MAX_BATCH_ITEMS, `must hold 1 to ${OPRF_MAX_BATCH_ITEMS} items`, name);
}

/**
 * Throws E_BAD_INPUT unless the querier's own arrays line up and every blind is a canonical
 * non-zero scalar; E_OPRF_PROOF when the provider's answer has the wrong number of elements.
 */
export function assertFinalizeShape(
  inputs: readonly Uint8Array[],
  blinds: readonly Uint8Array[],
  evaluatedElements: readonly Uint8Array[],
  blindedElements: readonly Uint8Array[],
): void {
  assertBatchSize(inputs.length, "inputs");
  assertArgument(blinds.length === inputs.length, "must have one blind per input", "blinds");
  assertArgument(blindedElements.length === inputs.length, "must have one blinded element per input", "blindedElements");
  // A provider's answer of the wrong length cannot be proven: it is refused like a bad proof.
  if (evaluatedElements.length !== inputs.length) throw oprfProofFailed(inputs.length);
  inputs.forEach((input) => assertInput(input, "inputs"));
  for (const blind of blinds) assertArgument(isCanonicalScalar(blind) && !isZeroScalar(blind), "must be canonical non-zero scalars", "blinds");
}

/** The number of outputs a finalizeBatch returns: `outputs` (1..inputs), or every input's. */
export function finalizeOutputs(inputs: number, outputs: number | undefined): number {
  if (outputs === undefined) return inputs;
  assertArgument(Number.isInteger(outputs) && outputs >= 1 && outputs <= inputs, `must be an integer from 1 to the ${inputs} inputs`, "outputs");
  return outputs;
}
