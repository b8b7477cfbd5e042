/**
 * The ledger batcher after its provider's removal: the QueryLedger takes a removed provider's
 * batches for 7 days, then never again. While it does the batcher flushes as usual; once it refuses
 * for good (QueryLedgerRemovalWindowClosed, or a record after the removal) the batcher stops
 * retrying, keeps the records, and its health says why.
 */
import { expect } from "chai";
import { Wallet } from "ethers";
import { LedgerBatcher, revertError, type LedgerBatch, type LedgerChannel, type LedgerOutbox, type LedgerRecord } from "../../node/chain/index.ts";
import { isRiskshareError } from "../../node/errors.ts";
import { silentLogger } from "../../node/logger.ts";

/** An in-memory outbox holding `count` records (their contents never reach a real chain here). */
function memoryOutbox(count: number): LedgerOutbox & { landed: bigint[] } {
  let waiting = Array.from({ length: count }, () => ({}) as LedgerRecord);
  const pending: LedgerBatch[] = [];
  const landed: bigint[] = [];
  return {
    landed,
    pendingBatches: async () => [...pending],
    assignBatch: async (seq, maxRecords) => {
      if (waiting.length === 0) return undefined;
      const batch = { seq, records: waiting.slice(0, maxRecords) };
      waiting = waiting.slice(maxRecords);
      pending.push(batch);
      return batch;
    },
    completeBatch: async (seq) => {
      pending.splice(pending.findIndex((b) => b.seq === seq), 1);
      landed.push(seq);
    },
    size: async () => waiting.length + pending.reduce((n, b) => n + b.records.length, 0),
    unassigned: () => waiting.length,
  };
}

/** A channel whose chain takes batches while `open`, and refuses them with `refusal` otherwise. */
function fakeLedger(refusal: string): LedgerChannel & { open: boolean; submits: number } {
  let onChainSeq = 0n;
  const channel = {
    open: true,
    submits: 0,
    lastSequence: async () => onChainSeq,
    reset: () => undefined,
    submit: async (seq: bigint) => {
      channel.submits++;
      if (!channel.open) throw revertError(`record batch ${seq}`, refusal, [Wallet.createRandom().address, 1n, 2n]);
      onChainSeq = seq;
      return { seq, txHash: "0x", nonce: 0 } as never;
    },
    confirm: async () => ({ gasUsed: 1n }),
  };
  return channel;
}

describe("ledger batcher: a removed provider's last batches", () => {
  for (const refusal of ["QueryLedgerRemovalWindowClosed", "QueryLedgerDeadlineAfterRemoval"]) {
    it(`flushes while the ledger takes its batches, then stops for good at ${refusal}, saying why`, async () => {
      const outbox = memoryOutbox(3);
      const channel = fakeLedger(refusal);
      const batcher = new LedgerBatcher({ providerAddress: Wallet.createRandom().address, flushIntervalMs: 60_000, maxBatchRecords: 1, maxInFlight: 1 }, { channel, outbox, logger: silentLogger() });
      // Within the window: every record lands.
      expect(await batcher.flush()).to.equal(3);
      expect(outbox.landed).to.deep.equal([1n, 2n, 3n]);

      const later = memoryOutbox(2);
      const closing = new LedgerBatcher({ providerAddress: Wallet.createRandom().address, flushIntervalMs: 60_000, maxBatchRecords: 1, maxInFlight: 1 }, { channel, outbox: later, logger: silentLogger() });
      channel.open = false;
      const failed = await closing.flush().catch((err: unknown) => err);
      expect(isRiskshareError(failed) && failed.meta.revert).to.equal(refusal);
      expect(closing.health().closed, "health says why").to.match(/removed/);
      const submits = channel.submits;
      const again = await closing.flush().catch((err: unknown) => err);
      expect(isRiskshareError(again, "E_LEDGER_CLOSED"), String(again)).to.equal(true);
      expect(channel.submits, "nothing sent once closed").to.equal(submits);
      expect(await later.size(), "the records stay in the outbox").to.equal(2);
    });
  }

  it("keeps retrying any other failure (the chain may come back)", async () => {
    const channel = fakeLedger("QueryLedgerBadSequence");
    channel.open = false;
    const batcher = new LedgerBatcher({ providerAddress: Wallet.createRandom().address, flushIntervalMs: 60_000, maxBatchRecords: 1 }, { channel, outbox: memoryOutbox(1), logger: silentLogger() });
    await batcher.flush().catch(() => undefined);
    expect(batcher.health().closed).to.equal(undefined);
    channel.open = true;
    expect(await batcher.flush()).to.equal(1);
  });
});
