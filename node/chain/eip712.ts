/**
 * The EIP-712 domain and typed structs of the lookup protocol, defined once for TypeScript.
 * contracts/libraries/RiskshareTypes.sol carries the same type strings; a test checks they match.
 *
 * Every lookup hashes, signs and recovers two of these structs, so the hot path does not go
 * through ethers' generic TypedDataEncoder: the two structs have fixed layouts (one 32-byte word
 * per field), their type hashes are constants and the domain separator is computed once per
 * (chain id, ledger address). Inputs outside the shapes the wire admits (an address without 0x,
 * a number as a string…) and every failure go to ethers itself, so digests, accepted signatures
 * and thrown errors stay exactly what ethers gives; a test compares both on random and edge values.
 *
 * @example
 *   const digest = lookupRequestDigestBytes(chainId, ledgerAddress, request);
 *   const signature = signDigest(secretKey, digest);          // or wallet.signTypedData(lookupDomain(…), …)
 *   const queryId = lookupRequestDigest(chainId, ledgerAddress, request);
 *   const querier = recoverLookupRequestSigner(chainId, ledgerAddress, request, signature);
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { getAddress, recoverAddress, TypedDataEncoder, type TypedDataDomain } from "ethers";

/** Domain name and version: part of every signature, so changing either invalidates old ones. */
export const EIP712_NAME = "riskshare";
export const EIP712_VERSION = "1";

/** What a lookup request asks for (RiskshareTypes.QueryRecord.kind). */
export const LookupKind = {
  /** The provider evaluates blinded elements under its OPRF key. */
  Evaluate: 0,
  /** The provider returns the sealed entries of the tag-prefix buckets named. */
  Fetch: 1,
} as const;

/** A lookup kind code. */
export type LookupKind = (typeof LookupKind)[keyof typeof LookupKind];

/**
 * A signed lookup request. Only the commitment to the items is signed (and goes on chain): the
 * blinded elements or prefixes travel beside it (node/chain/digests.ts defines both commitments).
 */
export interface LookupRequest {
  /** The querier's EVM address (the signer). */
  querier: string;
  /** The provider's EVM address: a request signed for one provider cannot be replayed at another. */
  provider: string;
  /** {@link LookupKind}: 0 = Evaluate, 1 = Fetch. */
  kind: number;
  /** Bit i set = category id i is asked for (category ids are 1..63). */
  categoryMask: bigint;
  /** Blinded elements (Evaluate, padded to a fixed shape) or prefixes (Fetch) the request carries. */
  itemCount: number;
  /** {@link evaluateCommitment} of the blinded elements, or {@link fetchCommitment} of the prefixes. */
  itemsCommitment: string;
  /** A per-(querier, provider) counter 1 <= n < 2^64 as a uint256 big-endian (nonces.ts): the provider refuses a nonce it has seen. */
  nonce: string;
  /** Unix seconds after which the provider must refuse the request. */
  deadline: bigint;
}

/** EIP-712 types of {@link LookupRequest}. */
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
} as const;

/** The Solidity type string whose keccak256 is the struct's typehash. */
export const LOOKUP_REQUEST_TYPE_STRING =
  "LookupRequest(address querier,address provider,uint8 kind,uint64 categoryMask,uint32 itemCount,bytes32 itemsCommitment,bytes32 nonce,uint64 deadline)";

/**
 * The provider's signed answer: binds the query id to a digest of what it sent back and the key
 * epoch it answered under, so the querier can prove what it was told — never which items hit
 * (an Evaluate's digest covers evaluated elements, a Fetch's only the bucket sizes).
 */
export interface LookupAnswer {
  queryId: string;
  provider: string;
  /** The provider's key epoch the answer was computed under. */
  keyEpoch: number;
  /** Elements evaluated or buckets returned (the request's itemCount). */
  itemCount: number;
  /** {@link evaluateAnswerDigest} or {@link fetchAnswerDigest}. */
  answerDigest: string;
}

/** EIP-712 types of {@link LookupAnswer}. */
export const LOOKUP_ANSWER_TYPES = {
  LookupAnswer: [
    { name: "queryId", type: "bytes32" },
    { name: "provider", type: "address" },
    { name: "keyEpoch", type: "uint32" },
    { name: "itemCount", type: "uint32" },
    { name: "answerDigest", type: "bytes32" },
  ],
} as const;

/** The type string whose keccak256 is the answer struct's typehash (RiskshareTypes.LOOKUP_ANSWER_TYPEHASH). */
export const LOOKUP_ANSWER_TYPE_STRING = "LookupAnswer(bytes32 queryId,address provider,uint32 keyEpoch,uint32 itemCount,bytes32 answerDigest)";

/** The domain: bound to the chain and to the QueryLedger contract that records the requests. */
export function lookupDomain(chainId: bigint, queryLedgerAddress: string): TypedDataDomain {
  return { name: EIP712_NAME, version: EIP712_VERSION, chainId, verifyingContract: queryLedgerAddress };
}

/** The EIP-712 digest of a request: also its query id on chain (0x-hex, lower case). */
export function lookupRequestDigest(chainId: bigint, queryLedgerAddress: string, request: LookupRequest): string {
  return toHex(lookupRequestDigestBytes(chainId, queryLedgerAddress, request));
}

/** {@link lookupRequestDigest} as 32 bytes, for signing or recovering without a hex round trip. */
export function lookupRequestDigestBytes(chainId: bigint, queryLedgerAddress: string, request: LookupRequest): Uint8Array {
  const domainSeparator = domainSeparatorOf(chainId, queryLedgerAddress);
  const words = new Uint8Array(9 * 32);
  words.set(REQUEST_TYPEHASH, 0);
  if (
    !putAddress(words, 1, request.querier) || !putAddress(words, 2, request.provider) || !putUint(words, 3, request.kind, UINT8_MAX) ||
    !putUint(words, 4, request.categoryMask, UINT64_MAX) || !putUint(words, 5, request.itemCount, UINT32_MAX) ||
    !putBytes32(words, 6, request.itemsCommitment) || !putBytes32(words, 7, request.nonce) || !putUint(words, 8, request.deadline, UINT64_MAX)
  ) {
    return ethersDigest(chainId, queryLedgerAddress, LOOKUP_REQUEST_TYPES, request);
  }
  return typedDataDigest(domainSeparator, keccak_256(words));
}

/** The EIP-712 digest of an answer (0x-hex, lower case). */
export function lookupAnswerDigest(chainId: bigint, queryLedgerAddress: string, answer: LookupAnswer): string {
  return toHex(lookupAnswerDigestBytes(chainId, queryLedgerAddress, answer));
}

/** {@link lookupAnswerDigest} as 32 bytes. */
export function lookupAnswerDigestBytes(chainId: bigint, queryLedgerAddress: string, answer: LookupAnswer): Uint8Array {
  const domainSeparator = domainSeparatorOf(chainId, queryLedgerAddress);
  const words = new Uint8Array(6 * 32);
  words.set(ANSWER_TYPEHASH, 0);
  if (
    !putBytes32(words, 1, answer.queryId) || !putAddress(words, 2, answer.provider) || !putUint(words, 3, answer.keyEpoch, UINT32_MAX) ||
    !putUint(words, 4, answer.itemCount, UINT32_MAX) || !putBytes32(words, 5, answer.answerDigest)
  ) {
    return ethersDigest(chainId, queryLedgerAddress, LOOKUP_ANSWER_TYPES, answer);
  }
  return typedDataDigest(domainSeparator, keccak_256(words));
}

/** Recovers the address that signed a request (checksummed); throws, as ethers does, for a malformed signature. */
export function recoverLookupRequestSigner(
  chainId: bigint, queryLedgerAddress: string, request: LookupRequest, signature: string,
): string {
  return recoverDigestSigner(lookupRequestDigestBytes(chainId, queryLedgerAddress, request), signature);
}

/** Recovers the address that signed an answer (checksummed); throws, as ethers does, for a malformed signature. */
export function recoverLookupAnswerSigner(
  chainId: bigint, queryLedgerAddress: string, answer: LookupAnswer, signature: string,
): string {
  return recoverDigestSigner(lookupAnswerDigestBytes(chainId, queryLedgerAddress, answer), signature);
}

/**
 * Signs a 32-byte digest with a secp256k1 secret key: 0x-hex r‖s‖v, low s, v 27 or 28 — the bytes
 * ethers' `SigningKey.sign(digest).serialized` (and so `Wallet.signTypedData`) gives for the same key.
 */
export function signDigest(secretKey: Uint8Array, digest: Uint8Array): string {
  const recovered = secp256k1.sign(digest, secretKey, { prehash: false, lowS: true, format: "recovered" });
  const out = new Uint8Array(65);
  out.set(recovered.subarray(1, 65), 0);
  // ethers maps any non-zero recovery id to 28 (ids 2 and 3 need r ≥ n: never seen in practice).
  out[64] = recovered[0] === 0 ? 27 : 28;
  return toHex(out);
}

/**
 * The checksummed address whose key signed `digest`. Accepts what ethers' `recoverAddress`
 * accepts — 65-byte r‖s‖v with v 0/1/27/28 (or an EIP-155 v ≥ 35), or 64-byte EIP-2098 — and
 * throws where it throws (s with its top bit set, r or s out of range, no point for r).
 */
export function recoverDigestSigner(digest: Uint8Array, signature: string): string {
  const parsed = parseSignature(signature);
  if (parsed !== undefined) {
    try {
      const point = parsed.recoverPublicKey(digest);
      return addressOfPublicKey(point.toBytes(false));
    } catch {
      // ethers below throws its own error for the same signature
    }
  }
  return recoverAddress(toHex(digest), signature);
}

/**
 * True exactly when {@link recoverDigestSigner} gives the address of `publicKey` (33 or 65 bytes),
 * and false where it gives another or throws. With the key known, the point recovery lifts from r
 * is R = u1·G + u2·P (u1 = h/s, u2 = r/s), so "R.x = r and R's y parity is v" is the same test as
 * "recovery gives P", computed with noble's public point API and a per-key wNAF table: ~0.4 ms
 * instead of ~1.4 ms, and a lookup checks two signatures on its critical path. Recovery stays the
 * oracle: the tests compare both on spoiled and random signatures, and it decides whenever the
 * fast path cannot (a key off the curve, a malformed signature).
 */
export function isDigestSignedBy(digest: Uint8Array, signature: string, publicKey: Uint8Array): boolean {
  const parsed = digest.length === 32 ? parseSignature(signature) : undefined;
  const key = parsed === undefined ? undefined : verifyingKey(publicKey);
  if (parsed !== undefined && key !== undefined) {
    try {
      const { Fn } = secp256k1.Point;
      const sInverse = Fn.inv(parsed.s);
      const point = secp256k1.Point.BASE.multiplyUnsafe(Fn.mul(Fn.create(toBigInt(digest)), sInverse)).add(key.multiplyUnsafe(Fn.mul(parsed.r, sInverse)));
      if (point.is0()) return false;
      const { x, y } = point.toAffine();
      return x === parsed.r && Number(y & 1n) === parsed.recovery;
    } catch {
      // recovery below decides
    }
  }
  try {
    return recoverDigestSigner(digest, signature) === addressOfKey(publicKey);
  } catch {
    return false;
  }
}

/**
 * `getAddress` for the hot path: the EIP-55 form of a 0x-hex address, from a cache once seen;
 * any other shape, and a mixed-case address with a bad checksum, go to ethers (which throws).
 */
export function checksumAddress(address: string): string {
  if (typeof address === "string" && ADDRESS.test(address)) {
    const result = checksummed(address.slice(2).toLowerCase());
    if (result === address || !MIXED_CASE.test(address)) return result;
  }
  return getAddress(address);
}

/** The checksummed EVM address of an uncompressed (65-byte) secp256k1 public key. */
export function addressOfPublicKey(uncompressed: Uint8Array): string {
  return checksummed(bytesToHex(keccak_256(uncompressed.subarray(1)).subarray(12)));
}

/** ethers wants mutable arrays in its type records; ours are frozen literals. */
export function mutable<T extends Record<string, readonly { name: string; type: string }[]>>(
  types: T,
): Record<string, { name: string; type: string }[]> {
  return Object.fromEntries(Object.entries(types).map(([key, fields]) => [key, fields.map((f) => ({ ...f }))]));
}

// ── fixed-layout encoding ───────────────────────────────────────────────────────────────────────

const UINT8_MAX = 0xffn;
const UINT32_MAX = 0xffff_ffffn;
const UINT64_MAX = (1n << 64n) - 1n;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const MIXED_CASE = /([A-F].*[a-f])|([a-f].*[A-F])/;
const SIGNATURE = /^0x(?:[0-9a-fA-F]{128}|[0-9a-fA-F]{130})$/;
const SECP256K1_N = secp256k1.Point.Fn.ORDER;

const REQUEST_TYPEHASH = keccak_256(utf8ToBytes(LOOKUP_REQUEST_TYPE_STRING));
const ANSWER_TYPEHASH = keccak_256(utf8ToBytes(LOOKUP_ANSWER_TYPE_STRING));
const EIP712_PREFIX = Uint8Array.of(0x19, 0x01);

/**
 * Domain separators by chain id and ledger address as given. ethers computes each one (so its
 * address checks and errors apply); a node uses one, tests a handful, so the map stays small.
 */
const domainSeparators = new Map<string, Uint8Array>();
const MAX_CACHED_DOMAINS = 64;

function domainSeparatorOf(chainId: bigint, queryLedgerAddress: string): Uint8Array {
  const key = `${chainId}:${queryLedgerAddress}`;
  let separator = domainSeparators.get(key);
  if (separator === undefined) {
    separator = hexToBytes(TypedDataEncoder.hashDomain(lookupDomain(chainId, queryLedgerAddress)).slice(2));
    if (domainSeparators.size >= MAX_CACHED_DOMAINS) domainSeparators.clear();
    domainSeparators.set(key, separator);
  }
  return separator;
}

/**
 * Public keys of the peers we verify, as points with a wNAF table (window 6: ~20 ms to build,
 * ~200 KB each). A consortium has tens of members; the least recently used key goes first.
 */
const verifyingKeys = new Map<string, InstanceType<typeof secp256k1.Point>>();
const MAX_VERIFYING_KEYS = 64;
const VERIFYING_KEY_WINDOW = 6;

function verifyingKey(publicKey: Uint8Array): InstanceType<typeof secp256k1.Point> | undefined {
  const id = bytesToHex(publicKey);
  let point = verifyingKeys.get(id);
  if (point !== undefined) {
    verifyingKeys.delete(id);
    verifyingKeys.set(id, point);
    return point;
  }
  try {
    point = secp256k1.Point.fromBytes(publicKey);
  } catch {
    return undefined;
  }
  if (point.is0()) return undefined;
  point.precompute(VERIFYING_KEY_WINDOW, true);
  if (verifyingKeys.size >= MAX_VERIFYING_KEYS) verifyingKeys.delete(verifyingKeys.keys().next().value!);
  verifyingKeys.set(id, point);
  return point;
}

/** Addresses of the peers' public keys we check signatures against (tens of members; the oldest goes first). */
const keyAddresses = new Map<string, string>();
const MAX_KEY_ADDRESSES = 256;

/** The checksummed address of a secp256k1 public key (33 or 65 bytes), cached; throws for a key off the curve. */
function addressOfKey(publicKey: Uint8Array): string {
  const id = bytesToHex(publicKey);
  let address = keyAddresses.get(id);
  if (address === undefined) {
    address = addressOfPublicKey(secp256k1.Point.fromBytes(publicKey).toBytes(false));
    if (keyAddresses.size >= MAX_KEY_ADDRESSES) keyAddresses.delete(keyAddresses.keys().next().value!);
    keyAddresses.set(id, address);
  }
  return address;
}

/** keccak256(0x1901 ‖ domainSeparator ‖ structHash). */
function typedDataDigest(domainSeparator: Uint8Array, structHash: Uint8Array): Uint8Array {
  const encoded = new Uint8Array(66);
  encoded.set(EIP712_PREFIX, 0);
  encoded.set(domainSeparator, 2);
  encoded.set(structHash, 34);
  return keccak_256(encoded);
}

/** Writes an address into word `index` (right-aligned); false when ethers must judge it (other shapes, a bad checksum). */
function putAddress(words: Uint8Array, index: number, value: unknown): boolean {
  if (typeof value !== "string" || !ADDRESS.test(value)) return false;
  if (MIXED_CASE.test(value) && checksummed(value.slice(2).toLowerCase()) !== value) return false;
  words.set(hexToBytes(value.slice(2)), index * 32 + 12);
  return true;
}

/** Writes a bigint or safe-integer number in [0, max] into word `index` (big-endian); false otherwise. */
function putUint(words: Uint8Array, index: number, value: unknown, max: bigint): boolean {
  let n: bigint;
  if (typeof value === "bigint") n = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) n = BigInt(value);
  else return false;
  if (n < 0n || n > max) return false;
  const view = new DataView(words.buffer, words.byteOffset + index * 32, 32);
  view.setBigUint64(24, n);
  return true;
}

/** Writes 32 bytes given as 0x-hex into word `index`; false for any other shape. */
function putBytes32(words: Uint8Array, index: number, value: unknown): boolean {
  return typeof value === "string" && writeHex32(Buffer.from(words.buffer, words.byteOffset, words.byteLength), index * 32, value);
}

/**
 * Writes 0x + 64 hex digits (either case) as 32 bytes at `offset`; false, with the bytes partly
 * written, for anything else. Node's hex decoder stops at the first pair that is not hex.
 */
function writeHex32(target: Buffer, offset: number, value: string): boolean {
  return value.length === 66 && value.startsWith("0x") && target.write(value.slice(2), offset, 32, "hex") === 32;
}

/** The reference path: ethers' own encoder (also the one that throws for a value it refuses). */
function ethersDigest(
  chainId: bigint, queryLedgerAddress: string, types: Record<string, readonly { name: string; type: string }[]>, value: object,
): Uint8Array {
  return hexToBytes(TypedDataEncoder.hash(lookupDomain(chainId, queryLedgerAddress), mutable(types), value as Record<string, unknown>).slice(2));
}

/**
 * An r‖s‖v or EIP-2098 signature as noble's, under ethers' rules (`Signature.from` and its `s`
 * check); undefined when ethers would refuse it or it is not 0x-hex of 64 or 65 bytes.
 */
function parseSignature(signature: unknown): InstanceType<typeof secp256k1.Signature> | undefined {
  if (typeof signature !== "string" || !SIGNATURE.test(signature)) return undefined;
  const bytes = hexToBytes(signature.slice(2));
  let yParity: number;
  if (bytes.length === 64) {
    yParity = bytes[32]! & 0x80 ? 1 : 0;
    bytes[32]! &= 0x7f;
  } else {
    const v = bytes[64]!;
    if (v === 0 || v === 27) yParity = 0;
    else if (v === 1 || v === 28) yParity = 1;
    else if (v >= 35) yParity = v & 1 ? 0 : 1; // EIP-155 v: odd is 27, even is 28
    else return undefined;
  }
  if (bytes[32]! & 0x80) return undefined; // ethers: "non-canonical s"
  const r = toBigInt(bytes.subarray(0, 32));
  const s = toBigInt(bytes.subarray(32, 64));
  if (r === 0n || r >= SECP256K1_N || s === 0n || s >= SECP256K1_N) return undefined;
  return new secp256k1.Signature(r, s, yParity);
}

// ── hex and checksums ──────────────────────────────────────────────────────────────────────────

function toHex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
}

function toBigInt(bytes: Uint8Array): bigint {
  return BigInt(toHex(bytes));
}

/**
 * EIP-55 checksummed form of 40 lower-case hex digits. Cached: the same few member and ledger
 * addresses come back in every lookup; the cache is dropped whole when it grows past its bound.
 */
const checksums = new Map<string, string>();
const MAX_CACHED_CHECKSUMS = 4_096;
const ASCII = new TextEncoder();

function checksummed(lower40: string): string {
  let result = checksums.get(lower40);
  if (result !== undefined) return result;
  const hashed = keccak_256(ASCII.encode(lower40));
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    const nibble = i % 2 === 0 ? hashed[i >> 1]! >> 4 : hashed[i >> 1]! & 0x0f;
    out += nibble >= 8 ? lower40[i]!.toUpperCase() : lower40[i]!;
  }
  result = out;
  if (checksums.size >= MAX_CACHED_CHECKSUMS) checksums.clear();
  checksums.set(lower40, result);
  return result;
}
