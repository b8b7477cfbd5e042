import { expect } from "chai";
import fc from "fast-check";
import { keccak256, concat, toBeHex, zeroPadValue } from "ethers";
import {
  CHALLENGE_SAMPLES,
  challengeChunks,
  chunkCount,
  chunkProofs,
  FILTER_CHUNK_BYTES,
  filterCommitment,
  verifyChunkProof,
} from "../../node/chain/index.ts";

/**
 * The commitment as the protocol text defines it, written the plain way with ethers (a second,
 * independent implementation): leaves keccak256(0x00 ‖ chunk), nodes keccak256(0x01 ‖ l ‖ r), the
 * leaf level padded with zero words to a power of two, then keccak256(uint64 length ‖ root).
 */
function referenceCommitment(bytes: Uint8Array): string {
  let level: string[] = [];
  for (let at = 0; at < bytes.length; at += FILTER_CHUNK_BYTES) level.push(keccak256(concat(["0x00", bytes.subarray(at, at + FILTER_CHUNK_BYTES)])));
  let width = 1;
  while (width < level.length) width *= 2;
  while (level.length < width) level.push(zeroPadValue("0x", 32));
  while (level.length > 1) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(keccak256(concat(["0x01", level[i]!, level[i + 1]!])));
    level = next;
  }
  return keccak256(concat([zeroPadValue(toBeHex(bytes.length), 8), level[0]!]));
}

describe("filter commitment (node/chain/filter-commitment.ts)", () => {
  it("equals an independent implementation of the protocol's definition, from one byte to many chunks", () => {
    const sizes = [1, 20, FILTER_CHUNK_BYTES - 1, FILTER_CHUNK_BYTES, FILTER_CHUNK_BYTES + 1, 3 * FILTER_CHUNK_BYTES, 5 * FILTER_CHUNK_BYTES + 17, 33 * FILTER_CHUNK_BYTES];
    for (const size of sizes) {
      const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 131 + size) & 0xff);
      expect(filterCommitment(bytes), `${size} bytes`).to.equal(referenceCommitment(bytes));
    }
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 9 * FILTER_CHUNK_BYTES }), (bytes) => filterCommitment(bytes) === referenceCommitment(bytes)), { numRuns: 60 });
  });

  it("binds the length: the same chunks with a byte more or less commit differently", () => {
    const bytes = new Uint8Array(2 * FILTER_CHUNK_BYTES).fill(7);
    expect(filterCommitment(bytes)).to.not.equal(filterCommitment(bytes.subarray(0, bytes.length - 1)));
    expect(filterCommitment(bytes)).to.not.equal(filterCommitment(Uint8Array.from([...bytes, 0])));
  });

  it("proves every chunk, and refuses a changed chunk, a wrong sibling, another index or another length", () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 12 * FILTER_CHUNK_BYTES }), fc.nat(), (bytes, pick) => {
      const commitment = filterCommitment(bytes);
      const chunks = chunkCount(bytes.length);
      const index = pick % chunks;
      const [proof] = chunkProofs(bytes, [index]);
      if (!verifyChunkProof(commitment, bytes.length, proof!)) return false;
      const flipped = Uint8Array.from(proof!.chunk);
      flipped[0] = flipped[0]! ^ 1;
      if (verifyChunkProof(commitment, bytes.length, { ...proof!, chunk: flipped })) return false;
      if (proof!.siblings.length > 0) {
        const sibling = Uint8Array.from(proof!.siblings[0]!);
        sibling[31] = sibling[31]! ^ 1;
        if (verifyChunkProof(commitment, bytes.length, { ...proof!, siblings: [sibling, ...proof!.siblings.slice(1)] })) return false;
      }
      if (chunks > 1 && verifyChunkProof(commitment, bytes.length, { ...proof!, index: (index + 1) % chunks })) return false;
      return !verifyChunkProof(commitment, bytes.length + 1, proof!);
    }), { numRuns: 80 });
  });

  it("picks the header chunk, then CHALLENGE_SAMPLES chunks from the seed, all in range", () => {
    const seed = `0x${"ab".repeat(32)}`;
    for (const chunks of [1, 2, 7, 2_250]) {
      const picked = challengeChunks(seed, chunks);
      expect(picked).to.have.length(1 + CHALLENGE_SAMPLES);
      expect(picked[0]).to.equal(0);
      for (const i of picked) expect(i).to.be.within(0, chunks - 1);
    }
    expect(challengeChunks(seed, 2_250)).to.not.deep.equal(challengeChunks(`0x${"cd".repeat(32)}`, 2_250));
    expect(() => challengeChunks("0x1234", 10)).to.throw(/bytes32/);
  });
});
