/**
 * Store v2 (private lookups): entry keys from each provider's own OPRF key, base tag filters and
 * their delta log, fetch buckets with sealed metadata, and the pure filter and sealing functions.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCipheriv, randomBytes } from "node:crypto";
import fc from "fast-check";
import { expect } from "chai";
import { isRiskshareError } from "../../node/errors.ts";
import { NobleVoprf, normalise } from "../../node/identity/index.ts";
import { silentLogger } from "../../node/logger.ts";
import {
  buildTagFilter, filterContains, tagFilterCount, AssociatedData, createMetadataCipher, encodeMetadata, metadataAssociatedData, METADATA_SEALED_BYTES, Store, TagFilter,
  type EntryInput, type EntryMetadata, type MetadataCipher,
} from "../../node/store/index.ts";
import { FIXTURE_BINDING, FIXTURE_CATEGORIES, fixtureEvaluator } from "../fixtures/riskList.ts";

const NOW = 1_750_000_000;
const DAY = 86_400;
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const evaluator = await fixtureEvaluator();
const tagsOf = (n: number): Uint8Array => new Uint8Array(randomBytes(n * 8));

describe("tag filter (binary fuse 16)", () => {
  it("has no false negatives on random sets of many sizes, 0 and 1 included, and round-trips through its bytes", () => {
    for (const n of [0, 1, 2, 3, 7, 100, 1000, 10_000, 100_000]) {
      const tags = tagsOf(n);
      const built = buildTagFilter(tags);
      expect(built.count, `count at ${n}`).to.equal(n);
      const filter = new TagFilter(Uint8Array.from(built.bytes));
      for (let i = 0; i < n; i++) if (!filter.contains(tags.subarray(i * 8, i * 8 + 8))) expect.fail(`tag ${i} of ${n} not found`);
    }
  });

  it("has a false-positive rate near 2^-16 and about 2.3 bytes a tag at 100k tags", () => {
    const built = buildTagFilter(tagsOf(100_000));
    const filter = new TagFilter(built.bytes);
    const probes = tagsOf(500_000);
    let positives = 0;
    for (let i = 0; i < 500_000; i++) if (filter.contains(probes.subarray(i * 8, i * 8 + 8))) positives++;
    // Expected ≈ 7.6; a bound far outside chance, inside a broken fingerprint's rate.
    expect(positives).to.be.below(25);
    expect(built.bytes.length / 100_000).to.be.below(2.45);
  });

  it("gives the same bytes for the same set, in any order and with repeats", () => {
    const tags = tagsOf(5000);
    const reversed = new Uint8Array(tags.length + 16);
    for (let i = 0; i < 5000; i++) reversed.set(tags.subarray(i * 8, i * 8 + 8), (4999 - i) * 8);
    reversed.set(tags.subarray(0, 16), 5000 * 8);
    expect(hex(buildTagFilter(reversed).bytes)).to.equal(hex(buildTagFilter(tags).bytes));
    expect(buildTagFilter(reversed).count).to.equal(5000);
  });

  it("says no for every tag in an empty filter, and refuses bytes that are not a filter", () => {
    const empty = buildTagFilter(new Uint8Array(0)).bytes;
    expect(filterContains(empty, new Uint8Array(8))).to.equal(false);
    expect(() => filterContains(empty.subarray(0, 10), new Uint8Array(8))).to.throw().that.satisfies((e: unknown) => isRiskshareError(e, "E_BAD_INPUT"));
  });

  it("carries its key count in its hashed header, and refuses a header count its layout was not sized for", () => {
    const tags = new Uint8Array(randomBytes(8 * 1000));
    const built = buildTagFilter(tags);
    expect(tagFilterCount(built.bytes)).to.equal(1000);
    expect(tagFilterCount(buildTagFilter(new Uint8Array(0)).bytes)).to.equal(0);
    for (const claimed of [1_000_000, 2 ** 32 - 1]) {
      const inflated = built.bytes.slice();
      new DataView(inflated.buffer).setUint32(16, claimed, true);
      expect(() => tagFilterCount(inflated), `claims ${claimed}`).to.throw(/does not fit its key count/).that.satisfies((e: unknown) => isRiskshareError(e, "E_BAD_INPUT"));
    }
  });

  it("sizes fetch buckets to at least 256 listed entries", () => {
  });
});

describe("sealed metadata", () => {
  const key = new Uint8Array(32).fill(7);
  const tag = new Uint8Array(8).fill(9);
  const ad = metadataAssociatedData(FIXTURE_BINDING, "phone", 3, tag);
  const fields: EntryMetadata = { categoryId: 2, level: 4, reason: "R07", reportedAtSec: NOW, expiresAtSec: NOW + DAY, providerRef: "案件-7" };
  let cipher: MetadataCipher;
  const sealMetadata = (f: EntryMetadata, k: Uint8Array, a: Uint8Array, nonce?: Uint8Array) => cipher.seal(f, k, a, nonce);
  const openMetadata = (sealed: Uint8Array, k: Uint8Array, a: Uint8Array) => cipher.open(sealed, k, a);
  before(async () => {
    cipher = await createMetadataCipher();
  });

  it("opens to the fields it sealed, with a fresh nonce each time and one length whatever the fields", () => {
    const a = sealMetadata(fields, key, ad);
    const b = sealMetadata({ categoryId: 1, level: 1, reason: "R", reportedAtSec: 0 }, key, ad);
    expect(openMetadata(a, key, ad)).to.deep.equal(fields);
    expect(openMetadata(b, key, ad)).to.deep.equal({ categoryId: 1, level: 1, reason: "R", reportedAtSec: 0, expiresAtSec: undefined, providerRef: undefined });
    expect([a.length, b.length, sealMetadata(fields, key, ad).length]).to.deep.equal([METADATA_SEALED_BYTES, METADATA_SEALED_BYTES, METADATA_SEALED_BYTES]);
    expect(hex(sealMetadata(fields, key, ad))).to.not.equal(hex(a));
  });

  it("fails with E_METADATA_OPEN under another key, other associated data, or altered bytes", () => {
    const sealed = sealMetadata(fields, key, ad);
    const tampered = Uint8Array.from(sealed);
    tampered[40]! ^= 1;
    const attempts: Array<[string, () => unknown]> = [
      ["key", () => openMetadata(sealed, new Uint8Array(32).fill(8), ad)],
      ["version", () => openMetadata(sealed, key, metadataAssociatedData(FIXTURE_BINDING, "phone", 4, tag))],
      ["type", () => openMetadata(sealed, key, metadataAssociatedData(FIXTURE_BINDING, "email", 3, tag))],
      ["epoch", () => openMetadata(sealed, key, metadataAssociatedData({ ...FIXTURE_BINDING, keyEpoch: 2 }, "phone", 3, tag))],
      ["tamper", () => openMetadata(tampered, key, ad)],
      ["length", () => openMetadata(sealed.subarray(1), key, ad)],
    ];
    for (const [what, attempt] of attempts) expect(attempt, what).to.throw().that.satisfies((e: unknown) => isRiskshareError(e, "E_METADATA_OPEN"));
  });

  it("seals exactly what node:crypto's ChaCha20-Poly1305 gives: RFC 8439's AEAD vector and random keys, nonces and data", () => {
    // The faster library (libsodium) against the oracle (node:crypto, OpenSSL), byte for byte.
    const oracle = (plaintext: Uint8Array, k: Uint8Array, nonce: Uint8Array, a: Uint8Array): Buffer => {
      const c = createCipheriv("chacha20-poly1305", k, nonce, { authTagLength: 16 });
      c.setAAD(a, { plaintextLength: plaintext.length });
      return Buffer.concat([nonce, c.update(plaintext), c.final(), c.getAuthTag()]);
    };
    // RFC 8439 section 2.8.2: the oracle is the AEAD the RFC specifies.
    const rfcKey = Buffer.from("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", "hex");
    const rfcNonce = Buffer.from("070000004041424344454647", "hex");
    const rfcAad = Buffer.from("50515253c0c1c2c3c4c5c6c7", "hex");
    const rfcPlain = Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
    expect(oracle(rfcPlain, rfcKey, rfcNonce, rfcAad).subarray(12 + rfcPlain.length).toString("hex"), "RFC 8439 tag").to.equal("1ae10b594f09e26a7e902ecbd0600691");
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.uint8Array({ minLength: 8, maxLength: 8 }),
      fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 63 }), fc.integer({ min: 1, max: 5 }), fc.string({ maxLength: 32 }).filter((r) => /^[\x20-\x7e]*$/.test(r)),
      (k, nonce, t, version, categoryId, level, reason) => {
        const f: EntryMetadata = { categoryId, level: level as EntryMetadata["level"], reason, reportedAtSec: NOW };
        const a = new AssociatedData(FIXTURE_BINDING).of("phone", version, t);
        expect(hex(a), "the batched associated data").to.equal(hex(metadataAssociatedData(FIXTURE_BINDING, "phone", version, t)));
        const sealed = sealMetadata(f, k, a, nonce);
        expect(hex(sealed)).to.equal(hex(oracle(encodeMetadata(f), k, nonce, a)));
        expect(openMetadata(sealed, k, a)).to.deep.include(f);
      },
    ), { numRuns: 200 });
  });
});

describe("store v2", () => {
  let root: string;
  let created = 0;
  const opened: Store[] = [];

  async function freshStore(binding = FIXTURE_BINDING): Promise<Store> {
    const store = new Store({ location: join(root, `v2-${created++}`), categories: FIXTURE_CATEGORIES, binding }, { logger: silentLogger() });
    await store.open();
    opened.push(store);
    return store;
  }

  function entry(raw: string, fields: Partial<EntryInput> = {}, keys = evaluator): EntryInput {
    const { entryId, tag, metadataKey } = keys.keysOf("phone", normalise("phone", raw, { defaultRegion: "CN" }));
    return { type: "phone", entryId, tag, metadataKey, categoryId: 1, level: 3, reason: "R01", reportedAtSec: NOW - DAY, ...fields };
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "riskshare-store-v2-"));
  });
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("keys the same identifier unrelatedly for two providers: no shared entry id or tag", async () => {
    const other = await fixtureEvaluator(new NobleVoprf().generateKeyPair().secretKey, { ...FIXTURE_BINDING, providerAddress: `0x${"2".repeat(40)}` });
    const a = await freshStore();
    const b = await freshStore(other.context);
    const raws = ["13800138000", "13900139000", "13700137000"];
    await a.upsert(raws.map((r) => entry(r)), { nowSec: NOW });
    await b.upsert(raws.map((r) => entry(r, {}, other)), { nowSec: NOW });
    const keysA = new Set<string>();
    for await (const e of a.entries({ nowSec: NOW })) keysA.add(hex(e.entryId)).add(hex(e.tag));
    for await (const e of b.entries({ nowSec: NOW })) {
      expect(keysA.has(hex(e.entryId)), "entry id").to.equal(false);
      expect(keysA.has(hex(e.tag)), "tag").to.equal(false);
    }
  });

  it("logs tag adds and removes per category; a base filter covers them and deltas start after it", async () => {
    const store = await freshStore();
    await store.upsert([entry("13800138000"), entry("13900139000", { expiresAtSec: NOW + 10 })], { nowSec: NOW });
    expect(store.filterState(1)).to.deep.include({ baseHash: null, seq: 2 });
    expect((await store.deltasSince(1, 0))!.adds.map(hex).sort()).to.deep.equal([entry("13800138000").tag, entry("13900139000").tag].map(hex).sort());
    const base = await store.buildBaseFilter(1, NOW);
    expect(base).to.deep.include({ count: 2, seq: 2 });
    expect(store.filterState(1)).to.deep.include({ baseHash: base.hash, baseCount: 2, baseSeq: 2, keyEpoch: 1 });
    expect(await store.deltasSince(1, 0), "records before the base are gone").to.equal(undefined);
    // A category change removes from one and adds to the other; an update in place logs nothing; a sweep removes.
    await store.upsert([entry("13800138000", { categoryId: 2 }), entry("13900139000", { level: 5, expiresAtSec: NOW + 10 })], { nowSec: NOW });
    await store.sweep(NOW + 10);
    const since = (await store.deltasSince(1, base.seq))!;
    expect(since.adds).to.deep.equal([]);
    expect(since.removes.map(hex).sort()).to.deep.equal([entry("13800138000").tag, entry("13900139000").tag].map(hex).sort());
    expect((await store.deltasSince(2, 0))!.adds.map(hex)).to.deep.equal([hex(entry("13800138000").tag)]);
    await store.remove({ type: "phone", entryId: entry("13800138000").entryId }, { reason: "appeal_upheld", nowSec: NOW });
    expect((await store.deltasSince(2, 0))!).to.deep.include({ adds: [] });
    expect((await store.deltasSince(2, 0))!.removes.map(hex)).to.deep.equal([hex(entry("13800138000").tag)]);
    expect((await store.verify()).ok).to.equal(true);
  });

  it("bumps an entry's version on every change, not on an identical re-import", async () => {
    const store = await freshStore();
    await store.upsert([entry("13800138000")], { nowSec: NOW });
    await store.upsert([entry("13800138000")], { nowSec: NOW });
    await store.upsert([entry("13800138000", { level: 5 })], { nowSec: NOW });
    const [answer] = await store.checkMany([{ type: "phone", entryId: entry("13800138000").entryId }], NOW);
    expect(answer?.hit === true && answer.entry.version).to.equal(2);
  });

  it("answers fetch buckets with the live entries under each prefix, sealed for the querier who knows the identifier", async () => {
    const store = await freshStore();
    const raws = Array.from({ length: 40 }, (_, i) => `1380013${String(8000 + i)}`);
    await store.upsert(raws.map((r, i) => entry(r, { expiresAtSec: i === 0 ? NOW + 5 : undefined, ownRef: `case-${i}` })), { nowSec: NOW });
    const wanted = entry(raws[1]!);
    const prefix = { bits: 4, value: BigInt(wanted.tag[0]! >> 4) << 60n };
    const [bucket, all, none] = await store.fetchBuckets(1, [prefix, { bits: 0, value: 0n }, prefix], NOW + 10);
    const inPrefix = raws.slice(1).filter((r) => entry(r).tag[0]! >> 4 === wanted.tag[0]! >> 4);
    expect(bucket!.entries.map((e) => hex(e.tag)).sort()).to.deep.equal(inPrefix.map((r) => hex(entry(r).tag)).sort());
    expect(all!.entries, "the whole category, the expired entry left out").to.have.length(39);
    expect(none!.entries).to.have.length(bucket!.entries.length);
    const found = bucket!.entries.find((e) => hex(e.tag) === hex(wanted.tag))!;
    const opened = (await createMetadataCipher()).open(found.sealed, wanted.metadataKey, metadataAssociatedData(FIXTURE_BINDING, "phone", found.version, found.tag));
    expect(opened).to.deep.include({ categoryId: 1, level: 3, reason: "R01", providerRef: "case-1" });
    expect(await store.fetchBuckets(2, [prefix], NOW)).to.deep.equal([{ entries: [] }]);
    const [top] = await store.fetchBuckets(1, [{ bits: 1, value: 1n << 63n }], NOW + 10);
    expect(top!.entries.map((e) => hex(e.tag)).sort(), "a left-aligned one-bit prefix").to.deep.equal(raws.slice(1).filter((r) => entry(r).tag[0]! >= 0x80).map((r) => hex(entry(r).tag)).sort());
    const refused = await store.fetchBuckets(1, [{ bits: 4, value: 1n }], NOW).then(() => undefined, (err: unknown) => err);
    expect(isRiskshareError(refused, "E_BAD_INPUT"), "bits set below the prefix are refused").to.equal(true);
  });

  it("lets a filter false positive end as a miss: the fetch bucket has no such tag", async () => {
    const store = await freshStore();
    const raws = Array.from({ length: 200 }, (_, i) => `1390013${String(7000 + i)}`);
    await store.upsert(raws.map((r) => entry(r)), { nowSec: NOW });
    const base = await store.buildBaseFilter(1, NOW);
    const filter = new TagFilter(base.bytes);
    const listed = new Set(raws.map((r) => hex(entry(r).tag)));
    // Random tags until one the filter accepts though nothing lists it (≈ 65,536 tries on average).
    let falsePositive: Uint8Array | undefined;
    for (let tries = 0; falsePositive === undefined && tries < 2_000_000; tries++) {
      const tag = new Uint8Array(randomBytes(8));
      if (filter.contains(tag) && !listed.has(hex(tag))) falsePositive = tag;
    }
    expect(falsePositive, "a false positive was found").to.not.equal(undefined);
    const bits = 8;
    const [bucket] = await store.fetchBuckets(1, [{ bits, value: BigInt(falsePositive![0]!) << 56n }], NOW);
    expect(bucket!.entries.some((e) => hex(e.tag) === hex(falsePositive!))).to.equal(false);
  });
});
