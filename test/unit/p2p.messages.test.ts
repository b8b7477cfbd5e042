/**
 * The Fetch answer's buckets on the wire: one base64 string of fixed-size records per bucket,
 * written and read back entry for entry, and refused by the schema when it is not canonical base64
 * or not a whole number of records (what a hostile provider could send instead).
 */
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import fc from "fast-check";
import { BUCKET_RECORD_BYTES, decodeBucket, encodeBucket, MAX_BUCKET_ENTRIES, wireBucket, type SealedEntry } from "../../node/p2p/index.ts";
import { METADATA_SEALED_BYTES } from "../../node/store/index.ts";

const entry = (version: number): SealedEntry => ({ tag: new Uint8Array(randomBytes(8)), version, sealed: new Uint8Array(randomBytes(METADATA_SEALED_BYTES)) });
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("p2p: Fetch answer buckets on the wire", () => {
  it("reads back every record it wrote: tag, version and sealed bytes, in order", () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 40 }), (versions) => {
      const entries = versions.map(entry);
      const wire = { entries: encodeBucket(entries) };
      expect(wireBucket.safeParse(wire).success).to.equal(true);
      const read = decodeBucket(wire);
      expect(read.map((e) => [hex(e.tag), e.version, hex(e.sealed)])).to.deep.equal(entries.map((e) => [hex(e.tag), e.version, hex(e.sealed)]));
    }), { numRuns: 100 });
    expect(BUCKET_RECORD_BYTES).to.equal(8 + 4 + METADATA_SEALED_BYTES);
  });

  it("refuses what is not canonical base64 of whole records, and more than the bucket cap", () => {
    const good = encodeBucket([entry(1), entry(2)]);
    const cases: Record<string, string> = {
      "a character outside base64": `${good.slice(0, -4)}!!!!`,
      "hex instead of base64": Buffer.from(good, "base64").toString("hex").slice(0, 400),
      "missing padding": encodeBucket([entry(1)]).replace(/=+$/, ""),
      "a partial record": Buffer.from(good, "base64").subarray(0, BUCKET_RECORD_BYTES + 10).toString("base64"),
      "whitespace inside": `${good.slice(0, 8)}\n${good.slice(8)}`,
      "over the cap": Buffer.alloc((MAX_BUCKET_ENTRIES + 1) * BUCKET_RECORD_BYTES).toString("base64"),
    };
    for (const [name, entries] of Object.entries(cases)) expect(wireBucket.safeParse({ entries }).success, name).to.equal(false);
    expect(wireBucket.safeParse({ entries: "" }).success, "an empty bucket").to.equal(true);
    expect(() => encodeBucket([{ ...entry(1), sealed: new Uint8Array(10) }]), "a record of the wrong size is never written").to.throw(RangeError);
  });
});
