/**
 * Decay scores (node/policy/decay.ts): MISP's polynomial model per category, 20 × level at the
 * report, 0 at the end of the lifetime; and a check dropping hits below its minimum score.
 */
import { expect } from "chai";
import { mergeCheck, type ItemResult, type ProviderOutcome } from "../../node/api/index.ts";
import { DecayModels, decayScore } from "../../node/policy/index.ts";

const DAY = 86_400;

describe("decay scores", () => {
  it("scores a report 20 × its level when new, decaying to 0 at the end of its lifetime: linear at speed 1, slow then fast above, fast then slow below", () => {
    const linear = { lifetimeDays: 100, speed: 1 };
    expect([0, 25, 50, 75, 99, 100, 400].map((d) => decayScore(5, d * DAY, linear))).to.deep.equal([100, 75, 50, 25, 1, 0, 0]);
    expect([1, 2, 3, 4, 5].map((level) => decayScore(level, 0, linear))).to.deep.equal([20, 40, 60, 80, 100]);
    expect(decayScore(4, 50 * DAY, linear)).to.equal(40);
    // speed 2: 1 − √(t/T); speed 0.5: 1 − (t/T)².
    expect(decayScore(5, 25 * DAY, { lifetimeDays: 100, speed: 2 })).to.equal(50);
    expect(decayScore(5, 50 * DAY, { lifetimeDays: 100, speed: 0.5 })).to.equal(75);
    expect(decayScore(5, -3_600, linear), "a report dated a little in the future counts as new").to.equal(100);
  });

  it("uses a category's own model, and the default for the others", () => {
    const models = new DecayModels({ default: { lifetimeDays: 365, speed: 1 }, categories: { stolen_card: { lifetimeDays: 30, speed: 1 } } });
    const now = 1_750_000_000;
    expect(models.score("stolen_card", 5, now - 15 * DAY, now)).to.equal(50);
    expect(models.score("fraud_confirmed", 5, now - 15 * DAY, now)).to.equal(96);
  });

  it("drops hits below a check's minimum score: an item whose every hit is dropped is a miss", () => {
    const now = 1_750_000_000;
    const models = new DecayModels({ default: { lifetimeDays: 100, speed: 1 } });
    const fresh: ItemResult = { hit: true, category: 1, level: 5, reason: "R1", reportedAt: now - 10 * DAY };
    const stale: ItemResult = { hit: true, category: 1, level: 5, reason: "R2", reportedAt: now - 90 * DAY };
    const answered = (address: string, results: ItemResult[]): ProviderOutcome => ({ address, name: address, status: "answered", results });
    const items = [{ type: "phone", rejected: undefined }, { type: "phone", rejected: undefined }];
    const merged = mergeCheck(items, [stale, { hit: false }], [answered("0xA", [fresh, stale]), answered("0xB", [stale, { hit: false }])], () => "fraud_confirmed", {
      score: (category, level, reportedAt) => models.score(category, level, reportedAt, now), minScore: 50,
    });
    expect(merged.items[0]!.hits.map((h) => [h.provider, h.score])).to.deep.equal([["0xA", 90]]);
    expect(merged.items[0]!.own, "the own list's stale entry is dropped too").to.equal(undefined);
    expect(merged.items[1]).to.include({ verdict: "miss" });
    expect(merged.verdict).to.equal("hit");
    const all = mergeCheck(items, undefined, [answered("0xB", [stale, { hit: false }])], () => "fraud_confirmed", { score: (c, l, r) => models.score(c, l, r, now), minScore: 0 });
    expect(all.items[0]!.hits[0]).to.include({ score: 10 });
  });
});
