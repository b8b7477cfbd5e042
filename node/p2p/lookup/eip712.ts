/**
 * The v2 EIP-712 structs and the byte formats of commitments and answer digests (spec section 2).
 *
 * STAND-IN: the chain branch owns these (node/chain/eip712.ts and RiskshareTypes.sol). Everything
 * here follows the spec's type strings and byte layouts exactly so that the real functions drop in.
 * TODO(integrator): replace this file's exports with LookupRequest/LookupAnswer (with kind, keyEpoch,
 * itemCount, answerDigest), lookupRequestDigestBytes, lookupAnswerDigestBytes, evaluateCommitment,
 * fetchCommitment, evaluateAnswerDigest and fetchAnswerDigest from node/chain.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { TypedDataEncoder } from "ethers";
import { checksumAddress, lookupDomain } from "../../chain/index.ts";
import type { LookupKindCode } from "./constants.ts";

/** A signed lookup request, v2: an Evaluate (kind 0) or a Fetch (kind 1). */
export interface LookupRequest {
  querier: string;
  provider: string;
  kind: LookupKindCode;
  /** Bit i set = category id i (1..63). A Fetch sets exactly one bit. */
  categoryMask: bigint;
  /** Evaluate: blinded elements (a shape); Fetch: prefixes. */
  itemCount: number;
  /** Evaluate: keccak256(concat(blindedElements)); Fetch: keccak256(concat(uint8 bits ‖ uint64 value)). */
  itemsCommitment: string;
  nonce: string;
  deadline: bigint;
}

/** The provider's signed answer, v2: never a hit count. */
export interface LookupAnswer {
  queryId: string;
  provider: string;
  /** The OPRF key epoch the provider answered under. */
  keyEpoch: number;
  itemCount: number;
  /** Evaluate: keccak256(concat(evaluated) ‖ proof); Fetch: keccak256(concat(uint32 count per bucket)). */
  answerDigest: string;
}

/** Type string of {@link LookupRequest} (spec section 2). */
export const LOOKUP_REQUEST_TYPE_STRING =
  "LookupRequest(address querier,address provider,uint8 kind,uint64 categoryMask,uint32 itemCount,bytes32 itemsCommitment,bytes32 nonce,uint64 deadline)";
/** Type string of {@link LookupAnswer} (spec section 2). */
export const LOOKUP_ANSWER_TYPE_STRING = "LookupAnswer(bytes32 queryId,address provider,uint32 keyEpoch,uint32 itemCount,bytes32 answerDigest)";

/** EIP-712 types of {@link LookupRequest}, as ethers takes them. */
export const LOOKUP_REQUEST_TYPES = {
  LookupRequest: [
    { name: "querier", type: "address" },
    { name: "provider", type: "address" },
    { name: "kind", type: "uint8" },
    { name: "categoryMask", type: "uint64" },
    { name: "itemCount", type: "uint32" },
    { name: "itemsCommitment", type: "bytes32" },
    { name: "nonce", type: "bytes32" },
    { name: "deadline", type: "uint64" },
  ],
};
/** EIP-712 types of {@link LookupAnswer}. */
export const LOOKUP_ANSWER_TYPES = {
  LookupAnswer: [
    { name: "queryId", type: "bytes32" },
    { name: "provider", type: "address" },
    { name: "keyEpoch", type: "uint32" },
    { name: "itemCount", type: "uint32" },
    { name: "answerDigest", type: "bytes32" },
  ],
};

const REQUEST_TYPEHASH = keccak_256(utf8ToBytes(LOOKUP_REQUEST_TYPE_STRING));
const ANSWER_TYPEHASH = keccak_256(utf8ToBytes(LOOKUP_ANSWER_TYPE_STRING));
const domainSeparators = new Map<string, Uint8Array>();

function domainSeparator(chainId: bigint, ledger: string): Uint8Array {
  const key = `${chainId}/${ledger.toLowerCase()}`;
  let separator = domainSeparators.get(key);
  if (separator === undefined) {
    separator = hexToBytes(TypedDataEncoder.hashDomain(lookupDomain(chainId, checksumAddress(ledger))).slice(2));
    domainSeparators.set(key, separator);
  }
  return separator;
}

function word(value: bigint): Uint8Array {
  return hexToBytes(value.toString(16).padStart(64, "0"));
}
function addressWord(address: string): Uint8Array {
  return hexToBytes(address.slice(2).toLowerCase().padStart(64, "0"));
}
function bytes32Word(hex: string): Uint8Array {
  return hexToBytes(hex.slice(2).toLowerCase());
}
function typedDigest(separator: Uint8Array, words: Uint8Array[]): Uint8Array {
  const struct = new Uint8Array(words.length * 32);
  words.forEach((w, i) => struct.set(w, i * 32));
  const message = new Uint8Array(66);
  message.set([0x19, 0x01], 0);
  message.set(separator, 2);
  message.set(keccak_256(struct), 34);
  return keccak_256(message);
}

/** The EIP-712 digest of a v2 request (its query id). The wire schema has checked every field's shape. */
export function lookupRequestDigestBytes(chainId: bigint, ledger: string, request: LookupRequest): Uint8Array {
  return typedDigest(domainSeparator(chainId, ledger), [
    REQUEST_TYPEHASH, addressWord(request.querier), addressWord(request.provider), word(BigInt(request.kind)), word(request.categoryMask),
    word(BigInt(request.itemCount)), bytes32Word(request.itemsCommitment), bytes32Word(request.nonce), word(request.deadline),
  ]);
}

/** The EIP-712 digest of a v2 answer. */
export function lookupAnswerDigestBytes(chainId: bigint, ledger: string, answer: LookupAnswer): Uint8Array {
  return typedDigest(domainSeparator(chainId, ledger), [
    ANSWER_TYPEHASH, bytes32Word(answer.queryId), addressWord(answer.provider), word(BigInt(answer.keyEpoch)), word(BigInt(answer.itemCount)),
    bytes32Word(answer.answerDigest),
  ]);
}

/** 0x-hex, lower case. */
export function toHex(bytes: Uint8Array): string {
  return `0x${bytesToHex(bytes)}`;
}

function concatAll(parts: readonly Uint8Array[], extra?: Uint8Array): Uint8Array {
  let size = extra?.length ?? 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  if (extra) out.set(extra, at);
  return out;
}

/** A tag prefix: the top `bits` bits of an 8-byte tag, left-aligned in `value` (lower bits zero). */
export interface TagPrefix {
  bits: number;
  value: bigint;
}

/** Evaluate: keccak256(concat(blindedElements)), 32 bytes each, in order. */
export function evaluateCommitment(blindedElements: readonly Uint8Array[]): string {
  return toHex(keccak_256(concatAll(blindedElements)));
}

/** Fetch: keccak256(concat(for each prefix: uint8 bits ‖ uint64 big-endian value)). */
export function fetchCommitment(prefixes: readonly TagPrefix[]): string {
  const out = new Uint8Array(prefixes.length * 9);
  const view = new DataView(out.buffer);
  prefixes.forEach((prefix, i) => {
    out[i * 9] = prefix.bits;
    view.setBigUint64(i * 9 + 1, prefix.value);
  });
  return toHex(keccak_256(out));
}

/** Evaluate answer: keccak256(concat(evaluatedElements) ‖ proof). */
export function evaluateAnswerDigest(evaluatedElements: readonly Uint8Array[], proof: Uint8Array): string {
  return toHex(keccak_256(concatAll(evaluatedElements, proof)));
}

/** Fetch answer: keccak256(concat(for each bucket: uint32 big-endian entry count)); never entries. */
export function fetchAnswerDigest(entryCounts: readonly number[]): string {
  const out = new Uint8Array(entryCounts.length * 4);
  const view = new DataView(out.buffer);
  entryCounts.forEach((count, i) => view.setUint32(i * 4, count));
  return toHex(keccak_256(out));
}
