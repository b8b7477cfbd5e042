/**
 * Gas per query record: one recordBatch per batch size, with realistic random records (random
 * querier, commitment, nonce and signature words; nonzero counts and masks), on Hardhat's
 * in-process chain. Prints the README's table.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { consortiumFixture, randomQueryRecord } from "./fixtures.ts";

const { networkHelpers } = await network.create();
const { loadFixture, time } = networkHelpers;

const BATCH_SIZES = [1, 10, 100, 500] as const;
/** The target: well under this at 100 records per batch. */
const MAX_GAS_PER_RECORD_AT_100 = 10_000n;

describe("QueryLedger gas", function () {
  it("costs well under 10,000 gas per record at 100 records per batch", async function () {
    const { ledger, alice } = await loadFixture(consortiumFixture);
    const provider = ledger.connect(alice);
    const deadline = BigInt(await time.latest()) + 300n;
    // A first batch so every measured batch pays the same (warm, nonzero) sequence slot update.
    await provider.recordBatch(1, [randomQueryRecord(deadline)]);

    const rows: { size: number; gasUsed: bigint; perRecord: bigint }[] = [];
    let seq = 2;
    for (const size of BATCH_SIZES) {
      const records = Array.from({ length: size }, () => randomQueryRecord(deadline));
      const receipt = await (await provider.recordBatch(seq++, records)).wait();
      const gasUsed = receipt!.gasUsed;
      rows.push({ size, gasUsed, perRecord: gasUsed / BigInt(size) });
    }

    const lines = [
      "| records per batch | gas per batch | gas per record |",
      "| ---: | ---: | ---: |",
      ...rows.map((row) => `| ${row.size} | ${row.gasUsed.toLocaleString("en-US")} | ${row.perRecord.toLocaleString("en-US")} |`),
    ];
    console.log(`\n${lines.join("\n")}\n`);

    const at100 = rows.find((row) => row.size === 100)!;
    expect(at100.perRecord, "gas per record at 100 per batch").to.be.lessThan(MAX_GAS_PER_RECORD_AT_100);
  });
});
