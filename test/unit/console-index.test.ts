import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hexlify, randomBytes, Wallet } from "ethers";
import { feedbackReport, ITEM_JUMP_DEFAULTS, itemJumps, LookupKind, memberReport, outcomeName, QueryOutcome, type AuditRecord } from "../../node/chain/index.ts";
import { LedgerIndex, ledgerData, overviewData, type ConsoleConsortium, type IndexedCreditEvent } from "../../node/console/index.ts";

const A = Wallet.createRandom().address;
const B = Wallet.createRandom().address;
const C = Wallet.createRandom().address;
const DAY = 86_400;
const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z

const consortium: ConsoleConsortium = {
  allMembers: () => [{ address: A, name: "Bank A", status: 2 }, { address: B, name: "Bank B", status: 2 }, { address: C, name: "Bank C", status: 3 }],
  categories: () => [{ id: 1, name: "fraud_confirmed" }, { id: 2, name: "money_mule" }],
  contribution: (member, categoryId) => (member === A && categoryId === 1 ? { liveCount: 40n } : undefined),
};

let logIndex = 0;
function record(fields: Partial<AuditRecord> & { blockNumber: number }): AuditRecord {
  const outcome = fields.outcome ?? QueryOutcome.Answered;
  return {
    queryId: hexlify(randomBytes(32)), timestamp: T0 + fields.blockNumber * 3_600, txHash: hexlify(randomBytes(32)), logIndex: logIndex++, seq: 1n,
    querier: A, provider: B, categoryIds: [1], kind: LookupKind.Evaluate, itemCount: 1, keyEpoch: outcome === QueryOutcome.Answered ? 1 : 0, outcome, outcomeName: outcomeName(outcome),
    count: 1, itemsCommitment: hexlify(randomBytes(32)), nonce: hexlify(randomBytes(32)), deadline: BigInt(T0 + 600), signature: "", answerDigest: hexlify(randomBytes(32)),
    ...fields,
  };
}

/** 240 records over 10 days (one block an hour), of three members, two categories, answers and refusals, a folded refusal. */
function ledger(): AuditRecord[] {
  const members = [A, B, C];
  return Array.from({ length: 240 }, (_, i) => record({
    blockNumber: i, querier: members[i % 3]!, provider: members[(i + 1) % 3]!, categoryIds: i % 4 === 0 ? [1, 2] : [1 + (i % 2)],
    kind: i % 5 === 0 ? LookupKind.Fetch : LookupKind.Evaluate, itemCount: 1 + (i % 7) * (i > 200 && i % 3 === 0 ? 500 : 1),
    outcome: i % 6 === 0 ? QueryOutcome.DeniedQuota : QueryOutcome.Answered, count: i === 13 ? 9 : 1,
  }));
}

describe("the console's ledger index", () => {
  let dir: string;
  let index: LedgerIndex;
  const open = () => new LedgerIndex({ location: join(dir, "index.sqlite"), chainId: 31337n, ledgerAddress: A, reorgMarginBlocks: 3, chunkBlocks: 100 });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "riskshare-console-index-"));
    index = open();
  });
  afterEach(async () => {
    index.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("filters by time, querier, provider, category and outcome like the audit does, pages newest first, and lists a filter's records oldest first", () => {
    const records = ledger();
    index.replaceFrom(0, 239, records);
    const cases: Array<[Parameters<LedgerIndex["page"]>[0], (r: AuditRecord) => boolean]> = [
      [{}, () => true],
      [{ querier: B }, (r) => r.querier === B],
      [{ provider: C, categoryId: 2 }, (r) => r.provider === C && r.categoryIds.includes(2)],
      [{ outcome: QueryOutcome.DeniedQuota }, (r) => r.outcome === QueryOutcome.DeniedQuota],
      [{ fromTime: T0 + 2 * DAY, toTime: T0 + 4 * DAY - 1, categoryId: 1 }, (r) => r.timestamp >= T0 + 2 * DAY && r.timestamp <= T0 + 4 * DAY - 1 && r.categoryIds.includes(1)],
      [{ fromTime: T0 + 30 * DAY }, () => false],
      [{ querier: Wallet.createRandom().address }, () => false],
    ];
    for (const [filter, keep] of cases) {
      const expected = records.filter(keep);
      const label = JSON.stringify(filter);
      expect([...index.records(filter, 7)].map((r) => r.queryId), label).to.deep.equal(expected.map((r) => r.queryId));
      const first = ledgerData(index, filter, 1, 10);
      expect(first.total, label).to.equal(expected.length);
      expect(first.pages, label).to.equal(Math.max(1, Math.ceil(expected.length / 10)));
      expect(first.records.map((r) => r.queryId), label).to.deep.equal(expected.slice(-10).reverse().map((r) => r.queryId));
      const second = ledgerData(index, filter, 2, 10);
      expect(second.records.map((r) => r.queryId), label).to.deep.equal(expected.slice(-20, -10).reverse().map((r) => r.queryId));
    }
    const kept = ledgerData(index, {}, 1, 1).records[0]!;
    const original = records.at(-1)!;
    for (const field of ["blockNumber", "logIndex", "timestamp", "queryId", "seq", "querier", "provider", "categoryIds", "kind", "itemCount", "keyEpoch", "outcome", "outcomeName", "count", "deadline", "itemsCommitment"] as const) {
      expect(kept[field], field).to.deep.equal(original[field]);
    }
  });

  it("gives the overview what memberReport and itemJumps give over the records themselves", () => {
    const records = ledger();
    index.replaceFrom(0, 239, records);
    const overview = overviewData(index, consortium);
    expect(overview.members.map(({ status: _status, ...row }) => row)).to.deep.equal(memberReport(records, consortium));
    expect(overview.members.map((m) => m.status)).to.deep.equal(["Active", "Active", "Suspended"]);
    expect(overview.itemJumps).to.deep.equal(itemJumps(records, consortium, ITEM_JUMP_DEFAULTS));
    expect(overview.itemJumps.length, "the test's ledger has jumps").to.be.greaterThan(0);
    const made = overview.days.reduce((sum, d) => sum + d.made, 0);
    expect(made).to.equal(records.reduce((sum, r) => sum + r.count, 0));
    expect(overview.days.map((d) => d.day)).to.deep.equal(Array.from({ length: 10 }, (_, i) => new Date((T0 + i * DAY) * 1000).toISOString().slice(0, 10)));
    const secondDay = overviewData(index, consortium, { fromDay: T0 / DAY + 1, toDay: T0 / DAY + 1 });
    expect(secondDay.members.map(({ status: _status, ...row }) => row)).to.deep.equal(memberReport(records.filter((r) => r.timestamp >= T0 + DAY && r.timestamp < T0 + 2 * DAY), consortium));
  });

  it("keeps the ledger's credit events: flows per pair and the feedback report over a time range, as audit report computes it", () => {
    const records = ledger();
    const at = (block: number) => ({ blockNumber: block, txHash: hexlify(randomBytes(32)), timestamp: T0 + block * 3_600 });
    const events: IndexedCreditEvent[] = [
      { ...at(10), name: "CreditsMoved", querier: A, provider: B, items: 30n },
      { ...at(30), name: "CreditsMoved", querier: A, provider: B, items: 12n },
      { ...at(31), name: "CreditsMoved", querier: C, provider: A, items: 5n },
      { ...at(40), name: "FeedbackReported", week: 2922, reporter: A, provider: B, confirmed: 9, falsePositive: 1, outdated: 2 },
      { ...at(40), name: "CreditsBurned", provider: B, week: 2922, amount: 10n },
      { ...at(200), name: "BonusPaid", week: 2922, provider: B, amount: 7n },
    ];
    index.replaceFrom(0, 239, records, events);
    expect(index.creditFlows()).to.deep.equal([{ querier: A, provider: B, items: 42 }, { querier: C, provider: A, items: 5 }]);
    expect(index.creditFlows({ fromTime: T0 + 31 * 3_600 })).to.deep.equal([{ querier: C, provider: A, items: 5 }]);
    const overview = overviewData(index, consortium);
    const counts = [{ week: 2922, reporter: A, provider: B, confirmed: 9, falsePositive: 1, outdated: 2 }];
    expect(overview.feedback).to.deep.equal(feedbackReport(counts, records, consortium, { bonus: new Map([[B, 7]]), burned: new Map([[B, 10]]) }));
    // The second day only (blocks 24-47): the feedback and the burn, not the bonus (block 200 is on the ninth).
    expect(overviewData(index, consortium, { fromDay: T0 / DAY + 1, toDay: T0 / DAY + 1 }).feedback.providers.find((p) => p.address === B)).to.deep.include({ confirmed: 9, bonus: 0, burned: 10 });
    // A reorganisation replaces them with the records.
    index.replaceFrom(35, 239, records.filter((r) => r.blockNumber >= 35));
    expect(index.feedback().counts).to.deep.equal([]);
    expect(index.creditFlows()).to.have.length(2);
  });

  it("replaces the blocks within its reorganisation margin on each sync, and resumes after a restart where it stopped", () => {
    const records = ledger();
    index.replaceFrom(0, 199, records.filter((r) => r.blockNumber <= 199));
    expect(index.indexedBlock).to.equal(199);
    index.close();
    index = open();
    expect(index.indexedBlock, "resumes").to.equal(199);
    // A reorganisation rewrote blocks 197..199: the next sync reads from block 197 (margin 3) and replaces them.
    const rewritten = [...records.filter((r) => r.blockNumber < 197), ...records.filter((r) => r.blockNumber >= 197).map((r) => (r.blockNumber <= 199 ? { ...r, queryId: hexlify(randomBytes(32)) } : r))];
    index.replaceFrom(197, 239, rewritten.filter((r) => r.blockNumber >= 197));
    expect([...index.records({})].map((r) => r.queryId)).to.deep.equal(rewritten.map((r) => r.queryId));
    expect(overviewData(index, consortium).members.map(({ status: _status, ...row }) => row)).to.deep.equal(memberReport(rewritten, consortium));
  });

  it("starts again from block 0 for another chain or ledger", () => {
    index.replaceFrom(0, 239, ledger());
    index.close();
    index = new LedgerIndex({ location: join(dir, "index.sqlite"), chainId: 1n, ledgerAddress: A, reorgMarginBlocks: 3, chunkBlocks: 100 });
    expect(index.indexedBlock).to.equal(-1);
    expect(ledgerData(index, {}, 1, 10).total).to.equal(0);
  });
});
