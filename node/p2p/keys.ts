/**
 * What the node does with its EVM key in this process: signing lookup digests and filter states.
 * The key stays inside the closure and is never logged.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { addressOfPublicKey, signDigest } from "../chain/index.ts";
import type { DigestSigner } from "./components.ts";
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
