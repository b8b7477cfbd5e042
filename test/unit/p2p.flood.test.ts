/**
 * Refusal floods (issue 13): a member sending refused requests as fast as it can must neither fill
 * a provider's ledger outbox (one fsync and one record per refusal, until E_BACKLOG refused
 * everyone) nor slow the provider's answers to other members. Real libp2p nodes on loopback.
 */
import { expect } from "chai";
import { Wallet } from "ethers";
import { QueryOutcome, REFUSAL_ERROR_CODES, refusalDigest } from "../../node/chain/index.ts";
import type { LookupInit, LookupRequestFrame, OutboxRecord } from "../../node/p2p/index.ts";
import { buildRequestFrame, FakeChain, FakeFilters, NOW, randomItem, rawExchange, startNode, stopAll, type Member } from "./p2p.fixtures.ts";

/** The error code of a reply, or "answered". */
function codeOf(reply: Awaited<ReturnType<typeof rawExchange>>): string {
  if (reply.kind !== "frame") return "closed";
  return reply.frame.ok ? "answered" : reply.frame.error.code;
}

/** A request from `from` claiming `claimed` as its querier and signed by `claimed`'s key: refused for its signature. */
function misattributed(claimed: Wallet, provider: Member): Promise<LookupRequestFrame> {
  return buildRequestFrame(claimed, { querier: claimed.address, provider: provider.address });
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe("p2p: refusal floods", function () {
  this.timeout(120_000);
  const chain = new FakeChain();
  const filters = new FakeFilters();
  const other = Wallet.createRandom() as unknown as Wallet;
  const nodes: Member[] = [];
  const start = async (lookup: Partial<LookupInit> = {}) => {
    const node = await startNode(chain, { filters, lookup });
    nodes.push(node);
    return node;
  };
  after(async () => {
    await stopAll(nodes);
  });

  it("answers a peer beyond its item bucket E_RATE_LIMITED before checking its signature, and records nothing for it", async () => {
    const [provider, flooder, honest] = await Promise.all([start({ peerItemsPerSecond: 1, peerBurstItems: 4, refusalFoldSeconds: 0 }), start(), start()]);
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) codes.push(codeOf(await rawExchange(flooder, provider, await misattributed(other, provider))));
    expect(codes).to.deep.equal(["E_BAD_SIGNATURE", "E_BAD_SIGNATURE", "E_BAD_SIGNATURE", "E_BAD_SIGNATURE", "E_RATE_LIMITED", "E_RATE_LIMITED"]);
    expect(provider.outbox.records.length, "one record per refusal within the bucket, none beyond").to.equal(4);
    const limited = await rawExchange(flooder, provider, await buildRequestFrame(flooder.wallet, { provider: provider.address }));
    expect(limited.kind === "frame" && !limited.frame.ok && limited.frame.error.message).to.match(/retry in \d+ s/);
    // Each peer has its own bucket.
    expect(codeOf(await rawExchange(honest, provider, await buildRequestFrame(honest.wallet, { provider: provider.address })))).to.equal("answered");
  });

  it("folds one peer's refusals of one kind within the window into one record carrying their count, never recording an id twice", async () => {
    const [provider, flooder] = await Promise.all([start({ refusalFoldSeconds: 60 }), start()]);
    for (let i = 0; i < 10; i++) expect(codeOf(await rawExchange(flooder, provider, await misattributed(other, provider)))).to.equal("E_BAD_SIGNATURE");
    for (let i = 0; i < 3; i++) {
      const expired = await buildRequestFrame(flooder.wallet, { provider: provider.address, deadline: BigInt(NOW - 1) });
      expect(codeOf(await rawExchange(flooder, provider, expired))).to.equal("E_EXPIRED");
    }
    // One request answered, then resent four times: one DeniedReplay record for its id, however often.
    const replayed = await buildRequestFrame(flooder.wallet, { provider: provider.address });
    const replies: string[] = [];
    for (let i = 0; i < 5; i++) replies.push(codeOf(await rawExchange(flooder, provider, replayed)));
    expect(replies).to.deep.equal(["answered", "E_REPLAY", "E_REPLAY", "E_REPLAY", "E_REPLAY"]);
    const summary = (records: OutboxRecord[]) => records.map((r) => [r.outcome, r.count]);
    expect(summary(provider.outbox.records), "at once: the first refusal of each kind, and the answer").to.deep.equal([
      [QueryOutcome.DeniedBadSignature, 1], [QueryOutcome.DeniedExpired, 1], [QueryOutcome.Answered, 1], [QueryOutcome.DeniedReplay, 1],
    ]);

    await provider.lookup.stop(); // closes every window
    const records = provider.outbox.records;
    expect(summary(records.slice(4)), "when the windows close: the rest of each kind, counted").to.deep.equal([
      [QueryOutcome.DeniedBadSignature, 9], [QueryOutcome.DeniedExpired, 2],
    ]);
    const total = (outcome: number) => records.filter((r) => r.outcome === outcome).reduce((sum, r) => sum + r.count, 0);
    expect([total(QueryOutcome.DeniedBadSignature), total(QueryOutcome.DeniedExpired), total(QueryOutcome.DeniedReplay)]).to.deep.equal([10, 3, 1]);
    for (const record of records) {
      expect(record.request.querier, "the connected peer").to.equal(flooder.address);
      if (record.outcome !== QueryOutcome.Answered) expect(record.answerDigest).to.equal(refusalDigest(REFUSAL_ERROR_CODES[record.outcome]!));
    }
    const ids = records.map((r) => `${r.outcome}/${r.queryId}`);
    expect(new Set(ids).size, "no (outcome, query id) twice").to.equal(ids.length);
  });

  it("keeps answering an honest member within its usual latency while another floods it with refused requests", async () => {
    const [provider, flooder, honest] = await Promise.all([start(), start(), start()]);
    // No batcher drains this outbox: room for the honest member's 65 answers and 15 more records.
    // A provider recording every refusal is full after the flood's first 15 and refuses everyone.
    provider.outbox.maxBacklog = 80;
    const lookupLatencies = async (count: number): Promise<number[]> => {
      const samples: number[] = [];
      for (let i = 0; i < count; i++) {
        const started = performance.now();
        const outcome = await honest.lookup.lookupPeer(provider.host.getMultiaddrs(), { providerAddress: provider.address, items: [randomItem()], categoryIds: [1] });
        samples.push(performance.now() - started);
        expect(outcome.status, `honest lookup ${i}: ${"code" in outcome ? outcome.code : ""}`).to.equal("answered");
      }
      return samples;
    };
    await lookupLatencies(5); // warm up: connection, caches
    const baseline = await lookupLatencies(30);

    const frames = await Promise.all(Array.from({ length: 200 }, () => misattributed(other, provider)));
    const floodCodes = new Map<string, number>();
    let flooding = true;
    let sent = 0;
    const flood = async () => {
      while (flooding) {
        const code = codeOf(await rawExchange(flooder, provider, frames[sent++ % frames.length]!));
        floodCodes.set(code, (floodCodes.get(code) ?? 0) + 1);
      }
    };
    const workers = Array.from({ length: 4 }, flood);
    let during: number[];
    try {
      while (sent < 100) await new Promise((resolve) => setImmediate(resolve)); // the flood is under way
      during = await lookupLatencies(30);
    } finally {
      flooding = false;
      await Promise.all(workers);
    }

    expect(sent, "the flood outnumbered the backlog").to.be.greaterThan(provider.outbox.maxBacklog);
    expect([...floodCodes.keys()].sort(), "the flood was refused, never answered").to.satisfy((codes: string[]) => codes.every((c) => c === "E_BAD_SIGNATURE" || c === "E_RATE_LIMITED"));
    const flooderRecords = provider.outbox.records.filter((r) => r.request.querier === flooder.address);
    expect(flooderRecords.map((r) => [r.outcome, r.count]), "the flood's refusals so far: one record").to.deep.equal([[QueryOutcome.DeniedBadSignature, 1]]);
    const ratio = median(during) / median(baseline);
    console.log(`      (honest 1-item lookups: p50 ${median(baseline).toFixed(1)} ms alone, ${median(during).toFixed(1)} ms during a flood of ${sent} refused requests; ratio ${ratio.toFixed(2)})`);
    // Same machine, same test: the flood shares this process's event loop with both nodes, so some slowdown is the test's own.
    expect(ratio, "median latency during the flood over the median alone").to.be.lessThan(4);
  });
});
