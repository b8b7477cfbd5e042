import { expect } from "chai";
import { getAddress, hexlify, randomBytes, Transaction, Wallet } from "ethers";
import { encodeRecordBatch, recordBatchGasLimit, signRawTransaction, transactionHash, type QueryRecordStruct } from "../../node/chain/index.ts";
import { isRiskshareError } from "../../node/errors.ts";
import { IQueryLedger__factory } from "../../types/ethers-contracts/index.ts";

const LEDGER = IQueryLedger__factory.createInterface();

function randomUint(bits: number): bigint {
  return BigInt(hexlify(randomBytes(bits / 8))) >> BigInt(Math.floor(Math.random() * bits));
}

function randomRecord(): QueryRecordStruct {
  return {
    querier: getAddress(hexlify(randomBytes(20))), categoryMask: randomUint(64), deadline: randomUint(64),
    itemCount: Number(randomUint(32)), kind: Number(randomUint(8)), keyEpoch: Number(randomUint(32)), outcome: Number(randomUint(8)), count: Number(randomUint(32)),
    itemsCommitment: hexlify(randomBytes(32)), nonce: hexlify(randomBytes(32)), signatureR: hexlify(randomBytes(32)), signatureVs: hexlify(randomBytes(32)),
    answerDigest: hexlify(randomBytes(32)),
  };
}

describe("ledger transactions in bytes", () => {
  it("encodes recordBatch exactly as ethers' ABI coder does", () => {
    for (const size of [0, 1, 2, 7, 200]) {
      for (let round = 0; round < 5; round++) {
        const records = Array.from({ length: size }, randomRecord);
        const seq = randomUint(64);
        expect(hexlify(encodeRecordBatch(seq, records)), `${size} records`).to.equal(LEDGER.encodeFunctionData("recordBatch", [seq, records]));
      }
    }
    const edges: QueryRecordStruct = {
      querier: `0x${"00".repeat(20)}`, categoryMask: (1n << 64n) - 1n, deadline: 0n, itemCount: 0xffffffff, kind: 255, keyEpoch: 0xffffffff, outcome: 255, count: 0xffffffff,
      itemsCommitment: `0x${"ff".repeat(32)}`, nonce: `0x${"00".repeat(32)}`, signatureR: `0x${"AB".repeat(32)}`, signatureVs: `0x${"01".repeat(32)}`, answerDigest: `0x${"cd".repeat(32)}`,
    };
    expect(hexlify(encodeRecordBatch((1n << 64n) - 1n, [edges]))).to.equal(LEDGER.encodeFunctionData("recordBatch", [(1n << 64n) - 1n, [edges]]));
  });

  it("refuses a value out of its type's range, naming the field, instead of truncating it", () => {
    const cases: Array<[string, Partial<QueryRecordStruct>]> = [
      ["categoryMask", { categoryMask: 1n << 64n }], ["deadline", { deadline: -1n }], ["itemCount", { itemCount: 2 ** 32 }],
      ["kind", { kind: 256 }], ["keyEpoch", { keyEpoch: 2 ** 32 }], ["outcome", { outcome: 256 }], ["count", { count: 2 ** 32 }], ["querier", { querier: "0x1234" }], ["nonce", { nonce: `0x${"zz".repeat(32)}` }],
    ];
    for (const [field, patch] of cases) {
      try {
        encodeRecordBatch(1n, [{ ...randomRecord(), ...patch }]);
        expect.fail(`expected ${field} to be refused`);
      } catch (err) {
        expect(isRiskshareError(err, "E_INTERNAL"), String(err)).to.equal(true);
        expect((err as Error).message).to.contain(field);
      }
    }
  });

  it("signs EIP-1559 and legacy EIP-155 transactions byte for byte as ethers does, under the same hash", () => {
    const wallet = Wallet.createRandom();
    const to = getAddress(hexlify(randomBytes(20)));
    for (const size of [0, 1, 3, 200]) {
      const data = encodeRecordBatch(BigInt(size + 1), Array.from({ length: size }, randomRecord));
      const variants = [
        { chainId: 31337n, nonce: 0, gasLimit: recordBatchGasLimit(data, size), maxFeePerGas: 2_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n },
        { chainId: 1337n, nonce: 127, gasLimit: 21_000n, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n },
        { chainId: 2n ** 40n + 5n, nonce: 1_000_000, gasLimit: 16_000_000n, gasPrice: 7n },
        { chainId: 1n, nonce: 56, gasLimit: 1n, gasPrice: 0n },
      ];
      for (const fields of variants) {
        const ours = signRawTransaction({ ...fields, to, data }, (digest) => wallet.signingKey.sign(digest));
        const tx = Transaction.from({ ...fields, to, data: hexlify(data), value: 0n, type: fields.gasPrice === undefined ? 2 : 0 });
        tx.signature = wallet.signingKey.sign(tx.unsignedHash);
        expect(ours.raw, `${size} records, ${JSON.stringify(fields, (_k, v) => (typeof v === "bigint" ? String(v) : v))}`).to.equal(tx.serialized);
        expect(transactionHash(ours.bytes)).to.equal(tx.hash);
        expect(Transaction.from(ours.raw).from).to.equal(wallet.address);
      }
    }
  });

  it("prices calldata as the chain does: 4 gas a zero byte, 16 otherwise, or the EIP-7623 floor when higher", () => {
    const zeros = new Uint8Array(1_000);
    const ones = new Uint8Array(1_000).fill(1);
    // Execution part for 0 records is the fixed base (48,000).
    expect(recordBatchGasLimit(zeros, 0)).to.equal(21_000n + 4_000n + 48_000n);
    expect(recordBatchGasLimit(ones, 0)).to.equal(21_000n + 16_000n + 48_000n); // the floor (40,000) is lower
    expect(recordBatchGasLimit(new Uint8Array(100_000).fill(1), 0)).to.equal(21_000n + 4_000_000n); // floor wins
    // Ones read as refusals (outcome 1): 6,600 a record, no metering.
    expect(recordBatchGasLimit(ones, 10, 2n)).to.equal(21_000n + 16_000n + 2n * (48_000n + 66_000n));
    // Zeros read as answered records (outcome 0) of one querier: metering priced at its worst, per
    // batch (80,000), per answered record (8,000) and per distinct querier (110,000).
    expect(recordBatchGasLimit(zeros, 2)).to.equal(21_000n + 4_000n + 48_000n + 2n * 6_600n + 80_000n + 2n * 8_000n + 110_000n);
    expect(recordBatchGasLimit(ones, 100_000)).to.equal((1n << 24n) - 1n); // the per-transaction cap of EIP-7825
  });
});
