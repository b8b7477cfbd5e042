/**
 * The contribution digest of one category: what a member publishes on chain beside its live count,
 * so that anyone holding the same entries can check the claim.
 *
 *   root = SHA-256( "riskshare/contribution/v1" || categoryId (u8)
 *                   || typeCode (u8) || hash (32 B)   for each live entry, in ascending byte order of (typeCode, hash) )
 *
 * The order is that of the bytes, not of insertion, so two stores holding the same live entries
 * produce the same root however they were filled. Type codes are the permanent codes of the
 * identifier registry (phone = 1 … account = 8).
 */
import { createHash, type Hash } from "node:crypto";
import { assertArgument } from "../errors.ts";
import { ENTRY_KEY_BYTES } from "./codec.ts";

/** Domain-separation prefix of the digest; a new digest definition gets a new version. */
export const CONTRIBUTION_DIGEST_TAG = "riskshare/contribution/v1";

/** Incremental digest over entry keys fed in ascending order. */
export class ContributionDigest {
  readonly #hash: Hash;
  #previous: Buffer | undefined;
  #count = 0;

  constructor(readonly categoryId: number) {
    this.#hash = createHash("sha256").update(CONTRIBUTION_DIGEST_TAG, "utf8").update(Uint8Array.of(categoryId));
  }

  /** Adds one live entry key ([typeCode][hash]); keys must come in strictly ascending order. */
  add(entryKey: Uint8Array): void {
    assertArgument(entryKey.length === ENTRY_KEY_BYTES, `must be ${ENTRY_KEY_BYTES} bytes`, "entryKey");
    const key = Buffer.from(entryKey.buffer, entryKey.byteOffset, entryKey.byteLength);
    assertArgument(this.#previous === undefined || Buffer.compare(this.#previous, key) < 0, "keys must be fed in strictly ascending order", "entryKey");
    this.#previous = key;
    this.#hash.update(key);
    this.#count++;
  }

  /** Entries added so far. */
  get count(): number {
    return this.#count;
  }

  /** The root as 0x-prefixed hex (bytes32); ends the digest. */
  root(): string {
    return `0x${this.#hash.digest("hex")}`;
  }
}

/** The contribution root of a set of entry keys in any order (sorts, then digests). */
export function contributionRoot(categoryId: number, entryKeys: Iterable<Uint8Array>): { liveCount: number; root: string } {
  const sorted = [...entryKeys].map((k) => Buffer.from(k)).sort(Buffer.compare);
  const digest = new ContributionDigest(categoryId);
  for (const key of sorted) digest.add(key);
  return { liveCount: digest.count, root: digest.root() };
}
