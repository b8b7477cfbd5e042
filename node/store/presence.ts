/**
 * An in-memory Bloom filter of the entry keys a store holds, so that a bulk upsert asks LevelDB
 * only about keys that may exist. A fresh import's keys are almost all new, and a point read of a
 * missing key still costs LevelDB a table-cache lookup and a filter probe per level — about half
 * of an import's store time on a large database. The filter answers "certainly absent" (never
 * wrong) or "maybe present" (then LevelDB is asked), so correctness never depends on it.
 *
 * Keys are [typeCode][32-byte hash] behind a sublevel prefix; the hashes are HMAC outputs, but the
 * probe positions still go through a full mix of all key bytes, so structured hashes (tests,
 * hand-made keys) only raise the false-positive rate, never break the filter.
 */
import { assertArgument } from "../errors.ts";

/**
 * Filter bits per expected key: with 7 probes, about 1% false positives at the expected load (the
 * probes derive from one 32-bit hash, which adds ~n/2³² — 0.2% at 10M keys).
 */
export const PRESENCE_BITS_PER_KEY = 10;
const PROBES = 7;
/** Smallest and largest filter, in bits (the largest is 64 MiB). */
const MIN_BITS = 2 ** 16;
const MAX_BITS = 2 ** 29;

/** A Bloom filter over byte keys (the bytes from `at` to the end of each key). */
export class PresenceFilter {
  readonly #words: Int32Array;
  /** Bit count − 1 (the bit count is a power of two). */
  readonly #mask: number;
  #added = 0;

  /** A filter sized for `expectedKeys` keys (at least 64 Ki bits, at most 64 MiB). */
  constructor(expectedKeys: number) {
    assertArgument(Number.isSafeInteger(expectedKeys) && expectedKeys >= 0, "must be a non-negative integer", "expectedKeys");
    let bits = MIN_BITS;
    while (bits < expectedKeys * PRESENCE_BITS_PER_KEY && bits < MAX_BITS) bits *= 2;
    this.#words = new Int32Array(bits / 32);
    this.#mask = bits - 1;
  }

  /** Size of the filter in bytes. */
  get bytes(): number {
    return this.#words.byteLength;
  }

  /** Keys added so far (repeats included). */
  get added(): number {
    return this.#added;
  }

  /** The filter's hash of `key[at..]`: pass it to {@link addHashed} / {@link mayContainHashed} to hash a key once. */
  static hashOf(key: Uint8Array, at: number): number {
    return murmur3(key, at, 0x9747b28c);
  }

  /** Records `key[at..]` as present. */
  add(key: Uint8Array, at: number): void {
    this.addHashed(PresenceFilter.hashOf(key, at));
  }

  /** False when `key[at..]` was certainly never added; true when it may have been. */
  mayContain(key: Uint8Array, at: number): boolean {
    return this.mayContainHashed(PresenceFilter.hashOf(key, at));
  }

  /** {@link add} of a key by its {@link hashOf}. */
  addHashed(hash: number): void {
    // Probe i at h1 + i·h2 (double hashing), h2 odd so that the probes differ.
    const h2 = fmix32(hash ^ 0x5bd1e995) | 1;
    for (let i = 0; i < PROBES; i++) {
      const bit = (hash + Math.imul(i, h2)) & this.#mask;
      this.#words[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.#added++;
  }

  /** {@link mayContain} of a key by its {@link hashOf}. */
  mayContainHashed(hash: number): boolean {
    const h2 = fmix32(hash ^ 0x5bd1e995) | 1;
    for (let i = 0; i < PROBES; i++) {
      const bit = (hash + Math.imul(i, h2)) & this.#mask;
      if ((this.#words[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/** MurmurHash3 (x86, 32-bit) of `key[at..]` under `seed`. */
function murmur3(key: Uint8Array, at: number, seed: number): number {
  let h = seed;
  const end = key.length;
  let i = at;
  for (; i + 4 <= end; i += 4) {
    let k = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < end) {
    let k = 0;
    for (let j = end - 1; j >= i; j--) k = (k << 8) | key[j]!; // the 1–3 tail bytes, little-endian
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  return fmix32(h ^ (end - at));
}

/** MurmurHash3's finaliser: every input bit affects every output bit (a bijection; the tag filter uses it too). */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
