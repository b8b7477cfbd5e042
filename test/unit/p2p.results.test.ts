import { expect } from "chai";
import { keccak256 } from "ethers";
import fc from "fast-check";
import { encodeResults, resultsDigest, type LookupResult } from "../../node/p2p/index.ts";

/** The encoding as first written (one part per result, then joined): the reference for the one-buffer version. */
function referenceEncoding(results: readonly LookupResult[]): Uint8Array {
  const ascii = new TextEncoder();
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

const text = fc.oneof(fc.string({ minLength: 1, maxLength: 128 }), fc.string({ unit: "grapheme", maxLength: 40 }), fc.string({ unit: "binary", maxLength: 300 }));
const result: fc.Arbitrary<LookupResult> = fc.oneof(
  fc.constant({ hit: false as const }),
  fc.record(
    {
      hit: fc.constant(true as const),
      category: fc.integer({ min: 1, max: 63 }),
      level: fc.integer({ min: 1, max: 5 }),
      reason: text,
      reportedAt: fc.oneof(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constant(Number.MAX_SAFE_INTEGER)),
      expiresAt: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      providerRef: text,
    },
    { requiredKeys: ["hit", "category", "level", "reason", "reportedAt"] },
  ),
);

describe("p2p: the canonical encoding of results", () => {
  it("is byte for byte the reference encoding, and its digest ethers' keccak256 of it (any strings, even non-ASCII or over 255 bytes)", () => {
    fc.assert(fc.property(fc.array(result, { maxLength: 60 }), (results) => {
      const expected = referenceEncoding(results);
      expect(Buffer.from(encodeResults(results)).equals(Buffer.from(expected)), "encoding").to.equal(true);
      expect(resultsDigest(results), "digest").to.equal(keccak256(expected));
    }), { numRuns: 1_000 });
  });

  it("encodes a full answer of 1,000 results as the reference does", () => {
    const results: LookupResult[] = Array.from({ length: 1_000 }, (_, i) => (i % 7 === 0
      ? { hit: true, category: 1 + (i % 63), level: 1 + (i % 5), reason: `R${i}`, reportedAt: 1_735_689_600 + i, ...(i % 2 ? { expiresAt: 1_800_000_000 } : {}), ...(i % 3 ? { providerRef: `case-${i}` } : {}) }
      : { hit: false }));
    expect(resultsDigest(results)).to.equal(keccak256(referenceEncoding(results)));
  });
});
