/**
 * Gas per query record: one recordBatch per batch size, with realistic random records (random
 * querier, commitment, nonce and signature words; nonzero counts and masks), on Hardhat's
 * in-process chain, the companions named in the registry so that each batch reports the provider's
 * activity to it (as in a deployment). Prints the README's table.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { getAddress, hexlify, randomBytes } from "ethers";
import { encodeRecordBatch, MAX_BATCH_RECORDS, recordBatchGasLimit, type QueryRecordStruct } from "../../node/chain/index.ts";
import { boundConsortiumFixture, randomQueryRecord } from "./fixtures.ts";

const { networkHelpers } = await network.create();
const { loadFixture, time } = networkHelpers;

const BATCH_SIZES = [1, 10, 100, MAX_BATCH_RECORDS] as const;
/**
 * The ceiling at 100 records per batch. A record is thirteen calldata words since it carries its
 * refusal count and answer digest (was eleven: ~8,700 gas a record at 100), and its cost is the
 * EIP-7623 calldata floor (10 gas per calldata token: 416 bytes with ~230 random nonzero bytes ≈
 * 11,000 tokens a record at most, ~10,000 measured), no longer the execution (~5,900).
 */
const MAX_GAS_PER_RECORD_AT_100 = 10_500n;

describe("QueryLedger gas", function () {
  it("costs under 10,500 gas per record at 100 records per batch (the calldata floor of a 13-word record)", async function () {
    const { ledger, alice } = await loadFixture(boundConsortiumFixture);
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

  it("the batcher's computed gas limit covers every batch size, for calldata of all zeros and of no zeros, without wasting more than a quarter", async function () {
    const { ledger, alice } = await loadFixture(boundConsortiumFixture);
    const provider = ledger.connect(alice);
    const deadline = BigInt(await time.latest()) + 300n;
    const full = (): QueryRecordStruct => ({
      querier: getAddress(hexlify(randomBytes(20)).replace(/00/g, "11")), categoryMask: (1n << 64n) - 2n, deadline: (1n << 64n) - 1n,
      // A refusal, the only outcome whose count may be large (its key epoch must be 0).
      itemCount: 0xffffffff, kind: 255, keyEpoch: 0, outcome: 255, count: 0xffffffff,
      itemsCommitment: `0x${"ff".repeat(32)}`, nonce: `0x${"ee".repeat(32)}`, signatureR: `0x${"dd".repeat(32)}`, signatureVs: `0x${"cc".repeat(32)}`,
      answerDigest: `0x${"bb".repeat(32)}`,
    });
    const empty = (): QueryRecordStruct => ({
      querier: getAddress(hexlify(randomBytes(20))), categoryMask: 2n, deadline, itemCount: 0, kind: 0, keyEpoch: 0, outcome: 1, count: 1,
      itemsCommitment: `0x${"00".repeat(32)}`, nonce: hexlify(randomBytes(32)), signatureR: `0x${"00".repeat(32)}`, signatureVs: `0x${"00".repeat(32)}`,
      answerDigest: `0x${"00".repeat(32)}`,
    });
    let seq = 1n;
    for (const size of [1, 2, 10, 100, MAX_BATCH_RECORDS]) {
      for (const make of [full, empty]) {
        const records = Array.from({ length: size }, make);
        const gasLimit = recordBatchGasLimit(encodeRecordBatch(seq, records), size);
        const receipt = await (await provider.recordBatch(seq++, records, { gasLimit })).wait();
        expect(receipt!.status, `${size} ${make.name} records`).to.equal(1);
        expect(receipt!.gasUsed, `${size} ${make.name} records`).to.be.lessThan(gasLimit);
        // Spare: a fixed allowance for the call itself (a provider's first batch writes a cold slot) and 25% of the rest.
        expect(gasLimit - receipt!.gasUsed, `${size} ${make.name} records: limit over used`).to.be.lessThan(40_000n + receipt!.gasUsed / 4n);
      }
    }
  });
});
