/**
 * Admission requests: a candidate signs, with its own member key, what it asks to be admitted as
 * (account, name, PeerId, public key, OPRF key) for one registry on one chain; a member proposes
 * it as an Admit, and the registry checks the same things again (contracts/libraries/AdmissionVerifier.sol).
 *
 * @example
 *   const request = createAdmissionRequest(secretKey, { name: "Bank D", oprfKey, chainId, registry });
 *   writeFileSync("request.json", JSON.stringify(request));              // the candidate hands it over
 *   const checked = parseAdmissionRequest(JSON.parse(text), { chainId, registry });  // E_ADMISSION_REQUEST names the field
 *   await registry.propose(ProposalKind.Admit, encodeProposalPayload(ProposalKind.Admit, admitArgs(checked)));
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { getAddress, isAddress, TypedDataEncoder, type TypedDataDomain } from "ethers";
import { z } from "zod";
import { RiskshareError } from "../errors.ts";
import { addressOfPublicKey, EIP712_NAME, EIP712_VERSION, mutable, recoverDigestSigner, signDigest } from "./eip712.ts";
import type { ProposalArgs, ProposalKind } from "./governance.ts";

/** EIP-712 types of the admission request (RiskshareTypes.ADMISSION_TYPEHASH). */
export const ADMISSION_TYPES = {
  Admission: [
    { name: "account", type: "address" },
    { name: "name", type: "string" },
    { name: "peerId", type: "bytes" },
    { name: "publicKey", type: "bytes" },
    { name: "oprfKey", type: "bytes32" },
  ],
} as const;

/** The Solidity type string whose keccak256 is RiskshareTypes.ADMISSION_TYPEHASH. */
export const ADMISSION_TYPE_STRING = "Admission(address account,string name,bytes peerId,bytes publicKey,bytes32 oprfKey)";

/**
 * The libp2p identity multihash prefix of a secp256k1 key (what @libp2p/peer-id gives for the
 * node's key): identity code 0x00, length 0x25, then the protobuf PublicKey{Type (0x08) = 2
 * (Secp256k1), Data (0x12) of 0x21 bytes}; the 33-byte compressed key follows.
 */
const PEER_ID_PREFIX = Uint8Array.of(0x00, 0x25, 0x08, 0x02, 0x12, 0x21);

/** Longest member name the registry takes, in bytes of UTF-8 (ConsortiumRegistry.MAX_NAME_BYTES). */
export const MAX_MEMBER_NAME_BYTES = 128;

/** A candidate's signed request, as `riskshare member request` writes it (all bytes as 0x-hex). */
export interface AdmissionRequest {
  /** The candidate's EVM address: keccak256 of `publicKey`. */
  account: string;
  name: string;
  /** The PeerId bytes the registry stores: the identity multihash of the compressed key. */
  peerId: string;
  /** The 64-byte uncompressed secp256k1 key x‖y (without the 0x04 prefix). */
  publicKey: string;
  /** The OPRF public key of key epoch 1 (32 bytes). */
  oprfKey: string;
  /** The chain and registry the signature is for: it is valid for no other. */
  chainId: string;
  registry: string;
  /** r‖s‖v (65 bytes, low s) over the Admission struct. */
  signature: string;
}

/** The domain of admission requests: bound to the chain and the registry that admits. */
export function admissionDomain(chainId: bigint, registry: string): TypedDataDomain {
  return { name: EIP712_NAME, version: EIP712_VERSION, chainId, verifyingContract: registry };
}

/** The EIP-712 digest a candidate signs (32 bytes). */
export function admissionDigest(chainId: bigint, registry: string, fields: Pick<AdmissionRequest, "account" | "name" | "peerId" | "publicKey" | "oprfKey">): Uint8Array {
  const value = { account: fields.account, name: fields.name, peerId: fields.peerId, publicKey: fields.publicKey, oprfKey: fields.oprfKey };
  return hexToBytes(TypedDataEncoder.hash(admissionDomain(chainId, registry), mutable(ADMISSION_TYPES), value).slice(2));
}

/** The PeerId bytes (0x-hex) of a secp256k1 key given as 64-byte x‖y, 65-byte uncompressed or 33-byte compressed. */
export function admissionPeerId(publicKey: Uint8Array): string {
  const compressed = pointOf(publicKey).toBytes(true);
  const bytes = new Uint8Array(PEER_ID_PREFIX.length + compressed.length);
  bytes.set(PEER_ID_PREFIX, 0);
  bytes.set(compressed, PEER_ID_PREFIX.length);
  return `0x${bytesToHex(bytes)}`;
}

/** Builds and signs the admission request of the member key `secretKey` for `registry` on `chainId`. */
export function createAdmissionRequest(
  secretKey: Uint8Array,
  opts: { name: string; oprfKey: string; chainId: bigint; registry: string },
): AdmissionRequest {
  const uncompressed = secp256k1.getPublicKey(secretKey, false);
  const fields = {
    account: addressOfPublicKey(uncompressed),
    name: opts.name,
    peerId: admissionPeerId(uncompressed),
    publicKey: `0x${bytesToHex(uncompressed.subarray(1))}`,
    oprfKey: opts.oprfKey.toLowerCase(),
  };
  const registry = getAddress(opts.registry);
  const signature = signDigest(secretKey, admissionDigest(opts.chainId, registry, fields));
  return { ...fields, chainId: opts.chainId.toString(), registry, signature };
}

/** The Admit proposal's arguments carried by a checked request. */
export function admitArgs(request: AdmissionRequest): ProposalArgs[typeof ProposalKind.Admit] {
  const { account, name, peerId, oprfKey, publicKey, signature } = request;
  return { account, name, peerId, oprfKey, publicKey, signature };
}

const hexOf = (bytes: number) => new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`);

/** The shape of a request file; each field's own message says what it must be. */
const requestSchema = z.object({
  account: z.string().refine((v) => isAddress(v), "must be a 0x-prefixed 20-byte address"),
  name: z.string().refine((v) => v.length > 0 && Buffer.byteLength(v, "utf8") <= MAX_MEMBER_NAME_BYTES && v.trim() === v, `must be 1 to ${MAX_MEMBER_NAME_BYTES} bytes with no surrounding spaces`),
  peerId: z.string().regex(hexOf(39), "must be the 39-byte PeerId as 0x-hex"),
  publicKey: z.string().regex(hexOf(64), "must be the 64-byte secp256k1 key x‖y as 0x-hex"),
  oprfKey: z.string().regex(hexOf(32), "must be 32 bytes of 0x-hex").refine((v) => !/^0x0{64}$/.test(v), "must not be zero"),
  chainId: z.string().regex(/^[1-9][0-9]{0,19}$/, "must be the chain id as a decimal string"),
  registry: z.string().refine((v) => isAddress(v), "must be a 0x-prefixed 20-byte address"),
  signature: z.string().regex(hexOf(65), "must be the 65-byte signature r‖s‖v as 0x-hex"),
});

/**
 * Validates a request (parsed JSON) field by field and checks it the way the registry will: the
 * key is on the curve, hashes to the account and is the key the PeerId encodes, the signature is
 * the account's over these fields, and it was made for `expected` (this chain and registry).
 * Throws E_ADMISSION_REQUEST with `meta.field` naming the first field that is wrong.
 */
export function parseAdmissionRequest(raw: unknown, expected: { chainId: bigint; registry: string }): AdmissionRequest {
  const parsed = requestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length > 0 ? String(issue.path[0]) : "request";
    const message = issue.path.length > 0 ? issue.message : "must be a JSON object with account, name, peerId, publicKey, oprfKey, chainId, registry and signature";
    throw requestError(field, message);
  }
  const r = parsed.data;
  const request: AdmissionRequest = {
    ...r, account: getAddress(r.account), registry: getAddress(r.registry),
    peerId: r.peerId.toLowerCase(), publicKey: r.publicKey.toLowerCase(), oprfKey: r.oprfKey.toLowerCase(), signature: r.signature.toLowerCase(),
  };
  if (BigInt(request.chainId) !== expected.chainId) throw requestError("chainId", `was made for chain ${request.chainId}, not this chain (${expected.chainId}); the candidate must sign it again for this chain`);
  if (request.registry !== getAddress(expected.registry)) throw requestError("registry", `was made for registry ${request.registry}, not ${getAddress(expected.registry)}; the candidate must sign it again for this registry`);
  const key = hexToBytes(request.publicKey.slice(2));
  let uncompressed: Uint8Array;
  try {
    uncompressed = pointOf(key).toBytes(false);
  } catch {
    throw requestError("publicKey", "is not a point on secp256k1");
  }
  if (addressOfPublicKey(uncompressed) !== request.account) throw requestError("publicKey", `is not the key of the account ${request.account}`);
  if (admissionPeerId(uncompressed) !== request.peerId) throw requestError("peerId", "is not the PeerId of the public key (the node's PeerId derives from the member key)");
  if (BigInt(`0x${request.signature.slice(66, 130)}`) > SECP256K1_HALF_N) throw requestError("signature", "has a high s: it is not the canonical (low-s) form the registry takes");
  let signer: string | undefined;
  try {
    signer = recoverDigestSigner(admissionDigest(expected.chainId, request.registry, request), request.signature);
  } catch {
    signer = undefined;
  }
  if (signer !== request.account) throw requestError("signature", "was not made by the account's key over these fields (was the file edited?)");
  return request;
}

const SECP256K1_HALF_N = secp256k1.Point.Fn.ORDER / 2n;

/** A key given as 64-byte x‖y, 65-byte uncompressed or 33-byte compressed, as a curve point; throws off the curve. */
function pointOf(publicKey: Uint8Array): InstanceType<typeof secp256k1.Point> {
  const bytes = publicKey.length === 64 ? Uint8Array.of(0x04, ...publicKey) : publicKey;
  return secp256k1.Point.fromBytes(bytes);
}

function requestError(field: string, message: string): RiskshareError<"E_ADMISSION_REQUEST"> {
  return new RiskshareError("E_ADMISSION_REQUEST", `admission request: ${field} ${message}`, { field });
}

/** keccak256 of the type string, for comparing with RiskshareTypes.ADMISSION_TYPEHASH. */
export function admissionTypeHash(): string {
  return `0x${bytesToHex(keccak_256(new TextEncoder().encode(ADMISSION_TYPE_STRING)))}`;
}
