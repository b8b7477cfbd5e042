/**
 * The ledger batcher after its provider's removal: the QueryLedger takes a removed provider's
 * batches for 7 days, then never again. While it does the batcher flushes as usual; once it refuses
 * for good (QueryLedgerRemovalWindowClosed, or a record after the removal) the batcher stops
 * retrying, keeps the records, and its health says why.
 */
import { expect } from "chai";
import { Wallet } from "ethers";
import { LedgerBatcher } from "../../node/chain/index.ts";
import { isRiskshareError } from "../../node/errors.ts";
import { silentLogger } from "../../node/logger.ts";
import { FakeLedgerChain, memoryOutbox } from "./ledger.fixtures.ts";

describe("ledger batcher: a removed provider's last batches", () => {
  for (const refusal of ["QueryLedgerRemovalWindowClosed", "QueryLedgerDeadlineAfterRemoval"]) {
    it(`flushes while the ledger takes its batches, then stops for good at ${refusal}, saying why`, async () => {
      const outbox = memoryOutbox(3);
      const chain = new FakeLedgerChain(refusal);
      const channel = chain.channel();
      const providerAddress = Wallet.createRandom().address;
      const batcher = new LedgerBatcher({ providerAddress, flushIntervalMs: 60_000, maxBatchRecords: 1, maxInFlight: 1 }, { channel, outbox, logger: silentLogger() });
      // Within the window: every record lands.
      expect(await batcher.flush()).to.equal(3);
      expect(outbox.landed).to.deep.equal([1n, 2n, 3n]);

      // Records served later, by the same member's node (its store carries on from the landed batches).
      const later = memoryOutbox(2);
      await later.adoptSequence(providerAddress, 3n);
      const closing = new LedgerBatcher({ providerAddress, flushIntervalMs: 60_000, maxBatchRecords: 1, maxInFlight: 1 }, { channel, outbox: later, logger: silentLogger() });
      chain.open = false;
      const failed = await closing.flush().catch((err: unknown) => err);
      expect(isRiskshareError(failed) && failed.meta.revert).to.equal(refusal);
      expect(closing.health().closed, "health says why").to.match(/removed/);
      const submits = chain.submits;
      const again = await closing.flush().catch((err: unknown) => err);
      expect(isRiskshareError(again, "E_LEDGER_CLOSED"), String(again)).to.equal(true);
      expect(chain.submits, "nothing sent once closed").to.equal(submits);
      expect(await later.size(), "the records stay in the outbox").to.equal(2);
    });
  }

  it("keeps retrying any other failure (the chain may come back)", async () => {
    const chain = new FakeLedgerChain("QueryLedgerBadSequence");
    chain.open = false;
    const batcher = new LedgerBatcher({ providerAddress: Wallet.createRandom().address, flushIntervalMs: 60_000, maxBatchRecords: 1 }, { channel: chain.channel(), outbox: memoryOutbox(1), logger: silentLogger() });
    await batcher.flush().catch(() => undefined);
    expect(batcher.health().closed).to.equal(undefined);
    chain.open = true;
    expect(await batcher.flush()).to.equal(1);
  });
});
