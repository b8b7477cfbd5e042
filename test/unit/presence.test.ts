import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { PresenceFilter } from "../../node/store/presence.ts";

describe("presence filter", () => {
  it("never rules out a key it was given, random or structured, at any offset", () => {
    const filter = new PresenceFilter(20_000);
    const keys: Buffer[] = [];
    for (let i = 0; i < 10_000; i++) keys.push(Buffer.concat([Buffer.from("!e!"), randomBytes(33)]));
    for (let i = 0; i < 10_000; i++) {
      const key = Buffer.alloc(36); // hand-made hashes: mostly zero, differing in a byte or two
      key[3] = i % 7;
      key.writeUInt16BE(i, 34);
      keys.push(key);
    }
    for (const key of keys) filter.add(key, 3);
    for (const [index, key] of keys.entries()) expect(filter.mayContain(key, 3), `key ${index}`).to.equal(true);
    expect(filter.added).to.equal(keys.length);
  });

  it("rules out about 99% of absent random keys at its sizing", () => {
    const filter = new PresenceFilter(50_000);
    for (let i = 0; i < 50_000; i++) filter.add(randomBytes(33), 0);
    let maybe = 0;
    for (let i = 0; i < 50_000; i++) if (filter.mayContain(randomBytes(33), 0)) maybe++;
    expect(maybe / 50_000).to.be.below(0.02);
  });

  it("hashes the bytes from the offset on, so prefixes do not matter", () => {
    const filter = new PresenceFilter(10);
    const tail = randomBytes(33);
    filter.add(Buffer.concat([Buffer.from("!a!"), tail]), 3);
    expect(filter.mayContain(Buffer.concat([Buffer.from("!bb!"), tail]), 4)).to.equal(true);
    expect(PresenceFilter.hashOf(Buffer.concat([Buffer.from("x"), tail]), 1)).to.equal(PresenceFilter.hashOf(tail, 0));
  });

  it("is sized at about 10 bits a key, between 8 KiB and 64 MiB", () => {
    expect(new PresenceFilter(0).bytes).to.equal(8 * 1024);
    expect(new PresenceFilter(1_000_000).bytes).to.equal(2 ** 24 / 8); // 10M bits → next power of two
    expect(new PresenceFilter(1e9).bytes).to.equal(64 * 1024 * 1024);
    expect(() => new PresenceFilter(-1)).to.throw(/expectedKeys/);
  });
});
