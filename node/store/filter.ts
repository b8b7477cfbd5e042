/**
 * The tag filter a provider publishes per category: a binary fuse filter with 16-bit fingerprints
 * over the 8-byte tags of its live entries (Graf & Lemire, "Binary Fuse Filters: Fast and Smaller
 * Than Xor Filters", JEA 2022; construction after their reference C code, binary_fuse16_populate).
 * ~2.3 bytes a tag, false positives ≈ 2^-16, no false negatives, and the bytes are a pure function
 * of the set of tags: the same set gives the same bytes (so the same keccak256 on chain) anywhere.
 *
 * Why not a library: npm's `bloom-filters` 3.0.4 has an XorFilter with 16-bit fingerprints, but it
 * keeps one Buffer object per slot (~12M objects at 10M tags), hashes through Long.js and a decimal
 * string per key (xxhashjs), draws its seed from a random generator (so the same set gives other
 * bytes) and serialises to JSON/base64 — too slow and too large at 10M tags and not deterministic.
 * No other maintained npm package offers xor or binary fuse filters.
 *
 * Hashing: tags are HKDF outputs, uniformly random already, so each is mixed with the seed by a
 * bijective 32-bit mixer (MurmurHash3's finaliser) instead of the reference's 64-bit murmur (which
 * would need BigInt in JavaScript). Distinct tags keep distinct (x, y) words; x picks the first
 * slot's position, y and z the offsets of the other two inside their segments, and the
 * fingerprint mixes all three.
 *
 * Byte layout (little-endian), format 1:
 *   [0..4) "RSF1"   [4..8) seed u32   [8..12) segmentLength u32   [12..16) segmentCount u32
 *   [16..20) count u32 (distinct tags)   [20..) fingerprints u16 × (segmentCount + 2) × segmentLength
 */
import { assertArgument } from "../errors.ts";
import { fmix32 } from "./presence.ts";

/** Bytes of a tag. */
export const FILTER_TAG_BYTES = 8;
const MAGIC = 0x31465352; // "RSF1" read as a little-endian u32
const HEADER_BYTES = 20;
const ARITY = 3;
const MAX_SEGMENT_LENGTH = 262_144;
/** Seeds tried before giving up: each try fails with probability well under 1% for large sets. */
const MAX_ATTEMPTS = 100;

/** A built filter: its bytes and how many distinct tags it holds. */
export interface BuiltFilter {
  readonly bytes: Uint8Array;
  readonly count: number;
}

/** The layout of a filter of `size` keys (the reference's binary_fuse16_allocate). */
function layout(size: number): { segmentLength: number; segmentCount: number; arrayLength: number } {
  let segmentLength = size === 0 ? 4 : 1 << Math.floor(Math.log(size) / Math.log(3.33) + 2.25);
  if (segmentLength > MAX_SEGMENT_LENGTH) segmentLength = MAX_SEGMENT_LENGTH;
  const sizeFactor = size <= 1 ? 0 : Math.max(1.125, 0.875 + (0.25 * Math.log(1_000_000)) / Math.log(size));
  const capacity = size <= 1 ? 0 : Math.round(size * sizeFactor);
  const initSegmentCount = Math.ceil(capacity / segmentLength) - (ARITY - 1);
  let arrayLength = Math.max(0, (initSegmentCount + ARITY - 1) * segmentLength);
  let segmentCount = Math.ceil(arrayLength / segmentLength);
  segmentCount = segmentCount <= ARITY - 1 ? 1 : segmentCount - (ARITY - 1);
  arrayLength = (segmentCount + ARITY - 1) * segmentLength;
  return { segmentLength, segmentCount, arrayLength };
}


/** The seed of attempt `n`: a fixed sequence, so construction is deterministic. */
function seedOf(attempt: number): number {
  return fmix32(Math.imul(attempt + 1, 0x9e3779b9) ^ 0x726b2b9d);
}

/** Mixes a tag (two big-endian u32 words) with the seed: x, y (a bijection of the tag for a fixed seed). */
function mixX(hi: number, lo: number, seed: number): number {
  return fmix32(((hi ^ seed) + Math.imul(lo ^ 0x5bd1e995, 0x9e3779b1)) >>> 0);
}
function mixY(lo: number, x: number, seed: number): number {
  return fmix32((lo ^ 0x5bd1e995 ^ x ^ Math.imul(seed, 0x27d4eb2d)) >>> 0);
}
function mixZ(x: number, y: number): number {
  return fmix32((x ^ ((y << 16) | (y >>> 16)) ^ 0x85ebca6b) >>> 0);
}

/** Slot positions and fingerprint of one (x, y). */
class Geometry {
  readonly segmentLength: number;
  readonly mask: number;
  readonly segmentCountLength: number;
  constructor(segmentLength: number, segmentCount: number) {
    this.segmentLength = segmentLength;
    this.mask = segmentLength - 1;
    this.segmentCountLength = segmentCount * segmentLength;
  }
  h0(x: number): number {
    // mulhi(x, segmentCountLength) with a 32-bit x: exact enough in doubles, and always < segmentCountLength.
    return Math.floor((x * this.segmentCountLength) / 4294967296);
  }
  h1(h0: number, y: number): number {
    return (h0 + this.segmentLength) ^ (y & this.mask);
  }
  h2(h0: number, z: number): number {
    return (h0 + 2 * this.segmentLength) ^ (z & this.mask);
  }
}

function fingerprint(x: number, y: number, z: number): number {
  return (x ^ (y >>> 16) ^ (z >>> 8)) & 0xffff;
}

/**
 * Builds the filter of a set of tags: `tags` holds them back to back, 8 bytes each, in any order,
 * repeats allowed. Deterministic: the same set gives the same bytes.
 */
export function buildTagFilter(tags: Uint8Array): BuiltFilter {
  assertArgument(tags.length % FILTER_TAG_BYTES === 0, "must hold whole 8-byte tags", "tags");
  const { his, los } = distinctSorted(tags);
  const size = his.length;
  const { segmentLength, segmentCount, arrayLength } = layout(size);
  const geometry = new Geometry(segmentLength, segmentCount);
  const fingerprints = new Uint16Array(arrayLength);
  const t2count = new Uint8Array(arrayLength);
  const t2x = new Uint32Array(arrayLength);
  const t2y = new Uint32Array(arrayLength);
  const alone = new Uint32Array(arrayLength);
  const stackX = new Uint32Array(size);
  const stackY = new Uint32Array(size);
  const stackFound = new Uint8Array(size);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const seed = seedOf(attempt);
    t2count.fill(0);
    t2x.fill(0);
    t2y.fill(0);
    let overflow = false;
    for (let i = 0; i < size; i++) {
      const x = mixX(his[i]!, los[i]!, seed);
      const y = mixY(los[i]!, x, seed);
      const z = mixZ(x, y);
      const h0 = geometry.h0(x);
      const h1 = geometry.h1(h0, y);
      const h2 = geometry.h2(h0, z);
      // Per slot: 4 × keys + (XOR of which of the three positions each key has there, as 0/1/2).
      t2count[h0]! += 4;
      t2x[h0]! ^= x;
      t2y[h0]! ^= y;
      t2count[h1]! += 4;
      t2count[h1]! ^= 1;
      t2x[h1]! ^= x;
      t2y[h1]! ^= y;
      t2count[h2]! += 4;
      t2count[h2]! ^= 2;
      t2x[h2]! ^= x;
      t2y[h2]! ^= y;
      // A count byte that wrapped around (63+ keys on one slot): try another seed.
      if (t2count[h0]! < 4 || t2count[h1]! < 4 || t2count[h2]! < 4) overflow = true;
    }
    if (overflow) continue;
    // Peel: slots holding one key fix that key's slot; removing it may free others.
    let queued = 0;
    for (let i = 0; i < arrayLength; i++) {
      alone[queued] = i;
      if (t2count[i]! >> 2 === 1) queued++;
    }
    let stacked = 0;
    while (queued > 0) {
      const index = alone[--queued]!;
      if (t2count[index]! >> 2 !== 1) continue;
      const x = t2x[index]!;
      const y = t2y[index]!;
      const z = mixZ(x, y);
      const h0 = geometry.h0(x);
      const positions = [h0, geometry.h1(h0, y), geometry.h2(h0, z)];
      const found = t2count[index]! & 3;
      stackX[stacked] = x;
      stackY[stacked] = y;
      stackFound[stacked] = found;
      stacked++;
      for (const which of [(found + 1) % 3, (found + 2) % 3]) {
        const other = positions[which]!;
        alone[queued] = other;
        if (t2count[other]! >> 2 === 2) queued++;
        t2count[other]! -= 4;
        t2count[other]! ^= which;
        t2x[other]! ^= x;
        t2y[other]! ^= y;
      }
    }
    if (stacked !== size) continue;
    fingerprints.fill(0);
    for (let i = size - 1; i >= 0; i--) {
      const x = stackX[i]!;
      const y = stackY[i]!;
      const z = mixZ(x, y);
      const h0 = geometry.h0(x);
      const positions = [h0, geometry.h1(h0, y), geometry.h2(h0, z)];
      const found = stackFound[i]!;
      fingerprints[positions[found]!] = fingerprint(x, y, z) ^ fingerprints[positions[(found + 1) % 3]!]! ^ fingerprints[positions[(found + 2) % 3]!]!;
    }
    return { bytes: encode(seed, segmentLength, segmentCount, size, fingerprints), count: size };
  }
  throw new Error(`could not build a tag filter of ${size} tags in ${MAX_ATTEMPTS} attempts`);
}

/** The distinct tags as (hi, lo) words, ascending. */
function distinctSorted(tags: Uint8Array): { his: Uint32Array; los: Uint32Array } {
  const n = tags.length / FILTER_TAG_BYTES;
  const view = new DataView(tags.buffer, tags.byteOffset, tags.byteLength);
  // Sort as 64-bit unsigned integers (BigUint64Array sorts numerically), then drop repeats.
  const keys = new BigUint64Array(n);
  for (let i = 0; i < n; i++) keys[i] = view.getBigUint64(i * 8, false);
  keys.sort();
  let distinct = 0;
  for (let i = 0; i < n; i++) if (i === 0 || keys[i] !== keys[i - 1]) keys[distinct++] = keys[i]!;
  const his = new Uint32Array(distinct);
  const los = new Uint32Array(distinct);
  for (let i = 0; i < distinct; i++) {
    const key = keys[i]!;
    his[i] = Number(key >> 32n);
    los[i] = Number(key & 0xffffffffn);
  }
  return { his, los };
}

function encode(seed: number, segmentLength: number, segmentCount: number, count: number, fingerprints: Uint16Array): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + fingerprints.length * 2);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, seed, true);
  view.setUint32(8, segmentLength, true);
  view.setUint32(12, segmentCount, true);
  view.setUint32(16, count, true);
  for (let i = 0; i < fingerprints.length; i++) view.setUint16(HEADER_BYTES + i * 2, fingerprints[i]!, true);
  return bytes;
}

/** A filter read from its bytes, for many membership tests (checks the layout once). */
export class TagFilter {
  readonly count: number;
  readonly #seed: number;
  readonly #geometry: Geometry;
  readonly #view: DataView;

  /** Reads a filter; throws E_BAD_INPUT when the bytes are not one. */
  constructor(bytes: Uint8Array) {
    assertArgument(bytes.length >= HEADER_BYTES, "is too short for a tag filter", "bytes");
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    assertArgument(view.getUint32(0, true) === MAGIC, "is not a tag filter (format 1)", "bytes");
    const segmentLength = view.getUint32(8, true);
    const segmentCount = view.getUint32(12, true);
    assertArgument(segmentLength > 0 && (segmentLength & (segmentLength - 1)) === 0 && segmentLength <= MAX_SEGMENT_LENGTH, "has a bad segment length", "bytes");
    assertArgument(segmentCount >= 1 && bytes.length === HEADER_BYTES + 2 * (segmentCount + ARITY - 1) * segmentLength, "has the wrong length for its layout", "bytes");
    this.#seed = view.getUint32(4, true);
    this.count = view.getUint32(16, true);
    // The layout is a function of the count (as built), so a header that claims more keys than the
    // filter was sized for is refused: the count a querier checks is backed by the filter's size.
    const sized = layout(this.count);
    assertArgument(sized.segmentLength === segmentLength && sized.segmentCount === segmentCount, "has a layout that does not fit its key count", "bytes");
    this.#geometry = new Geometry(segmentLength, segmentCount);
    this.#view = view;
  }

  /** True when `tag` (8 bytes) may be in the set (false positives ≈ 2^-16); false when it certainly is not. */
  contains(tag: Uint8Array): boolean {
    assertArgument(tag.length === FILTER_TAG_BYTES, "must be 8 bytes", "tag");
    if (this.count === 0) return false;
    const hi = ((tag[0]! << 24) | (tag[1]! << 16) | (tag[2]! << 8) | tag[3]!) >>> 0;
    const lo = ((tag[4]! << 24) | (tag[5]! << 16) | (tag[6]! << 8) | tag[7]!) >>> 0;
    const x = mixX(hi, lo, this.#seed);
    const y = mixY(lo, x, this.#seed);
    const z = mixZ(x, y);
    const g = this.#geometry;
    const h0 = g.h0(x);
    const view = this.#view;
    const f = view.getUint16(HEADER_BYTES + 2 * h0, true) ^ view.getUint16(HEADER_BYTES + 2 * g.h1(h0, y), true) ^ view.getUint16(HEADER_BYTES + 2 * g.h2(h0, z), true);
    return f === fingerprint(x, y, z);
  }
}

/** How many distinct tags the filter `bytes` holds (its header's count, checked against its layout); throws E_BAD_INPUT when the bytes are not one. */
export function tagFilterCount(bytes: Uint8Array): number {
  return new TagFilter(bytes).count;
}

/** True when `tag` may be in the filter `bytes` (false positives ≈ 2^-16); pure. For many tests build a {@link TagFilter}. */
export function filterContains(bytes: Uint8Array, tag: Uint8Array): boolean {
  return new TagFilter(bytes).contains(tag);
}

