/**
 * Member key rotations: a member moves its membership from its current account (its member key,
 * from which its PeerId derives) to a new one. The old key signs the transaction; the new key signs
 * a KeyRotation(oldAccount, newAccount, peerId, publicKey, oprfKey) for the registry on its chain,
 * which the registry checks as it checks an admission request (AdmissionVerifier.rotate).
 *
 * @example
 *   const rotation = createKeyRotation(newSecretKey, { oldAccount, oprfKey, chainId, registry });
 *   await registry.rotateMemberKey(...rotateMemberKeyArgs(rotation));   // sent from the old account
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { getAddress, TypedDataEncoder } from "ethers";
import { admissionDomain, admissionPeerId } from "./admission.ts";
import { addressOfPublicKey, mutable, signDigest } from "./eip712.ts";

/** EIP-712 types of a member key rotation (RiskshareTypes.KEY_ROTATION_TYPEHASH). */
export const KEY_ROTATION_TYPES = {
  KeyRotation: [
    { name: "oldAccount", type: "address" },
    { name: "newAccount", type: "address" },
    { name: "peerId", type: "bytes" },
    { name: "publicKey", type: "bytes" },
    { name: "oprfKey", type: "bytes32" },
  ],
} as const;

/** The Solidity type string whose keccak256 is RiskshareTypes.KEY_ROTATION_TYPEHASH. */
export const KEY_ROTATION_TYPE_STRING = "KeyRotation(address oldAccount,address newAccount,bytes peerId,bytes publicKey,bytes32 oprfKey)";

/** A signed rotation, as sent to ConsortiumRegistry.rotateMemberKey (bytes as 0x-hex). */
export interface KeyRotation {
  oldAccount: string;
  newAccount: string;
  /** The new node's PeerId bytes: the identity multihash of the new compressed key. */
  peerId: string;
  /** The new 64-byte secp256k1 key x‖y. */
  publicKey: string;
  /** The OPRF public key in force under the new account, for the old account's key epoch + 1. */
  oprfKey: string;
  /** r‖s‖v (65 bytes, low s) by the new key over the KeyRotation struct. */
  signature: string;
}

/** The EIP-712 digest the new key signs (32 bytes). */
export function keyRotationDigest(chainId: bigint, registry: string, fields: Omit<KeyRotation, "signature">): Uint8Array {
  const value = { oldAccount: fields.oldAccount, newAccount: fields.newAccount, peerId: fields.peerId, publicKey: fields.publicKey, oprfKey: fields.oprfKey };
  return hexToBytes(TypedDataEncoder.hash(admissionDomain(chainId, getAddress(registry)), mutable(KEY_ROTATION_TYPES), value).slice(2));
}

/** Builds and signs, with the new member key `newSecretKey`, the rotation of `oldAccount` to it. */
export function createKeyRotation(newSecretKey: Uint8Array, opts: { oldAccount: string; oprfKey: string; chainId: bigint; registry: string }): KeyRotation {
  const uncompressed = secp256k1.getPublicKey(newSecretKey, false);
  const fields = {
    oldAccount: getAddress(opts.oldAccount),
    newAccount: addressOfPublicKey(uncompressed),
    peerId: admissionPeerId(uncompressed),
    publicKey: `0x${bytesToHex(uncompressed.subarray(1))}`,
    oprfKey: opts.oprfKey.toLowerCase(),
  };
  return { ...fields, signature: signDigest(newSecretKey, keyRotationDigest(opts.chainId, opts.registry, fields)) };
}

/** The arguments of ConsortiumRegistry.rotateMemberKey, in order. */
export function rotateMemberKeyArgs(r: KeyRotation): [string, string, string, string, string] {
  return [r.newAccount, r.peerId, r.publicKey, r.oprfKey, r.signature];
}
