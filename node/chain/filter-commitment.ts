/**
 * The commitment a provider publishes for a base tag filter, and the proofs that open it chunk by
 * chunk (docs/PROTOCOL.md, "Tag filters" and "Spot-checks").
 *
 *   leaf(j)      = keccak256(0x00 ‖ chunk j)              chunks of 1 KiB, the last one shorter
 *   node(l, r)   = keccak256(0x01 ‖ l ‖ r)                 leaves padded with zero words to 2^depth
 *   commitment   = keccak256(uint64 byteLength ‖ root)     big-endian length, as abi.encodePacked
 *
 * Every member that downloads a filter hashes it this way and compares with the chain. The tree is
 * what lets a provider prove its filter on chain without posting all of it: the header chunk (the
 * count and layout) and a few chunks the challenge's seed picks, each with its path.
 * ContributionRegistry.sol verifies the same construction; test/contracts/ContributionRegistry.challenge.test.ts
 * checks the two agree.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { assertArgument } from "../errors.ts";

/** Bytes of a chunk (a leaf): ContributionRegistry.CHUNK_BYTES. */
export const FILTER_CHUNK_BYTES = 1024;
/** Chunks a challenge picks besides the header chunk: ContributionRegistry.CHALLENGE_SAMPLES. */
export const CHALLENGE_SAMPLES = 4;

const LEAF = Uint8Array.of(0x00);
const NODE = Uint8Array.of(0x01);
const ZERO_WORD = new Uint8Array(32);

/** One chunk of a filter with its Merkle path, leaf level first (ContributionRegistry.ChunkProof). */
export interface ChunkProof {
  readonly index: number;
  readonly chunk: Uint8Array;
  readonly siblings: readonly Uint8Array[];
}

/** Chunks of a filter of `byteLength` bytes. */
export function chunkCount(byteLength: number): number {
  assertArgument(Number.isSafeInteger(byteLength) && byteLength > 0, "must be a positive byte length", "byteLength");
  return Math.ceil(byteLength / FILTER_CHUNK_BYTES);
}

/** The commitment to `bytes` as 0x-hex (lower case): what ContributionRegistry.publish takes as filterHash. */
export function filterCommitment(bytes: Uint8Array): string {
  const levels = merkleLevels(bytes);
  return hex(commit(bytes.length, levels[levels.length - 1]![0]!));
}

/** Proofs of the chunks at `indices` (in that order) of `bytes`. */
export function chunkProofs(bytes: Uint8Array, indices: readonly number[]): ChunkProof[] {
  const levels = merkleLevels(bytes);
  const chunks = chunkCount(bytes.length);
  return indices.map((index) => {
    assertArgument(Number.isSafeInteger(index) && index >= 0 && index < chunks, `must be a chunk index below ${chunks}`, "index");
    const siblings: Uint8Array[] = [];
    let at = index;
    for (let level = 0; level < levels.length - 1; level++) {
      siblings.push(levels[level]![at ^ 1] ?? zeroSubtree(level));
      at >>= 1;
    }
    return { index, chunk: bytes.subarray(index * FILTER_CHUNK_BYTES, Math.min(bytes.length, (index + 1) * FILTER_CHUNK_BYTES)), siblings };
  });
}

/** Whether `proof` opens chunk `proof.index` of the commitment for a filter of `byteLength` bytes. */
export function verifyChunkProof(commitment: string, byteLength: number, proof: ChunkProof): boolean {
  const chunks = chunkCount(byteLength);
  if (!Number.isSafeInteger(proof.index) || proof.index < 0 || proof.index >= chunks) return false;
  const expectedBytes = proof.index + 1 < chunks ? FILTER_CHUNK_BYTES : byteLength - FILTER_CHUNK_BYTES * (chunks - 1);
  if (proof.chunk.length !== expectedBytes || proof.siblings.length !== depthOf(chunks)) return false;
  let node = keccak_256(concat(LEAF, proof.chunk));
  let at = proof.index;
  for (const sibling of proof.siblings) {
    node = (at & 1) === 0 ? keccak_256(concat(NODE, node, sibling)) : keccak_256(concat(NODE, sibling, node));
    at >>= 1;
  }
  return hex(commit(byteLength, node)) === commitment.toLowerCase();
}

/** The chunks a challenge with `seed` (0x-hex bytes32) asks for: 0, then {@link CHALLENGE_SAMPLES} picked by the seed. */
export function challengeChunks(seed: string, chunks: number): number[] {
  const seedBytes = Buffer.from(seed.replace(/^0x/, ""), "hex");
  assertArgument(seedBytes.length === 32, "must be a 0x-hex bytes32", "seed");
  const indices = [0];
  for (let j = 1; j <= CHALLENGE_SAMPLES; j++) {
    const word = new Uint8Array(64);
    word.set(seedBytes, 0);
    word[63] = j; // abi.encode(seed, uint256 j) for j < 256
    indices.push(Number(BigInt(hex(keccak_256(word))) % BigInt(chunks)));
  }
  return indices;
}

function depthOf(chunks: number): number {
  let depth = 0;
  while (2 ** depth < chunks) depth++;
  return depth;
}

/** Every level of the tree, leaves first, each padded to even length (the root level has one node). */
function merkleLevels(bytes: Uint8Array): Uint8Array[][] {
  const chunks = chunkCount(bytes.length);
  const depth = depthOf(chunks);
  let level: Uint8Array[] = [];
  for (let j = 0; j < chunks; j++) {
    level.push(keccak_256(concat(LEAF, bytes.subarray(j * FILTER_CHUNK_BYTES, Math.min(bytes.length, (j + 1) * FILTER_CHUNK_BYTES)))));
  }
  const levels = [level];
  for (let d = 0; d < depth; d++) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(keccak_256(concat(NODE, level[i]!, level[i + 1] ?? zeroSubtree(d))));
    level = next;
    levels.push(level);
  }
  return levels;
}

/** The root of an all-padding subtree of height `d`: leaves are zero words, so a padded node is never zero. */
function zeroSubtree(d: number): Uint8Array {
  let node = ZERO_WORD;
  for (let i = 0; i < d; i++) node = keccak_256(concat(NODE, node, node));
  return node;
}

function commit(byteLength: number, root: Uint8Array): Uint8Array {
  const out = new Uint8Array(40);
  new DataView(out.buffer).setBigUint64(0, BigInt(byteLength), false);
  out.set(root, 8);
  return keccak_256(out);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function hex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes).toString("hex")}`;
}
