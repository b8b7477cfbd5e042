/**
 * One writer per member key: a node flushes its ledger batches only while every batch the chain
 * holds for its key is one it sent (or adopted at a take-over). A second node under the same key —
 * a fresh data dir, a restored backup, a standby started by mistake — stops flushing, keeps its
 * records and says so in health, instead of interleaving sequence numbers with the first.
 */
import { expect } from "chai";
import { Wallet } from "ethers";
import { LedgerBatcher, type LedgerChannel, type LedgerOutbox } from "../../node/chain/index.ts";
import { isRiskshareError } from "../../node/errors.ts";
import { silentLogger } from "../../node/logger.ts";
import { FakeLedgerChain, memoryOutbox } from "./ledger.fixtures.ts";

const providerAddress = Wallet.createRandom().address;

function batcherOver(channel: LedgerChannel, outbox: LedgerOutbox): LedgerBatcher {
  return new LedgerBatcher({ providerAddress, flushIntervalMs: 60_000, maxBatchRecords: 2, maxInFlight: 1 }, { channel, outbox, logger: silentLogger() });
}

async function refusal(batcher: LedgerBatcher): Promise<unknown> {
  return batcher.flush().then((landed) => expect.fail(`expected E_LEDGER_OTHER_WRITER, ${landed} landed`), (err: unknown) => err);
}

describe("ledger batcher: one writer per member key", () => {
  it("a fresh key flushes without ado, and the writer mark follows each batch landed", async () => {
    const chain = new FakeLedgerChain();
    const outbox = memoryOutbox(3);
    const batcher = batcherOver(chain.channel(), outbox);
    expect(await batcher.flush()).to.equal(3);
    expect(chain.lastSeq).to.equal(2n);
    const { lastLanded, otherWriter } = batcher.health();
    expect(otherWriter).to.equal(undefined);
    expect(lastLanded?.seq).to.equal(2n);
    expect(chain.transactions.get(lastLanded!.txHash!), "the mark names the transaction that landed it").to.equal(true);
  });

  it("a second node under the same key (a fresh data dir) refuses to flush, keeps its records and says so; the first goes on", async () => {
    const chain = new FakeLedgerChain();
    const first = memoryOutbox(2);
    expect(await batcherOver(chain.channel(), first).flush()).to.equal(2);
    const secondOutbox = memoryOutbox(3);
    const second = batcherOver(chain.channel(), secondOutbox);
    const submits = chain.submits;
    const err = await refusal(second);
    expect(isRiskshareError(err, "E_LEDGER_OTHER_WRITER"), String(err)).to.equal(true);
    expect(String(err)).to.contain("take-over");
    expect(chain.submits, "nothing sent").to.equal(submits);
    expect(await secondOutbox.size(), "its records stay in the outbox").to.equal(3);
    expect(second.health().otherWriter).to.deep.equal({ chainSeq: 1n, ownSeq: 0n });
    // It stays stopped: nothing but a take-over changes what it knows.
    expect(isRiskshareError(await refusal(second), "E_LEDGER_OTHER_WRITER")).to.equal(true);
    // The first node's batches go on landing.
    first.append(1);
    expect(await batcherOver(chain.channel(), first).flush()).to.equal(1);
    expect(chain.lastSeq).to.equal(2n);
  });

  it("two nodes started together on a fresh key: once one lands a batch the other stops, even with a batch it already sent that the chain refused", async () => {
    const chain = new FakeLedgerChain();
    const a = memoryOutbox(1);
    const b = memoryOutbox(1);
    const batcherB = batcherOver(chain.channel(), b);
    // B binds its record to seq 1, but A's batch 1 lands first: B's transaction fails.
    await b.assignBatch(1n, 2);
    expect(await batcherOver(chain.channel(), a).flush()).to.equal(1);
    await chain.channel().submit(1n, [], (txHash) => b.noteSent(1n, txHash)).catch(() => undefined);
    const err = await refusal(batcherB);
    expect(isRiskshareError(err, "E_LEDGER_OTHER_WRITER"), String(err)).to.equal(true);
    expect(await b.size(), "B's record is not taken for landed").to.equal(1);
    expect(b.landed).to.deep.equal([]);
  });

  it("after a crash between sending a batch and noting it landed, takes that batch for its own", async () => {
    const chain = new FakeLedgerChain();
    const outbox = memoryOutbox(2);
    const channel = chain.channel();
    // The node sends batch 1 and dies before its receipt: the confirmation never comes.
    const crashing: LedgerChannel = { ...channel, confirm: async () => Promise.reject(new Error("the node died")) };
    await batcherOver(crashing, outbox).flush().catch(() => undefined);
    expect(chain.lastSeq).to.equal(1n);
    expect(await outbox.size()).to.equal(2);
    const restarted = batcherOver(channel, outbox);
    expect(await restarted.flush()).to.equal(2);
    expect(restarted.health().otherWriter).to.equal(undefined);
    expect(outbox.landed).to.deep.equal([1n]);
    expect(restarted.health().lastLanded?.seq).to.equal(1n);
  });

  it("flushes from the adopted sequence number on after a take-over", async () => {
    const chain = new FakeLedgerChain();
    await batcherOver(chain.channel(), memoryOutbox(4)).flush();
    const standby = memoryOutbox(1);
    expect(isRiskshareError(await refusal(batcherOver(chain.channel(), standby)), "E_LEDGER_OTHER_WRITER")).to.equal(true);
    await standby.adoptSequence(providerAddress, chain.lastSeq);
    const restarted = batcherOver(chain.channel(), standby);
    expect(await restarted.flush()).to.equal(1);
    expect(chain.lastSeq).to.equal(3n);
    expect(restarted.health().lastLanded).to.include({ seq: 3n });
  });

  it("a store from before writer marks takes the chain's last batch for its own once, then guards as any other", async () => {
    const chain = new FakeLedgerChain();
    await batcherOver(chain.channel(), memoryOutbox(2)).flush();
    const upgraded = memoryOutbox(1, { legacy: true });
    expect(await batcherOver(chain.channel(), upgraded).flush()).to.equal(1);
    expect(upgraded.writerMark(providerAddress)).to.include({ seq: 2n });
    // Another node lands a batch: the upgraded store now notices.
    await chain.channel().submit(3n, [], async () => undefined);
    upgraded.append(1);
    expect(isRiskshareError(await refusal(batcherOver(chain.channel(), upgraded)), "E_LEDGER_OTHER_WRITER")).to.equal(true);
  });

  it("a rotated member key starts at sequence 0 under its new account: its store's mark for the old account does not count", async () => {
    const chain = new FakeLedgerChain();
    const outbox = memoryOutbox(1);
    await outbox.adoptSequence(Wallet.createRandom().address, 7n);
    expect(await batcherOver(chain.channel(), outbox).flush()).to.equal(1);
  });
});
