/**
 * The commitments a lookup request signs and the digests a lookup answer signs (SPEC §2). They
 * bind the signed structs of eip712.ts to the bytes that travel beside them, and are what the
 * ledger records and `audit open` re-derives. Pure functions of their inputs; both sides call them.
 *
 * @example
 *   const itemsCommitment = evaluateCommitment(blindedElements);          // Evaluate request
 *   const answerDigest = evaluateAnswerDigest(evaluatedElements, proof);   // its answer
 *   const fetchItems = fetchCommitment([{ bits: 12, value: 0xabcn }]);      // Fetch request
 *   const fetchDigest = fetchAnswerDigest([311]);                           // its answer: bucket sizes only
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { assertArgument } from "../errors.ts";
import { OPRF_ELEMENT_BYTES, OPRF_PROOF_BYTES } from "../identity/index.ts";

/** Longest tag prefix a fetch may name, in bits (a prefix value is a uint64). */
export const MAX_PREFIX_BITS = 64;

/** A tag prefix a Fetch names: `bits` leading bits, carried in a uint64 `value`. */
export interface TagPrefix {
  bits: number;
  value: bigint;
}

/** The itemsCommitment of an Evaluate request: keccak256 of the blinded elements (32 bytes each), in order (0x-hex). */
export function evaluateCommitment(blindedElements: readonly Uint8Array[]): string {
  return hashOf(concatElements(blindedElements, "blindedElements"));
}

/** Bytes of a Fetch's commitment salt. */
export const FETCH_SALT_BYTES = 32;

/**
 * The itemsCommitment of a Fetch request: keccak256(salt ‖ per prefix, uint8 bits ‖ uint64 big-endian
 * value) (0x-hex). The 32-byte random salt (sent to the provider, kept in the querier's journal) keeps
 * the prefixes off the chain: without it a short prefix could be found from its hash by trying them all.
 */
export function fetchCommitment(prefixes: readonly TagPrefix[], salt: Uint8Array): string {
  assertArgument(salt instanceof Uint8Array && salt.length === FETCH_SALT_BYTES, `the salt is ${FETCH_SALT_BYTES} bytes`, "salt");
  const out = new Uint8Array(FETCH_SALT_BYTES + prefixes.length * 9);
  out.set(salt, 0);
  const view = new DataView(out.buffer);
  prefixes.forEach((prefix, index) => {
    assertArgument(Number.isInteger(prefix.bits) && prefix.bits >= 0 && prefix.bits <= MAX_PREFIX_BITS, `a prefix has 0..${MAX_PREFIX_BITS} bits`, "prefixes");
    assertArgument(typeof prefix.value === "bigint" && prefix.value >= 0n && prefix.value < 1n << 64n, "a prefix value is a uint64", "prefixes");
    view.setUint8(FETCH_SALT_BYTES + index * 9, prefix.bits);
    view.setBigUint64(FETCH_SALT_BYTES + index * 9 + 1, prefix.value);
  });
  return hashOf(out);
}

/** The answerDigest of an Evaluate answer: keccak256(evaluated elements ‖ proof) (0x-hex). */
export function evaluateAnswerDigest(evaluated: readonly Uint8Array[], proof: Uint8Array): string {
  assertArgument(proof instanceof Uint8Array && proof.length === OPRF_PROOF_BYTES, `a proof is ${OPRF_PROOF_BYTES} bytes`, "proof");
  const elements = concatElements(evaluated, "evaluated");
  const out = new Uint8Array(elements.length + OPRF_PROOF_BYTES);
  out.set(elements, 0);
  out.set(proof, elements.length);
  return hashOf(out);
}

/**
 * The answerDigest of a Fetch answer: keccak256 of each bucket's entry count as uint32 big-endian
 * (0x-hex). Never the entries: a signed answer must not be transferable proof of a list.
 */
export function fetchAnswerDigest(bucketCounts: readonly number[]): string {
  const out = new Uint8Array(bucketCounts.length * 4);
  const view = new DataView(out.buffer);
  bucketCounts.forEach((count, index) => {
    assertArgument(Number.isInteger(count) && count >= 0 && count <= 0xffff_ffff, "a bucket count is a uint32", "bucketCounts");
    view.setUint32(index * 4, count);
  });
  return hashOf(out);
}

function concatElements(elements: readonly Uint8Array[], name: string): Uint8Array {
  const out = new Uint8Array(elements.length * OPRF_ELEMENT_BYTES);
  elements.forEach((element, index) => {
    assertArgument(element instanceof Uint8Array && element.length === OPRF_ELEMENT_BYTES, `each element is ${OPRF_ELEMENT_BYTES} bytes`, name);
    out.set(element, index * OPRF_ELEMENT_BYTES);
  });
  return out;
}

function hashOf(bytes: Uint8Array): string {
  return `0x${Buffer.from(keccak_256(bytes)).toString("hex")}`;
}

/**
 * The `answerDigest` a refusal record carries: keccak256 of the UTF-8 error code the querier was
 * sent (e.g. "E_QUOTA"), binding the recorded outcome to the error frame (0x-hex).
 */
export function refusalDigest(code: string): string {
  return hashOf(new TextEncoder().encode(code));
}
