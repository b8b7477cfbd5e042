/**
 * A member's own OPRF key on chain: rotating it. Needs only the registry handle bound to the
 * member's signer, no ConsortiumView.
 *
 * @example
 *   const { keyEpoch } = await rotateOprfKey(contracts.registry, voprf.publicKey(nextSecretKey));
 */
import { hexlify, type BytesLike } from "ethers";
import { assertArgument } from "../errors.ts";
import type { IConsortiumRegistry } from "../../types/ethers-contracts/index.ts";
import { translateChainError } from "./errors.ts";
import { rotateMemberKeyArgs, type KeyRotation } from "./rotation.ts";

/** What a rotation left on chain. */
export interface OprfKeyRotation {
  /** The epoch `newKey` is in force for. */
  keyEpoch: number;
  txHash: string;
  blockNumber: number;
}

/**
 * Puts `newKey` (32 bytes, not zero) in force as the signer's OPRF public key for its next key epoch
 * and waits for the transaction. The caller keeps the matching secret key under that epoch before
 * calling (KeyStore.putOprfKey), so a crash after the transaction never leaves a key it cannot use.
 * Reverts (E_CHAIN_REVERTED / E_NOT_MEMBER) for a non-member, or a zero or unchanged key.
 */
export async function rotateOprfKey(registry: Pick<IConsortiumRegistry, "rotateOprfKey" | "interface">, newKey: BytesLike): Promise<OprfKeyRotation> {
  let key: string | undefined;
  try {
    key = hexlify(newKey).toLowerCase();
  } catch {
    key = undefined;
  }
  assertArgument(key !== undefined && /^0x[0-9a-f]{64}$/.test(key) && !/^0x0{64}$/.test(key), "must be 32 bytes, not all zero", "newKey");
  try {
    const receipt = await (await registry.rotateOprfKey(key)).wait();
    if (receipt === null) throw new Error("no receipt for the rotation");
    for (const log of receipt.logs) {
      const parsed = registry.interface.parseLog(log);
      if (parsed?.name === "OprfKeyRotated") return { keyEpoch: Number(parsed.args[1]), txHash: receipt.hash, blockNumber: receipt.blockNumber };
    }
    throw new Error("OprfKeyRotated event missing");
  } catch (err) {
    throw translateChainError(err, "rotate the OPRF key");
  }
}

/** What a member key rotation left on chain. */
export interface MemberKeyRotation {
  newAccount: string;
  /** The epoch the new account's OPRF key is in force for (the old account's + 1). */
  keyEpoch: number;
  txHash: string;
  blockNumber: number;
}

/**
 * Sends `rotation` (signed by the new member key: node/chain/rotation.ts) from the registry handle's
 * signer, the member's current account, and waits for it. Reverts (E_CHAIN_REVERTED) for a caller
 * not Active, a pending Suspend or Remove naming it, or a new account or PeerId already known.
 */
export async function rotateMemberKey(registry: Pick<IConsortiumRegistry, "rotateMemberKey" | "interface">, rotation: KeyRotation): Promise<MemberKeyRotation> {
  try {
    const receipt = await (await registry.rotateMemberKey(...rotateMemberKeyArgs(rotation))).wait();
    if (receipt === null) throw new Error("no receipt for the rotation");
    for (const log of receipt.logs) {
      const parsed = registry.interface.parseLog(log);
      if (parsed?.name === "MemberKeyRotated") return { newAccount: parsed.args[1] as string, keyEpoch: Number(parsed.args[3]), txHash: receipt.hash, blockNumber: receipt.blockNumber };
    }
    throw new Error("MemberKeyRotated event missing");
  } catch (err) {
    throw translateChainError(err, "move the membership to the new member key");
  }
}
