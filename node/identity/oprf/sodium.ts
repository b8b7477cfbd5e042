/**
 * The fast backend: RFC 9497's VOPRF steps composed over libsodium's ristretto255 (WebAssembly,
 * public API only), about seven times faster than noble per group operation. Byte-identical to the
 * reference backend (noble.ts): the tests check it on the RFC vectors and on random keys and inputs.
 *
 * Composition (RFC 9497 section numbers):
 * - HashToGroup (4.1): expand_message_xmd(SHA-512, input, "HashToGroup-" || contextString, 64)
 *   (RFC 9380 5.3.1 over libsodium's crypto_hash_sha512, see expandXmdSha512) →
 *   crypto_core_ristretto255_from_hash (the RFC 9380/9496 one-way map on 64 uniform bytes).
 * - HashToScalar (4.1): expand_message_xmd(…, "HashToScalar-" || contextString, 64) →
 *   crypto_core_ristretto255_scalar_reduce (64 bytes little-endian mod ℓ).
 * - Scalar multiplication: crypto_scalarmult_ristretto255(_base), which also rejects invalid
 *   encodings and an identity result; scalar arithmetic: crypto_core_ristretto255_scalar_*.
 * - Random scalars: the shared randomScalar (voprf.ts), exactly as noble samples them.
 * - Proofs (2.2): ComputeComposites(Fast), GenerateProof and VerifyProof over the same
 *   transcripts, hashed with SHA-512 and HashToScalar.
 * - Finalize/Evaluate (3.3.2): SHA-512(I2OSP(len(input), 2) || input || I2OSP(32, 2) || element || "Finalize").
 * Every SHA-512 is libsodium's crypto_hash_sha512 over one buffer: on these short messages it takes
 * ~1.1 µs where node:crypto's createHash takes ~2.5 and noble's expand_message_xmd (which hashes
 * twice and concatenates in between) ~8.7, so a HashToScalar costs ~3.6 µs instead of ~12–15, and
 * a batch element (two scalar multiplications, an addition and a HashToScalar) ~4 % less.
 * Key generation and DeriveKeyPair run once per key and stay with noble.
 */
import type sodiumModule from "libsodium-wrappers-sumo";
import { OPRF_CONTEXT_STRING, OPRF_ELEMENT_BYTES, OPRF_PROOF_BYTES, OPRF_SCALAR_BYTES } from "./constants.ts";
import { oprfElementInvalid, oprfKeyInvalid, oprfProofFailed } from "./errors.ts";
import { NobleVoprf } from "./noble.ts";
import {
  assertBatchSize,
  assertFinalizeShape,
  finalizeOutputs,
  assertInput,
  assertSecretKey,
  defaultRandomBytes,
  isCanonicalScalar,
  randomScalar,
  type BlindEvaluation,
  type BlindedInput,
  type OprfKeyPair,
  type RandomBytes,
  type Voprf,
} from "./voprf.ts";

/** The libsodium-wrappers(-sumo) API, once `ready` has resolved. */
export type Sodium = typeof sodiumModule;

/** What a {@link SodiumVoprf} depends on. */
export interface SodiumVoprfModules {
  /** An initialised libsodium (its `ready` promise resolved). */
  readonly sodium: Sodium;
}

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};
/** I2OSP(n, 2). */
const u16 = (n: number): Uint8Array => Uint8Array.of(n >>> 8, n & 0xff);
/** I2OSP(len(bytes), 2) || bytes. */
const lengthPrefixed = (bytes: Uint8Array): Uint8Array => concat(u16(bytes.length), bytes);

const DST_HASH_TO_GROUP = concat(ascii("HashToGroup-"), OPRF_CONTEXT_STRING);
const DST_HASH_TO_SCALAR = concat(ascii("HashToScalar-"), OPRF_CONTEXT_STRING);
const SEED_DST = concat(ascii("Seed-"), OPRF_CONTEXT_STRING);
const LABEL_FINALIZE = ascii("Finalize");
const LABEL_COMPOSITE = ascii("Composite");
const LABEL_CHALLENGE = ascii("Challenge");
const UNIFORM_BYTES = 64;

/**
 * RFC 9380 5.3.1 expand_message_xmd with SHA-512 for outputs of at most 64 bytes (one block of
 * output, ell = 1), the message given in parts so it is laid out once:
 *
 *   b_0 = SHA-512(Z_pad(128 zero bytes) || msg || I2OSP(len, 2) || 0x00 || DST || I2OSP(len(DST), 1))
 *   b_1 = SHA-512(b_0 || 0x01 || DST || I2OSP(len(DST), 1));  output = b_1[0..len)
 *
 * Byte-identical to noble's expand_message_xmd (the tests check RFC 9380's SHA-512 vectors and
 * random messages against it), without its two intermediate concatenations and hash objects.
 */
export function expandXmdSha512(sodium: Sodium, parts: readonly Uint8Array[], dst: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 1 || length > 64) throw new RangeError(`expandXmdSha512: length ${length} is not 1..64`);
  if (dst.length > 255) throw new RangeError(`expandXmdSha512: DST of ${dst.length} bytes is longer than 255`);
  let messageBytes = 0;
  for (const part of parts) messageBytes += part.length;
  const first = new Uint8Array(128 + messageBytes + 3 + dst.length + 1);
  let at = 128;
  for (const part of parts) {
    first.set(part, at);
    at += part.length;
  }
  first[at++] = length >>> 8;
  first[at++] = length & 0xff;
  first[at++] = 0;
  first.set(dst, at);
  first[at + dst.length] = dst.length;
  const second = new Uint8Array(64 + 1 + dst.length + 1);
  second.set(sodium.crypto_hash_sha512(first), 0);
  second[64] = 1;
  second.set(dst, 65);
  second[65 + dst.length] = dst.length;
  const out = sodium.crypto_hash_sha512(second);
  return length === 64 ? out : out.slice(0, length);
}

/** SHA-512 of the parts laid out in one buffer (libsodium). */
function hashParts(sodium: Sodium, ...parts: Uint8Array[]): Uint8Array {
  return sodium.crypto_hash_sha512(concat(...parts));
}

/** The fast VOPRF (libsodium). */
export class SodiumVoprf implements Voprf {
  readonly backend = "sodium" as const;
  readonly #sodium: Sodium;
  /** Key generation and derivation (once per key) stay with the reference. */
  readonly #reference = new NobleVoprf();

  constructor(modules: SodiumVoprfModules) {
    this.#sodium = modules.sodium;
  }

  generateKeyPair(): OprfKeyPair {
    return this.#reference.generateKeyPair();
  }

  deriveKeyPair(seed: Uint8Array, info: Uint8Array): OprfKeyPair {
    return this.#reference.deriveKeyPair(seed, info);
  }

  publicKey(secretKey: Uint8Array): Uint8Array {
    assertSecretKey(secretKey);
    return this.#sodium.crypto_scalarmult_ristretto255_base(secretKey);
  }

  blind(input: Uint8Array, rng: RandomBytes = defaultRandomBytes): BlindedInput {
    assertInput(input);
    const blind = randomScalar(rng);
    return { blind, blindedElement: this.#sodium.crypto_scalarmult_ristretto255(blind, this.#hashToGroup(input)) };
  }

  blindWith(input: Uint8Array, blind: Uint8Array): Uint8Array {
    assertInput(input);
    if (!isCanonicalScalar(blind) || blind.every((b) => b === 0)) throw oprfKeyInvalid("blind", "range");
    return this.#sodium.crypto_scalarmult_ristretto255(blind, this.#hashToGroup(input));
  }

  blindEvaluateBatch(secretKey: Uint8Array, publicKey: Uint8Array, blindedElements: readonly Uint8Array[], rng: RandomBytes = defaultRandomBytes): BlindEvaluation {
    assertBatchSize(blindedElements.length, "blindedElements");
    this.#assertKeyPair(secretKey, publicKey);
    const evaluatedElements = blindedElements.map((element, i) => this.#multiply(secretKey, element, "blindedElements", i));
    // GenerateProof with ComputeCompositesFast: M = Σ dᵢ·Cᵢ, Z = k·M.
    const sodium = this.#sodium;
    const m = this.#composite(publicKey, blindedElements, evaluatedElements);
    const z = sodium.crypto_scalarmult_ristretto255(secretKey, m);
    const r = randomScalar(rng);
    const t2 = sodium.crypto_scalarmult_ristretto255_base(r);
    const t3 = sodium.crypto_scalarmult_ristretto255(r, m);
    const c = this.#challenge(publicKey, m, z, t2, t3);
    const s = sodium.crypto_core_ristretto255_scalar_sub(r, sodium.crypto_core_ristretto255_scalar_mul(c, secretKey));
    return { evaluatedElements, proof: concat(c, s) };
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
    this.#assertElement(providerPublicKey, "providerPublicKey");
    const sodium = this.#sodium;
    // VerifyProof with ComputeComposites: M = Σ dᵢ·Cᵢ, Z = Σ dᵢ·Dᵢ (decoding, hence checking, every element).
    const [m, z] = this.#composites(providerPublicKey, blindedElements, evaluatedElements);
    if (proof.length !== OPRF_PROOF_BYTES) throw oprfProofFailed(inputs.length);
    const c = proof.subarray(0, OPRF_SCALAR_BYTES);
    const s = proof.subarray(OPRF_SCALAR_BYTES);
    if (!isCanonicalScalar(c) || !isCanonicalScalar(s)) throw oprfProofFailed(inputs.length);
    let expected: Uint8Array;
    try {
      // t2 = s·G + c·pkS, t3 = s·M + c·Z. libsodium refuses a zero scalar or an identity product:
      // never the case for an honest proof, so such a proof is refused as false.
      const t2 = sodium.crypto_core_ristretto255_add(sodium.crypto_scalarmult_ristretto255_base(s), sodium.crypto_scalarmult_ristretto255(c, providerPublicKey));
      const t3 = sodium.crypto_core_ristretto255_add(sodium.crypto_scalarmult_ristretto255(s, m), sodium.crypto_scalarmult_ristretto255(c, z));
      expected = this.#challenge(providerPublicKey, m, z, t2, t3);
    } catch (err) {
      throw oprfProofFailed(inputs.length, err);
    }
    if (!sodium.memcmp(expected, c)) throw oprfProofFailed(inputs.length);
    return inputs.slice(0, wanted).map((input, i) => {
      const unblinded = sodium.crypto_scalarmult_ristretto255(sodium.crypto_core_ristretto255_scalar_invert(blinds[i]!), evaluatedElements[i]!);
      return hashParts(sodium, u16(input.length), input, u16(unblinded.length), unblinded, LABEL_FINALIZE);
    });
  }

  evaluate(secretKey: Uint8Array, input: Uint8Array): Uint8Array {
    assertSecretKey(secretKey);
    assertInput(input);
    return this.#evaluate(secretKey, input);
  }

  evaluateBatch(secretKey: Uint8Array, inputs: readonly Uint8Array[]): Uint8Array[] {
    assertSecretKey(secretKey);
    inputs.forEach((input) => assertInput(input, "inputs"));
    return inputs.map((input) => this.#evaluate(secretKey, input));
  }

  #evaluate(secretKey: Uint8Array, input: Uint8Array): Uint8Array {
    const element = this.#sodium.crypto_scalarmult_ristretto255(secretKey, this.#hashToGroup(input));
    return hashParts(this.#sodium, u16(input.length), input, u16(element.length), element, LABEL_FINALIZE);
  }

  /** RFC 9497 HashToGroup. The map cannot yield the identity for any 64 bytes anyone can find. */
  #hashToGroup(input: Uint8Array): Uint8Array {
    return this.#sodium.crypto_core_ristretto255_from_hash(expandXmdSha512(this.#sodium, [input], DST_HASH_TO_GROUP, UNIFORM_BYTES));
  }

  /** RFC 9497 HashToScalar of the message laid out from `parts`. */
  #hashToScalar(...parts: Uint8Array[]): Uint8Array {
    return this.#sodium.crypto_core_ristretto255_scalar_reduce(expandXmdSha512(this.#sodium, parts, DST_HASH_TO_SCALAR, UNIFORM_BYTES));
  }

  /** The weights dᵢ = HashToScalar(seed, i, Cᵢ, Dᵢ, "Composite") of RFC 9497 ComputeComposites. */
  #weights(b: Uint8Array, c: readonly Uint8Array[], d: readonly Uint8Array[]): Uint8Array[] {
    const seedPrefix = lengthPrefixed(hashParts(this.#sodium, lengthPrefixed(b), lengthPrefixed(SEED_DST)));
    return c.map((ci, i) => this.#hashToScalar(seedPrefix, u16(i), u16(ci.length), ci, u16(d[i]!.length), d[i]!, LABEL_COMPOSITE));
  }

  /** Σ dᵢ·termsᵢ. */
  #weightedSum(weights: readonly Uint8Array[], terms: readonly Uint8Array[], argument: string): Uint8Array {
    let sum: Uint8Array | undefined;
    for (let i = 0; i < weights.length; i++) {
      const term = this.#multiply(weights[i]!, terms[i]!, argument, i);
      sum = sum === undefined ? term : this.#sodium.crypto_core_ristretto255_add(sum, term);
    }
    return sum!;
  }

  /** The prover's M = Σ dᵢ·Cᵢ (RFC 9497 ComputeCompositesFast; Z = k·M follows). */
  #composite(b: Uint8Array, c: readonly Uint8Array[], d: readonly Uint8Array[]): Uint8Array {
    return this.#weightedSum(this.#weights(b, c, d), c, "blindedElements");
  }

  /** The verifier's M = Σ dᵢ·Cᵢ and Z = Σ dᵢ·Dᵢ (RFC 9497 ComputeComposites), each dᵢ hashed once. */
  #composites(b: Uint8Array, c: readonly Uint8Array[], d: readonly Uint8Array[]): [Uint8Array, Uint8Array] {
    const weights = this.#weights(b, c, d);
    return [this.#weightedSum(weights, c, "blindedElements"), this.#weightedSum(weights, d, "evaluatedElements")];
  }

  /** HashToScalar(B, M, Z, t2, t3, "Challenge") (RFC 9497 GenerateProof/VerifyProof). */
  #challenge(b: Uint8Array, m: Uint8Array, z: Uint8Array, t2: Uint8Array, t3: Uint8Array): Uint8Array {
    return this.#hashToScalar(lengthPrefixed(b), lengthPrefixed(m), lengthPrefixed(z), lengthPrefixed(t2), lengthPrefixed(t3), LABEL_CHALLENGE);
  }

  /** scalar·element, with an invalid or identity element reported as E_OPRF_ELEMENT. */
  #multiply(scalar: Uint8Array, element: Uint8Array, argument: string, index: number): Uint8Array {
    if (element.length !== OPRF_ELEMENT_BYTES) throw oprfElementInvalid(argument, index);
    try {
      // Refuses a non-canonical encoding and an identity result (the element was the identity).
      return this.#sodium.crypto_scalarmult_ristretto255(scalar, element);
    } catch (err) {
      throw oprfElementInvalid(argument, index, err);
    }
  }

  /** Throws E_OPRF_ELEMENT unless `element` is a valid non-identity encoding. */
  #assertElement(element: Uint8Array, argument: string): void {
    const valid = element.length === OPRF_ELEMENT_BYTES && this.#sodium.crypto_core_ristretto255_is_valid_point(element) && element.some((b) => b !== 0);
    if (!valid) throw oprfElementInvalid(argument);
  }

  /** Throws E_OPRF_KEY unless `publicKey` is `secretKey`'s. */
  #assertKeyPair(secretKey: Uint8Array, publicKey: Uint8Array): void {
    assertSecretKey(secretKey);
    if (publicKey.length !== OPRF_ELEMENT_BYTES) throw oprfKeyInvalid("publicKey", "length");
    if (!this.#sodium.memcmp(this.#sodium.crypto_scalarmult_ristretto255_base(secretKey), publicKey)) throw oprfKeyInvalid("publicKey", "mismatch");
  }
}
