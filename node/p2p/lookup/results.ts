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
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { LookupResult } from "./messages.ts";

/** Bytes of a hit before its two strings: flag, category, level, reportedAt, expiresAt. */
const HIT_HEAD_BYTES = 3 + 16;

/** The canonical bytes of a result list (one buffer, sized first: a list is up to 1,000 results). */
export function encodeResults(results: readonly LookupResult[]): Uint8Array {
  let size = 4;
  for (const result of results) {
    size += result.hit ? HIT_HEAD_BYTES + 1 + Buffer.byteLength(result.reason, "utf8") + 1 + Buffer.byteLength(result.providerRef ?? "", "utf8") : 1;
  }
  const out = Buffer.alloc(size);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(0, results.length);
  let offset = 4;
  for (const result of results) {
    if (!result.hit) {
      out[offset] = 0;
      offset += 1;
      continue;
    }
    out[offset] = 1;
    out[offset + 1] = result.category;
    out[offset + 2] = result.level;
    view.setBigUint64(offset + 3, BigInt(result.reportedAt));
    view.setBigUint64(offset + 11, BigInt(result.expiresAt ?? 0));
    offset += HIT_HEAD_BYTES;
    offset = writeShortString(out, offset, result.reason);
    offset = writeShortString(out, offset, result.providerRef ?? "");
  }
  return out;
}

/** uint8 length (mod 256, as a Uint8Array stores it) then the UTF-8 bytes; the offset after them. */
function writeShortString(out: Buffer, offset: number, text: string): number {
  const length = out.write(text, offset + 1, "utf8");
  out[offset] = length;
  return offset + 1 + length;
}

/** keccak256 of {@link encodeResults}: the `resultsDigest` of a signed answer (0x-hex, lower case). */
export function resultsDigest(results: readonly LookupResult[]): string {
  return `0x${Buffer.from(keccak_256(encodeResults(results))).toString("hex")}`;
}

/** How many results are hits. */
export function countHits(results: readonly LookupResult[]): number {
  let hits = 0;
  for (const result of results) if (result.hit) hits += 1;
  return hits;
}

/**
 * keccak256(blinding ‖ item hashes): the v1 items commitment this protocol still signs. node/chain
 * now defines only the v2 commitments (evaluateCommitment, fetchCommitment); this stays with the
 * v1 protocol until /riskshare/lookup/2 replaces it (integration).
 */
export function itemsCommitment(blinding: string, itemHashes: readonly string[]): string {
  const bytes = Buffer.concat([blinding, ...itemHashes].map((hex) => Buffer.from(hex.slice(2), "hex")));
  return `0x${Buffer.from(keccak_256(bytes)).toString("hex")}`;
}
