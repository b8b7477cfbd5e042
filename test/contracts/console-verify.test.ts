/**
 * The console's Verify page runs `audit verify`'s checks in the background (node/console/verify.ts):
 * on a ledger holding a forged record it reads every block with progress and lists the failure
 * under its kind.
 */
import { expect } from "chai";
import { network } from "hardhat";
import type { JsonRpcProvider } from "ethers";
import type { IConsortiumRegistry, IQueryLedger } from "../../types/ethers-contracts/index.js";
import { LedgerVerifier, type VerifyState } from "../../node/console/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { boundConsortiumFixture, devSecretKey, signedQueryRecord } from "./fixtures.ts";

const { ethers, networkHelpers } = await network.create();

describe("the console's ledger verification", function () {
  it("reads the chain in block ranges with progress and lists a forged record under its kind, the honest one not at all", async function () {
    const { registry, ledger, alice, bob } = await networkHelpers.loadFixture(boundConsortiumFixture);
    const { chainId } = await ethers.provider.getNetwork();
    const at = { chainId, address: await ledger.getAddress() };
    const deadline = BigInt(await networkHelpers.time.latest()) + 300n;
    const honest = signedQueryRecord(at, devSecretKey(2), bob.address, alice.address, 1n, { deadline });
    // Names bob as its querier but carol's key signed it: the provider made it up.
    const forged = signedQueryRecord(at, devSecretKey(3), bob.address, alice.address, 2n, { deadline });
    await (await ledger.connect(alice).recordBatch(1, [honest, forged])).wait();

    const audit = { provider: ethers.provider as unknown as JsonRpcProvider, registry: registry as unknown as IConsortiumRegistry, ledger: ledger as unknown as IQueryLedger, chainId };
    const verifier = new LedgerVerifier({ chunkBlocks: 4 }, { audit, logger: silentLogger() });
    expect(verifier.status().state).to.equal("idle");
    const seen: VerifyState[] = [verifier.start(new AbortController().signal)];
    while (!["done", "failed"].includes(verifier.status().state)) {
      seen.push(verifier.status());
      await new Promise((resolve) => setImmediate(resolve));
    }
    const done = verifier.status();
    expect(done.error, JSON.stringify(done.error)).to.equal(undefined);
    const head = await ethers.provider.getBlockNumber();
    expect(done).to.deep.include({ state: "done", headBlock: head, blocksRead: head + 1, records: 2, batches: 1 });
    expect(done.byKind).to.deep.equal({ forged_querier: 1 });
    expect(done.failures!.map((f) => f.queryId)).to.deep.equal([await ledger.queryId(alice.address, forged)]);
    const progress = seen.map((s) => s.blocksRead ?? 0);
    expect(progress.some((blocks) => blocks > 0 && blocks < head + 1), `progress in steps of 4 blocks: ${progress.join(" ")}`).to.equal(true);
  });
});
