import { getAddress, hexlify, isAddress } from "ethers";
import { peerIdFromString } from "@libp2p/peer-id";
import { z } from "zod";
import { RiskshareError } from "../node/errors.ts";

/** zod: an EVM address, checksummed on output. */
export const addressArg = z.string().refine((value) => isAddress(value), "must be a 0x-prefixed 20-byte address").transform((value) => getAddress(value));

/** zod: a member's OPRF public key: 32 bytes as 0x-hex (what `riskshare init` prints), not zero; lower case on output. */
export const oprfKeyArg = z.string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte hex key (printed by `riskshare init` as oprfKey)")
  .refine((value) => !/^0x0{64}$/.test(value), "must not be zero")
  .transform((value) => value.toLowerCase());

/** zod: a non-negative integer id given as text. */
export const idArg = z.string().regex(/^\d+$/, "must be a whole number").transform((value) => BigInt(value));

/** zod: an ISO 8601 date-time or a date, as unix seconds. */
export const isoTimeArg = z.string().transform((value, ctx) => {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: "custom", message: "must be an ISO 8601 date such as 2026-11-23 or 2026-11-23T10:00:00Z" });
    return z.NEVER;
  }
  return Math.floor(ms / 1000);
});

/** A libp2p PeerId as text (12D3…, 16Uiu2…) → the bytes the registry stores (0x-hex). */
export function peerIdToRegistryBytes(text: string): string {
  try {
    return hexlify(peerIdFromString(text).toMultihash().bytes);
  } catch (err) {
    throw new RiskshareError("E_USAGE", "not a libp2p PeerId (expected the form printed by `riskshare init`)", { argument: "peerId" }, { cause: err });
  }
}

/** Parses "2/3" into a quorum fraction. */
export function parseFraction(text: string): { numerator: number; denominator: number } {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const numerator = Number(match?.[1]);
  const denominator = Number(match?.[2]);
  if (!match || denominator === 0 || numerator === 0 || numerator > denominator || denominator > 65_535) {
    throw new RiskshareError("E_USAGE", `--quorum must be a fraction such as 2/3 (got ${text})`);
  }
  return { numerator, denominator };
}

/** Formats unix seconds as ISO 8601 (empty for 0). */
export function isoOf(seconds: number | bigint): string {
  const value = Number(seconds);
  return value === 0 ? "" : new Date(value * 1000).toISOString();
}
