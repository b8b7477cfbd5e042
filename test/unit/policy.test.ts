import { expect } from "chai";
import {
  decideReciprocity,
  quotaFor,
  RECIPROCITY_ERROR_CODES,
  RECIPROCITY_OUTCOMES,
  RECIPROCITY_REASONS,
  reciprocityError,
  reciprocityOutcome,
  UsageTracker,
  windowUsage,
  type CategoryFacts,
  type ReciprocityDecision,
  type UsageBucket,
} from "../../node/policy/index.ts";
import { QueryOutcome } from "../../node/chain/outcomes.ts";
import { isRiskshareError } from "../../node/errors.ts";

const NOW = 1_700_000_000;
const DAY = 86_400;
const WEEK = 7 * DAY;

/** minEntries 100, a week's freshness, 10 queries + 5 % of the contribution per day. */
const POLICY = { minEntries: 100n, maxSnapshotAgeSeconds: BigInt(WEEK), quotaBase: 10n, quotaRatioBps: 500n, quotaCeiling: 2n ** 64n - 1n };

function facts(over: Partial<CategoryFacts> & { liveCount?: bigint | number; ageSeconds?: number } = {}): CategoryFacts {
  const { liveCount = 100n, ageSeconds = 0, ...rest } = over;
  return { active: true, policy: POLICY, snapshot: { liveCount, publishedAt: NOW - ageSeconds }, usedInWindow: 0, ...rest };
}

function decide(categories: Record<number, CategoryFacts>, requested: number[], nowSec = NOW): ReciprocityDecision {
  return decideReciprocity({
    nowSec,
    requestedCategories: requested,
    categories: new Map(Object.entries(categories).map(([id, f]) => [Number(id), f])),
  });
}

describe("policy: reciprocity", () => {
  describe("one category", () => {
    // quota at exactly minEntries (100): 10 + floor(500 × 100 / 10 000) = 15
    const table: { name: string; facts: CategoryFacts | undefined; expected: ReciprocityDecision }[] = [
      { name: "unknown category", facts: undefined, expected: { allowed: false, reason: "category_inactive", categoryId: 1 } },
      { name: "inactive category", facts: facts({ active: false }), expected: { allowed: false, reason: "category_inactive", categoryId: 1 } },
      { name: "no snapshot", facts: facts({ snapshot: undefined }), expected: { allowed: false, reason: "no_contribution", categoryId: 1 } },
      { name: "snapshot of zero entries", facts: facts({ liveCount: 0n }), expected: { allowed: false, reason: "no_contribution", categoryId: 1 } },
      {
        name: "zero entries even when minEntries is 0",
        facts: facts({ liveCount: 0n, policy: { ...POLICY, minEntries: 0n } }),
        expected: { allowed: false, reason: "no_contribution", categoryId: 1 },
      },
      { name: "one below minEntries", facts: facts({ liveCount: 99n }), expected: { allowed: false, reason: "contribution_too_small", categoryId: 1 } },
      { name: "exactly minEntries", facts: facts({ liveCount: 100n }), expected: { allowed: true, quotaRemaining: 14 } },
      { name: "exactly maxSnapshotAge old", facts: facts({ ageSeconds: WEEK }), expected: { allowed: true, quotaRemaining: 14 } },
      { name: "one second older than maxSnapshotAge", facts: facts({ ageSeconds: WEEK + 1 }), expected: { allowed: false, reason: "snapshot_stale", categoryId: 1 } },
      {
        name: "a snapshot that failed a spot-check on chain, unanswered, counts for nothing",
        facts: facts({ snapshot: { liveCount: 5_000n, publishedAt: NOW, unproven: true } }),
        expected: { allowed: false, reason: "contribution_unproven", categoryId: 1 },
      },
      { name: "an answered (or never challenged) snapshot counts", facts: facts({ snapshot: { liveCount: 100n, publishedAt: NOW, unproven: false } }), expected: { allowed: true, quotaRemaining: 14 } },
      { name: "snapshot from the future (clock skew)", facts: facts({ ageSeconds: -60 }), expected: { allowed: true, quotaRemaining: 14 } },
      { name: "last query of the quota", facts: facts({ usedInWindow: 14 }), expected: { allowed: true, quotaRemaining: 0 } },
      { name: "quota exactly used up", facts: facts({ usedInWindow: 15 }), expected: { allowed: false, reason: "quota_exceeded", categoryId: 1 } },
      { name: "quota overdrawn", facts: facts({ usedInWindow: 40 }), expected: { allowed: false, reason: "quota_exceeded", categoryId: 1 } },
      {
        name: "zero quota",
        facts: facts({ policy: { ...POLICY, quotaBase: 0n, quotaRatioBps: 0n } }),
        expected: { allowed: false, reason: "quota_exceeded", categoryId: 1 },
      },
      {
        name: "stale beats quota (eligibility first)",
        facts: facts({ ageSeconds: WEEK + 1, usedInWindow: 99 }),
        expected: { allowed: false, reason: "snapshot_stale", categoryId: 1 },
      },
      {
        name: "too small beats stale",
        facts: facts({ liveCount: 1n, ageSeconds: WEEK + 1 }),
        expected: { allowed: false, reason: "contribution_too_small", categoryId: 1 },
      },
      { name: "plain numbers work as well as bigints", facts: facts({ liveCount: 100, policy: { minEntries: 100, maxSnapshotAgeSeconds: WEEK, quotaBase: 10, quotaRatioBps: 500, quotaCeiling: 1_000_000 } }), expected: { allowed: true, quotaRemaining: 14 } },
      {
        name: "a huge quota is reported capped at MAX_SAFE_INTEGER",
        facts: facts({ liveCount: 2n ** 62n, policy: { ...POLICY, quotaRatioBps: 10_000n } }),
        expected: { allowed: true, quotaRemaining: Number.MAX_SAFE_INTEGER },
      },
    ];
    for (const row of table) {
      it(row.name, () => {
        const categories: Record<number, CategoryFacts> = row.facts ? { 1: row.facts } : {};
        expect(decide(categories, [1]), row.name).to.deep.equal(row.expected);
      });
    }

    it("refuses category ids outside 1..63 as inactive", () => {
      for (const id of [0, 64, -1, 1.5]) {
        expect(decide({ [id]: facts() }, [id]), `category ${id}`).to.deep.equal({ allowed: false, reason: "category_inactive", categoryId: id });
      }
    });
  });

  describe("quota arithmetic: base + floor(ratioBps × contributed / 10 000)", () => {
    const table: [base: bigint, ratioBps: bigint, liveCount: bigint, quota: bigint][] = [
      [10n, 500n, 100n, 15n],
      [10n, 500n, 199n, 19n], // 9.95 rounds down
      [10n, 500n, 200n, 20n],
      [0n, 10_000n, 1_000n, 1_000n], // one query per entry
      [5n, 0n, 1_000_000n, 5n], // ratio 0: base only
      [0n, 1n, 9_999n, 0n], // 0.9999 rounds down to 0
      [0n, 1n, 10_000n, 1n],
      [3n, 25_000n, 4n, 13n], // ratios above one query per entry
      [0n, 10_000n, 2n ** 63n, 2n ** 63n], // no overflow at uint64 sizes
    ];
    for (const [base, ratioBps, liveCount, quota] of table) {
      it(`base ${base}, ${ratioBps} bps, ${liveCount} entries → ${quota}`, () => {
        expect(quotaFor({ ...POLICY, quotaBase: base, quotaRatioBps: ratioBps }, liveCount)).to.equal(quota);
      });
    }

    it("caps what any contribution earns at the ceiling, so an inflated snapshot cannot lift the limit", () => {
      const capped = { ...POLICY, quotaCeiling: 5_000n };
      expect(quotaFor(capped, 0n)).to.equal(10n);
      expect(quotaFor(capped, 99_799n)).to.equal(4_999n); // 10 + floor(500 × 99,799 / 10,000) = 4,999
      expect(quotaFor(capped, 99_800n)).to.equal(5_000n);
      expect(quotaFor(capped, 2n ** 32n)).to.equal(5_000n);
      expect(quotaFor({ ...capped, quotaBase: 5_000n, quotaRatioBps: 0n }, 1n)).to.equal(5_000n);
      const huge = facts({ liveCount: 2n ** 32n, usedInWindow: 4_990, policy: capped });
      const ask = (items: number) => decideReciprocity({ nowSec: NOW, requestedCategories: [2], categories: new Map([[2, huge]]), items });
      expect(ask(10)).to.deep.equal({ allowed: true, quotaRemaining: 0 });
      expect(ask(11)).to.deep.equal({ allowed: false, reason: "quota_exceeded", categoryId: 2 });
    });

    it("allows exactly quota queries per window, then refuses", () => {
      const quota = 19; // 10 + floor(500 × 199 / 10 000)
      for (let used = 0; used <= quota + 1; used += 1) {
        const decision = decide({ 2: facts({ liveCount: 199n, usedInWindow: used }) }, [2]);
        const expected: ReciprocityDecision = used < quota
          ? { allowed: true, quotaRemaining: quota - used - 1 }
          : { allowed: false, reason: "quota_exceeded", categoryId: 2 };
        expect(decision, `used ${used}`).to.deep.equal(expected);
      }
    });
  });

  describe("quota counted per item (blinded elements, or prefixes of a fetch)", () => {
    // quota 15 = 10 + floor(500 × 100 / 10 000)
    const table: { name: string; used: number; items: number; expected: ReciprocityDecision }[] = [
      { name: "a request of 8 items with 15 left leaves 7", used: 0, items: 8, expected: { allowed: true, quotaRemaining: 7 } },
      { name: "a request of exactly what is left leaves 0", used: 7, items: 8, expected: { allowed: true, quotaRemaining: 0 } },
      { name: "a request of 8 items with 7 left is refused whole", used: 8, items: 8, expected: { allowed: false, reason: "quota_exceeded", categoryId: 2 } },
      { name: "a request of 1 item with none left is refused", used: 15, items: 1, expected: { allowed: false, reason: "quota_exceeded", categoryId: 2 } },
      { name: "a request larger than the whole quota is refused on an unused window", used: 0, items: 16, expected: { allowed: false, reason: "quota_exceeded", categoryId: 2 } },
    ];
    for (const { name, used, items, expected } of table) {
      it(name, () => {
        const decision = decideReciprocity({ nowSec: NOW, requestedCategories: [2], categories: new Map([[2, facts({ usedInWindow: used })]]), items });
        expect(decision).to.deep.equal(expected);
      });
    }

    it("refuses a request of no items as a bug at the caller", () => {
      expect(() => decideReciprocity({ nowSec: NOW, requestedCategories: [2], categories: new Map([[2, facts()]]), items: 0 })).to.throw(/items/);
    });
  });

  describe("several categories: every one must allow", () => {
    const ok = facts();
    const table: { name: string; categories: Record<number, CategoryFacts>; requested: number[]; expected: ReciprocityDecision }[] = [
      {
        name: "all allowed: the smallest remaining quota is reported",
        categories: { 1: facts({ usedInWindow: 3 }), 2: facts({ liveCount: 1_000n }) }, // 15−3−1 = 11; 60−0−1 = 59
        requested: [1, 2],
        expected: { allowed: true, quotaRemaining: 11 },
      },
      { name: "one stale category denies the request", categories: { 1: ok, 2: facts({ ageSeconds: WEEK + 1 }) }, requested: [1, 2], expected: { allowed: false, reason: "snapshot_stale", categoryId: 2 } },
      { name: "one unknown category denies the request", categories: { 1: ok }, requested: [1, 7], expected: { allowed: false, reason: "category_inactive", categoryId: 7 } },
      {
        name: "eligibility is checked for every category before any quota",
        categories: { 1: facts({ usedInWindow: 15 }), 2: facts({ snapshot: undefined }) },
        requested: [1, 2],
        expected: { allowed: false, reason: "no_contribution", categoryId: 2 },
      },
      {
        name: "the lowest failing id reports, whatever the request order",
        categories: { 1: facts({ usedInWindow: 15 }), 3: facts({ usedInWindow: 15 }) },
        requested: [3, 1],
        expected: { allowed: false, reason: "quota_exceeded", categoryId: 1 },
      },
      { name: "one exhausted quota denies the request", categories: { 1: ok, 2: facts({ usedInWindow: 15 }) }, requested: [1, 2], expected: { allowed: false, reason: "quota_exceeded", categoryId: 2 } },
      { name: "duplicates count once", categories: { 1: facts({ usedInWindow: 14 }) }, requested: [1, 1, 1], expected: { allowed: true, quotaRemaining: 0 } },
    ];
    for (const row of table) {
      it(row.name, () => {
        expect(decide(row.categories, row.requested), row.name).to.deep.equal(row.expected);
      });
    }
  });

  describe("bad input is a bug at the caller, never a decision", () => {
    const table: { name: string; run: () => unknown; argument: string }[] = [
      { name: "no category", run: () => decide({ 1: facts() }, []), argument: "requestedCategories" },
      { name: "fractional now", run: () => decide({ 1: facts() }, [1], NOW + 0.5), argument: "nowSec" },
      { name: "negative usage", run: () => decide({ 1: facts({ usedInWindow: -1 }) }, [1]), argument: "usedInWindow" },
      { name: "negative live count", run: () => decide({ 1: facts({ liveCount: -5n }) }, [1]), argument: "liveCount" },
      { name: "fractional policy", run: () => decide({ 1: facts({ policy: { ...POLICY, quotaBase: 1.5 } }) }, [1]), argument: "quotaBase" },
    ];
    for (const row of table) {
      it(row.name, () => {
        try {
          row.run();
          expect.fail("expected E_BAD_INPUT");
        } catch (err) {
          expect(isRiskshareError(err, "E_BAD_INPUT"), String(err)).to.equal(true);
          expect((err as { meta: { argument: string } }).meta.argument).to.equal(row.argument);
        }
      });
    }
  });

  describe("how a denial is recorded and reported", () => {
    const table: [reason: (typeof RECIPROCITY_REASONS)[number], outcome: number, code: string][] = [
      ["category_inactive", QueryOutcome.DeniedCategory, "E_CATEGORY_UNKNOWN"],
      ["no_contribution", QueryOutcome.DeniedReciprocity, "E_RECIPROCITY"],
      ["contribution_too_small", QueryOutcome.DeniedReciprocity, "E_RECIPROCITY"],
      ["snapshot_stale", QueryOutcome.DeniedReciprocity, "E_RECIPROCITY"],
      ["contribution_unproven", QueryOutcome.DeniedReciprocity, "E_RECIPROCITY"],
      ["quota_exceeded", QueryOutcome.DeniedQuota, "E_QUOTA"],
    ];
    it("covers every reason", () => {
      expect(table.map(([reason]) => reason)).to.have.members([...RECIPROCITY_REASONS]);
      expect(Object.keys(RECIPROCITY_OUTCOMES)).to.have.members([...RECIPROCITY_REASONS]);
      expect(Object.keys(RECIPROCITY_ERROR_CODES)).to.have.members([...RECIPROCITY_REASONS]);
    });
    for (const [reason, outcome, code] of table) {
      it(`${reason} → outcome ${outcome}, ${code}`, () => {
        expect(reciprocityOutcome(reason)).to.equal(outcome);
        const err = reciprocityError({ allowed: false, reason, categoryId: 4 });
        expect(err.code).to.equal(code);
        expect(err.meta).to.deep.equal({ reason, categoryId: 4 });
      });
    }
  });
});

describe("policy: rolling-window usage", () => {
  describe("windowUsage", () => {
    const events = (...at: number[]): UsageBucket[] => at.map((startSeconds) => ({ startSeconds, count: 1 }));
    const table: { name: string; buckets: UsageBucket[]; now: number; window: number; bucket: number; expected: number }[] = [
      { name: "nothing used", buckets: [], now: 1_000, window: 100, bucket: 1, expected: 0 },
      { name: "an event exactly a window ago still counts", buckets: events(900), now: 1_000, window: 100, bucket: 1, expected: 1 },
      { name: "an event a second older does not", buckets: events(899), now: 1_000, window: 100, bucket: 1, expected: 0 },
      { name: "an event at now counts", buckets: events(1_000), now: 1_000, window: 100, bucket: 1, expected: 1 },
      { name: "an event after now does not", buckets: events(1_001), now: 1_000, window: 100, bucket: 1, expected: 0 },
      { name: "counts add up", buckets: [{ startSeconds: 950, count: 3 }, { startSeconds: 990, count: 4 }, { startSeconds: 10, count: 100 }], now: 1_000, window: 100, bucket: 1, expected: 7 },
      // hour buckets, one-day window, now = 100 000: the window starts at 13 600
      { name: "an hour bucket starting at the window start counts", buckets: [{ startSeconds: 13_600, count: 2 }], now: 100_000, window: DAY, bucket: 3_600, expected: 2 },
      { name: "an hour bucket ending at the window start does not", buckets: [{ startSeconds: 10_000, count: 2 }], now: 100_000, window: DAY, bucket: 3_600, expected: 0 },
      { name: "an hour bucket straddling the window start counts whole (strict side)", buckets: [{ startSeconds: 10_001, count: 2 }], now: 100_000, window: DAY, bucket: 3_600, expected: 2 },
      { name: "the current hour counts", buckets: [{ startSeconds: 97_200, count: 5 }], now: 100_000, window: DAY, bucket: 3_600, expected: 5 },
    ];
    for (const row of table) {
      it(row.name, () => {
        expect(windowUsage(row.buckets, { nowSec: row.now, windowSeconds: row.window, bucketSeconds: row.bucket }), row.name).to.equal(row.expected);
      });
    }
  });

  describe("UsageTracker", () => {
    const alice = "0x00000000000000000000000000000000000000Aa";

    it("counts per querier and category, case-insensitively by address", () => {
      const tracker = new UsageTracker();
      tracker.record(alice, 1, NOW);
      tracker.record(alice.toLowerCase(), 1, NOW + 10);
      tracker.record(alice, 2, NOW);
      tracker.recordAll(alice, [3, 3, 4], NOW);
      expect(tracker.usage(alice, 1, NOW + 10)).to.equal(2);
      expect(tracker.usage(alice, 2, NOW + 10)).to.equal(1);
      expect(tracker.usage(alice, 3, NOW + 10)).to.equal(1);
      expect(tracker.usage("0x0000000000000000000000000000000000000001", 1, NOW)).to.equal(0);
    });

    it("forgets usage once it leaves the window, and prune drops empty keys", () => {
      const tracker = new UsageTracker({ windowSeconds: DAY, bucketSeconds: 3_600 });
      const start = 3_600 * 1_000; // an hour boundary
      tracker.record(alice, 1, start);
      expect(tracker.usage(alice, 1, start + DAY - 1)).to.equal(1);
      expect(tracker.usage(alice, 1, start + DAY + 3_600)).to.equal(0);
      expect(tracker.prune(start + DAY + 3_600)).to.equal(1);
      expect(tracker.size).to.equal(0);
    });

    it("keeps at most window/bucket + 1 buckets per key however long it runs", () => {
      const tracker = new UsageTracker({ windowSeconds: DAY, bucketSeconds: 3_600 });
      for (let hour = 0; hour < 24 * 10; hour += 1) tracker.record(alice, 1, NOW + hour * 3_600);
      const [record] = tracker.export();
      expect(record!.buckets.length).to.be.at.most(25);
      expect(tracker.usage(alice, 1, NOW + 239 * 3_600)).to.be.within(24, 25);
    });

    it("drops the least recently used key past maxKeys", () => {
      const tracker = new UsageTracker({ maxKeys: 2 });
      tracker.record(alice, 1, NOW);
      tracker.record(alice, 2, NOW);
      tracker.record(alice, 1, NOW); // 1 is now the most recently used
      tracker.record(alice, 3, NOW);
      expect(tracker.size).to.equal(2);
      expect(tracker.usage(alice, 2, NOW)).to.equal(0);
      expect(tracker.usage(alice, 1, NOW)).to.equal(2);
      expect(tracker.usage(alice, 3, NOW)).to.equal(1);
    });

    it("round-trips through export and import", () => {
      const tracker = new UsageTracker();
      tracker.record(alice, 1, NOW, 7);
      tracker.record(alice, 5, NOW - 7_200, 2);
      const restored = new UsageTracker();
      restored.import(tracker.export(), NOW);
      expect(restored.usage(alice, 1, NOW)).to.equal(7);
      expect(restored.usage(alice, 5, NOW)).to.equal(2);
    });

    it("refuses nonsensical options", () => {
      for (const opts of [{ bucketSeconds: 0 }, { windowSeconds: 10, bucketSeconds: 60 }, { maxKeys: 0 }]) {
        expect(() => new UsageTracker(opts), JSON.stringify(opts)).to.throw(/must be/);
      }
    });
  });
});
