import { expect } from "chai";
import { mergeCheck, type ItemResult, type ProviderOutcome } from "../../node/api/index.ts";

const HIT: ItemResult = { hit: true, category: 1, level: 4, reason: "R01", reportedAt: 1_700_000_000 };
const MISS: ItemResult = { hit: false };
const name = (id: number) => (id === 1 ? "fraud_confirmed" : `#${id}`);
const answered = (address: string, results: ItemResult[]): ProviderOutcome => ({ address, name: address, status: "answered", results });
const failed = (address: string, status: "denied" | "timeout" | "error"): ProviderOutcome => ({ address, name: address, status, code: "E_X" });
const valid = (type = "phone") => ({ type, rejected: undefined });

describe("merging a check's answers into one verdict", () => {
  const cases: Array<{ title: string; items: { type: string; rejected: string | undefined }[]; own: ItemResult[] | undefined; outcomes: ProviderOutcome[]; verdict: string; items_: string[] }> = [
    { title: "every list answers without the item: miss", items: [valid()], own: [MISS], outcomes: [answered("A", [MISS]), answered("B", [MISS])], verdict: "miss", items_: ["miss"] },
    { title: "one provider lists it: hit", items: [valid()], own: [MISS], outcomes: [answered("A", [MISS]), answered("B", [HIT])], verdict: "hit", items_: ["hit"] },
    { title: "own list holds it, providers don't: hit", items: [valid()], own: [HIT], outcomes: [answered("A", [MISS])], verdict: "hit", items_: ["hit"] },
    { title: "a provider timed out and nobody hit: incomplete, never miss", items: [valid()], own: [MISS], outcomes: [answered("A", [MISS]), failed("B", "timeout")], verdict: "incomplete", items_: ["incomplete"] },
    { title: "a provider denied and nobody hit: incomplete", items: [valid()], own: undefined, outcomes: [failed("A", "denied")], verdict: "incomplete", items_: ["incomplete"] },
    { title: "a hit stands even when another provider failed", items: [valid()], own: [MISS], outcomes: [answered("A", [HIT]), failed("B", "error")], verdict: "hit", items_: ["hit"] },
    { title: "a provider skipped for its hit rate (this member's choice) and nobody hit: miss", items: [valid()], own: [MISS], outcomes: [answered("A", [MISS]), { address: "B", name: "B", status: "skipped", code: "E_LOW_HIT_RATE" }], verdict: "miss", items_: ["miss"] },
    { title: "providers skipped because this member's credits ran out: incomplete, never miss", items: [valid()], own: [MISS], outcomes: [{ address: "A", name: "A", status: "skipped", code: "E_CREDITS_EXHAUSTED" }], verdict: "incomplete", items_: ["incomplete"] },
    { title: "no providers at all: own list decides", items: [valid()], own: [MISS], outcomes: [], verdict: "miss", items_: ["miss"] },
    { title: "invalid items are reported and skipped when indexing results", items: [{ type: "phone", rejected: "not_a_number" }, valid("email")], own: [HIT], outcomes: [answered("A", [MISS])], verdict: "hit", items_: ["invalid", "hit"] },
    { title: "only invalid items: miss overall (nothing was asked)", items: [{ type: "phone", rejected: "empty" }], own: undefined, outcomes: [], verdict: "miss", items_: ["invalid"] },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const merged = mergeCheck(c.items, c.own, c.outcomes, name);
      expect(merged.verdict, c.title).to.equal(c.verdict);
      expect(merged.items.map((i) => i.verdict), c.title).to.deep.equal(c.items_);
    });
  }

  it("names the category and the provider of every hit and counts each provider's hits", () => {
    const merged = mergeCheck([valid(), valid()], undefined, [answered("0xA", [HIT, MISS]), answered("0xB", [HIT, HIT])], name);
    expect(merged.items[0]?.hits.map((h) => [h.provider, h.category])).to.deep.equal([["0xA", "fraud_confirmed"], ["0xB", "fraud_confirmed"]]);
    expect(merged.providers.map((p) => p.hitCount)).to.deep.equal([1, 2]);
  });
});
