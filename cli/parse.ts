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

/** Parses "2/3" into a quorum fraction; E_USAGE naming `argument` (e.g. "--quorum") unless it is a fraction in (0, 1]. */
export function parseFraction(text: string, argument = "--quorum"): { numerator: number; denominator: number } {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const numerator = Number(match?.[1]);
  const denominator = Number(match?.[2]);
  if (!match || denominator === 0 || numerator === 0 || numerator > denominator || denominator > 65_535) {
    throw new RiskshareError("E_USAGE", `${argument} must be a fraction above 0 and at most 1 such as 2/3, with a denominator of at most 65535 (got ${text})`, { argument });
  }
  return { numerator, denominator };
}

const DURATION_UNIT_SECONDS: Readonly<Record<string, bigint>> = { s: 1n, m: 60n, h: 3_600n, d: 86_400n, w: 604_800n };

/**
 * Parses a duration such as "90d", "12h", "1d12h", "45m", "3600s" or "2w" (units s, m, h, d, w;
 * a bare number is seconds) into seconds; E_USAGE naming `argument` when it does not parse.
 */
export function parseDuration(text: string, argument: string): bigint {
  const trimmed = text.trim().toLowerCase();
  if (/^\d+$/.test(trimmed)) return BigInt(trimmed);
  const parts = [...trimmed.matchAll(/(\d+)([smhdw])/g)];
  if (trimmed.length === 0 || parts.map((p) => p[0]).join("") !== trimmed) {
    throw new RiskshareError("E_USAGE", `${argument} must be a duration such as 90d, 12h, 1d12h, 45m or 3600s (got "${text.slice(0, 40)}")`, { argument });
  }
  return parts.reduce((sum, [, count, unit]) => sum + BigInt(count!) * DURATION_UNIT_SECONDS[unit!]!, 0n);
}

/** Parses a whole number ≥ 0 for a uint64 option; E_USAGE naming `argument` otherwise. */
export function parseUint64(text: string, argument: string): bigint {
  const trimmed = text.trim().replace(/_/g, "");
  if (!/^\d+$/.test(trimmed) || BigInt(trimmed) >= 1n << 64n) {
    throw new RiskshareError("E_USAGE", `${argument} must be a whole number from 0 to 2^64-1 (got "${text.slice(0, 40)}")`, { argument });
  }
  return BigInt(trimmed);
}

/** Formats unix seconds as ISO 8601 (empty for 0). */
export function isoOf(seconds: number | bigint): string {
  const value = Number(seconds);
  return value === 0 ? "" : new Date(value * 1000).toISOString();
}
