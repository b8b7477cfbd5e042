/**
 * Pure decisions of `/riskshare/lookup/2` both sides make: the padded shape of an Evaluate, a
 * provider's bucket bits, and tag prefixes.
 */
import { EVALUATE_SHAPES, MAX_PREFIX_BITS, MIN_BUCKET_ENTRIES } from "./constants.ts";
import type { TagPrefix } from "../../chain/index.ts";

/** The smallest allowed Evaluate shape that holds `itemCount` items (1 → 1, 3 → 4, 1000 → 1000); undefined above the largest. */
export function evaluateShape(itemCount: number): number | undefined {
  return EVALUATE_SHAPES.find((shape) => shape >= itemCount);
}

/** True for an item count an Evaluate may carry. */
export function isEvaluateShape(itemCount: number): boolean {
  return EVALUATE_SHAPES.includes(itemCount);
}

/**
 * A provider's bucket bits for a category of `liveCount` listed entries:
 * max(0, floor(log2(liveCount / 256))), so a bucket holds ≥ 256 entries on average, or the whole
 * category below 512.
 */
export function bucketBits(liveCount: number): number {
  if (!(liveCount >= 2 * MIN_BUCKET_ENTRIES)) return 0;
  let bits = 0;
  while (bits < MAX_PREFIX_BITS && liveCount / MIN_BUCKET_ENTRIES >= 2 ** (bits + 1)) bits += 1;
  return bits;
}

/** The 8-byte tag as a uint64 (big-endian). */
export function tagValue(tag: Uint8Array): bigint {
  return new DataView(tag.buffer, tag.byteOffset, 8).getBigUint64(0);
}

/** The mask of a prefix's top `bits` bits. */
function prefixMask(bits: number): bigint {
  return bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(MAX_PREFIX_BITS - bits);
}

/** The prefix of `tag` of `bits` bits (left-aligned: the lower 64 − bits bits are zero). */
export function prefixOfTag(tag: Uint8Array, bits: number): TagPrefix {
  return { bits, value: tagValue(tag) & prefixMask(bits) };
}

/** True when `tag` starts with `prefix`. */
export function tagHasPrefix(tag: Uint8Array, prefix: TagPrefix): boolean {
  return (tagValue(tag) & prefixMask(prefix.bits)) === prefix.value;
}

/** True when a prefix is canonical: its bits are 0..64 and nothing below them is set. */
export function isCanonicalPrefix(prefix: TagPrefix): boolean {
  return prefix.bits >= 0 && prefix.bits <= MAX_PREFIX_BITS && (prefix.value & ~prefixMask(prefix.bits) & ((1n << 64n) - 1n)) === 0n && prefix.value >= 0n && prefix.value < 1n << 64n;
}
