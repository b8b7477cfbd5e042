import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { Level } from "level";
import { isRiskshareError } from "../../node/errors.ts";
import { normalise } from "../../node/identity/index.ts";
import { silentLogger } from "../../node/logger.ts";
import {
  Bucket,
  SCHEMA_VERSION,
  Store,
  buildTagFilter,
  decodeEntryValue,
  encodeEntryKey,
  encodeEntryValue,
  exportEntries,
  publishSnapshots,
  type AuditRecord,
  type EntryInput,
  type EntryKey,
  type RiskLevel,
} from "../../node/store/index.ts";
import { filterCommitment } from "../../node/chain/index.ts";
import { FIXTURE_BINDING, FIXTURE_CATEGORIES, fixtureEvaluator } from "../fixtures/riskList.ts";

const NOW = 1_750_000_000; // 2025-06-15, unix seconds
const DAY = 86_400;
const evaluator = await fixtureEvaluator();

/** The fixture provider's keys of a raw identifier. */
function keysOf(type: string, raw: string): { entryId: Uint8Array; tag: Uint8Array; metadataKey: Uint8Array } {
  const { entryId, tag, metadataKey } = evaluator.keysOf(type, normalise(type, raw, { defaultRegion: "CN" }));
  return { entryId, tag, metadataKey };
}

/** The entry key of a raw identifier. */
function key(type: string, raw: string): EntryKey {
  return { type, entryId: keysOf(type, raw).entryId };
}

/** An entry with sensible defaults. */
function entry(type: string, raw: string, fields: Partial<EntryInput> = {}): EntryInput {
  return { type, ...keysOf(type, raw), categoryId: 1, level: 3, reason: "R01", reportedAtSec: NOW - DAY, ...fields };
}

/** Captures a thrown RiskshareError (or fails). */
async function rejection(promise: Promise<unknown>): Promise<Error & { code: string; meta: Record<string, unknown> }> {
  try {
    await promise;
  } catch (err) {
    if (isRiskshareError(err)) return err as never;
    throw err;
  }
  expect.fail("expected a RiskshareError");
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe("store", () => {
  let root: string;
  let created = 0;
  const opened: Store[] = [];

  /** A fresh open store in its own directory (closed in afterEach). */
  async function freshStore(name = `store-${created++}`, clock?: () => number): Promise<Store> {
    const store = new Store({ location: join(root, name), categories: FIXTURE_CATEGORIES, binding: FIXTURE_BINDING }, { logger: silentLogger(), clock });
    await store.open();
    opened.push(store);
    return store;
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "riskshare-store-"));
  });
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describe("upsert", () => {
    it("reports each entry as added, updated or unchanged", async () => {
      const store = await freshStore();
      const first = await store.upsert([entry("phone", "13800138000"), entry("email", "a@example.com")], { nowSec: NOW });
      expect(first).to.deep.include({ added: 2, updated: 0, unchanged: 0 });
      const second = await store.upsert([entry("phone", "+86 138 0013 8000"), entry("email", "a@example.com", { level: 5 })], { nowSec: NOW });
      expect(second.outcomes).to.deep.equal(["unchanged", "updated"]);
      expect(store.countPerCategory()).to.deep.equal(new Map([[1, 2]]));
    });

    it("applies repeated keys within one call in order: the last one wins", async () => {
      const store = await freshStore();
      const result = await store.upsert([
        entry("phone", "13800138000"), entry("phone", "13800138000"), entry("phone", "13800138000", { categoryId: 2 }),
      ], { nowSec: NOW });
      expect(result.outcomes).to.deep.equal(["added", "unchanged", "updated"]);
      expect(store.countPerCategory()).to.deep.equal(new Map([[2, 1]]));
      expect((await store.verify()).ok).to.equal(true);
    });

    it("answers a large call in input order, with repeats and near-equal keys, as one-by-one upserts would", async () => {
      // Keys that share their first bytes, repeat within the call, or are already stored: the
      // store probes them in key order, and must still apply them in input order.
      const hashOf = (n: number): Uint8Array => {
        const hash = new Uint8Array(32);
        hash[0] = n % 3; // many equal heads…
        hash[31] = n; // …told apart only by the last byte
        hash[7] = n >> 8;
        return hash;
      };
      const types = ["phone", "email", "device_id"];
      const drawn = fc.sample(fc.record({ n: fc.nat(60), type: fc.nat(2), categoryId: fc.integer({ min: 1, max: 3 }), level: fc.integer({ min: 1, max: 5 }) }), { seed: 7, numRuns: 400 });
      const entries: EntryInput[] = drawn.map((d) => ({
        type: types[d.type]!, entryId: hashOf(d.n), tag: hashOf(d.n).subarray(24), metadataKey: hashOf(d.n), categoryId: d.categoryId, level: d.level as RiskLevel, reason: "R01", reportedAtSec: NOW - DAY,
      }));
      const batched = await freshStore();
      const single = await freshStore();
      await batched.upsert(entries.slice(0, 50), { nowSec: NOW });
      for (const e of entries.slice(0, 50)) await single.upsert([e], { nowSec: NOW });
      const result = await batched.upsert(entries.slice(50), { nowSec: NOW });
      const expected: string[] = [];
      for (const e of entries.slice(50)) expected.push(...(await single.upsert([e], { nowSec: NOW })).outcomes);
      expect(result.outcomes).to.deep.equal(expected);
      expect(batched.countPerCategory()).to.deep.equal(single.countPerCategory());
      expect(await collect(batched.entries())).to.deep.equal(await collect(single.entries()));
      expect((await batched.verify()).ok).to.equal(true);
    });

    it("answers with a presence filter as without one, reading only keys the filter cannot rule out", async () => {
      // Same near-equal keys as above; the filter is built over the stored ones, then follows every add.
      const hashOf = (n: number): Uint8Array => {
        const hash = new Uint8Array(32);
        hash[0] = n % 3;
        hash[31] = n;
        hash[7] = n >> 8;
        return hash;
      };
      const types = ["phone", "email", "device_id"];
      const drawn = fc.sample(fc.record({ n: fc.nat(300), type: fc.nat(2), categoryId: fc.integer({ min: 1, max: 3 }) }), { seed: 11, numRuns: 1200 });
      const entries: EntryInput[] = drawn.map((d) => ({ type: types[d.type]!, entryId: hashOf(d.n), tag: hashOf(d.n).subarray(24), metadataKey: hashOf(d.n), categoryId: d.categoryId, level: 3, reason: "R01", reportedAtSec: NOW - DAY }));
      const filtered = await freshStore();
      const plain = await freshStore();
      for (const store of [filtered, plain]) await store.upsert(entries.slice(0, 100), { nowSec: NOW });
      await plain.remove({ type: entries[0]!.type, entryId: entries[0]!.entryId }, { reason: "test", nowSec: NOW });
      await filtered.remove({ type: entries[0]!.type, entryId: entries[0]!.entryId }, { reason: "test", nowSec: NOW });
      const tracking = await filtered.trackPresence(1000);
      const stored = new Set((await collect(plain.entries())).map((e) => `${e.type}/${Buffer.from(e.entryId).toString("hex")}`));
      let neverStoredBefore = 0;
      for (let at = 100; at < entries.length; at += 250) {
        const call = entries.slice(at, at + 250);
        const seen = new Set<string>();
        for (const e of call) {
          const id = `${e.type}/${Buffer.from(e.entryId).toString("hex")}`;
          if (!stored.has(id)) neverStoredBefore++;
          seen.add(id);
        }
        const [a, b] = [await filtered.upsert(call, { nowSec: NOW }), await plain.upsert(call, { nowSec: NOW })];
        expect(a.outcomes, `call at ${at}`).to.deep.equal(b.outcomes);
        for (const id of seen) stored.add(id);
      }
      expect(await collect(filtered.entries())).to.deep.equal(await collect(plain.entries()));
      expect(filtered.countPerCategory()).to.deep.equal(plain.countPerCategory());
      const { readsSkipped } = tracking.release();
      // Only keys absent from the store when their call began may go unread.
      expect(readsSkipped).to.be.greaterThan(0);
      expect(readsSkipped).to.be.at.most(neverStoredBefore);
      expect(tracking.release().readsSkipped, "a second release is a no-op").to.equal(0);
      expect((await filtered.verify()).ok).to.equal(true);
    });

    it("keeps added-at when an entry is updated, and moves it between categories", async () => {
      const store = await freshStore();
      await store.upsert([entry("phone", "13800138000")], { nowSec: NOW });
      await store.upsert([entry("phone", "13800138000", { categoryId: 3, level: 1, ownRef: "case-9" })], { nowSec: NOW + 100 });
      const answer = await store.checkOne(key("phone", "13800138000"), NOW + 200);
      if (!answer.hit) expect.fail("expected a hit");
      expect(answer.entry).to.deep.include({ categoryId: 3, level: 1, ownRef: "case-9", addedAtSec: NOW });
      expect(store.countPerCategory()).to.deep.equal(new Map([[3, 1]]));
    });

    it("refuses an invalid entry by field and index, writing none of the call's entries", async () => {
      const store = await freshStore();
      const cases: Array<[Partial<EntryInput>, string, string]> = [
        [{ level: 6 as RiskLevel }, "level", "out_of_range"],
        [{ reason: "has space" }, "reason", "characters"],
        [{ reason: "" }, "reason", "missing"],
        [{ reportedAtSec: NOW + 2 * DAY }, "reportedAtSec", "future"],
        [{ expiresAtSec: NOW - 2 * DAY }, "expiresAtSec", "before_reported"],
        [{ expiresAtSec: NOW }, "expiresAtSec", "expired"],
        [{ ownRef: "x".repeat(129) }, "ownRef", "too_long"],
        [{ ownRef: "tab\there" }, "ownRef", "characters"],
        [{ entryId: new Uint8Array(31) }, "entryId", "bad_key"],
        [{ tag: new Uint8Array(7) }, "tag", "bad_key"],
      ];
      for (const [fields, field, reason] of cases) {
        const err = await rejection(store.upsert([entry("email", "ok@example.com"), entry("phone", "13800138000", fields)], { nowSec: NOW }));
        expect(err.code, field).to.equal("E_ENTRY_INVALID");
        expect(err.meta, field).to.deep.include({ field, reason, index: 1 });
      }
      expect((await rejection(store.upsert([entry("phone", "13800138000", { categoryId: 9 })], { nowSec: NOW }))).code).to.equal("E_CATEGORY_UNKNOWN");
      expect((await rejection(store.upsert([{ ...entry("phone", "13800138000"), type: "passport" }], { nowSec: NOW }))).code).to.equal("E_IDENTIFIER_TYPE");
      expect(store.countPerCategory().size, "nothing was written").to.equal(0);
    });
  });

  describe("remove (delist)", () => {
    it("removes the entry, updates counts and records type, tag, category and reason in the audit trail", async () => {
      const store = await freshStore();
      await store.upsert([entry("phone", "13800138000", { categoryId: 2 }), entry("email", "a@example.com")], { nowSec: NOW });
      const removed = await store.remove(key("phone", "13800138000"), { reason: "appeal_upheld", nowSec: NOW + 10 });
      expect(removed).to.deep.equal({ removed: true, categoryId: 2 });
      expect(await store.checkOne(key("phone", "13800138000"), NOW + 10)).to.deep.equal({ hit: false });
      expect(store.countPerCategory()).to.deep.equal(new Map([[1, 1]]));
      const trail: AuditRecord[] = await collect(store.auditTrail());
      expect(trail).to.have.length(1);
      expect(trail[0]).to.deep.include({
        action: "delist", atSec: NOW + 10, type: "phone", categoryId: 2, reason: "appeal_upheld",
        tag: Buffer.from(keysOf("phone", "13800138000").tag).toString("hex"),
      });
    });

    it("changes and records nothing for an absent entry", async () => {
      const store = await freshStore();
      expect(await store.remove(key("phone", "13800138000"), { reason: "appeal_upheld" })).to.deep.equal({ removed: false });
      expect(await collect(store.auditTrail())).to.deep.equal([]);
    });

    it("requires a reason code", async () => {
      const store = await freshStore();
      expect((await rejection(store.remove(key("phone", "13800138000"), { reason: "" }))).meta).to.deep.include({ field: "reason", reason: "missing" });
    });

    it("keeps audit keys unique and ordered across restarts", async () => {
      const location = join(root, "audit-restart");
      const clock = () => NOW * 1000; // same millisecond every time
      for (let round = 0; round < 2; round++) {
        const store = new Store({ location, categories: FIXTURE_CATEGORIES, binding: FIXTURE_BINDING }, { logger: silentLogger(), clock });
        await store.open();
        await store.upsert([entry("phone", "13800138000"), entry("phone", "13900139000")], { nowSec: NOW });
        await store.remove(key("phone", "13800138000"), { reason: `round${round}` });
        await store.remove(key("phone", "13900139000"), { reason: `round${round}` });
        await store.close();
      }
      const store = new Store({ location, categories: FIXTURE_CATEGORIES }, { logger: silentLogger() });
      await store.open();
      opened.push(store);
      const reasons = (await collect(store.auditTrail())).map((r) => (r.action === "delist" ? r.reason : r.action));
      expect(reasons).to.deep.equal(["round0", "round0", "round1", "round1"]);
    });
  });

  describe("checkOne and checkMany", () => {
    it("answers hit or miss per item, in input order, with the stored fields", async () => {
      const store = await freshStore();
      await store.upsert([
        entry("phone", "13800138000", { level: 4, reason: "R07", ownRef: "case-1", expiresAtSec: NOW + DAY }),
        entry("bank_card", "4111 1111 1111 1111", { categoryId: 3 }),
      ], { nowSec: NOW });
      const answers = await store.checkMany([key("email", "nobody@example.com"), key("phone", "138-0013-8000"), key("bank_card", "4111111111111111")], NOW);
      expect(answers.map((a) => a.hit)).to.deep.equal([false, true, true]);
      expect(answers[1]).to.deep.equal({
        hit: true,
        entry: {
          type: "phone", ...keysOf("phone", "13800138000"), categoryId: 1, level: 4, reason: "R07", reportedAtSec: NOW - DAY,
          expiresAtSec: NOW + DAY, ownRef: "case-1", addedAtSec: NOW, version: 1,
        },
      });
      expect(await store.checkMany([], NOW)).to.deep.equal([]);
    });

    it("does not tell types apart by hash alone: the same hash under another type misses", async () => {
      const store = await freshStore();
      const phone = key("phone", "13800138000");
      await store.upsert([{ ...entry("phone", "13800138000"), ...phone }], { nowSec: NOW });
      expect((await store.checkOne({ type: "account", entryId: phone.entryId }, NOW)).hit).to.equal(false);
    });
  });

  describe("expiry", () => {
    it("stops answering at expires-at, before any sweep", async () => {
      const store = await freshStore();
      await store.upsert([entry("phone", "13800138000", { expiresAtSec: NOW + 100 })], { nowSec: NOW });
      expect((await store.checkOne(key("phone", "13800138000"), NOW + 99)).hit).to.equal(true);
      expect((await store.checkOne(key("phone", "13800138000"), NOW + 100)).hit).to.equal(false);
      expect(store.countPerCategory(), "still stored until swept").to.deep.equal(new Map([[1, 1]]));
      expect((await store.stats(NOW + 100)).expiredAwaitingSweep).to.equal(1);
    });

    it("is purged by a sweep that updates counts and appends one audit record per chunk", async () => {
      const store = await freshStore();
      await store.upsert([
        entry("phone", "13800138000", { expiresAtSec: NOW + 100 }),
        entry("phone", "13900139000", { expiresAtSec: NOW + 100, categoryId: 2 }),
        entry("phone", "13700137000", { expiresAtSec: NOW + 500 }),
        entry("phone", "13600136000"),
      ], { nowSec: NOW });
      const swept = await store.sweep(NOW + 100);
      expect(swept.purged).to.equal(2);
      expect(swept.perCategory).to.deep.equal(new Map([[1, 1], [2, 1]]));
      expect(store.countPerCategory()).to.deep.equal(new Map([[1, 2]]));
      expect((await store.verify()).ok).to.equal(true);
      const trail = await collect(store.auditTrail());
      expect(trail).to.have.length(1);
      expect(trail[0]).to.deep.include({ action: "sweep", atSec: NOW + 100, purged: 2, perCategory: { 1: 1, 2: 1 } });
      expect((await store.sweep(NOW + 100)).purged, "nothing left to purge").to.equal(0);
      expect(await collect(store.auditTrail()), "a no-op sweep records nothing").to.have.length(1);
    });

    it("follows an updated expiry (extended or removed)", async () => {
      const store = await freshStore();
      await store.upsert([entry("phone", "13800138000", { expiresAtSec: NOW + 100 }), entry("email", "a@example.com", { expiresAtSec: NOW + 100 })], { nowSec: NOW });
      await store.upsert([entry("phone", "13800138000", { expiresAtSec: NOW + 1000 }), entry("email", "a@example.com")], { nowSec: NOW });
      expect((await store.sweep(NOW + 500)).purged).to.equal(0);
      expect((await store.checkOne(key("phone", "13800138000"), NOW + 500)).hit).to.equal(true);
      expect((await store.sweep(NOW + 1000)).purged).to.equal(1);
      expect((await store.verify()).ok).to.equal(true);
    });

    it("sweeps in chunks when many entries expire", async () => {
      const location = join(root, "sweep-chunks");
      const store = new Store({ location, categories: FIXTURE_CATEGORIES, binding: FIXTURE_BINDING, sweepBatchSize: 7 }, { logger: silentLogger() });
      await store.open();
      opened.push(store);
      const entries = Array.from({ length: 30 }, (_, i) => entry("device_id", `dev-${i}`, { expiresAtSec: NOW + 10 + (i % 3), categoryId: 1 + (i % 3) }));
      await store.upsert(entries, { nowSec: NOW });
      expect((await store.sweep(NOW + 20)).purged).to.equal(30);
      expect(store.countPerCategory().size).to.equal(0);
      expect(await collect(store.auditTrail())).to.have.length(5); // ceil(30 / 7) chunks
    });
  });

  describe("consistency", () => {
    /** One step of a random history over a small key space. */
    const step = fc.oneof(
      fc.record({ op: fc.constant("upsert" as const), ids: fc.array(fc.nat(11), { minLength: 1, maxLength: 6 }), categoryId: fc.integer({ min: 1, max: 3 }), level: fc.integer({ min: 1, max: 5 }), ttl: fc.option(fc.integer({ min: 1, max: 50 })) }),
      fc.record({ op: fc.constant("remove" as const), id: fc.nat(11) }),
      fc.record({ op: fc.constant("sweep" as const), advanceSec: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ op: fc.constant("trackPresence" as const) }),
    );

    it("keeps counts equal to the entries of each category through any history", async () => {
      let run = 0;
      await fc.assert(fc.asyncProperty(fc.array(step, { maxLength: 12 }), async (steps) => {
        const store = await freshStore(`history-${run++}`);
        const model = new Map<number, { categoryId: number; expiresAtSec: number | undefined }>();
        let now = NOW;
        try {
          for (const s of steps) {
            if (s.op === "upsert") {
              const expiresAtSec = s.ttl === null ? undefined : now + s.ttl;
              await store.upsert(s.ids.map((id) => entry("device_id", `d${id}`, { categoryId: s.categoryId, level: s.level as RiskLevel, expiresAtSec })), { nowSec: now });
              for (const id of s.ids) model.set(id, { categoryId: s.categoryId, expiresAtSec });
            } else if (s.op === "remove") {
              await store.remove(key("device_id", `d${s.id}`), { reason: "test", nowSec: now });
              model.delete(s.id);
            } else if (s.op === "trackPresence") {
              await store.trackPresence(16); // upserts after it skip reads the filter rules out
            } else {
              now += s.advanceSec;
              await store.sweep(now);
              for (const [id, e] of model) if (e.expiresAtSec !== undefined && e.expiresAtSec <= now) model.delete(id);
            }
            const expected = new Map<number, number>();
            for (const e of model.values()) expected.set(e.categoryId, (expected.get(e.categoryId) ?? 0) + 1);
            expect(store.countPerCategory(), `after ${s.op}`).to.deep.equal(expected);
            const report = await store.verify();
            expect(report.problems, `after ${s.op}`).to.deep.equal([]);
          }
        } finally {
          await store.close();
        }
      }), { numRuns: 25 });
    });
  });

  describe("contribution snapshot", () => {
    it("is the same for the same live entries inserted in any order, in any batches", async () => {
      let run = 0;
      await fc.assert(fc.asyncProperty(
        fc.uniqueArray(fc.record({ id: fc.nat(1000), categoryId: fc.integer({ min: 1, max: 2 }), expiring: fc.boolean() }), { selector: (e) => e.id, maxLength: 40 }),
        fc.func(fc.integer()),
        fc.integer({ min: 1, max: 5 }),
        async (items, order, chunk) => {
          const toEntry = (e: (typeof items)[number]) => entry(e.id % 2 ? "phone" : "email", e.id % 2 ? `1380013${String(e.id).padStart(4, "0")}` : `u${e.id}@example.com`, { categoryId: e.categoryId, expiresAtSec: e.expiring ? NOW + 50 : undefined });
          const shuffled = [...items].sort((a, b) => order(a.id) - order(b.id) || a.id - b.id);
          const a = await freshStore(`digest-a-${run}`);
          const b = await freshStore(`digest-b-${run++}`);
          await a.upsert(items.map(toEntry), { nowSec: NOW });
          for (let i = 0; i < shuffled.length; i += chunk) await b.upsert(shuffled.slice(i, i + chunk).map(toEntry), { nowSec: NOW });
          for (const at of [NOW, NOW + 50]) {
            const snapA = await a.snapshot(1, at);
            expect(await b.snapshot(1, at), `at ${at}`).to.deep.equal(snapA);
            const live = items.filter((e) => e.categoryId === 1 && (!e.expiring || NOW + 50 > at)).map(toEntry);
            const tags = new Uint8Array(live.length * 8);
            live.forEach((e, i) => tags.set(e.tag, i * 8));
            const expected = buildTagFilter(tags);
            const filterHash = expected.count === 0 ? `0x${"0".repeat(64)}` : filterCommitment(expected.bytes);
            expect(snapA, `pure filter at ${at}`).to.deep.include({ liveCount: expected.count, filterHash, keyEpoch: 1 });
          }
          await a.close();
          await b.close();
        },
      ), { numRuns: 20 });
    });

    it("changes when the live set changes and leaves expired entries out", async () => {
      const store = await freshStore();
      const empty = await store.snapshot(1, NOW);
      expect(empty.liveCount).to.equal(0);
      expect(empty.filterHash, "an empty list publishes the zero hash, as the ContributionRegistry requires").to.equal(`0x${"0".repeat(64)}`);
      await store.upsert([entry("phone", "13800138000"), entry("phone", "13900139000", { expiresAtSec: NOW + 10 })], { nowSec: NOW });
      const two = await store.snapshot(1, NOW);
      const one = await store.snapshot(1, NOW + 10);
      expect([two.liveCount, one.liveCount]).to.deep.equal([2, 1]);
      expect(new Set([empty.filterHash, two.filterHash, one.filterHash]).size).to.equal(3);
      await store.sweep(NOW + 10);
      expect(await store.snapshot(1, NOW + 10)).to.deep.equal(one);
      expect(one.filterHash).to.match(/^0x[0-9a-f]{64}$/);
    });

    it("is published per category through the publisher", async () => {
      const store = await freshStore();
      await store.upsert([entry("phone", "13800138000"), entry("email", "a@example.com", { categoryId: 2 })], { nowSec: NOW });
      const sent: Array<[number, number, number, string]> = [];
      const publisher = { publish: async (categoryId: number, keyEpoch: number, liveCount: number, filterHash: string) => (sent.push([categoryId, keyEpoch, liveCount, filterHash]), `0xtx${categoryId}`) };
      const published = await publishSnapshots(store, publisher, [1, 2, 3], NOW);
      expect(sent.map(([c, e, n]) => [c, e, n])).to.deep.equal([[1, 1, 1], [2, 1, 1], [3, 1, 0]]);
      expect(published.map((p) => p.txHash)).to.deep.equal(["0xtx1", "0xtx2", "0xtx3"]);
      expect(published[0]!.filterHash).to.equal((await store.snapshot(1, NOW)).filterHash);
    });
  });

  describe("export", () => {
    it("writes tags and metadata, never the raw identifiers, entry ids or metadata keys, as CSV or JSON Lines", async () => {
      const store = await freshStore();
      await store.upsert([
        entry("phone", "13800138000", { ownRef: 'case "7", part 2', expiresAtSec: NOW + DAY }),
        entry("email", "alice@example.com", { categoryId: 2 }),
        entry("device_id", "dev-gone", { expiresAtSec: NOW + 5 }),
      ], { nowSec: NOW });
      const csv = (await collect(exportEntries(store, { format: "csv", nowSec: NOW + 10 }))).join("");
      const lines = csv.trimEnd().split("\n");
      expect(lines[0]).to.equal("type,tag,category,level,reason,reported_at,expires_at,ref,added_at,version");
      expect(lines).to.have.length(3); // the expired device is left out
      const phone = keysOf("phone", "13800138000");
      const phoneTag = Buffer.from(phone.tag).toString("hex");
      expect(lines).to.include(`phone,${phoneTag},fraud_confirmed,3,R01,${NOW - DAY},${NOW + DAY},"case ""7"", part 2",${NOW},1`);
      for (const raw of ["13800138000", "+8613800138000", "alice@example.com", "dev-gone"]) expect(csv).not.to.contain(raw);
      for (const secret of [phone.entryId, phone.metadataKey]) expect(csv).not.to.contain(Buffer.from(secret).toString("hex"));

      const jsonl = (await collect(exportEntries(store, { format: "jsonl", includeExpired: true, categoryId: 2, nowSec: NOW + 10 }))).join("");
      const rows = jsonl.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(rows).to.deep.equal([{
        type: "email", tag: Buffer.from(keysOf("email", "alice@example.com").tag).toString("hex"), category: "fraud_suspected", level: 3,
        reason: "R01", reported_at: NOW - DAY, expires_at: null, ref: null, added_at: NOW, version: 1,
      }]);
    });
  });

  describe("lifecycle", () => {
    it("refuses to open a store written with another schema version", async () => {
      const location = join(root, "schema");
      const store = new Store({ location, categories: FIXTURE_CATEGORIES }, { logger: silentLogger() });
      await store.open();
      await store.close();
      const raw = new Level<string, unknown>(location, { valueEncoding: "json" });
      await raw.sublevel<string, unknown>(Bucket.meta, { valueEncoding: "json" }).put("schemaVersion", SCHEMA_VERSION + 1);
      await raw.close();
      const err = await rejection(new Store({ location, categories: FIXTURE_CATEGORIES }, { logger: silentLogger() }).open());
      expect(err.code).to.equal("E_STORE_SCHEMA");
      expect(err.meta).to.deep.equal({ found: SCHEMA_VERSION + 1, expected: SCHEMA_VERSION });
    });

    it("refuses a non-empty database without a schema version", async () => {
      const location = join(root, "foreign");
      const raw = new Level(location);
      await raw.put("something", "else");
      await raw.close();
      expect((await rejection(new Store({ location, categories: FIXTURE_CATEGORIES }, { logger: silentLogger() }).open())).code).to.equal("E_STORE_SCHEMA");
    });

    it("refuses another key epoch, provider or chain than the one its entry keys were made under", async () => {
      const location = join(root, "epoch");
      const store = new Store({ location, categories: FIXTURE_CATEGORIES, binding: FIXTURE_BINDING }, { logger: silentLogger() });
      await store.open();
      await store.close();
      const same = new Store({ location, categories: FIXTURE_CATEGORIES, binding: { ...FIXTURE_BINDING, providerAddress: FIXTURE_BINDING.providerAddress.toLowerCase() } }, { logger: silentLogger() });
      await same.open();
      await same.close();
      for (const other of [{ keyEpoch: 2 }, { providerAddress: `0x${"1".repeat(40)}` }, { chainId: 1n }]) {
        const err = await rejection(new Store({ location, categories: FIXTURE_CATEGORIES, binding: { ...FIXTURE_BINDING, ...other } }, { logger: silentLogger() }).open());
        expect(err.code, JSON.stringify(Object.keys(other))).to.equal("E_STORE_EPOCH");
      }
    });

    it("refuses a pepper-era store with E_STORE_FORMAT and tells the user to re-import", async () => {
      for (const [name, meta] of [["pepper-v1", { schemaVersion: 1, pepperEpoch: 1 }], ["pepper-epoch-only", { schemaVersion: SCHEMA_VERSION, pepperEpoch: 3 }]] as const) {
        const location = join(root, name);
        const raw = new Level<string, unknown>(location, { valueEncoding: "json" });
        const metaLevel = raw.sublevel<string, unknown>(Bucket.meta, { valueEncoding: "json" });
        for (const [k, v] of Object.entries(meta)) await metaLevel.put(k, v);
        await raw.close();
        const err = await rejection(new Store({ location, categories: FIXTURE_CATEGORIES, binding: FIXTURE_BINDING }, { logger: silentLogger() }).open());
        expect(err.code, name).to.equal("E_STORE_FORMAT");
        expect(err.message, name).to.equal("this store holds pepper hashes from an older riskshare; move it aside and re-import your lists (riskshare list import)");
      }
    });

    it("refuses writes until a key binding is recorded", async () => {
      const store = new Store({ location: join(root, "no-epoch"), categories: FIXTURE_CATEGORIES }, { logger: silentLogger() });
      await store.open();
      opened.push(store);
      expect((await rejection(store.upsert([entry("phone", "13800138000")], { nowSec: NOW }))).code).to.equal("E_STORE_EPOCH");
      await store.bindKeys(FIXTURE_BINDING);
      expect((await store.upsert([entry("phone", "13800138000")], { nowSec: NOW })).added).to.equal(1);
    });

    it("reports a store held by another process or instance as in use", async () => {
      const first = await freshStore("locked");
      const second = new Store({ location: join(root, "locked"), categories: FIXTURE_CATEGORIES }, { logger: silentLogger() });
      const err = await rejection(second.open());
      expect(err.code).to.equal("E_STORE_CLOSED");
      expect(err.meta).to.deep.equal({ locked: true });
      expect(first.isOpen).to.equal(true);
    });

    it("closes idempotently and refuses use after close", async () => {
      const store = await freshStore();
      const pending = store.upsert([entry("phone", "13800138000")], { nowSec: NOW });
      await Promise.all([store.close(), store.close()]);
      expect((await pending).added, "a queued write completes before close").to.equal(1);
      await store.close();
      expect((await rejection(store.checkOne(key("phone", "13800138000")))).code).to.equal("E_STORE_CLOSED");
      expect(() => store.countPerCategory()).to.throw().that.satisfies((err: unknown) => isRiskshareError(err, "E_STORE_CLOSED"));
    });

    it("keeps counts across reopening", async () => {
      const location = join(root, "reopen");
      const store = new Store({ location, categories: FIXTURE_CATEGORIES, binding: FIXTURE_BINDING }, { logger: silentLogger() });
      await store.open();
      await store.upsert([entry("phone", "13800138000"), entry("email", "a@example.com", { categoryId: 3 })], { nowSec: NOW });
      await store.close();
      const again = new Store({ location, categories: FIXTURE_CATEGORIES }, { logger: silentLogger() });
      await again.open();
      opened.push(again);
      expect(again.countPerCategory()).to.deep.equal(new Map([[1, 1], [3, 1]]));
      expect(again.binding).to.deep.equal({ ...FIXTURE_BINDING, providerAddress: FIXTURE_BINDING.providerAddress.toLowerCase() });
      expect(await again.stats(NOW)).to.deep.include({ schemaVersion: SCHEMA_VERSION, entries: 2, expiredAwaitingSweep: 0 });
      expect((await again.stats(NOW)).binding?.keyEpoch).to.equal(1);
    });
  });
});

describe("entry value encoding", () => {
  const keys = { tag: new Uint8Array(8).fill(0xab), metadataKey: Uint8Array.from({ length: 32 }, (_, i) => i) };
  const cases = [
    { ...keys, version: 1, categoryId: 1, level: 1 as RiskLevel, reason: "R", reportedAtSec: 0, addedAtSec: 0, expiresAtSec: undefined, ownRef: undefined },
    { ...keys, version: 2 ** 32 - 1, categoryId: 63, level: 5 as RiskLevel, reason: "x".repeat(32), reportedAtSec: 2 ** 48 - 1, addedAtSec: NOW, expiresAtSec: 2 ** 48 - 1, ownRef: "案件-7 ✓ 🚀".repeat(10) },
    { ...keys, version: 7, categoryId: 7, level: 3 as RiskLevel, reason: "chargeback", reportedAtSec: NOW, addedAtSec: NOW, expiresAtSec: NOW + 1, ownRef: "c" },
  ];
  for (const fields of cases) {
    it(`round-trips category ${fields.categoryId}, ${fields.expiresAtSec === undefined ? "no expiry" : "expiry"}, ${fields.ownRef === undefined ? "no ref" : "a ref"}`, () => {
      expect(decodeEntryValue(encodeEntryValue(fields))).to.deep.equal(fields);
    });
  }

  it("stores an empty reference as none, so it compares unchanged", () => {
    const base = cases[2]!;
    expect(encodeEntryValue({ ...base, ownRef: "" })).to.deep.equal(encodeEntryValue({ ...base, ownRef: undefined }));
  });

  it("refuses a value format it does not know", () => {
    const value = encodeEntryValue(cases[0]!);
    value[0] = 1; // the pepper era's format
    expect(() => decodeEntryValue(value)).to.throw(/format 1/);
  });
});
