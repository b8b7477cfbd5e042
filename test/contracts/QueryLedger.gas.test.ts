/**
 * Gas per query record: one recordBatch per batch size, with realistic records (three member
 * queriers signing numbered requests, nine in ten answered, most of those Evaluate, so metered;
 * random commitments; nonzero counts and masks), on Hardhat's in-process chain, the companions
 * named in the registry so that each batch reports the provider's activity to it (as in a
 * deployment). Prints the table of docs/PERFORMANCE.md.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { getAddress, hexlify, randomBytes } from "ethers";
import { encodeRecordBatch, MAX_BATCH_RECORDS, recordBatchGasLimit, type QueryRecordStruct } from "../../node/chain/index.ts";
import { QueryOutcome } from "../../node/chain/outcomes.ts";
import { LookupKind } from "../../node/chain/eip712.ts";
import { boundConsortiumFixture, devSecretKey, signedQueryRecord } from "./fixtures.ts";

const { ethers, networkHelpers } = await network.create();
const { loadFixture, time } = networkHelpers;

/** A metering provider's mix: Hardhat accounts 2..4 (bob, carol, dave) asking, per-pair nonces counting up. */
function recordMaker(ledger: { chainId: bigint; address: string }, provider: string, deadline: bigint) {
  const queriers = [2, 3, 4].map((index) => ({ index, secretKey: devSecretKey(index), nonce: 0n }));
  return (address: (index: number) => string): QueryRecordStruct => {
    const querier = queriers[Math.floor(Math.random() * queriers.length)]!;
    const refused = Math.random() < 0.1;
    return signedQueryRecord(ledger, querier.secretKey, address(querier.index), provider, ++querier.nonce, {
      deadline,
      itemCount: 1 + Math.floor(Math.random() * 50),
      kind: Math.random() < 0.8 ? LookupKind.Evaluate : LookupKind.Fetch,
      ...(refused ? { outcome: QueryOutcome.DeniedQuota } : {}),
    }) as QueryRecordStruct;
  };
}

const BATCH_SIZES = [1, 10, 100, MAX_BATCH_RECORDS] as const;
/**
 * The ceiling at 100 records per batch. A record is thirteen calldata words (~4,400 gas of calldata
 * at EIP-2028 prices, the EIP-7623 floor ~10,000 no longer binding) and since metering its execution
 * is ~10,000: the log and hashes (~5,900), the querier's signature recovered on chain (ecrecover,
 * ~3,300 with its call), the pair's nonce window and counters (two warm slots) and the in-memory
 * tally per querier; the querier and provider balances are one write each per batch. Measured
 * ~16,400 a record at 100, ~15,400 at 300 (was ~10,000 before metering, bound by the calldata floor).
 */
const MAX_GAS_PER_RECORD_AT_100 = 17_500n;

describe("QueryLedger gas", function () {
  it("costs under 17,500 gas per record at 100 metered records per batch", async function () {
    const { ledger, alice, members } = await loadFixture(boundConsortiumFixture);
    const provider = ledger.connect(alice);
    const deadline = BigInt(await time.latest()) + 300n;
    const { chainId } = await ethers.provider.getNetwork();
    const makeRecord = recordMaker({ chainId, address: await ledger.getAddress() }, alice.address, deadline);
    const addressOf = (index: number) => members[index - 1]!.address;
    // A first batch so every measured batch pays the same (warm, nonzero) sequence, account and pair updates.
    await provider.recordBatch(1, Array.from({ length: 12 }, () => makeRecord(addressOf)));

    const rows: { size: number; gasUsed: bigint; perRecord: bigint }[] = [];
    let seq = 2;
    for (const size of BATCH_SIZES) {
      const records = Array.from({ length: size }, () => makeRecord(addressOf));
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

  it("the batcher's computed gas limit covers metered batches, the first of each pair (new slots) included", async function () {
    const { ledger, alice, members } = await loadFixture(boundConsortiumFixture);
    const provider = ledger.connect(alice);
    const deadline = BigInt(await time.latest()) + 300n;
    const { chainId } = await ethers.provider.getNetwork();
    const makeRecord = recordMaker({ chainId, address: await ledger.getAddress() }, alice.address, deadline);
    const addressOf = (index: number) => members[index - 1]!.address;
    let seq = 1n;
    for (const size of [3, 1, 10, 100, MAX_BATCH_RECORDS]) {
      const records = Array.from({ length: size }, () => makeRecord(addressOf));
      const gasLimit = recordBatchGasLimit(encodeRecordBatch(seq, records), size);
      const receipt = await (await provider.recordBatch(seq++, records, { gasLimit })).wait();
      expect(receipt!.status, `${size} metered records`).to.equal(1);
      expect(receipt!.gasUsed, `${size} metered records`).to.be.lessThan(gasLimit);
    }
  });
});
