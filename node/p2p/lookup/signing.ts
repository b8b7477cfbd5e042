/**
 * The EIP-712 side of a lookup, for both ends: the digest of each request and answer computed
 * once, signed with the member key and checked against the connected peer's public key (the key
 * behind its PeerId, hence its address). The domain is fixed per service (chain id, ledger
 * address), and so is our own checksummed address.
 */
import { bytesToHex } from "@noble/hashes/utils.js";
import { checksumAddress, isDigestSignedBy, lookupDomain, mutable } from "../../chain/index.ts";
import type { DigestSigner, LookupSigner, TypedDataSigner } from "../components.ts";
import { digestSignerFromEvmKey } from "../keys.ts";
import {
  LOOKUP_ANSWER_TYPES, LOOKUP_REQUEST_TYPES, lookupAnswerDigestBytes, lookupRequestDigestBytes, type LookupAnswer, type LookupRequest,
} from "../../chain/index.ts";
import type { LookupOptions } from "./options.ts";

/** A request's digest (its query id) and the querier's signature of it. */
export interface SignedRequest {
  queryId: string;
  signature: string;
}

/** A request's EIP-712 digest, as bytes and as its query id (0x-hex). */
export interface RequestDigest {
  digest: Uint8Array;
  queryId: string;
}

/** Signs and checks the lookup structs under one EIP-712 domain. */
export class LookupSigning {
  /** Our own address, checksummed once. */
  readonly address: string;
  private readonly chainId: bigint;
  private readonly queryLedgerAddress: string;
  private readonly signer: DigestSigner | TypedDataSigner;

  constructor(opts: Pick<LookupOptions, "chainId" | "queryLedgerAddress">, signer: LookupSigner) {
    this.chainId = opts.chainId;
    this.queryLedgerAddress = opts.queryLedgerAddress;
    this.signer = asDigestSigner(signer) ?? signer;
    this.address = checksumAddress(signer.address);
  }

  /** The request's digest; throws, as ethers does, for a value the EIP-712 types refuse (a bad address checksum…). */
  requestDigest(request: LookupRequest): RequestDigest {
    const digest = lookupRequestDigestBytes(this.chainId, this.queryLedgerAddress, request);
    return { digest, queryId: `0x${bytesToHex(digest)}` };
  }

  /** The request's query id and our signature of it. */
  async signRequest(request: LookupRequest): Promise<SignedRequest> {
    const { digest, queryId } = this.requestDigest(request);
    if ("signDigest" in this.signer) return { queryId, signature: this.signer.signDigest(digest) };
    const signature = await this.signer.signTypedData(lookupDomain(this.chainId, this.queryLedgerAddress), mutable(LOOKUP_REQUEST_TYPES), { ...request });
    return { queryId, signature };
  }

  /** Our signature of an answer. */
  async signAnswer(answer: LookupAnswer): Promise<string> {
    if ("signDigest" in this.signer) return this.signer.signDigest(lookupAnswerDigestBytes(this.chainId, this.queryLedgerAddress, answer));
    return this.signer.signTypedData(lookupDomain(this.chainId, this.queryLedgerAddress), mutable(LOOKUP_ANSWER_TYPES), { ...answer });
  }

  /**
   * True when the holder of `publicKey` (the connected peer's) signed the request with this
   * digest: what "the signature recovers the peer's address" says, at a third of the cost.
   */
  isRequestSignedBy(digest: Uint8Array, signature: string, publicKey: Uint8Array): boolean {
    return isDigestSignedBy(digest, signature, publicKey);
  }

  /** True when the holder of `publicKey` signed the answer; false for a malformed answer or signature. */
  isAnswerSignedBy(answer: LookupAnswer, signature: string, publicKey: Uint8Array): boolean {
    let digest: Uint8Array;
    try {
      digest = lookupAnswerDigestBytes(this.chainId, this.queryLedgerAddress, answer);
    } catch {
      return false;
    }
    return isDigestSignedBy(digest, signature, publicKey);
  }
}

/**
 * A signer that can sign digests here: itself, or one made from an ethers Wallet's key (so a
 * wallet never goes through ethers' typed-data encoder); undefined for any other signer.
 */
function asDigestSigner(signer: LookupSigner): DigestSigner | undefined {
  if ("signDigest" in signer && typeof signer.signDigest === "function") return signer;
  const privateKey = (signer as { signingKey?: { privateKey?: unknown } }).signingKey?.privateKey;
  if (typeof privateKey !== "string") return undefined;
  const digestSigner = digestSignerFromEvmKey(privateKey);
  return digestSigner.address === checksumAddress(signer.address) ? digestSigner : undefined;
}
