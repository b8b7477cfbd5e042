/**
 * The EIP-712 domain and typed structs of the lookup protocol, defined once for TypeScript.
 * contracts/libraries/RiskshareTypes.sol carries the same type strings; a test checks they match.
 *
 * @example
 *   const signature = await wallet.signTypedData(lookupDomain(chainId, ledgerAddress), LOOKUP_REQUEST_TYPES, request);
 *   const queryId = lookupRequestDigest(chainId, ledgerAddress, request);
 */
import { TypedDataEncoder, verifyTypedData, concat, keccak256, type TypedDataDomain } from "ethers";

/** Domain name and version: part of every signature, so changing either invalidates old ones. */
export const EIP712_NAME = "riskshare";
export const EIP712_VERSION = "1";

/**
 * A signed lookup request. Only the commitment to the items is signed (and may go on chain):
 * the items and the blinding travel beside it, so only the querier can later open the commitment.
 */
export interface LookupRequest {
  /** The querier's EVM address (the signer). */
  querier: string;
  /** The provider's EVM address: a request signed for one provider cannot be replayed at another. */
  provider: string;
  /** Bit i set = category id i is asked for (category ids are 1..63). */
  categoryMask: bigint;
  /** How many items the request carries. */
  itemCount: number;
  /** keccak256(blinding || hash_1 || … || hash_n) over the 32-byte blinding and item hashes. */
  itemsCommitment: string;
  /** 32 random bytes, unique per request: the provider refuses a nonce it has seen. */
  nonce: string;
  /** Unix seconds after which the provider must refuse the request. */
  deadline: bigint;
}

/** EIP-712 types of {@link LookupRequest}. */
export const LOOKUP_REQUEST_TYPES = {
  LookupRequest: [
    { name: "querier", type: "address" },
    { name: "provider", type: "address" },
    { name: "categoryMask", type: "uint64" },
    { name: "itemCount", type: "uint32" },
    { name: "itemsCommitment", type: "bytes32" },
    { name: "nonce", type: "bytes32" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

/** The Solidity type string whose keccak256 is the struct's typehash. */
export const LOOKUP_REQUEST_TYPE_STRING =
  "LookupRequest(address querier,address provider,uint64 categoryMask,uint32 itemCount,bytes32 itemsCommitment,bytes32 nonce,uint64 deadline)";

/**
 * The provider's signed answer: binds the query id to a digest of the answer it gave, so the
 * querier can prove what it was told.
 */
export interface LookupAnswer {
  queryId: string;
  provider: string;
  /** keccak256 of the canonical encoding of the per-item results. */
  resultsDigest: string;
  hitCount: number;
}

/** EIP-712 types of {@link LookupAnswer}. */
export const LOOKUP_ANSWER_TYPES = {
  LookupAnswer: [
    { name: "queryId", type: "bytes32" },
    { name: "provider", type: "address" },
    { name: "resultsDigest", type: "bytes32" },
    { name: "hitCount", type: "uint32" },
  ],
} as const;

/** The domain: bound to the chain and to the QueryLedger contract that records the requests. */
export function lookupDomain(chainId: bigint, queryLedgerAddress: string): TypedDataDomain {
  return { name: EIP712_NAME, version: EIP712_VERSION, chainId, verifyingContract: queryLedgerAddress };
}

/** The EIP-712 digest of a request: also its query id on chain. */
export function lookupRequestDigest(chainId: bigint, queryLedgerAddress: string, request: LookupRequest): string {
  return TypedDataEncoder.hash(lookupDomain(chainId, queryLedgerAddress), mutable(LOOKUP_REQUEST_TYPES), request);
}

/** Recovers the address that signed a request. */
export function recoverLookupRequestSigner(
  chainId: bigint, queryLedgerAddress: string, request: LookupRequest, signature: string,
): string {
  return verifyTypedData(lookupDomain(chainId, queryLedgerAddress), mutable(LOOKUP_REQUEST_TYPES), request, signature);
}

/** Recovers the address that signed an answer. */
export function recoverLookupAnswerSigner(
  chainId: bigint, queryLedgerAddress: string, answer: LookupAnswer, signature: string,
): string {
  return verifyTypedData(lookupDomain(chainId, queryLedgerAddress), mutable(LOOKUP_ANSWER_TYPES), answer, signature);
}

/** keccak256(blinding || hashes): the commitment a request signs instead of its items. */
export function itemsCommitment(blinding: Uint8Array | string, itemHashes: readonly (Uint8Array | string)[]): string {
  return keccak256(concat([blinding, ...itemHashes]));
}

/** ethers wants mutable arrays in its type records; ours are frozen literals. */
export function mutable<T extends Record<string, readonly { name: string; type: string }[]>>(
  types: T,
): Record<string, { name: string; type: string }[]> {
  return Object.fromEntries(Object.entries(types).map(([key, fields]) => [key, fields.map((f) => ({ ...f }))]));
}
