/**
 * The reference backend: @noble/curves' RFC 9497 implementation (ristretto255_oprf.voprf), with
 * riskshare's argument checks and typed errors around it. Every other backend is tested against it.
 */
import { ristretto255, ristretto255_hasher, ristretto255_oprf } from "@noble/curves/ed25519.js";
import { concatBytes } from "@noble/curves/utils.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { oprfElementInvalid, oprfKeyInvalid, oprfProofFailed } from "./errors.ts";
import { OPRF_CONTEXT_STRING, OPRF_ELEMENT_BYTES, OPRF_PROOF_BYTES } from "./constants.ts";
import {
  assertBatchSize,
  assertFinalizeShape,
  finalizeOutputs,
  assertInput,
  assertSecretKey,
  defaultRandomBytes,
  isCanonicalScalar,
  isZeroScalar,
  type BlindEvaluation,
  type BlindedInput,
  type OprfKeyPair,
  type RandomBytes,
  type Voprf,
} from "./voprf.ts";

const voprf = ristretto255_oprf.voprf;
const { Point } = ristretto255;
const DST_HASH_TO_GROUP = Uint8Array.of(...new TextEncoder().encode("HashToGroup-"), ...OPRF_CONTEXT_STRING);
const LABEL_FINALIZE = new TextEncoder().encode("Finalize");

/** noble's rng signature (length optional). */
const nobleRng =
  (rng: RandomBytes) =>
  (length?: number): Uint8Array =>
    rng(length ?? 32);

/**
 * RFC 9497 Evaluate from noble's public parts (its voprf object does not type one): HashToGroup
 * with the VOPRF tag, times skS, then Finalize's hash. The tests check it against the RFC vectors
 * and against a full blind → blindEvaluate → finalize round of noble's voprf.
 */
function nobleEvaluate(secretKey: Uint8Array, input: Uint8Array): Uint8Array {
  const element = ristretto255_hasher.hashToCurve(input, { DST: DST_HASH_TO_GROUP }).multiply(Point.Fn.fromBytes(secretKey)).toBytes();
  return sha512(concatBytes(u16(input.length), input, u16(element.length), element, LABEL_FINALIZE));
}

/** I2OSP(n, 2). */
const u16 = (n: number): Uint8Array => Uint8Array.of(n >>> 8, n & 0xff);

/** Throws E_OPRF_ELEMENT unless `bytes` decodes to a non-identity ristretto255 element. */
function assertElement(bytes: Uint8Array, argument: string, index?: number): void {
  let ok = false;
  try {
    ok = bytes.length === OPRF_ELEMENT_BYTES && !Point.fromBytes(bytes).equals(Point.ZERO);
  } catch (err) {
    throw oprfElementInvalid(argument, index, err);
  }
  if (!ok) throw oprfElementInvalid(argument, index);
}

/** Throws E_OPRF_KEY unless `publicKey` is `secretKey`'s. */
function assertKeyPair(secretKey: Uint8Array, publicKey: Uint8Array): void {
  assertSecretKey(secretKey);
  try {
    assertElement(publicKey, "publicKey");
  } catch {
    throw oprfKeyInvalid("publicKey", "element");
  }
  if (!Point.BASE.multiply(Point.Fn.fromBytes(secretKey)).equals(Point.fromBytes(publicKey))) throw oprfKeyInvalid("publicKey", "mismatch");
}

/** The reference VOPRF (noble). */
export class NobleVoprf implements Voprf {
  readonly backend = "noble" as const;

  generateKeyPair(): OprfKeyPair {
    return voprf.generateKeyPair();
  }

  deriveKeyPair(seed: Uint8Array, info: Uint8Array): OprfKeyPair {
    return voprf.deriveKeyPair(seed, info);
  }

  publicKey(secretKey: Uint8Array): Uint8Array {
    assertSecretKey(secretKey);
    return Point.BASE.multiply(Point.Fn.fromBytes(secretKey)).toBytes();
  }

  blind(input: Uint8Array, rng: RandomBytes = defaultRandomBytes): BlindedInput {
    assertInput(input);
    const { blind, blinded } = voprf.blind(input, nobleRng(rng));
    return { blind, blindedElement: blinded };
  }

  blindWith(input: Uint8Array, blind: Uint8Array): Uint8Array {
    assertInput(input);
    if (!isCanonicalScalar(blind) || isZeroScalar(blind)) throw oprfKeyInvalid("blind", "range");
    return ristretto255_hasher.hashToCurve(input, { DST: DST_HASH_TO_GROUP }).multiply(Point.Fn.fromBytes(blind)).toBytes();
  }

  blindEvaluateBatch(secretKey: Uint8Array, publicKey: Uint8Array, blindedElements: readonly Uint8Array[], rng: RandomBytes = defaultRandomBytes): BlindEvaluation {
    assertBatchSize(blindedElements.length, "blindedElements");
    assertKeyPair(secretKey, publicKey);
    blindedElements.forEach((element, i) => assertElement(element, "blindedElements", i));
    const { evaluated, proof } = voprf.blindEvaluateBatch(secretKey, publicKey, [...blindedElements], nobleRng(rng));
    return { evaluatedElements: evaluated, proof };
  }

  finalizeBatch(
    inputs: readonly Uint8Array[],
    blinds: readonly Uint8Array[],
    evaluatedElements: readonly Uint8Array[],
    blindedElements: readonly Uint8Array[],
    proof: Uint8Array,
    providerPublicKey: Uint8Array,
    outputs?: number,
  ): Uint8Array[] {
    assertFinalizeShape(inputs, blinds, evaluatedElements, blindedElements);
    const wanted = finalizeOutputs(inputs.length, outputs);
    assertElement(providerPublicKey, "providerPublicKey");
    blindedElements.forEach((element, i) => assertElement(element, "blindedElements", i));
    evaluatedElements.forEach((element, i) => assertElement(element, "evaluatedElements", i));
    if (proof.length !== OPRF_PROOF_BYTES) throw oprfProofFailed(inputs.length);
    const items = inputs.map((input, i) => ({ input, blind: blinds[i]!, evaluated: evaluatedElements[i]!, blinded: blindedElements[i]! }));
    try {
      // Everything but the proof was checked above, so what noble still refuses is the proof
      // (a wrong challenge, or c or s not a canonical scalar).
      // The reference unblinds every element; only the wanted outputs are returned.
      return voprf.finalizeBatch(items, providerPublicKey, proof).slice(0, wanted);
    } catch (err) {
      throw oprfProofFailed(inputs.length, err);
    }
  }

  evaluate(secretKey: Uint8Array, input: Uint8Array): Uint8Array {
    assertSecretKey(secretKey);
    assertInput(input);
    return nobleEvaluate(secretKey, input);
  }

  evaluateBatch(secretKey: Uint8Array, inputs: readonly Uint8Array[]): Uint8Array[] {
    assertSecretKey(secretKey);
    inputs.forEach((input) => assertInput(input, "inputs"));
    return inputs.map((input) => nobleEvaluate(secretKey, input));
  }
}
