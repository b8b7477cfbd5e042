/**
 * A regulator's pause of every lookup, on both sides of `/riskshare/lookup/2` between real libp2p
 * nodes on loopback: while it holds, a provider refuses every request with E_CONSORTIUM_PAUSED (and
 * records nothing: it served nobody) and a querier sends none; once it ends, lookups are answered again.
 */
import { expect } from "chai";
import type { ConsortiumPause } from "../../node/p2p/index.ts";
import { buildRequestFrame, FakeChain, FakeFilters, NOW, rawExchange, randomItem, startNode, stopAll, type Member } from "./p2p.fixtures.ts";

/** A pause the test sets and lifts, as the chain view's `pausedUntil` answers. */
function pauseSwitch(): ConsortiumPause & { until: number | undefined } {
  return {
    until: undefined,
    pausedUntil(nowSec) {
      return this.until !== undefined && nowSec < this.until ? this.until : undefined;
    },
  };
}

describe("p2p: lookups while a regulator pauses the consortium", function () {
  this.timeout(60_000);
  const chain = new FakeChain();
  const filters = new FakeFilters();
  const providerPause = pauseSwitch();
  const querierPause = pauseSwitch();
  let querier: Member, provider: Member;
  const ask = () => querier.lookup.lookupPeer(provider.host.getMultiaddrs(), { providerAddress: provider.address, items: [randomItem()], categoryIds: [1] });

  before(async () => {
    [querier, provider] = await Promise.all([
      startNode(chain, { filters, pause: querierPause }),
      startNode(chain, { filters, pause: providerPause }),
    ]);
  });
  after(async () => {
    await stopAll([querier, provider]);
  });
  afterEach(() => {
    providerPause.until = undefined;
    querierPause.until = undefined;
  });

  it("a provider refuses every lookup with E_CONSORTIUM_PAUSED, saying until when, and records none", async () => {
    providerPause.until = NOW + 3_600;
    const recordsBefore = provider.outbox.records.length;
    const outcome = await ask();
    expect(outcome.status).to.equal("denied");
    if (outcome.status === "answered") return;
    expect(outcome.code).to.equal("E_CONSORTIUM_PAUSED");
    expect(outcome.message).to.contain(new Date((NOW + 3_600) * 1000).toISOString());
    // A well-formed, signed request by hand: refused before any check or record, whoever asks.
    const reply = await rawExchange(querier, provider, await buildRequestFrame(querier.wallet, { provider: provider.address }));
    expect(reply.kind === "frame" && !reply.frame.ok && reply.frame.error.code).to.equal("E_CONSORTIUM_PAUSED");
    expect(provider.outbox.records.length, "nothing recorded").to.equal(recordsBefore);
    expect(provider.received, "nothing evaluated").to.have.length(0);
  });

  it("a querier sends no lookup while paused: the outcome is E_CONSORTIUM_PAUSED without a request", async () => {
    querierPause.until = NOW + 60;
    const [receivedBefore, journalBefore] = [provider.received.length, querier.journal.records.length];
    const outcome = await ask();
    expect(outcome).to.deep.include({ status: "denied", code: "E_CONSORTIUM_PAUSED", providerAddress: provider.address });
    expect(provider.received, "the provider received nothing").to.have.length(receivedBefore);
    expect(querier.journal.records, "nothing signed or journalled").to.have.length(journalBefore);
  });

  it("serves again once the pause is over (its end passed, or a vote lifted it)", async () => {
    providerPause.until = NOW; // ended: now is not before it
    querierPause.until = NOW;
    const receivedBefore = provider.received.length;
    const outcome = await ask();
    expect(outcome.status, outcome.status === "answered" ? "" : `${outcome.code}: ${outcome.message}`).to.equal("answered");
    expect(provider.received).to.have.length(receivedBefore + 1);
  });
});
