/**
 * Sealing a pepper to one member: ECIES over secp256k1. The provider makes a fresh ephemeral key,
 * ECDH with the requester's public key (from its PeerId, authenticated by Noise), HKDF-SHA256 into
 * an AES-256-GCM key, and binds the epoch and both addresses as associated data. A frame that
 * leaks reveals nothing without the requester's private key, and cannot be replayed to another
 * member or passed off as another epoch.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concat, getAddress, getBytes, hexlify } from "ethers";
import { RiskshareError } from "../../errors.ts";
import type { KeyAgreement } from "../components.ts";
import { ephemeralKeyPair, sharedX } from "../keys.ts";
import { PEPPER_BYTES, PEPPER_CONTEXT_LABEL } from "./constants.ts";

/** Who sealed a pepper for whom, for which epoch: the KDF info and the AEAD's associated data. */
export interface PepperContext {
  epoch: number;
  requesterAddress: string;
  providerAddress: string;
}

/** A sealed pepper as it travels (0x-hex fields). */
export interface SealedPepper {
  ephemeralPublicKey: string;
  iv: string;
  ciphertext: string;
}

/** The bytes that bind a sealed pepper to its context. */
export function contextBytes(context: PepperContext): Uint8Array {
  const epoch = new Uint8Array(4);
  new DataView(epoch.buffer).setUint32(0, context.epoch);
  return getBytes(concat([new TextEncoder().encode(PEPPER_CONTEXT_LABEL), epoch, getAddress(context.requesterAddress), getAddress(context.providerAddress)]));
}

function aeadKey(shared: Uint8Array, ephemeralPublicKey: Uint8Array, info: Uint8Array): Uint8Array {
  return hkdf(sha256, shared, ephemeralPublicKey, info, 32);
}

/** Seals `pepper` to the holder of `requesterPublicKey` (33 or 65 bytes). */
export function sealPepper(pepper: Uint8Array, requesterPublicKey: Uint8Array, context: PepperContext): SealedPepper {
  if (pepper.length !== PEPPER_BYTES) throw new RiskshareError("E_INTERNAL", `a pepper is ${PEPPER_BYTES} bytes`);
  const ephemeral = ephemeralKeyPair();
  const info = contextBytes(context);
  const key = aeadKey(sharedX(ephemeral.secretKey, requesterPublicKey), ephemeral.publicKey, info);
  ephemeral.secretKey.fill(0);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(info);
  const ciphertext = Buffer.concat([cipher.update(pepper), cipher.final(), cipher.getAuthTag()]);
  key.fill(0);
  return { ephemeralPublicKey: hexlify(ephemeral.publicKey), iv: hexlify(iv), ciphertext: hexlify(ciphertext) };
}

/** Opens a sealed pepper with this node's key; E_PROTOCOL when it was not sealed to us in this context. */
export function openPepper(sealed: SealedPepper, keyAgreement: KeyAgreement, context: PepperContext): Uint8Array {
  const ephemeralPublicKey = getBytes(sealed.ephemeralPublicKey);
  const info = contextBytes(context);
  const data = getBytes(sealed.ciphertext);
  try {
    const key = aeadKey(keyAgreement.sharedSecret(ephemeralPublicKey), ephemeralPublicKey, info);
    const decipher = createDecipheriv("aes-256-gcm", key, getBytes(sealed.iv));
    decipher.setAAD(info);
    decipher.setAuthTag(data.subarray(data.length - 16));
    const pepper = new Uint8Array(Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]));
    key.fill(0);
    return pepper;
  } catch (err) {
    throw new RiskshareError("E_PROTOCOL", "the sealed pepper does not open with this node's key", {}, { cause: err });
  }
}
