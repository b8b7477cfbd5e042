/**
 * HMAC-SHA256 (RFC 2104, FIPS 180-4) of short messages under one fixed key, from precomputed
 * states: the key's inner and outer pads are absorbed once, and each message costs its own blocks
 * plus one outer block — two compressions for an identifier — with no allocation per call.
 *
 * Why not a library call: the identifiers of a bulk import are hashed millions of times, and the
 * generic HMAC objects (node:crypto's createHmac, @noble/hashes' hmac) spend more on state copies,
 * views and objects than on the compression itself. test/unit/identity.test.ts holds this equal to
 * node:crypto's HMAC on thousands of keys and messages of every length class.
 */

/** FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const K = Uint32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
/** FIPS 180-4 §5.3.3: the initial hash value. */
const IV = Uint32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const BLOCK_BYTES = 64;

/** HMAC-SHA256 under one key; not safe for concurrent use (it has one scratch state, like the class it serves). */
export class HmacSha256 {
  /** State after the inner pad block (K ⊕ 0x36…). */
  readonly #innerStart = new Uint32Array(8);
  /** State after the outer pad block (K ⊕ 0x5c…). */
  readonly #outerStart = new Uint32Array(8);
  readonly #state = new Uint32Array(8);
  readonly #w = new Uint32Array(64);
  #scratch = new Uint8Array(256);

  /** @param key at most 64 bytes (the pepper is 32). */
  constructor(key: Uint8Array) {
    if (key.length > BLOCK_BYTES) throw new RangeError("HmacSha256: keys longer than one block are not supported");
    const pad = new Uint8Array(BLOCK_BYTES);
    for (const [start, byte] of [[this.#innerStart, 0x36], [this.#outerStart, 0x5c]] as const) {
      pad.fill(byte);
      for (let i = 0; i < key.length; i++) pad[i] = key[i]! ^ byte;
      start.set(IV);
      this.#compress(start, pad, 0);
    }
    pad.fill(0);
  }

  /**
   * Writes HMAC(key, message) into `out` at `offset`, where the message is `head` followed by the
   * first `length` bytes of `tail` (callers keep a constant head, e.g. a type prefix, apart).
   */
  digestInto(head: Uint8Array, tail: Uint8Array, length: number, out: Uint8Array, offset: number): void {
    const messageBytes = head.length + length;
    // Message, 0x80, zeros, then the 64-bit bit length of pad block + message, in whole blocks.
    const blocks = Math.ceil((messageBytes + 9) / BLOCK_BYTES);
    const total = blocks * BLOCK_BYTES;
    if (total > this.#scratch.length) this.#scratch = new Uint8Array(total);
    const scratch = this.#scratch;
    scratch.set(head, 0);
    scratch.set(length === tail.length ? tail : tail.subarray(0, length), head.length);
    scratch[messageBytes] = 0x80;
    scratch.fill(0, messageBytes + 1, total - 4);
    writeBitLength(scratch, total, BLOCK_BYTES + messageBytes);
    const state = this.#state;
    state.set(this.#innerStart);
    for (let at = 0; at < total; at += BLOCK_BYTES) this.#compress(state, scratch, at);

    // Outer: the 32-byte inner digest, padded into one block.
    for (let i = 0; i < 8; i++) writeU32(scratch, i * 4, state[i]!);
    scratch[32] = 0x80;
    scratch.fill(0, 33, BLOCK_BYTES - 4);
    writeBitLength(scratch, BLOCK_BYTES, BLOCK_BYTES + 32);
    state.set(this.#outerStart);
    this.#compress(state, scratch, 0);
    for (let i = 0; i < 8; i++) writeU32(out, offset + i * 4, state[i]!);
  }

  /** FIPS 180-4 §6.2.2: one block of `bytes` at `at` into `h`. */
  #compress(h: Uint32Array, bytes: Uint8Array, at: number): void {
    const w = this.#w;
    for (let t = 0; t < 16; t++, at += 4) w[t] = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
    for (let t = 16; t < 64; t++) {
      const w15 = w[t - 15]!;
      const w2 = w[t - 2]!;
      const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
      const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
      w[t] = (s1 + w[t - 7]! + s0 + w[t - 16]!) | 0;
    }
    let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, hh = h[7]!;
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[t]! + w[t]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = (h[0]! + a) | 0;
    h[1] = (h[1]! + b) | 0;
    h[2] = (h[2]! + c) | 0;
    h[3] = (h[3]! + d) | 0;
    h[4] = (h[4]! + e) | 0;
    h[5] = (h[5]! + f) | 0;
    h[6] = (h[6]! + g) | 0;
    h[7] = (h[7]! + hh) | 0;
  }
}

function writeU32(bytes: Uint8Array, at: number, word: number): void {
  bytes[at] = word >>> 24;
  bytes[at + 1] = word >>> 16;
  bytes[at + 2] = word >>> 8;
  bytes[at + 3] = word;
}

/** The message length in bits as the last 8 bytes of the padded message (messages here stay far below 2^32 bits). */
function writeBitLength(bytes: Uint8Array, end: number, messageBytes: number): void {
  const bits = messageBytes * 8;
  writeU32(bytes, end - 8, Math.floor(bits / 2 ** 32));
  writeU32(bytes, end - 4, bits >>> 0);
}
