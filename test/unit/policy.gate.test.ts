import { expect } from "chai";
import { ReciprocityGate, SavedUsage, UsageTracker, USAGE_KEY, type PolicyCategory, type UsageRecord } from "../../node/policy/index.ts";

const NOW = 1_700_000_000;
const DAY = 86_400;
const QUERIER = "0x00000000000000000000000000000000000000aa";
/** minEntries 10, a day's freshness, 2 queries a day plus nothing per entry. */
const POLICY = { minEntries: 10n, maxSnapshotAgeSeconds: BigInt(DAY), quotaBase: 2n, quotaRatioBps: 0n, quotaCeiling: 2n };

/** Categories 1 (fraud) and 2 (mules) active, 3 retired; the querier contributes to 1 only. */
function gate(over: { contributions?: Record<number, { liveCount: bigint; publishedAt: number }> } = {}) {
  const categories: PolicyCategory[] = [
    { id: 1, active: true, policy: POLICY },
    { id: 2, active: true, policy: POLICY },
    { id: 3, active: false, policy: POLICY },
  ];
  const contributions = over.contributions ?? { 1: { liveCount: 50n, publishedAt: NOW - 60 } };
  const usage = new UsageTracker();
  const view = {
    category: (id: number) => categories.find((c) => c.id === id),
    categories: () => categories,
    contribution: (address: string, id: number) => (address === QUERIER ? contributions[id] : undefined),
  };
  return { gate: new ReciprocityGate({ view, usage }), usage };
}

describe("policy: the reciprocity gate", () => {
  it("allows a contributor its category and counts each allowed query against the quota", () => {
    const { gate: g, usage } = gate();
    expect(g.decide(QUERIER, [1], NOW).allowed).to.equal(true);
    expect(usage.usage(QUERIER, 1, NOW)).to.equal(1);
    expect(g.decide(QUERIER, [1], NOW).allowed).to.equal(true);
    expect(g.decide(QUERIER, [1], NOW)).to.deep.include({ allowed: false, reason: "quota_exceeded", categoryId: 1 });
    expect(usage.usage(QUERIER, 1, NOW), "a refused query is not counted").to.equal(2);
  });

  it("refuses, and counts nothing, for each fact the rule reads from the chain", () => {
    const cases = [
      { name: "no snapshot", ids: [2], contributions: undefined, reason: "no_contribution" },
      { name: "retired category", ids: [3], contributions: undefined, reason: "category_inactive" },
      { name: "unknown category", ids: [9], contributions: undefined, reason: "category_inactive" },
      { name: "too small", ids: [1], contributions: { 1: { liveCount: 9n, publishedAt: NOW } }, reason: "contribution_too_small" },
      { name: "stale", ids: [1], contributions: { 1: { liveCount: 50n, publishedAt: NOW - DAY - 1 } }, reason: "snapshot_stale" },
    ];
    for (const { name, ids, contributions, reason } of cases) {
      const { gate: g, usage } = gate(contributions === undefined ? {} : { contributions });
      expect(g.decide(QUERIER, ids, NOW), name).to.deep.include({ allowed: false, reason });
      expect(usage.export(), `${name}: nothing counted`).to.deep.equal([]);
    }
  });

  it("counts a request's items against the quota, and refuses whole a request whose items exceed what is left", () => {
    const { gate: g, usage } = gate({ contributions: { 1: { liveCount: 50n, publishedAt: NOW - 60 } } });
    // quota 2 items a day (base 2, ratio 0)
    expect(g.decide(QUERIER, [1], NOW, 3), "3 items with 2 left").to.deep.include({ allowed: false, reason: "quota_exceeded", categoryId: 1 });
    expect(usage.usage(QUERIER, 1, NOW), "nothing counted for a refused request").to.equal(0);
    expect(g.decide(QUERIER, [1], NOW, 2)).to.deep.include({ allowed: true, quotaRemaining: 0 });
    expect(usage.usage(QUERIER, 1, NOW), "every item counted").to.equal(2);
    expect(g.decide(QUERIER, [1], NOW, 1)).to.deep.include({ allowed: false, reason: "quota_exceeded" });
  });

  it("tells the querier, before it sends anything and counting nothing, whether it may ask (mayAsk, quota aside)", () => {
    const { gate: g, usage } = gate();
    expect(g.mayAsk(QUERIER, [1], NOW).allowed).to.equal(true);
    expect(g.mayAsk(QUERIER, [1, 2], NOW), "a category it does not contribute to").to.deep.include({ allowed: false, reason: "no_contribution", categoryId: 2 });
    expect(g.mayAsk(QUERIER, [3, 2], NOW), "the lowest refused category is reported").to.deep.include({ allowed: false, reason: "no_contribution", categoryId: 2 });
    g.decide(QUERIER, [1], NOW, 2);
    expect(g.mayAsk(QUERIER, [1], NOW).allowed, "a used-up quota is the provider's to refuse").to.equal(true);
    expect(usage.usage(QUERIER, 1, NOW), "mayAsk counts nothing").to.equal(2);
  });

  it("says per category whether a member may ask at all (eligible: a filter download's gate, no quota, nothing counted)", () => {
    const cases = [
      { name: "its contributed category", id: 1, contributions: undefined, expected: { allowed: true } },
      { name: "a category it does not contribute to", id: 2, contributions: undefined, expected: { allowed: false, reason: "no_contribution", categoryId: 2 } },
      { name: "a retired category", id: 3, contributions: undefined, expected: { allowed: false, reason: "category_inactive", categoryId: 3 } },
      { name: "an unknown category", id: 9, contributions: undefined, expected: { allowed: false, reason: "category_inactive", categoryId: 9 } },
      { name: "a stale snapshot", id: 1, contributions: { 1: { liveCount: 50n, publishedAt: NOW - DAY - 1 } }, expected: { allowed: false, reason: "snapshot_stale", categoryId: 1 } },
      { name: "too small a contribution", id: 1, contributions: { 1: { liveCount: 9n, publishedAt: NOW } }, expected: { allowed: false, reason: "contribution_too_small", categoryId: 1 } },
    ];
    for (const { name, id, contributions, expected } of cases) {
      const { gate: g, usage } = gate(contributions === undefined ? {} : { contributions });
      expect(g.eligible(QUERIER, id, NOW), name).to.deep.include(expected);
      expect(usage.export(), `${name}: nothing counted`).to.deep.equal([]);
    }
    const { gate: used } = gate();
    used.decide(QUERIER, [1], NOW, 2);
    expect(used.eligible(QUERIER, 1, NOW).allowed, "a used-up quota does not stop a filter download").to.equal(true);
  });

  it("asks by default the active categories a member contributes to, or all active ones when none", () => {
    expect(gate().gate.defaultCategoryIds(QUERIER, NOW)).to.deep.equal([1]);
    expect(gate({ contributions: {} }).gate.defaultCategoryIds(QUERIER, NOW)).to.deep.equal([1, 2]);
  });
});

describe("policy: saved quota usage", () => {
  function memoryDb() {
    const map = new Map<string, UsageRecord[]>();
    return { map, get: async (key: string) => map.get(key), put: async (key: string, value: UsageRecord[]) => void map.set(key, value) };
  }

  it("brings the counters back after a restart, under the usage key", async () => {
    const db = memoryDb();
    const before = new UsageTracker();
    before.recordAll(QUERIER, [1, 2], NOW);
    await new SavedUsage({}, { db, tracker: before }).save(NOW);
    expect([...db.map.keys()]).to.deep.equal([USAGE_KEY]);

    const after = new UsageTracker();
    await new SavedUsage({}, { db, tracker: after }).load(NOW + 60);
    expect(after.usage(QUERIER, 1, NOW + 60)).to.equal(1);
    expect(after.usage(QUERIER, 2, NOW + 60)).to.equal(1);
  });

  it("starts empty when nothing was saved, and forgets what fell out of the window", async () => {
    const db = memoryDb();
    const fresh = new UsageTracker();
    await new SavedUsage({}, { db, tracker: fresh }).load(NOW);
    expect(fresh.export()).to.deep.equal([]);

    const old = new UsageTracker();
    old.recordAll(QUERIER, [1], NOW);
    await new SavedUsage({ key: "other" }, { db, tracker: old }).save(NOW + 2 * DAY);
    expect(db.map.get("other")).to.deep.equal([]);
  });
  it("counts a member's usage under its first account, so a member key rotation does not start its quota afresh", () => {
    const categories: PolicyCategory[] = [{ id: 1, active: true, policy: POLICY }];
    const moved = "0x00000000000000000000000000000000000000bb";
    const usage = new UsageTracker();
    const view = {
      category: (id: number) => categories.find((c) => c.id === id),
      categories: () => categories,
      contribution: () => ({ liveCount: 50n, publishedAt: NOW - 60 }),
      firstAccountOf: (address: string) => (address === moved ? QUERIER : address),
    };
    const g = new ReciprocityGate({ view, usage });
    expect(g.decide(QUERIER, [1], NOW, 2).allowed).to.equal(true);
    expect(g.decide(moved, [1], NOW), "the old account used the day's quota").to.deep.include({ allowed: false, reason: "quota_exceeded" });
    expect(usage.usage(moved, 1, NOW), "nothing counted under the new account itself").to.equal(0);
  });
});
