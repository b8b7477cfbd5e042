import { expect } from "chai";
import { hexlify, randomBytes, Wallet } from "ethers";
import {
  itemsCommitment, lookupRequestDigest, memberReport, openCommitment, outcomeName, QueryOutcome,
  type AuditRecord, type ReportConsortium, type SentQuery,
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
    querier: A, provider: B, categoryIds: [1], itemCount: 1, hitCount: 0, outcome, outcomeName: outcomeName(outcome),
    itemsCommitment: hexlify(randomBytes(32)), nonce: hexlify(randomBytes(32)), deadline: 1_750_000_600n, signature: "0x",
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
  it("counts, per member, the queries it made, answered and denied, those it served, and its hit rate over answered items", () => {
    const records = [
      record({ querier: A, provider: B, itemCount: 4, hitCount: 1 }),
      record({ querier: A, provider: C, itemCount: 6, hitCount: 2 }),
      record({ querier: A, provider: C, itemCount: 5, hitCount: 0, outcome: QueryOutcome.DeniedReciprocity }),
      record({ querier: C, provider: A, itemCount: 2, hitCount: 0, outcome: QueryOutcome.DeniedQuota }),
    ];
    const [a, b, c] = memberReport(records, consortium);
    expect(a).to.deep.equal({
      member: "Bank A", address: A, queriesMade: 3, answered: 2, denied: 1, served: 1, itemsAsked: 10, hits: 3, hitRate: 0.3,
      contributions: { fraud_confirmed: 40, money_mule: 0 },
    });
    expect(b).to.deep.include({ queriesMade: 0, answered: 0, denied: 0, served: 1, itemsAsked: 0, hits: 0, hitRate: 0, contributions: { fraud_confirmed: 0, money_mule: 7 } });
    expect(c).to.deep.include({ queriesMade: 1, answered: 0, denied: 1, served: 2, itemsAsked: 0, hits: 0, hitRate: 0 });
  });

  it("lists every member, in the registry's order, even with no records", () => {
    const rows = memberReport([], consortium);
    expect(rows.map((r) => [r.member, r.queriesMade, r.served, r.hitRate])).to.deep.equal([["Bank A", 0, 0, 0], ["Bank B", 0, 0, 0], ["Bank C", 0, 0, 0]]);
  });
});

describe("openCommitment", () => {
  const chainId = 31_337n;
  const ledgerAddress = Wallet.createRandom().address;
  const blinding = hexlify(randomBytes(32));
  const hashes = [hexlify(randomBytes(32)), hexlify(randomBytes(32))];

  /** A query A sent to B as the journal keeps it, and the ledger's record of it. */
  function sentAndRecorded(): { queryId: string; sent: SentQuery; onChain: AuditRecord } {
    const sent: SentQuery = {
      querier: A, provider: B, categoryMask: "2", itemCount: 2, itemsCommitment: itemsCommitment(blinding, hashes),
      nonce: hexlify(randomBytes(32)), deadline: "1750000600", blinding, items: hashes.map((hash) => ({ hash })),
    };
    const queryId = lookupRequestDigest(chainId, ledgerAddress, {
      querier: sent.querier, provider: sent.provider, categoryMask: 2n, itemCount: 2, itemsCommitment: sent.itemsCommitment, nonce: sent.nonce, deadline: 1_750_000_600n,
    });
    return { queryId, sent, onChain: record({ queryId, itemCount: 2, itemsCommitment: sent.itemsCommitment, nonce: sent.nonce }) };
  }

  it("opens a kept query against its record, among records of other queries", () => {
    const { queryId, sent, onChain } = sentAndRecorded();
    const opening = openCommitment(queryId.toUpperCase().replace("0X", "0x"), sent, [record({}), onChain, record({})], { chainId, address: ledgerAddress });
    expect(opening.ok).to.equal(true);
    expect(opening.checks).to.deep.equal({ commitmentOpens: true, queryIdMatches: true, itemCountMatches: true });
    expect(opening.records).to.deep.equal([onChain]);
  });

  it("does not open with an item changed, dropped, or the request of another ledger", () => {
    const { queryId, sent, onChain } = sentAndRecorded();
    const changed = openCommitment(queryId, { ...sent, items: [{ hash: hexlify(randomBytes(32)) }, sent.items[1]!] }, [onChain], { chainId, address: ledgerAddress });
    expect(changed.ok).to.equal(false);
    expect(changed.checks).to.deep.equal({ commitmentOpens: false, queryIdMatches: true, itemCountMatches: true });
    const dropped = openCommitment(queryId, { ...sent, items: sent.items.slice(0, 1) }, [onChain], { chainId, address: ledgerAddress });
    expect(dropped.checks).to.deep.equal({ commitmentOpens: false, queryIdMatches: true, itemCountMatches: false });
    const elsewhere = openCommitment(queryId, sent, [onChain], { chainId: chainId + 1n, address: ledgerAddress });
    expect(elsewhere.checks).to.deep.equal({ commitmentOpens: true, queryIdMatches: false, itemCountMatches: true });
  });

  it("refuses a query the ledger has no record of yet with E_NOT_FOUND", () => {
    const { queryId, sent } = sentAndRecorded();
    let thrown: unknown;
    try {
      openCommitment(queryId, sent, [record({})], { chainId, address: ledgerAddress });
    } catch (err) {
      thrown = err;
    }
    expect(isRiskshareError(thrown, "E_NOT_FOUND"), String(thrown)).to.equal(true);
  });
});
