/**
 * The canonical encoding of an answer's results, whose keccak256 the provider signs as
 * `resultsDigest`. Byte layout (big-endian), reproducible in Solidity with abi.encodePacked:
 *
 *   uint32 count, then per result:
 *     miss: uint8 0
 *     hit:  uint8 1, uint8 category, uint8 level, uint64 reportedAt, uint64 expiresAt (0 = none),
 *           uint8 len + reason (ASCII), uint8 len + providerRef (ASCII; len 0 = none)
 *
 * The schema keeps reason (1..64) and providerRef (1..128) printable ASCII and expiresAt ≥ 1,
 * so the encoding is injective.
 */
import { keccak256 } from "ethers";
import type { LookupResult } from "./messages.ts";

const ascii = new TextEncoder();

/** The canonical bytes of a result list. */
export function encodeResults(results: readonly LookupResult[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 4;
  for (const result of results) {
    if (!result.hit) {
      parts.push(Uint8Array.of(0));
      size += 1;
      continue;
    }
    const reason = ascii.encode(result.reason);
    const ref = ascii.encode(result.providerRef ?? "");
    const part = new Uint8Array(3 + 16 + 1 + reason.length + 1 + ref.length);
    const view = new DataView(part.buffer);
    part[0] = 1;
    part[1] = result.category;
    part[2] = result.level;
    view.setBigUint64(3, BigInt(result.reportedAt));
    view.setBigUint64(11, BigInt(result.expiresAt ?? 0));
    part[19] = reason.length;
    part.set(reason, 20);
    part[20 + reason.length] = ref.length;
    part.set(ref, 21 + reason.length);
    parts.push(part);
    size += part.length;
  }
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, results.length);
  let offset = 4;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** keccak256 of {@link encodeResults}: the `resultsDigest` of a signed answer. */
export function resultsDigest(results: readonly LookupResult[]): string {
  return keccak256(encodeResults(results));
}

/** How many results are hits. */
export function countHits(results: readonly LookupResult[]): number {
  let hits = 0;
  for (const result of results) if (result.hit) hits += 1;
  return hits;
}
