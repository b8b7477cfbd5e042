/**
 * Delisting that reaches the querier: the sealed notice (node/store/delisting.ts), the provider's
 * store writing it beside a tag's removal in the delta log (remove and expiry sweep), and the
 * querier's kept hits (node/store/hits.ts) matching a delta's removals against them.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { silentLogger } from "../../node/logger.ts";
import {
  DELISTING_SEALED_BYTES, createMetadataCipher, metadataAssociatedData, openDelisting, sealDelisting, Store, type EntryInput, type KeptHit,
} from "../../node/store/index.ts";
import { isRiskshareError } from "../../node/errors.ts";

const PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const CONTEXT = { chainId: 31337n, providerAddress: PROVIDER, keyEpoch: 1 };
const NOW = 1_750_000_000;
const bytes = (n: number) => new Uint8Array(randomBytes(n));
const hex = (t: Uint8Array) => `0x${Buffer.from(t).toString("hex")}`;

function expectOpenFails(fn: () => unknown, why: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(isRiskshareError(thrown, "E_METADATA_OPEN"), why).to.equal(true);
}

describe("delisting notices", () => {
  it("open under the entry's metadata key for its provider, epoch and tag, and under nothing else", () => {
    const key = bytes(32);
    const tag = bytes(8);
    const sealed = sealDelisting({ reason: "appeal_upheld", delistedAtSec: NOW }, key, CONTEXT, tag);
    expect(sealed.length).to.equal(DELISTING_SEALED_BYTES);
    expect(openDelisting(sealed, key, CONTEXT, tag)).to.deep.equal({ reason: "appeal_upheld", delistedAtSec: NOW });
    expectOpenFails(() => openDelisting(sealed, bytes(32), CONTEXT, tag), "another key (a querier that never evaluated the identifier)");
    expectOpenFails(() => openDelisting(sealed, key, CONTEXT, bytes(8)), "another tag");
    expectOpenFails(() => openDelisting(sealed, key, { ...CONTEXT, keyEpoch: 2 }, tag), "another key epoch");
    expectOpenFails(() => openDelisting(sealed, key, { ...CONTEXT, providerAddress: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" }, tag), "another provider");
    expectOpenFails(() => openDelisting(sealed, key, { ...CONTEXT, chainId: 1n }, tag), "another chain");
    const altered = Uint8Array.from(sealed);
    altered[20]! ^= 1;
    expectOpenFails(() => openDelisting(altered, key, CONTEXT, tag), "an altered notice");
    expectOpenFails(() => openDelisting(sealed.subarray(1), key, CONTEXT, tag), "a truncated notice");
  });

  it("never open as entry metadata (their associated data has its own label)", async () => {
    const key = bytes(32);
    const tag = bytes(8);
    const sealed = sealDelisting({ reason: "expired", delistedAtSec: NOW }, key, CONTEXT, tag);
    const cipher = await createMetadataCipher();
    expect(() => cipher.open(sealed, key, metadataAssociatedData(CONTEXT, "phone", 1, tag))).to.throw();
  });
});

describe("the provider's store writes delisting notices into its deltas", () => {
  let dir: string;
  let store: Store;

  const entry = (fields: Partial<EntryInput> = {}): EntryInput => ({
    type: "phone", entryId: bytes(32), tag: bytes(8), metadataKey: bytes(32), categoryId: 1, level: 3, reason: "R01", reportedAtSec: NOW - 86_400, ...fields,
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "riskshare-delist-"));
    store = new Store({ location: dir, categories: new Map([["fraud_confirmed", 1]]), binding: CONTEXT }, { logger: silentLogger() });
    await store.open();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("a removal carries its reason and date sealed under the entry's metadata key", async () => {
    const kept = entry();
    const other = entry();
    await store.upsert([kept, other], { nowSec: NOW });
    await store.buildBaseFilter(1, NOW);
    const { baseSeq } = store.filterState(1);
    expect((await store.remove(kept, { reason: "appeal_upheld", nowSec: NOW + 60 })).removed).to.equal(true);
    const deltas = (await store.deltasSince(1, baseSeq))!;
    expect(deltas.removes.map(hex)).to.deep.equal([hex(kept.tag)]);
    expect(deltas.notices.map((n) => hex(n.tag))).to.deep.equal([hex(kept.tag)]);
    expect(openDelisting(deltas.notices[0]!.sealed, kept.metadataKey, CONTEXT, kept.tag)).to.deep.equal({ reason: "appeal_upheld", delistedAtSec: NOW + 60 });
    expectOpenFails(() => openDelisting(deltas.notices[0]!.sealed, other.metadataKey, CONTEXT, kept.tag), "another entry's key");
  });

  it("a tag removed then listed again is a plain add in the net deltas: no notice", async () => {
    const listed = entry();
    await store.upsert([listed], { nowSec: NOW });
    const { seq } = store.filterState(1);
    await store.remove(listed, { reason: "false_positive", nowSec: NOW + 1 });
    await store.upsert([listed], { nowSec: NOW + 2 });
    const deltas = (await store.deltasSince(1, seq))!;
    expect(deltas.adds.map(hex)).to.deep.equal([hex(listed.tag)]);
    expect(deltas.removes).to.deep.equal([]);
    expect(deltas.notices).to.deep.equal([]);
  });

  it("the expiry sweep's removals carry reason `expired` and the expiry date", async () => {
    const expiring = entry({ expiresAtSec: NOW + 100 });
    await store.upsert([expiring, entry()], { nowSec: NOW });
    const { seq } = store.filterState(1);
    expect((await store.sweep(NOW + 100)).purged).to.equal(1);
    const deltas = (await store.deltasSince(1, seq))!;
    expect(deltas.notices.map((n) => hex(n.tag))).to.deep.equal([hex(expiring.tag)]);
    expect(openDelisting(deltas.notices[0]!.sealed, expiring.metadataKey, CONTEXT, expiring.tag)).to.deep.equal({ reason: "expired", delistedAtSec: NOW + 100 });
  });
});

describe("the querier's kept hits", () => {
  let dir: string;
  let store: Store;
  const journalKey = bytes(32);
  const hit = (fields: Partial<KeptHit> = {}): KeptHit => ({
    providerAddress: PROVIDER, categoryId: 1, keyEpoch: 1, tag: bytes(8), metadataKey: bytes(32), queryId: hex(bytes(32)), keptAtMs: NOW * 1000, ...fields,
  });
  const notice = (h: KeptHit, reason = "appeal_upheld") => sealDelisting({ reason, delistedAtSec: NOW + 60 }, h.metadataKey, { ...CONTEXT, keyEpoch: h.keyEpoch }, h.tag);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "riskshare-hits-"));
    store = new Store({ location: dir, categories: new Map() }, { logger: silentLogger() });
    await store.open();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("report a delta removal of a kept tag whose notice opens, once, and survive a restart sealed", async () => {
    const hits = store.keptHits({ key: journalKey, chainId: CONTEXT.chainId });
    const found = hit();
    const unrelated = hit();
    await hits.keep(found);
    await hits.keep(unrelated);
    // Another node start: the hits are read back from disk.
    const reloaded = store.keptHits({ key: journalKey, chainId: CONTEXT.chainId });
    expect(await reloaded.load()).to.equal(2);
    const removal = { providerAddress: PROVIDER, categoryId: 1, keyEpoch: 1, removes: [hex(found.tag), hex(bytes(8))], notices: new Map([[hex(found.tag), notice(found)]]) };
    const changes = await reloaded.applyRemovals(removal, NOW * 1000 + 5);
    expect(changes).to.deep.equal([{ provider: PROVIDER, category: 1, queryId: found.queryId, delistedAt: NOW + 60, reason: "appeal_upheld", seenAtMs: NOW * 1000 + 5 }]);
    expect(await reloaded.applyRemovals(removal, NOW * 1000 + 6), "reported once").to.deep.equal([]);
    expect(reloaded.count()).to.equal(1);
    expect(await reloaded.changes(0)).to.deep.equal(changes);
    expect(await reloaded.changes(NOW * 1000 + 6), "since after it").to.deep.equal([]);
    // At rest, neither the tag, the key nor the reason is in the clear.
    for await (const [, value] of store.sublevel<{ sealed: string }>("hits" as never).iterator()) {
      const raw = JSON.stringify(value);
      for (const secret of [Buffer.from(found.tag).toString("hex"), Buffer.from(found.metadataKey).toString("hex"), "appeal_upheld", found.queryId.slice(2)]) {
        expect(raw, "sealed at rest").to.not.contain(secret);
      }
    }
    expect(await store.keptHits({ key: bytes(32), chainId: CONTEXT.chainId }).changes(0), "another journal key opens nothing").to.deep.equal([]);
  });

  it("ignore a notice that does not open (a colliding tag of another identifier) and a removal of another provider or category", async () => {
    const hits = store.keptHits({ key: journalKey, chainId: CONTEXT.chainId });
    const found = hit();
    await hits.keep(found);
    const forged = sealDelisting({ reason: "appeal_upheld", delistedAtSec: NOW }, bytes(32), CONTEXT, found.tag);
    expect(await hits.applyRemovals({ providerAddress: PROVIDER, categoryId: 2, keyEpoch: 1, removes: [hex(found.tag)], notices: new Map([[hex(found.tag), notice(found)]]) }, 1)).to.deep.equal([]);
    expect(await hits.applyRemovals({ providerAddress: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", categoryId: 1, keyEpoch: 1, removes: [hex(found.tag)], notices: new Map([[hex(found.tag), notice(found)]]) }, 1)).to.deep.equal([]);
    expect(hits.count()).to.equal(1);
    expect(await hits.applyRemovals({ providerAddress: PROVIDER, categoryId: 1, keyEpoch: 1, removes: [hex(found.tag)], notices: new Map([[hex(found.tag), forged]]) }, 1)).to.deep.equal([]);
    expect(await hits.changes(0)).to.deep.equal([]);
  });

  it("drop the hits of a provider's old key epoch once a state of a new epoch is taken, and those past retention", async () => {
    const hits = store.keptHits({ key: journalKey, chainId: CONTEXT.chainId });
    const old = hit({ keyEpoch: 1 });
    const recent = hit({ keyEpoch: 2, keptAtMs: (NOW + 86_400) * 1000 });
    await hits.keep(old);
    await hits.keep(recent);
    await hits.applyRemovals({ providerAddress: PROVIDER, categoryId: 1, keyEpoch: 2, removes: [], notices: new Map() }, 1);
    expect(hits.count()).to.equal(1);
    expect(await hits.applyRemovals({ providerAddress: PROVIDER, categoryId: 1, keyEpoch: 1, removes: [hex(old.tag)], notices: new Map([[hex(old.tag), notice(old)]]) }, 1)).to.deep.equal([]);
    expect(await hits.sweep((NOW + 86_400) * 1000 + 1)).to.equal(1);
    expect(hits.count()).to.equal(0);
    expect(await store.keptHits({ key: journalKey, chainId: CONTEXT.chainId }).load()).to.equal(0);
  });
});
