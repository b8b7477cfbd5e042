import { expect } from "chai";
import { ReciprocityGate, SavedUsage, UsageTracker, USAGE_KEY, type PolicyCategory, type UsageRecord } from "../../node/policy/index.ts";

const NOW = 1_700_000_000;
const DAY = 86_400;
const QUERIER = "0x00000000000000000000000000000000000000aa";
/** minEntries 10, a day's freshness, 2 queries a day plus nothing per entry. */
const POLICY = { minEntries: 10n, maxSnapshotAgeSeconds: BigInt(DAY), quotaBase: 2n, quotaRatioBps: 0n };

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
});
