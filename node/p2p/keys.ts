/**
 * What the node does with its EVM key in this process: ECDH for the pepper exchange, and signing
 * lookup digests. The key stays inside each closure and is never logged.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { addressOfPublicKey, signDigest } from "../chain/index.ts";
import type { DigestSigner, KeyAgreement } from "./components.ts";
import { evmKeyBytes } from "./identity.ts";

/** A {@link DigestSigner} over the node's EVM private key (E_BAD_INPUT for a malformed key). */
export function digestSignerFromEvmKey(privateKeyHex: string): DigestSigner {
  const secretKey = evmKeyBytes(privateKeyHex);
  const address = addressOfPublicKey(secp256k1.getPublicKey(secretKey, false));
  return Object.freeze({
    address,
    signDigest: (digest: Uint8Array) => signDigest(secretKey, digest),
    toJSON: () => ({ address }),
  });
}

/** A {@link KeyAgreement} over the node's EVM private key. */
export function keyAgreementFromEvmKey(privateKeyHex: string): KeyAgreement {
  const secretKey = evmKeyBytes(privateKeyHex);
  const publicKey = secp256k1.getPublicKey(secretKey, true);
  return {
    publicKey,
    sharedSecret: (peerPublicKey) => sharedX(secretKey, peerPublicKey),
  };
}

/** The x coordinate of the ECDH point between a secret key and a public key (33 or 65 bytes). */
export function sharedX(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return secp256k1.getSharedSecret(secretKey, publicKey, true).slice(1);
}

/** A fresh random secp256k1 key pair (for one ECIES message). */
export function ephemeralKeyPair(): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const secretKey = secp256k1.utils.randomSecretKey();
  return { secretKey, publicKey: secp256k1.getPublicKey(secretKey, true) };
}
