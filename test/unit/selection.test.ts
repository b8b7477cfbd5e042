/**
 * Asking whom it pays to ask (node/policy/selection.ts, through the querier's fan-out): a provider's
 * category whose observed hit rate is below the floor is skipped, except in its first 30 days, before
 * enough items were asked, and for the ≥ 5% of requests that explore; a named provider is always
 * asked. A simulated junk list loses its share of requests over weeks while an honest one keeps it.
 */
import { expect } from "chai";
import { QuerierFanOut, type LookupOutcome, type ProviderInfo, type QuerierFanOutModules } from "../../node/p2p/index.ts";
import { ProviderSelection } from "../../node/policy/index.ts";

const DAY = 86_400;
const NOW = 1_750_000_000;
const FRAUD = 1;
const HONEST: ProviderInfo = { address: "0x00000000000000000000000000000000000000aa", name: "Honest", peerId: "0xaa", keyEpoch: 1 };
const JUNK: ProviderInfo = { address: "0x00000000000000000000000000000000000000bb", name: "Junk", peerId: "0xbb", keyEpoch: 1 };
const NEWCOMER: ProviderInfo = { address: "0x00000000000000000000000000000000000000cc", name: "Newcomer", peerId: "0xcc", keyEpoch: 1 };
const JOINED = new Map([[HONEST.address, NOW - 400 * DAY], [JUNK.address, NOW - 400 * DAY], [NEWCOMER.address, NOW - 10 * DAY]]);

/** A deterministic [0, 1) sequence (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function selection(random = seeded(1), floor = 0.005): ProviderSelection {
  return new ProviderSelection({ hitRateFloor: floor, exploreRate: 0.05, graceDays: 30, minSampleItems: 1_000 }, { joinedAt: (p) => JOINED.get(p.toLowerCase()), random });
}

/** A querier over providers that each hold an item with probability `hitRate`; counts who was asked. */
function querier(sel: ProviderSelection, hitRates: ReadonlyMap<string, number>, random: () => number) {
  const asked = new Map<string, number>();
  const modules: QuerierFanOutModules = {
    view: { member: (address) => [HONEST, JUNK, NEWCOMER].find((m) => m.address === address.toLowerCase()), contribution: () => ({ liveCount: 1_000n }) },
    mayAsk: () => ({ allowed: true, quotaRemaining: 1_000_000 }),
    filters: { held: () => ({ epoch: 1 }), syncOnce: async () => undefined },
    dialTarget: (peerIdHex) => ({ peerIdHex }) as never,
    fanOut: async (targets, query) => targets.map((t): LookupOutcome => {
      asked.set(t.providerAddress, (asked.get(t.providerAddress) ?? 0) + 1);
      return {
        status: "answered", providerAddress: t.providerAddress, queryId: "0x01", keyEpoch: 1, fetchQueryIds: [],
        results: query.items.map(() => (random() < (hitRates.get(t.providerAddress) ?? 0) ? { hit: true, category: FRAUD, level: 4, reason: "R1", reportedAt: NOW } : { hit: false })),
      };
    }),
    selection: sel,
    nowSec: () => NOW,
  };
  return { fanOut: new QuerierFanOut(modules), asked };
}

const ITEMS = Array.from({ length: 10 }, (_, i) => ({ type: "phone", value: `+86138001380${String(i).padStart(2, "0")}` }));

describe("asking whom it pays to ask", () => {
  it("asks everyone at a floor of 0, before enough items were asked, and in a provider's first 30 days", () => {
    const open = new ProviderSelection({ hitRateFloor: 0 }, { joinedAt: () => NOW - 400 * DAY, random: () => 0.99 });
    open.observe(JUNK.address, [FRAUD], 10_000, new Map());
    expect(open.plan(NOW).skip(JUNK.address, FRAUD), "floor 0").to.equal(false);
    const sel = selection(() => 0.99);
    sel.observe(JUNK.address, [FRAUD], 999, new Map());
    expect(sel.plan(NOW).skip(JUNK.address, FRAUD), "999 items: not judged yet").to.equal(false);
    sel.observe(JUNK.address, [FRAUD], 1, new Map());
    expect(sel.plan(NOW).skip(JUNK.address, FRAUD), "1,000 items, no hit").to.equal(true);
    sel.observe(NEWCOMER.address, [FRAUD], 5_000, new Map());
    expect(sel.plan(NOW).skip(NEWCOMER.address, FRAUD), "in its first 30 days").to.equal(false);
    sel.observe(HONEST.address, [FRAUD], 1_000, new Map([[FRAUD, 20]]));
    expect(sel.plan(NOW).skip(HONEST.address, FRAUD), "2% hits").to.equal(false);
    expect(selection(() => 0.04).plan(NOW), "a request drawn to explore").to.deep.include({ exploring: true });
    const restored = selection(() => 0.99);
    restored.import(sel.export());
    expect(restored.plan(NOW).skip(JUNK.address, FRAUD), "the history survives a restart").to.equal(true);
  });

  it("reports a skipped provider as skipped (E_LOW_HIT_RATE), never a miss, and asks a named one anyway", async () => {
    const sel = selection(() => 0.99);
    sel.observe(JUNK.address, [FRAUD], 2_000, new Map());
    const { fanOut, asked } = querier(sel, new Map(), () => 0.5);
    const outcomes = await fanOut.ask([HONEST.address, JUNK.address], { items: ITEMS, categoryIds: [FRAUD] });
    expect(outcomes.map((o) => [o.name, o.status, "code" in o ? o.code : undefined])).to.deep.equal([["Honest", "answered", undefined], ["Junk", "skipped", "E_LOW_HIT_RATE"]]);
    expect(asked.has(JUNK.address)).to.equal(false);
    const named = await fanOut.ask([JUNK.address], { items: ITEMS, categoryIds: [FRAUD] }, {}, { named: true });
    expect(named[0]!.status).to.equal("answered");
    expect(sel.rate(HONEST.address, FRAUD)).to.deep.include({ items: 10 });
  });

  it("starves a junk list over simulated weeks while an honest one keeps its share (5% exploring)", async () => {
    const random = seeded(20260101);
    const sel = selection(random);
    // The honest list holds 2% of what is asked; the junk list's random tags never match anything.
    const { fanOut, asked } = querier(sel, new Map([[HONEST.address, 0.02], [JUNK.address, 0]]), random);
    const weekly: { honest: number; junk: number }[] = [];
    for (let week = 0; week < 6; week++) {
      asked.clear();
      for (let request = 0; request < 200; request++) await fanOut.ask([HONEST.address, JUNK.address], { items: ITEMS, categoryIds: [FRAUD] });
      weekly.push({ honest: asked.get(HONEST.address) ?? 0, junk: asked.get(JUNK.address) ?? 0 });
    }
    expect(weekly[0]!.junk, "week 1: asked until 1,000 items show its rate").to.be.greaterThan(100);
    for (const w of weekly.slice(1)) {
      expect(w.honest, "the honest list is asked every time").to.equal(200);
      expect(w.junk, "the junk list: only the exploring requests").to.be.within(2, 25);
    }
  });
});
