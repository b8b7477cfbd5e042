/**
 * One key, two identities: the member's 32-byte secp256k1 EVM key is also its libp2p key, so a
 * PeerId proves an EVM address (the Noise handshake authenticates the key) and the registry can
 * bind both in one member record.
 */
import { privateKeyFromRaw } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey, peerIdFromString } from "@libp2p/peer-id";
import type { PeerId, PrivateKey, PublicKey } from "@libp2p/interface";
import { computeAddress, encodeBase58, getBytes, hexlify } from "ethers";
import { RiskshareError } from "../errors.ts";

const EVM_KEY = /^(0x)?[0-9a-fA-F]{64}$/;

/** The 32 key bytes of a hex EVM private key (with or without 0x); E_BAD_INPUT otherwise. */
export function evmKeyBytes(privateKeyHex: string): Uint8Array {
  if (!EVM_KEY.test(privateKeyHex)) throw new RiskshareError("E_BAD_INPUT", "privateKey: must be a 32-byte hex secp256k1 key", { argument: "privateKey" });
  return getBytes(privateKeyHex.startsWith("0x") ? privateKeyHex : `0x${privateKeyHex}`);
}

/** The libp2p secp256k1 private key made from an EVM private key. */
export function libp2pKeyFromEvmKey(privateKeyHex: string): PrivateKey {
  return privateKeyFromRaw(evmKeyBytes(privateKeyHex));
}

/** The PeerId of the node that runs with this EVM private key. */
export function peerIdFromEvmKey(privateKeyHex: string): PeerId {
  return peerIdFromPrivateKey(libp2pKeyFromEvmKey(privateKeyHex));
}

/** The EVM address of a secp256k1 public key (compressed or not). */
export function addressOfKey(publicKey: PublicKey | Uint8Array): string {
  const raw = publicKey instanceof Uint8Array ? publicKey : publicKey.raw;
  return computeAddress(hexlify(raw));
}

/** The raw secp256k1 public key of a PeerId (33 bytes, compressed), or undefined for another kind of PeerId. */
export function secp256k1KeyOf(peerId: PeerId): Uint8Array | undefined {
  return peerId.type === "secp256k1" && peerId.publicKey !== undefined ? peerId.publicKey.raw : undefined;
}

/**
 * Addresses of the PeerIds seen lately, by public key (hex): every lookup stream asks for its
 * peer's, and deriving one decompresses the key. Dropped whole when it grows past its bound.
 */
const addressesByKey = new Map<string, string>();
const MAX_CACHED_ADDRESSES = 1_024;

/** The EVM address a PeerId stands for, or undefined when it is not a secp256k1 PeerId. */
export function tryPeerIdToAddress(peerId: PeerId): string | undefined {
  const raw = secp256k1KeyOf(peerId);
  if (raw === undefined) return undefined;
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("hex");
  let address = addressesByKey.get(id);
  if (address !== undefined) return address;
  try {
    address = addressOfKey(raw);
  } catch {
    return undefined;
  }
  if (addressesByKey.size >= MAX_CACHED_ADDRESSES) addressesByKey.clear();
  addressesByKey.set(id, address);
  return address;
}

/** The EVM address a PeerId stands for; E_BAD_INPUT for a PeerId that is not a secp256k1 key. */
export function peerIdToAddress(peerId: PeerId): string {
  const address = tryPeerIdToAddress(peerId);
  if (address === undefined) throw new RiskshareError("E_BAD_INPUT", "peerId: not a secp256k1 PeerId, so it names no EVM address", { argument: "peerId" });
  return address;
}

/** The PeerId bytes the registry stores for a member: the multihash of its public key. */
export function peerIdBytes(peerId: PeerId): Uint8Array {
  return peerId.toMultihash().bytes;
}

/**
 * PeerIds made from registry bytes lately, by those bytes (hex): a fan-out makes one per provider
 * per check, and making one decompresses its key. PeerIds are immutable, so sharing them is safe.
 */
const peerIdsByBytes = new Map<string, PeerId>();
const MAX_CACHED_PEER_IDS = 1_024;

/** The PeerId whose registry bytes (multihash, as bytes or 0x-hex) are given. */
export function peerIdFromBytes(bytes: Uint8Array | string): PeerId {
  const raw = getBytes(bytes);
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("hex");
  let peerId = peerIdsByBytes.get(id);
  if (peerId === undefined) {
    peerId = peerIdFromString(encodeBase58(raw));
    if (peerIdsByBytes.size >= MAX_CACHED_PEER_IDS) peerIdsByBytes.clear();
    peerIdsByBytes.set(id, peerId);
  }
  return peerId;
}

/** A PeerId as the registry stores it (multihash bytes, hex) → its text form (base58btc, as libp2p prints it); "" for none. */
export function peerIdText(peerIdHex: string): string {
  return peerIdHex === "0x" ? "" : encodeBase58(peerIdHex);
}
