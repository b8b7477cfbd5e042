import { expect } from "chai";
import { hexlify, randomBytes, Wallet } from "ethers";
import {
  evaluateCommitment, feedbackReport, fetchCommitment, ITEM_JUMP_DEFAULTS, itemJumps, LookupKind, lookupRequestDigest, memberReport, openCommitment, outcomeName, QueryOutcome, wilsonShare,
  type AuditRecord, type FeedbackCounts, type LookupRequest, type ReportConsortium,
} from "../../node/chain/index.ts";
import { isRiskshareError } from "../../node/errors.ts";

const A = Wallet.createRandom().address;
const B = Wallet.createRandom().address;
const C = Wallet.createRandom().address;

/** A ledger record with defaults; only what a test names matters. */
function record(fields: Partial<AuditRecord>): AuditRecord {
  const outcome = fields.outcome ?? QueryOutcome.Answered;
  return {
    queryId: hexlify(randomBytes(32)), blockNumber: 10, timestamp: 1_750_000_000, txHash: hexlify(randomBytes(32)), logIndex: 0, seq: 1n,
    querier: A, provider: B, categoryIds: [1], kind: LookupKind.Evaluate, itemCount: 1, keyEpoch: outcome === QueryOutcome.Answered ? 1 : 0, outcome, outcomeName: outcomeName(outcome),
    count: 1, itemsCommitment: hexlify(randomBytes(32)), nonce: hexlify(randomBytes(32)), deadline: 1_750_000_600n, signature: "0x", answerDigest: hexlify(randomBytes(32)),
    ...fields,
  };
}

/** A consortium of three members over two categories; A contributes 40 fraud entries, B 7 mule entries. */
const consortium: ReportConsortium = {
  allMembers: () => [{ address: A, name: "Bank A" }, { address: B, name: "Bank B" }, { address: C, name: "Bank C" }],
  categories: () => [{ id: 1, name: "fraud_confirmed" }, { id: 2, name: "money_mule" }],
  contribution: (member, categoryId) => (member === A && categoryId === 1 ? { liveCount: 40n } : member === B && categoryId === 2 ? { liveCount: 7n } : undefined),
};

describe("memberReport", () => {
  it("counts, per member, the queries it made, answered and denied (a folded refusal by its count), those it served, the items evaluated and the fetches — never hits", () => {
    const records = [
      record({ querier: A, provider: B, itemCount: 4 }),
      record({ querier: A, provider: C, itemCount: 8 }),
      record({ querier: A, provider: C, kind: LookupKind.Fetch, itemCount: 1 }),
      record({ querier: A, provider: B, kind: LookupKind.Fetch, itemCount: 2 }),
      record({ querier: A, provider: C, itemCount: 5, outcome: QueryOutcome.DeniedReciprocity }),
      record({ querier: C, provider: A, itemCount: 2, outcome: QueryOutcome.DeniedQuota }),
      record({ querier: C, provider: A, kind: LookupKind.Fetch, itemCount: 1, outcome: QueryOutcome.DeniedQuota }),
      // Eleven refusals of one kind from one peer, folded into one record.
      record({ querier: C, provider: B, itemCount: 1, outcome: QueryOutcome.DeniedBadSignature, count: 11 }),
    ];
    const [a, b, c] = memberReport(records, consortium);
    expect(a).to.deep.equal({
      member: "Bank A", address: A, queriesMade: 5, answered: 4, denied: 1, served: 2, itemsEvaluated: 12, fetches: 2,
      contributions: { fraud_confirmed: 40, money_mule: 0 },
    });
    expect(b).to.deep.include({ queriesMade: 0, answered: 0, denied: 0, served: 13, itemsEvaluated: 0, fetches: 0, contributions: { fraud_confirmed: 0, money_mule: 7 } });
    expect(c).to.deep.include({ queriesMade: 13, answered: 0, denied: 13, served: 3, itemsEvaluated: 0, fetches: 0 });
    for (const row of [a, b, c]) expect(Object.keys(row!).some((key) => /hit/i.test(key)), row!.member).to.equal(false);
  });

  it("lists every member, in the registry's order, even with no records", () => {
    const rows = memberReport([], consortium);
    expect(rows.map((r) => [r.member, r.queriesMade, r.served, r.itemsEvaluated, r.fetches])).to.deep.equal([["Bank A", 0, 0, 0, 0], ["Bank B", 0, 0, 0, 0], ["Bank C", 0, 0, 0, 0]]);
  });
});

describe("itemJumps: a querier's daily items far above its own history", () => {
  const DAY = 86_400;
  /** Midday UTC of day `n` after 2026-11-01. */
  const dayAt = (n: number) => Date.UTC(2026, 10, 1 + n, 12) / 1000;
  /** `perDay[i]` items asked by `querier` on day i, in records of at most 100 items. */
  const ledgerOf = (querier: string, perDay: readonly number[]) => perDay.flatMap((items, day) => {
    const out = [];
    for (let left = items; left > 0; left -= 100) out.push(record({ querier, timestamp: dayAt(day) + (left % 7), itemCount: Math.min(100, left) }));
    return out;
  });

  it("flags nothing for a steady querier, even a heavy one", () => {
    expect(itemJumps(ledgerOf(A, [5_000, 5_200, 4_900, 5_100, 5_000, 5_300, 4_800, 5_000, 5_100, 5_050]), consortium)).to.deep.equal([]);
  });

  it("flags the day a querier's items jump above 10× its trailing 7-day median and the floor, and only that day", () => {
    const jumps = itemJumps([...ledgerOf(A, [200, 180, 220, 200, 210, 190, 200, 200, 30_000, 200]), ...ledgerOf(B, [100, 100, 100])], consortium);
    expect(jumps).to.deep.equal([{ member: "Bank A", querier: A, day: "2026-11-09", items: 30_000, baselineMedian: 200, historyDays: 7 }]);
  });

  it("does not flag a jump that stays under the floor, and the factor and floor are options", () => {
    const small = ledgerOf(A, [10, 10, 10, 10, 10, 10, 10, 900]);
    expect(itemJumps(small, consortium), `under the default floor of ${ITEM_JUMP_DEFAULTS.floorItems}`).to.deep.equal([]);
    expect(itemJumps(small, consortium, { ...ITEM_JUMP_DEFAULTS, floorItems: 500 }).map((j) => j.day)).to.deep.equal(["2026-11-08"]);
    expect(itemJumps(ledgerOf(A, [200, 200, 200, 1_500]), consortium, { ...ITEM_JUMP_DEFAULTS, factor: 5 }).map((j) => j.items)).to.deep.equal([1_500]);
    expect(itemJumps(ledgerOf(A, [200, 200, 200, 1_500]), consortium), "1,500 is not above 10 × 200").to.deep.equal([]);
  });

  it("counts a folded refusal record by item count × count", () => {
    const records = [...ledgerOf(C, [100, 100, 100]), record({ querier: C, timestamp: dayAt(3), itemCount: 50, count: 40, outcome: QueryOutcome.DeniedQuota })];
    expect(itemJumps(records, consortium)).to.deep.equal([{ member: "Bank C", querier: C, day: "2026-11-04", items: 2_000, baselineMedian: 100, historyDays: 3 }]);
  });

  it("gives a new querier no baseline on its first day, then measures it against the days since (idle days count 0)", () => {
    expect(itemJumps(ledgerOf(B, [50_000]), consortium), "a first day alone is not flagged").to.deep.equal([]);
    const records = [record({ querier: B, timestamp: dayAt(0), itemCount: 100 }), ...Array.from({ length: 30 }, () => record({ querier: B, timestamp: dayAt(3), itemCount: 100 }))];
    expect(itemJumps(records, consortium)).to.deep.equal([{ member: "Bank B", querier: B, day: "2026-11-04", items: 3_000, baselineMedian: 0, historyDays: 3 }]);
  });
});

describe("openCommitment", () => {
  const chainId = 31_337n;
  const ledgerAddress = Wallet.createRandom().address;
  const ledger = { chainId, address: ledgerAddress };
  const blindedElements = [randomBytes(32), randomBytes(32)];

  /** An Evaluate query A sent to B, its signed request, and the ledger's record of it. */
  function sentAndRecorded(): { queryId: string; request: LookupRequest; onChain: AuditRecord } {
    const request: LookupRequest = {
      querier: A, provider: B, kind: LookupKind.Evaluate, categoryMask: 2n, itemCount: 2, itemsCommitment: evaluateCommitment(blindedElements),
      nonce: hexlify(randomBytes(32)), deadline: 1_750_000_600n,
    };
    const queryId = lookupRequestDigest(chainId, ledgerAddress, request);
    return { queryId, request, onChain: record({ queryId, itemCount: 2, itemsCommitment: request.itemsCommitment, nonce: request.nonce }) };
  }

  it("opens a query with the blinded elements re-derived from the journal, among records of other queries", () => {
    const { queryId, request, onChain } = sentAndRecorded();
    const opening = openCommitment(queryId.toUpperCase().replace("0X", "0x"), { blindedElements, request }, [record({}), onChain, record({})], ledger);
    expect(opening.ok).to.equal(true);
    expect(opening.checks).to.deep.equal({ commitmentOpens: true, itemCountMatches: true, kindMatches: true, queryIdMatches: true });
    expect(opening.records).to.deep.equal([onChain]);
    const withoutRequest = openCommitment(queryId, { blindedElements }, [onChain], ledger);
    expect(withoutRequest.ok, "no request kept").to.equal(true);
    expect(withoutRequest.checks).to.deep.equal({ commitmentOpens: true, itemCountMatches: true, kindMatches: true });
  });

  it("does not open with an element changed, dropped or reordered, or the request of another ledger", () => {
    const { queryId, request, onChain } = sentAndRecorded();
    const changed = openCommitment(queryId, { blindedElements: [randomBytes(32), blindedElements[1]!] }, [onChain], ledger);
    expect(changed.ok).to.equal(false);
    expect(changed.checks).to.deep.equal({ commitmentOpens: false, itemCountMatches: true, kindMatches: true });
    const dropped = openCommitment(queryId, { blindedElements: blindedElements.slice(0, 1) }, [onChain], ledger);
    expect(dropped.checks).to.deep.equal({ commitmentOpens: false, itemCountMatches: false, kindMatches: true });
    const reordered = openCommitment(queryId, { blindedElements: [...blindedElements].reverse() }, [onChain], ledger);
    expect(reordered.checks.commitmentOpens).to.equal(false);
    const elsewhere = openCommitment(queryId, { blindedElements, request }, [onChain], { chainId: chainId + 1n, address: ledgerAddress });
    expect(elsewhere.checks).to.deep.equal({ commitmentOpens: true, itemCountMatches: true, kindMatches: true, queryIdMatches: false });
  });

  it("opens a Fetch with its prefixes, and not as an Evaluate", () => {
    const prefixes = [{ bits: 10, value: 0x2abn }];
    const salt = new Uint8Array(randomBytes(32));
    const onChain = record({ kind: LookupKind.Fetch, itemCount: 1, itemsCommitment: fetchCommitment(prefixes, salt) });
    expect(openCommitment(onChain.queryId, { prefixes, salt: new Uint8Array(32) }, [onChain], ledger).checks.commitmentOpens, "another salt").to.equal(false);
    expect(openCommitment(onChain.queryId, { prefixes, salt }, [onChain], ledger).checks).to.deep.equal({ commitmentOpens: true, itemCountMatches: true, kindMatches: true });
    expect(openCommitment(onChain.queryId, { blindedElements: [randomBytes(32)] }, [onChain], ledger).checks.kindMatches).to.equal(false);
  });

  it("refuses a query the ledger has no record of yet with E_NOT_FOUND", () => {
    const { queryId } = sentAndRecorded();
    let thrown: unknown;
    try {
      openCommitment(queryId, { blindedElements }, [record({})], ledger);
    } catch (err) {
      thrown = err;
    }
    expect(isRiskshareError(thrown, "E_NOT_FOUND"), String(thrown)).to.equal(true);
  });
});

describe("feedbackReport", () => {
  const counts = (reporter: string, provider: string, confirmed: number, falsePositive: number, outdated = 0, week = 2900): FeedbackCounts => ({ week, reporter, provider, confirmed, falsePositive, outdated });

  it("gives the Wilson 95 % interval of a share (textbook values), and none for no trials", () => {
    // 8 of 10: 0.4902 to 0.9433 (Wilson 1927; e.g. Newcombe 1998, Table I method 3).
    const s = wilsonShare(8, 10)!;
    expect(s.value).to.equal(0.8);
    expect(Math.abs(s.low - (0.4902)) < 1e-4, `s.low - (0.4902)`).to.equal(true);
    expect(Math.abs(s.high - (0.9433)) < 1e-4, `s.high - (0.9433)`).to.equal(true);
    expect(wilsonShare(0, 10)!.low).to.equal(0);
    expect(wilsonShare(10, 10)!.high).to.equal(1);
    expect(wilsonShare(0, 0)).to.equal(null);
  });

  it("compares each reporter's confirm share with everyone else's and flags one whose interval lies wholly below; per provider: false-positive share, confirmations per 1,000 items served, bonus and burn", () => {
    const report = feedbackReport(
      [
        counts(A, B, 90, 10), counts(A, C, 45, 5, 3, 2901), // Bank A: 135 of 150 confirmed
        counts(C, B, 2, 38), // Bank C: 2 of 40 (it reports false positives where others confirm)
      ],
      [record({ provider: B, itemCount: 4000 }), record({ provider: C, itemCount: 1000 }), record({ provider: B, itemCount: 50, outcome: QueryOutcome.DeniedQuota, keyEpoch: 0 }), record({ provider: B, kind: LookupKind.Fetch, itemCount: 2 })],
      consortium,
      { bonus: new Map([[B, 12]]), burned: new Map([[B, 480]]) },
    );
    expect(Math.abs(report.consortiumConfirmShare!.value - (137 / 190)) < 1e-12, `report.consortiumConfirmShare!.value - (137 / 190)`).to.equal(true);
    expect(report.reporters.map((r) => [r.member, r.confirmed, r.falsePositive, r.outdated, r.flag])).to.deep.equal([
      ["Bank A", 135, 15, 3, "high"],
      ["Bank C", 2, 38, 0, "low"],
    ]);
    expect(report.reporters[1]!.othersConfirmShare!.value, "Bank C against Bank A's reports only").to.equal(0.9);
    expect(report.providers.map((p) => [p.member, p.itemsServed, p.confirmed, p.falsePositive, p.confirmedPerThousandItems, p.bonus, p.burned])).to.deep.equal([
      ["Bank B", 4000, 92, 48, 23, 12, 480],
      ["Bank C", 1000, 45, 5, 45, 0, 0],
    ]);
    expect(Math.abs(report.providers[0]!.falsePositiveShare!.value - (48 / 140)) < 1e-12, `report.providers[0]!.falsePositiveShare!.value - (48 / 140)`).to.equal(true);
    expect(report.providers[0]!.flag, "B's false-positive share (34 %) lies above the consortium's (28 %) but its interval does not").to.equal(undefined);
  });

  it("flags a provider whose false-positive interval lies wholly above the consortium's, and leaves out members with no feedback and nothing served", () => {
    const report = feedbackReport([counts(A, B, 300, 0), counts(A, C, 10, 40)], [], consortium);
    expect(report.providers.map((p) => [p.member, p.flag, p.confirmedPerThousandItems, "bonus" in p])).to.deep.equal([["Bank B", undefined, null, false], ["Bank C", "high_false_positives", null, false]]);
    expect(report.reporters.map((r) => [r.member, r.othersConfirmShare])).to.deep.equal([["Bank A", null]]);
  });
});
